package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"sherpa/store"
	"sherpa/views"
)

// Bulk changes of the tables' rows: the form posts the selection (ids, or
// "all matching" with the page's query), a job runs it (bulkWorker), its page
// shows progress, refusals and Undo.

func (s *Server) bulkRoutes(app *fiber.App) {
	g := app.Group("/bulk", s.requireTeam)
	g.Post("/", s.startBulk)
	g.Get("/count", s.countBulk)
	g.Get("/:id", s.showBulk)
	g.Post("/:id/undo", s.undoBulk)
	s.lists.bulk.kick()
}

// bulkWorker runs bulk jobs in this process, like importWorker.
type bulkWorker struct {
	jobRunner
	st    *store.Store
	log   zerolog.Logger
	owner string
}

func newBulkWorker(st *store.Store, log zerolog.Logger) *bulkWorker {
	w := &bulkWorker{st: st, log: log, owner: workerName("bulk")}
	w.next = w.runOne
	return w
}

// runOne claims a bulk job and runs it.
func (w *bulkWorker) runOne(ctx context.Context) (bool, error) {
	job, err := w.st.ClaimBulkJob(ctx, w.owner)
	if err != nil {
		w.log.Warn().Err(err).Msg("bulk worker: claim failed")
		return false, err
	}
	if job == nil {
		return false, nil
	}
	if err := w.st.RunBulkJob(ctx, job, w.owner); err != nil {
		w.log.Error().Err(err).Int64("bulk_job", job.ID).Msg("bulk job failed")
	}
	return true, nil
}

// bulkSelection reads the selection of a bulk form: the ids ticked, or all
// rows matching the page's query (read as the page reads its URL).
func (s *Server) bulkSelection(c *fiber.Ctx, list string) (store.BulkSelection, error) {
	if c.FormValue("all") != "1" {
		var ids []int64
		for _, b := range c.Request().PostArgs().PeekMulti("ids") {
			id, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil || id <= 0 {
				return store.BulkSelection{}, store.FieldErrors{"ids": "The selection holds something that is not a row."}
			}
			ids = append(ids, id)
		}
		return store.BulkSelection{IDs: ids}, nil
	}
	return s.matchingSelection(c, list, c.FormValue("query")), nil
}

// matchingSelection is "every row matching this query string".
func (s *Server) matchingSelection(c *fiber.Ctx, list, query string) store.BulkSelection {
	c.Request().URI().SetQueryString(query)
	me := currentUser(c)
	if list == store.ListDeals {
		l := listState(c, "/deals", dealViews, store.DealSorts)
		f, _, _ := dealFilter(c)
		return store.BulkSelection{All: true, Deals: &store.DealQuery{View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Filter: f}}
	}
	l := listState(c, "/contacts", contactViews, store.ContactSorts)
	f, _, _ := contactFilter(c)
	return store.BulkSelection{All: true, Contacts: &store.ContactQuery{View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Filter: f}}
}

// bulkBack is the list page the form was on.
func bulkBack(list, query string) string {
	p := listPaths[list]
	if query != "" {
		p += "?" + query
	}
	return p
}

// startBulk queues a bulk change; a delete shows its confirmation first.
func (s *Server) startBulk(c *fiber.Ctx) error {
	list, action := c.FormValue("list"), c.FormValue("action")
	if _, ok := listPaths[list]; !ok {
		return fiber.ErrNotFound
	}
	query := c.FormValue("query")
	back := bulkBack(list, query)
	sel, err := s.bulkSelection(c, list)
	if err != nil {
		return s.bulkRefused(c, back, err)
	}
	value := c.FormValue("value_" + action)
	if action == store.BulkStage {
		value = store.StageValue(value, store.CleanText(c.FormValue("reason")))
	}
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	if action == store.BulkDelete && c.FormValue("confirm") != "1" {
		n, deals, notes, err := s.store.BulkDeleteImpact(ctx, team.ID, list, sel)
		if err != nil {
			return err
		}
		if n == 0 {
			return s.bulkRefused(c, back, store.FieldErrors{"ids": "Select some rows first."})
		}
		v := views.BulkDeleteView{List: list, Back: back, Query: query, All: sel.All, IDs: sel.IDs, Records: n, Deals: deals, Notes: notes}
		return render(c, fiber.StatusOK, views.BulkDeletePage(s.shell(c, "Delete "+list, list), v))
	}
	j, err := s.store.CreateBulkJob(ctx, team.ID, me, list, action, value, sel)
	if err != nil {
		return s.bulkRefused(c, back, err)
	}
	s.lists.bulk.kick()
	return s.redirect(c, "/bulk/"+strconv.FormatInt(j.ID, 10))
}

// bulkRefused answers a bulk form the rules refuse: 403 for a role, the
// reason on the list page otherwise.
func (s *Server) bulkRefused(c *fiber.Ctx, back string, err error) error {
	var fe store.FieldErrors
	switch {
	case errors.Is(err, store.ErrNotAllowed):
		return fiber.NewError(fiber.StatusForbidden, "Only the team's owner and admins may assign owners.")
	case errors.As(err, &fe):
		for _, m := range fe {
			s.flash(c, "error", m)
			break
		}
		return s.redirect(c, back)
	case errors.Is(err, store.ErrInvalid):
		return fiber.ErrBadRequest
	}
	return err
}

// countBulk answers "select all N matching": the count, and the field that
// makes the form select them all.
func (s *Server) countBulk(c *fiber.Ctx) error {
	list := c.Query("list")
	if _, ok := listPaths[list]; !ok {
		return fiber.ErrNotFound
	}
	query := string(c.Request().URI().QueryArgs().Peek("query"))
	n, err := s.store.CountMatching(c.UserContext(), currentTeam(c).ID, s.matchingSelection(c, list, query))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.BulkAllSelected(n))
}

func (s *Server) bulkJob(c *fiber.Ctx) (*store.BulkJob, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	j, err := s.store.BulkJob(c.UserContext(), currentTeam(c).ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	return j, err
}

// showBulk is a job's page (or, polled by htmx, its status).
func (s *Server) showBulk(c *fiber.Ctx) error {
	j, err := s.bulkJob(c)
	if err != nil {
		return err
	}
	v := views.BulkJobView{Job: j, Now: s.store.Now(), CanUndo: j.CanUndo(currentUser(c)), Path: listPaths[j.List]}
	if v.Refused, err = s.store.BulkRows(c.UserContext(), j, store.BulkRowsRefused, 100); err != nil {
		return err
	}
	if v.Kept, err = s.store.BulkRows(c.UserContext(), j, store.BulkRowsKept, 100); err != nil {
		return err
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.BulkJobStatus(v))
	}
	return render(c, fiber.StatusOK, views.BulkJobPage(s.shell(c, "Bulk change", j.List), v))
}

func (s *Server) undoBulk(c *fiber.Ctx) error {
	j, err := s.bulkJob(c)
	if err != nil {
		return err
	}
	_, err = s.store.QueueBulkUndo(c.UserContext(), j.TeamID, currentUser(c), j.ID)
	switch {
	case errors.Is(err, store.ErrNotAllowed):
		return fiber.NewError(fiber.StatusForbidden, "Only the team's owner and admins may undo an owner change; others undo their own changes.")
	case errors.Is(err, store.ErrConflict):
		s.flash(c, "error", "This change can no longer be undone.")
	case err != nil:
		return err
	default:
		s.lists.bulk.kick()
	}
	return s.redirect(c, "/bulk/"+strconv.FormatInt(j.ID, 10))
}
