package handlers

import (
	"github.com/gofiber/fiber/v2"

	"sherpa/views"
)

// home is the dashboard for team members and the create-or-join page for
// users without a team.
func (s *Server) home(c *fiber.Ctx) error {
	if currentTeam(c) == nil {
		u := currentUser(c)
		invites, err := s.store.PendingInvitationsFor(c.UserContext(), u.Email)
		if err != nil {
			return err
		}
		return render(c, fiber.StatusOK, views.NoTeamHome(s.shell(c, "Welcome", "dashboard"), invites))
	}
	return render(c, fiber.StatusOK, views.ComingSoon(s.shell(c, "Dashboard", "dashboard"), "Dashboard",
		"Four live charts of your team's numbers: closed versus goal, this month's forecast, the stage funnel and team activity."))
}

// comingSoon answers a navigation entry whose feature is not built yet.
func (s *Server) comingSoon(active, heading, what string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return render(c, fiber.StatusOK, views.ComingSoon(s.shell(c, heading, active), heading, what))
	}
}
