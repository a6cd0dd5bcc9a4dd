package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"sherpa/google"
	"sherpa/static"
)

const localRequestID = "request_id"

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// accessLog is the outermost middleware: it gives the request an id, turns a
// panic into a 500, lets the error handler answer any error, and writes one
// log line per request.
func (s *Server) accessLog(c *fiber.Ctx) (err error) {
	start := time.Now()
	own := c.Context().UserValue(listRedrawKey{}) != nil
	s.imports.begin(own)
	defer s.imports.end(own)
	id := newRequestID()
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
		if err != nil {
			if herr := s.handleError(c, err); herr != nil {
				c.Status(fiber.StatusInternalServerError)
			}
			err = nil
		}
		ev := s.log.Info()
		status := c.Response().StatusCode()
		switch {
		case status == fiber.StatusServiceUnavailable:
			ev = s.log.Warn() // an outage: handleError logs it once per burst
		case status >= 500:
			ev = s.log.Error()
		}
		s.observeRequest(c, status, time.Since(start))
		var userID int64
		if u := currentUser(c); u != nil {
			userID = u.ID
		}
		ev.Str("request_id", id).Str("method", c.Method()).Str("path", c.Path()).
			Int("status", status).Dur("latency", time.Since(start)).
			Int64("user_id", userID).Str("ip", c.IP()).Msg("request")
	}()
	return c.Next()
}

// googleRouteExtra is the time added to the database deadline of routes that
// also call Google: a token refresh and the call itself, each bounded by the
// Google client's own timeout.
const googleRouteExtra = 2 * google.DefaultTimeout

// importWorkDeadline bounds the import steps that read a whole file inside
// the request (the upload into chunks, the dry run, undo): minutes of real
// work, not a database that stopped answering.
const importWorkDeadline = 15 * time.Minute

// dbDeadline gives the request's context a deadline, which every store call
// made with c.UserContext() inherits: a database that stops answering costs a
// request DBTimeout, not minutes. Google's routes get googleRouteExtra more.
func (s *Server) dbDeadline(c *fiber.Ctx) error {
	d := s.cfg.DBTimeout
	if d <= 0 {
		return c.Next()
	}
	if callsGoogle(c.Path()) {
		d += googleRouteExtra
	}
	if c.Method() == fiber.MethodPost && strings.HasPrefix(c.Path(), "/imports") {
		d = max(d, importWorkDeadline)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), d)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// callsGoogle reports whether a path is one of the routes that talk to
// Google (OAuth, and the Emails, Tasks and Meetings tabs of a contact).
func callsGoogle(path string) bool {
	if strings.HasPrefix(path, "/google/") || strings.HasPrefix(path, SandboxGooglePath) {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/contacts/")
	if !ok {
		return false
	}
	_, tab, _ := strings.Cut(rest, "/")
	tab, _, _ = strings.Cut(tab, "/")
	return tab == "emails" || tab == "tasks" || tab == "meetings"
}

// securityHeaders sets the headers every response carries. Scripts come only
// from /static (no inline script anywhere); inline styles are allowed because
// the SVG charts carry style attributes.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.cfg.PublicURL != nil && s.cfg.PublicURL.Scheme == "https" {
		c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// crossSiteCheck refuses state-changing requests that a browser marks as
// coming from another site, the way Go's http.CrossOriginProtection does:
// Sec-Fetch-Site first, then Origin against the request's own host or the
// public URL. Requests with neither header are not from a browser that could
// carry the user's cookies across sites, so they pass.
func (s *Server) crossSiteCheck(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return c.Next()
		}
		return fiber.NewError(fiber.StatusForbidden, "Cross-site request refused.")
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	if u, err := url.Parse(origin); err == nil && s.sameOrigin(c, u) {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusForbidden, "Cross-site request refused.")
}

// sameOrigin reports whether an Origin is this site: scheme and host of the
// public URL, or of the request itself. When the public URL is https, an
// http origin is another origin even on the same host (a page served over
// plain http must not post into the https site).
func (s *Server) sameOrigin(c *fiber.Ctx, origin *url.URL) bool {
	if pu := s.cfg.PublicURL; pu != nil {
		if origin.Scheme == pu.Scheme && strings.EqualFold(origin.Host, pu.Host) {
			return true
		}
		if pu.Scheme == "https" && origin.Scheme != "https" {
			return false
		}
	}
	return origin.Scheme == c.Protocol() && strings.EqualFold(origin.Host, string(c.Request().Host()))
}

func staticFiles() fiber.Handler {
	return filesystem.New(filesystem.Config{
		Root:   httpFS(static.FS),
		MaxAge: 365 * 24 * 3600,
	})
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 503 while the database is unreachable, so a load balancer
// takes the instance out until the database is back.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.cfg.Draining != nil && s.cfg.Draining() {
		c.Set(fiber.HeaderRetryAfter, outageRetryAfter)
		return c.Status(fiber.StatusServiceUnavailable).SendString("draining")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.outage.note(s.log, err, requestID(c), "readiness check")
		c.Set(fiber.HeaderRetryAfter, outageRetryAfter)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	}
	return c.SendString("ready")
}
