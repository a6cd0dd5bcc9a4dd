package handlers

import (
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

func (s *Server) profileView(c *fiber.Ctx) (views.ProfileView, error) {
	me := currentUser(c)
	googleEmail, err := s.connectedGoogleEmail(c.UserContext(), me.ID)
	if err != nil {
		return views.ProfileView{}, err
	}
	return views.ProfileView{Me: me, Team: currentTeam(c), Name: me.Name, NameErrs: views.Errors{}, PassErrs: views.Errors{},
		GoogleEmail: googleEmail, GoogleConfigured: s.googleConfigured()}, nil
}

func (s *Server) profilePage(c *fiber.Ctx) error {
	v, err := s.profileView(c)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ProfilePage(s.shell(c, "Profile", "profile"), v))
}

// updateProfile handles both forms of the profile page: a name change, or a
// password change when new_password is present.
func (s *Server) updateProfile(c *fiber.Ctx) error {
	me := currentUser(c)
	v, err := s.profileView(c)
	if err != nil {
		return err
	}
	if c.FormValue("new_password") != "" || c.FormValue("current_password") != "" {
		current, next := c.FormValue("current_password"), c.FormValue("new_password")
		if !checkPassword(me.PasswordHash, current) {
			v.PassErrs["current_password"] = "Current password is incorrect."
		}
		check(v.PassErrs, "new_password", store.PasswordError(next))
		if v.PassErrs.Any() {
			return render(c, fiber.StatusUnprocessableEntity, views.ProfilePage(s.shell(c, "Profile", "profile"), v))
		}
		if err := s.store.UpdatePasswordHash(c.UserContext(), me.ID, hashPassword(s.cfg.Password, next)); err != nil {
			return err
		}
		// A new session id after a credential change, like at login.
		if err := s.sessions.RenewToken(c.UserContext()); err != nil {
			return err
		}
		s.flash(c, "success", "Your password was changed.")
		return s.redirect(c, "/profile")
	}
	v.Name = store.CleanText(c.FormValue("name"))
	check(v.NameErrs, "name", store.NameError("Name", v.Name))
	if v.NameErrs.Any() {
		return render(c, fiber.StatusUnprocessableEntity, views.ProfilePage(s.shell(c, "Profile", "profile"), v))
	}
	if err := s.store.UpdateUserName(c.UserContext(), me.ID, v.Name); err != nil {
		return err
	}
	s.flash(c, "success", "Your name was saved.")
	return s.redirect(c, "/profile")
}
