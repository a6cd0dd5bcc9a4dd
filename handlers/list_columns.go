package handlers

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"sherpa/views"
)

// columnChoice is the current user's columns for list ("contacts",
// "deals"), keeping only keys the table still knows.
// The choice is kept per list version (cachedColumns).
func (s *Server) columnChoice(c *fiber.Ctx, list string) (views.ColumnChoice, error) {
	return s.cachedColumns(c, list, func() (views.ColumnChoice, error) {
		keys, chosen, err := s.store.ListColumns(c.UserContext(), currentUser(c).ID, list)
		if err != nil || !chosen {
			return views.ColumnChoice{}, err
		}
		known := views.ColumnKeys(list)
		keys = slices.DeleteFunc(keys, func(k string) bool { return !slices.Contains(known, k) })
		return views.ColumnChoice{Keys: keys, Chosen: true}, nil
	})
}

// saveColumns stores the column chooser's choice ("reset" forgets it) and
// answers with the redrawn table, or sends a plain form back to the list.
func (s *Server) saveColumns(list string, table func(c *fiber.Ctx) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var keys []string
		if c.FormValue("reset") == "" {
			keys = []string{}
			known := views.ColumnKeys(list)
			args := c.Request().PostArgs()
			for _, v := range args.PeekMulti("col") {
				if k := string(v); slices.Contains(known, k) && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		if err := s.store.SetListColumns(c.UserContext(), currentUser(c).ID, list, keys); err != nil {
			return err
		}
		if !isHTMX(c) {
			q := string(c.Request().URI().QueryString())
			if q != "" {
				q = "?" + q
			}
			return s.redirect(c, "/"+list+q)
		}
		return table(c)
	}
}
