package handlers

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

func (s *Server) signupPage(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return s.redirect(c, safeNext(c.Query("next")))
	}
	f := views.SignupForm{Email: store.NormalizeEmail(c.Query("email")), Next: safeNextOrEmpty(c.Query("next")), Errors: views.Errors{}}
	f.Notice = inviteNotice(f.Next)
	return render(c, fiber.StatusOK, views.SignupPage(s.shell(c, "Sign up", "signup"), f))
}

func (s *Server) signup(c *fiber.Ctx) error {
	f := views.SignupForm{
		Name:   store.CleanText(c.FormValue("name")),
		Email:  store.NormalizeEmail(c.FormValue("email")),
		Next:   safeNextOrEmpty(c.FormValue("next")),
		Errors: views.Errors{},
	}
	password := c.FormValue("password")
	check(f.Errors, "name", store.NameError("Name", f.Name))
	check(f.Errors, "email", store.EmailError(c.FormValue("email")))
	check(f.Errors, "password", store.PasswordError(password))
	if !f.Errors.Any() {
		hash, err := s.hasher.hash(c.UserContext(), password)
		if errors.Is(err, errHasherBusy) {
			f.Errors[""] = busyMessage
			f.Notice = inviteNotice(f.Next)
			return render(c, busyStatus(c), views.SignupPage(s.shell(c, "Sign up", "signup"), f))
		}
		if err != nil {
			return err
		}
		u, err := s.store.CreateUser(c.UserContext(), f.Name, f.Email, hash)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			f.Errors["email"] = "An account with this email already exists. Log in instead."
		case err != nil:
			return err
		default:
			if err := s.startSession(c, u); err != nil {
				return err
			}
			s.log.Info().Int64("user_id", u.ID).Msg("signed up")
			s.flash(c, "success", "Welcome to Sherpa, "+u.Name+"!")
			return s.redirect(c, safeNext(f.Next))
		}
	}
	f.Notice = inviteNotice(f.Next)
	return render(c, fiber.StatusUnprocessableEntity, views.SignupPage(s.shell(c, "Sign up", "signup"), f))
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return s.redirect(c, safeNext(c.Query("next")))
	}
	f := views.LoginForm{Email: store.NormalizeEmail(c.Query("email")), Next: safeNextOrEmpty(c.Query("next")), Errors: views.Errors{}}
	f.Notice = inviteNotice(f.Next)
	return render(c, fiber.StatusOK, views.LoginPage(s.shell(c, "Log in", "login"), f))
}

func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.LoginForm{Email: store.NormalizeEmail(c.FormValue("email")), Next: safeNextOrEmpty(c.FormValue("next")), Errors: views.Errors{}}
	f.Notice = inviteNotice(f.Next)
	password := c.FormValue("password")
	if f.Email == "" {
		f.Errors["email"] = "Email is required."
	}
	check(f.Errors, "email", store.TextError("Email", c.FormValue("email"), 0, false))
	if password == "" {
		f.Errors["password"] = "Password is required."
	}
	if f.Errors.Any() {
		return render(c, fiber.StatusUnprocessableEntity, views.LoginPage(s.shell(c, "Log in", "login"), f))
	}
	// The attempt is counted before the password is checked, in one
	// atomic step, so a burst of parallel logins gets no more checks than
	// the throttle allows.
	emailKey, ipKey := "email:"+f.Email, "ip:"+c.IP()
	until, err := s.store.ReserveLogin(ctx, store.ThrottleKey{Key: emailKey, Policy: s.cfg.ThrottleEmail},
		store.ThrottleKey{Key: ipKey, Policy: s.cfg.ThrottleIP})
	if err != nil {
		return err
	}
	if !until.IsZero() {
		// Refused by the login throttle.
		s.observeLoginRefusal("locked")
		wait := max(time.Until(until), time.Second)
		mins := int(wait.Minutes()) + 1
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		// Refusals are not logged one by one: a flood would flood the log.
		f.Errors[""] = fmt.Sprintf("Too many failed attempts. For your security, logging in is paused; try again in %d %s.", mins, pluralWord(mins, "minute", "minutes"))
		return render(c, fiber.StatusTooManyRequests, views.LoginPage(s.shell(c, "Log in", "login"), f))
	}
	u, err := s.store.UserByEmail(ctx, f.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// A login naming no account checks the dummy hash, so both cases take
	// the same time and timing does not tell which emails have accounts.
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.check(ctx, hash, password)
	if err != nil {
		// No password was checked, so the attempt is given back.
		if rerr := s.store.ReleaseLogin(ctx, emailKey, ipKey); rerr != nil {
			return errors.Join(err, rerr)
		}
		if !errors.Is(err, errHasherBusy) {
			return err
		}
		// Refused by the hashing pool.
		s.observeLoginRefusal("busy")
		f.Errors[""] = busyMessage
		return render(c, busyStatus(c), views.LoginPage(s.shell(c, "Log in", "login"), f))
	}
	if u == nil || !ok {
		s.log.Warn().Str("request_id", requestID(c)).Str("ip", c.IP()).Msg("failed login")
		f.Errors[""] = "Email or password is incorrect."
		return render(c, fiber.StatusUnprocessableEntity, views.LoginPage(s.shell(c, "Log in", "login"), f))
	}
	if err := s.store.LoginSucceeded(ctx, emailKey, ipKey); err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return s.redirect(c, safeNext(f.Next))
}

// startSession logs u in with a fresh session id, so an id planted before
// login is worthless after it.
func (s *Server) startSession(c *fiber.Ctx, u *store.User) error {
	if err := s.sessions.RenewToken(c.UserContext()); err != nil {
		return fmt.Errorf("renew session token: %w", err)
	}
	s.sessions.Put(c.UserContext(), keyUserID, u.ID)
	s.sessions.Put(c.UserContext(), keyLoginAt, time.Now().UnixMicro())
	c.Locals(localUser, u)
	return nil
}

// logout deletes the session on the server, not only the cookie.
func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.sessions.Destroy(c.UserContext()); err != nil {
		return fmt.Errorf("destroy session: %w", err)
	}
	return s.redirect(c, "/login")
}

func safeNextOrEmpty(next string) string {
	if safeNext(next) == "/" {
		return ""
	}
	return next
}

func inviteNotice(next string) string {
	if len(next) > len("/invites/") && next[:len("/invites/")] == "/invites/" {
		return "Log in or create an account with the invited email to join the team."
	}
	return ""
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
