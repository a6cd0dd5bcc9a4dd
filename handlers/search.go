package handlers

import (
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// Results of the top bar's search: a few of each kind as you type, more on
// the full page (Enter in the box, or without JavaScript).
const (
	searchDropdownLimit = 5
	searchPageLimit     = 20
)

func (s *Server) searchRoutes(app *fiber.App) {
	app.Get("/search", s.requireTeam, s.globalSearch)
}

// globalSearch finds the team's contacts and deals by the tables' rules.
func (s *Server) globalSearch(c *fiber.Ctx) error {
	q := store.CleanSearch(c.Query("q"), store.MaxSearchLen)
	limit := searchPageLimit
	if wantsFragment(c) {
		limit = searchDropdownLimit
	}
	found, err := s.store.SearchAll(c.UserContext(), currentTeam(c).ID, q, limit)
	if err != nil {
		return err
	}
	v := views.SearchView{Q: q, Found: found, Money: teamMoney(currentTeam(c))}
	if wantsFragment(c) {
		return render(c, fiber.StatusOK, views.SearchResults(v))
	}
	sh := s.shell(c, "Search", "search")
	sh.Search = q
	return render(c, fiber.StatusOK, views.SearchPage(sh, v))
}
