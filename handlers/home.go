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
	return s.dashboard(c)
}
