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
		if status >= 500 {
			ev = s.log.Error()
		}
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
	u, err := url.Parse(origin)
	if err == nil && (strings.EqualFold(u.Host, string(c.Request().Host())) ||
		(s.cfg.PublicURL != nil && strings.EqualFold(u.Host, s.cfg.PublicURL.Host) && u.Scheme == s.cfg.PublicURL.Scheme)) {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusForbidden, "Cross-site request refused.")
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
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn().Err(err).Str("request_id", requestID(c)).Msg("readiness check failed")
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	}
	return c.SendString("ready")
}
