package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// exportTimeout bounds one streamed export; exportWriteIdle is how long
// the client may take to read one page of it.
const (
	exportTimeout   = 15 * time.Minute
	exportWriteIdle = time.Minute
)

// exportRoutes must be registered before the contacts and deals groups, whose
// "/:id" would take "export.csv".
func (s *Server) exportRoutes(app *fiber.App) {
	app.Get("/contacts/export.csv", s.requireTeam, s.exportContacts)
	app.Get("/deals/export.csv", s.requireTeam, s.exportDeals)
}

// exportContacts streams the contacts of the table's current view, search,
// filters and sort (every row, not the page) as CSV. A saved view's page
// carries its filters in the URL (savedURL), so its export link does too;
// filter values the table ignores (and names) are ignored here as well.
func (s *Server) exportContacts(c *fiber.Ctx) error {
	team, me := currentTeam(c), currentUser(c)
	l := listState(c, "/contacts", contactViews, store.ContactSorts)
	f, _, _ := contactFilter(c)
	q := store.ContactQuery{View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Filter: f}
	return s.streamCSV(c, "contacts.csv", store.ContactExportHeader, func(ctx context.Context, emit func([][]string) error) error {
		return s.store.ExportContacts(ctx, team.ID, q, emit)
	})
}

// exportDeals streams the deals of the table's current view, search,
// filters and sort.
func (s *Server) exportDeals(c *fiber.Ctx) error {
	team, me := currentTeam(c), currentUser(c)
	l := listState(c, "/deals", dealViews, store.DealSorts)
	f, _, _ := dealFilter(c)
	q := store.DealQuery{View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Filter: f}
	return s.streamCSV(c, "deals.csv", store.DealExportHeader, func(ctx context.Context, emit func([][]string) error) error {
		return s.store.ExportDeals(ctx, team.ID, q, emit)
	})
}

// streamCSV answers with a CSV download written page by page after the
// handler returns, every cell neutralised against formula injection. An
// error half-way can no longer change the status: it is logged and the file
// ends with a line saying the export is incomplete.
func (s *Server) streamCSV(c *fiber.Ctx, name string, header []string, run func(context.Context, func([][]string) error) error) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	log, path := s.log, c.Path()
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		cw := csv.NewWriter(w)
		write := func(records [][]string) error {
			for _, r := range records {
				for i := range r {
					r[i] = store.NeutralizeCell(r[i])
				}
			}
			if err := cw.WriteAll(records); err != nil {
				return err
			}
			// Flush hands the page to the client now, not at the end. The
			// server's write timeout counts from the response's start, so
			// a long export would be cut off: each page moves the deadline
			// on instead, and only a client that stops reading for that
			// long ends the export.
			if conn != nil {
				_ = conn.SetWriteDeadline(time.Now().Add(exportWriteIdle))
			}
			return w.Flush()
		}
		if err := write([][]string{append([]string(nil), header...)}); err != nil {
			return
		}
		if err := run(ctx, write); err != nil {
			log.Error().Err(err).Str("path", path).Msg("export failed half-way")
			_ = cw.Write([]string{"# export incomplete: " + "an error stopped it, please try again"})
			cw.Flush()
		}
	})
	return nil
}
