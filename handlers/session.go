package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

const (
	sessionCookie = "sherpa_session"
	keyUserID     = "user_id"
	keyLoginAt    = "login_at" // Unix microseconds of the login (or of the last "end other sessions")
	keyFlashKind  = "flash_kind"
	keyFlashMsg   = "flash_msg"
	localUser     = "user"
	localTeam     = "team"
	// localSessionUser holds the *store.SessionUser the session's lookup
	// read (loadSession).
	localSessionUser = "session_user"
	// localListVersion holds the team's list version (int64, 0: unknown).
	localListVersion = "list_version"
	// localImportVersion holds the part of it import jobs' batches moved
	// (int64).
	localImportVersion = "import_version"
	// localVersionsReadAt is when the session's statement (which reads the
	// versions) was sent (time.Time; the list cache's clock).
	localVersionsReadAt = "versions_read_at"
)

func newSessionManager(cfg Config, st *store.Store) *scs.SessionManager {
	sm := scs.New()
	sm.Codec = sessionCodec{}
	// Each stored session records its user, so a user's other sessions
	// can be ended.
	sm.Store = st.Sessions(func(data []byte) int64 {
		_, values, err := sm.Codec.Decode(data)
		if err != nil {
			return 0
		}
		id, _ := values[keyUserID].(int64)
		return id
	})
	sm.Lifetime = cfg.SessionLifetime
	if sm.Lifetime == 0 {
		sm.Lifetime = 14 * 24 * time.Hour
	}
	sm.Cookie.Name = sessionCookie
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.PublicURL != nil && cfg.PublicURL.Scheme == "https"
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	return sm
}

// loadSession is scs's LoadAndSave for Fiber: load the session named by the
// cookie into the request context, run the rest of the chain, then commit a
// modified session (or expire the cookie of a destroyed one).
//
// The session's row is read with its user, team and the team's list version
// in one statement (store.SessionUser); loadUser takes them from there.
func (s *Server) loadSession(c *fiber.Ctx) error {
	su := new(store.SessionUser)
	if s.listCache != nil {
		c.Locals(localVersionsReadAt, s.listCache.now())
	}
	ctx, err := s.sessions.Load(store.WithSessionUser(c.UserContext(), su), c.Cookies(sessionCookie))
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	c.Locals(localSessionUser, su)
	c.SetUserContext(ctx)
	c.Append(fiber.HeaderVary, "Cookie")
	herr := c.Next()
	// The error handler has not run yet; it may still put a flash, so commit
	// what we have now and let it render without touching the session.
	switch s.sessions.Status(c.UserContext()) {
	case scs.Modified:
		token, expiry, err := s.sessions.Commit(c.UserContext())
		if err != nil {
			return errors.Join(herr, fmt.Errorf("commit session: %w", err))
		}
		s.setSessionCookie(c, token, expiry)
	case scs.Destroyed:
		s.setSessionCookie(c, "", time.Time{})
	}
	return herr
}

func (s *Server) setSessionCookie(c *fiber.Ctx, token string, expiry time.Time) {
	ck := &fiber.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		HTTPOnly: true,
		Secure:   s.sessions.Cookie.Secure,
		SameSite: fiber.CookieSameSiteLaxMode,
	}
	if expiry.IsZero() {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else {
		ck.Expires = expiry
		ck.MaxAge = int(time.Until(expiry).Seconds())
	}
	c.Cookie(ck)
	c.Set(fiber.HeaderCacheControl, `no-cache="Set-Cookie"`)
}

// loadUser puts the logged-in user (and their team) into the request locals.
// A session pointing at a deleted user is treated as logged out.
func (s *Server) loadUser(c *fiber.Ctx) error {
	id := s.sessions.GetInt64(c.UserContext(), keyUserID)
	if id == 0 {
		return c.Next()
	}
	var u *store.User
	var team *store.Team
	var err error
	if su, _ := c.Locals(localSessionUser).(*store.SessionUser); su != nil && su.Found && su.User != nil && su.User.ID == id {
		// Read with the session (the row's user is the data's: CommitCtx).
		u, team = su.User, su.Team
		c.Locals(localListVersion, su.ListVersion)
		c.Locals(localImportVersion, su.ImportVersion)
		if team != nil {
			// The store's search cache keys its sets by these versions too.
			c.SetUserContext(store.WithSearchVersions(c.UserContext(), team.ID,
				store.SearchVersions{List: su.ListVersion, Terms: su.TermsVersion}))
		}
	} else {
		u, team, err = s.store.UserAndTeam(c.UserContext(), id)
	}
	if errors.Is(err, store.ErrNotFound) {
		s.sessions.Remove(c.UserContext(), keyUserID)
		return c.Next()
	}
	if err != nil {
		return err
	}
	if !u.SessionsSince.IsZero() && s.sessions.GetInt64(c.UserContext(), keyLoginAt) < u.SessionsSince.UnixMicro() {
		// The user ended their other sessions (a password change, "log
		// out other devices") after this one logged in.
		if err := s.sessions.Destroy(c.UserContext()); err != nil {
			return fmt.Errorf("destroy ended session: %w", err)
		}
		return c.Next()
	}
	c.Locals(localUser, u)
	if team != nil {
		c.Locals(localTeam, team)
	}
	return c.Next()
}

func currentUser(c *fiber.Ctx) *store.User {
	u, _ := c.Locals(localUser).(*store.User)
	return u
}

func currentTeam(c *fiber.Ctx) *store.Team {
	t, _ := c.Locals(localTeam).(*store.Team)
	return t
}

// requireUser sends anonymous visitors to the login page, remembering where
// they were going.
func (s *Server) requireUser(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	next := string(c.Request().URI().RequestURI())
	if c.Method() != fiber.MethodGet {
		next = ""
	}
	return s.redirect(c, loginURL(next))
}

// requireTeam lets through only users in a team; others go home, where they
// can create a team or see their invitations.
func (s *Server) requireTeam(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil {
		return s.requireUser(c)
	}
	if currentTeam(c) == nil {
		s.flash(c, "info", "Create a team or accept an invitation first.")
		return s.redirect(c, "/")
	}
	return c.Next()
}

// requireManager lets through the owner and admins only.
func (s *Server) requireManager(c *fiber.Ctx) error {
	if !currentUser(c).CanManage() {
		return fiber.NewError(fiber.StatusForbidden, "Only the team's owner and admins can do this.")
	}
	return c.Next()
}

// requireOwner lets through the team's owner only.
func (s *Server) requireOwner(c *fiber.Ctx) error {
	if currentUser(c).Role != store.RoleOwner {
		return fiber.NewError(fiber.StatusForbidden, "Only the team's owner can do this.")
	}
	return c.Next()
}

func loginURL(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + urlQueryEscape(next)
}

// safeNext keeps "next" redirects on this site: a local absolute path, not
// "//host" or "/\host" which browsers treat as another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		// Only printable ASCII may go into a Location header (the fuzzer sent
		// a control byte that broke it); browsers percent-encode the rest.
		strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "/"
	}
	return next
}

func (s *Server) flash(c *fiber.Ctx, kind, msg string) {
	s.sessions.Put(c.UserContext(), keyFlashKind, kind)
	s.sessions.Put(c.UserContext(), keyFlashMsg, msg)
}

func (s *Server) popFlash(c *fiber.Ctx) *views.Flash {
	msg := s.sessions.PopString(c.UserContext(), keyFlashMsg)
	kind := s.sessions.PopString(c.UserContext(), keyFlashKind)
	if msg == "" {
		return nil
	}
	return &views.Flash{Kind: kind, Message: msg}
}
