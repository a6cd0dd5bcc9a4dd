package handlers

import (
	"errors"
	"fmt"

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
	sessions, err := s.store.CountUserSessions(c.UserContext(), me.ID)
	if err != nil {
		return views.ProfileView{}, err
	}
	keys, err := s.apiKeysView(c)
	if err != nil {
		return views.ProfileView{}, err
	}
	return views.ProfileView{Me: me, Team: currentTeam(c), Name: me.Name, NameErrs: views.Errors{}, PassErrs: views.Errors{},
		GoogleEmail: googleEmail, GoogleConfigured: s.googleConfigured(), OtherSessions: max(sessions-1, 0), APIKeys: keys}, nil
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
		ok, err := s.hasher.check(c.UserContext(), me.PasswordHash, current)
		if err != nil && !errors.Is(err, errHasherBusy) {
			return err
		}
		if errors.Is(err, errHasherBusy) {
			v.PassErrs[""] = busyMessage
			return render(c, busyStatus(c), views.ProfilePage(s.shell(c, "Profile", "profile"), v))
		}
		if !ok {
			v.PassErrs["current_password"] = "Current password is incorrect."
		}
		check(v.PassErrs, "new_password", store.PasswordError(next))
		if v.PassErrs.Any() {
			return render(c, fiber.StatusUnprocessableEntity, views.ProfilePage(s.shell(c, "Profile", "profile"), v))
		}
		hash, err := s.hasher.hash(c.UserContext(), next)
		if errors.Is(err, errHasherBusy) {
			v.PassErrs[""] = busyMessage
			return render(c, busyStatus(c), views.ProfilePage(s.shell(c, "Profile", "profile"), v))
		}
		if err != nil {
			return err
		}
		// A new session id after a credential change, like at login, and
		// every other session of the user ends.
		if err := s.sessions.RenewToken(c.UserContext()); err != nil {
			return err
		}
		since, err := s.store.ChangePassword(c.UserContext(), me.ID, hash, s.sessions.Token(c.UserContext()))
		if err != nil {
			return err
		}
		s.sessions.Put(c.UserContext(), keyLoginAt, since.UnixMicro())
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

// endOtherSessions logs the user out on every other device and browser.
func (s *Server) endOtherSessions(c *fiber.Ctx) error {
	ctx := c.UserContext()
	since, n, err := s.store.EndOtherSessions(ctx, currentUser(c).ID, s.sessions.Token(ctx))
	if err != nil {
		return err
	}
	s.sessions.Put(ctx, keyLoginAt, since.UnixMicro())
	s.flash(c, "success", fmt.Sprintf("Logged out of %d other %s.", n, pluralWord(int(n), "session", "sessions")))
	return s.redirect(c, "/profile")
}
