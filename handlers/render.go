package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// render writes one templ component as the HTML response.
func render(c *fiber.Ctx, status int, component templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if err := component.Render(c.UserContext(), c.Response().BodyWriter()); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return nil
}

// isHTMX reports whether htmx asked for a fragment (boosted requests want the
// whole page).
func isHTMX(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true"
}

// redirect sends the browser elsewhere after a post (303, so the next request
// is a GET) or, for htmx, tells htmx to navigate.
func (s *Server) redirect(c *fiber.Ctx, to string) error {
	if isHTMX(c) {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// shell is the layout data for the current request; it consumes the flash.
func (s *Server) shell(c *fiber.Ctx, title, active string) views.Shell {
	sh := views.Shell{Title: title, Active: active, User: currentUser(c), Sandbox: s.cfg.Sandbox}
	if t := currentTeam(c); t != nil {
		sh.TeamName = t.Name
	}
	sh.Flash = s.popFlash(c)
	return sh
}

// handleError is Fiber's one error handler: it picks the status, logs server
// errors with the request id, and renders a friendly page (or fragment).
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	if isAPIPath(c.Path()) {
		return s.apiError(c, err)
	}
	status := fiber.StatusInternalServerError
	ev := views.ErrorView{}
	var fe *fiber.Error
	outage := false
	switch {
	case errors.As(err, &fe):
		status = fe.Code
		ev.Message = fe.Message
	case errors.Is(err, store.ErrNotFound):
		status = fiber.StatusNotFound
	case store.IsUnavailable(err):
		status, outage = fiber.StatusServiceUnavailable, true
	}
	ev.Status = status
	switch {
	case outage:
		ev.Heading = "Database unreachable"
		ev.Message = "Sherpa cannot reach its database right now, so nothing was saved. Please try again in a moment."
		c.Set(fiber.HeaderRetryAfter, outageRetryAfter)
		s.outage.note(s.log, err, requestID(c), c.Method()+" "+c.Path())
	case status == fiber.StatusNotFound:
		ev.Heading = "Page not found"
		ev.Message = "There is nothing here, or it belongs to another team."
	case status == fiber.StatusForbidden:
		ev.Heading = "Not allowed"
		if ev.Message == "" || ev.Message == "Forbidden" {
			ev.Message = "Your role does not allow this."
		}
	case status == fiber.StatusMethodNotAllowed:
		ev.Heading = "Not allowed"
		ev.Message = "This address does not accept that kind of request."
	case status == fiber.StatusRequestEntityTooLarge:
		ev.Heading = "Too large"
		ev.Message = "What you sent is too large."
	case status == fiber.StatusInternalServerError:
		ev.Heading = "Something went wrong"
		ev.Message = "Sherpa could not finish this request. Nothing you typed was lost from your screen; please try again."
		ev.RequestID = requestID(c)
		s.log.Error().Err(err).Str("request_id", ev.RequestID).Str("method", c.Method()).Str("path", c.Path()).Msg("request failed")
	default:
		if ev.Heading == "" {
			ev.Heading = "Request refused"
		}
		if ev.Message == "" {
			ev.Message = "Sherpa could not accept this request."
		}
	}
	// Any half-written answer of the failed handler is replaced: its body,
	// and a redirect it had set (a 303 whose session failed to save must not
	// go out as an error with a Location).
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderLocation)
	c.Response().Header.Del("HX-Redirect")
	// The request's deadline may be what failed; the page is rendered anyway.
	c.SetUserContext(context.WithoutCancel(c.UserContext()))
	if isHTMX(c) {
		return render(c, status, views.ErrorPanel(ev))
	}
	sh := views.Shell{Title: ev.Heading, User: currentUser(c), Sandbox: s.cfg.Sandbox}
	if t := currentTeam(c); t != nil {
		sh.TeamName = t.Name
	}
	return render(c, status, views.ErrorPage(sh, ev))
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
