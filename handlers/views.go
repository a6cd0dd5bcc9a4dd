package handlers

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// Saved views: tabs beside All / Mine / … holding a table's query string.

func (s *Server) viewsRoutes(app *fiber.App) {
	g := app.Group("/views", s.requireTeam)
	g.Post("/", s.saveView)
	g.Post("/:id/rename", s.renameView)
	g.Post("/:id/share", s.shareView)
	g.Post("/:id/update", s.updateView)
	g.Post("/:id/move", s.moveView)
	g.Post("/:id/delete", s.deleteView)
}

// listPaths are the table pages saved views belong to.
var listPaths = map[string]string{store.ListContacts: "/contacts", store.ListDeals: "/deals"}

// viewQuery is the query string of the page as a view keeps it: everything
// but the position and the saved view's own id.
func viewQuery(c *fiber.Ctx) string {
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Del("cursor")
	q.Del("saved")
	return q.Encode()
}

// savedTabs loads the saved views of a list for its tabs, and marks the one
// the URL shows.
func (s *Server) savedTabs(c *fiber.Ctx, list string, l *views.ListState) (views.SavedTabs, error) {
	me := currentUser(c)
	rows, err := s.cachedSavedViews(c, list, func() ([]store.SavedView, error) {
		return s.store.SavedViews(c.UserContext(), currentTeam(c).ID, me, list)
	})
	if err != nil {
		return views.SavedTabs{}, err
	}
	if id, err := strconv.ParseInt(c.Query("saved"), 10, 64); err == nil && slices.ContainsFunc(rows, func(v store.SavedView) bool { return v.ID == id }) {
		l.Saved = id
	}
	return views.SavedTabs{List: list, Path: listPaths[list], Views: rows, Current: l.Saved, Me: me, Query: viewQuery(c)}, nil
}

// savedURL is the page of a saved view.
func savedURL(v *store.SavedView) string {
	u := listPaths[v.List] + "?"
	if v.Query != "" {
		u += v.Query + "&"
	}
	return u + "saved=" + strconv.FormatInt(v.ID, 10)
}

// viewDone answers a change of the tabs: back to the list (htmx follows
// HX-Redirect; plain forms a 303).
func (s *Server) viewDone(c *fiber.Ctx, to, msg string) error {
	if msg != "" {
		s.flash(c, "success", msg)
	}
	return s.redirect(c, to)
}

// viewRefused tells why a tab change was refused, back on the list.
func (s *Server) viewRefused(c *fiber.Ctx, to string, err error) error {
	var fe store.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, m := range fe {
			s.flash(c, "error", m)
			break
		}
	case errors.Is(err, store.ErrNotAllowed):
		s.flash(c, "error", "Only the team's owner and admins may share views or change shared ones.")
	case errors.Is(err, store.ErrNotFound):
		return fiber.ErrNotFound
	default:
		return err
	}
	return s.redirect(c, to)
}

func (s *Server) saveView(c *fiber.Ctx) error {
	list := c.FormValue("list")
	path, ok := listPaths[list]
	if !ok {
		return fiber.ErrNotFound
	}
	query := c.FormValue("query")
	if q, err := url.ParseQuery(query); err == nil {
		q.Del("cursor")
		q.Del("saved")
		query = q.Encode()
	} else {
		query = ""
	}
	v, err := s.store.SaveView(c.UserContext(), currentTeam(c).ID, currentUser(c), list, store.CleanText(c.FormValue("name")), query, c.FormValue("shared") == "on")
	if err != nil {
		back := path
		if query != "" {
			back += "?" + query
		}
		return s.viewRefused(c, back, err)
	}
	return s.viewDone(c, savedURL(v), "View “"+v.Name+"” saved.")
}

// viewFor loads the view of the URL (visible to the viewer) or 404s.
func (s *Server) viewFor(c *fiber.Ctx) (*store.SavedView, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	v, err := s.store.SavedView(c.UserContext(), currentTeam(c).ID, currentUser(c), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	return v, err
}

// viewChange runs one change of a view and goes back to its tab.
func (s *Server) viewChange(c *fiber.Ctx, msg string, do func(v *store.SavedView) error) error {
	v, err := s.viewFor(c)
	if err != nil {
		return err
	}
	if err := do(v); err != nil {
		return s.viewRefused(c, savedURL(v), err)
	}
	v, err = s.viewFor(c)
	if err != nil {
		return s.viewDone(c, listPaths[store.ListContacts], msg)
	}
	return s.viewDone(c, savedURL(v), msg)
}

func (s *Server) renameView(c *fiber.Ctx) error {
	name := strings.TrimSpace(store.CleanText(c.FormValue("name")))
	return s.viewChange(c, "View renamed.", func(v *store.SavedView) error {
		return s.store.RenameView(c.UserContext(), v.TeamID, currentUser(c), v.ID, name)
	})
}

func (s *Server) shareView(c *fiber.Ctx) error {
	shared := c.FormValue("shared") == "on" || c.FormValue("shared") == "true"
	msg := "View shared with the team."
	if !shared {
		msg = "View made private."
	}
	return s.viewChange(c, msg, func(v *store.SavedView) error {
		return s.store.ShareView(c.UserContext(), v.TeamID, currentUser(c), v.ID, shared)
	})
}

func (s *Server) updateView(c *fiber.Ctx) error {
	query := ""
	if q, err := url.ParseQuery(c.FormValue("query")); err == nil {
		q.Del("cursor")
		q.Del("saved")
		query = q.Encode()
	}
	return s.viewChange(c, "View saved with the current filters.", func(v *store.SavedView) error {
		return s.store.UpdateViewQuery(c.UserContext(), v.TeamID, currentUser(c), v.ID, query)
	})
}

func (s *Server) moveView(c *fiber.Ctx) error {
	delta := 1
	if c.FormValue("dir") == "left" {
		delta = -1
	}
	return s.viewChange(c, "", func(v *store.SavedView) error {
		return s.store.MoveView(c.UserContext(), v.TeamID, currentUser(c), v.ID, delta)
	})
}

func (s *Server) deleteView(c *fiber.Ctx) error {
	v, err := s.viewFor(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteView(c.UserContext(), v.TeamID, currentUser(c), v.ID); err != nil {
		return s.viewRefused(c, savedURL(v), err)
	}
	return s.viewDone(c, listPaths[v.List], "View “"+v.Name+"” deleted.")
}
