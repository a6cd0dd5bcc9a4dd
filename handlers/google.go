package handlers

import "github.com/gofiber/fiber/v2"

// googleRoutes mounts connecting a Google account and the contact page's
// Emails, Tasks and Meetings tabs.
func (s *Server) googleRoutes(app *fiber.App) {}
