package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"sherpa/store"
	"sherpa/views"
)

// DefaultImportMaxBytes is the upload limit unless configured
// (SHERPA_IMPORT_MAX_BYTES).
const DefaultImportMaxBytes = 200 << 20

// formBodyLimit is the largest body any other request may have.
const formBodyLimit = 1 << 20

func (s *Server) importRoutes(app *fiber.App) {
	g := app.Group("/imports", s.requireTeam, s.requireImporter)
	g.Get("/", s.importsPage)
	g.Get("/new", s.importsPage)
	g.Post("/", s.uploadImport)
	g.Get("/:id", s.importPage)
	g.Post("/:id/mapping", s.saveImportMapping)
	g.Post("/:id/start", s.startImport)
	g.Get("/:id/progress", s.importProgress)
	g.Post("/:id/cancel", s.cancelImport)
	g.Post("/:id/undo", s.undoImport)
	g.Get("/:id/rejects.csv", s.importRejects)
	app.Post("/team/import-setting", s.requireTeam, s.requireOwner, s.setImportSetting)
}

// streamUploads makes the server hand bodies above BodyLimit to the handler
// as a stream instead of refusing them, so that an import's upload never
// sits in memory whole (nor in a temporary file); limitBodies refuses them
// everywhere else.
func streamUploads(app *fiber.App) {
	app.Server().StreamRequestBody = true
	app.Server().DisablePreParseMultipartForm = true
}

// limitBodies refuses request bodies above formBodyLimit except an import's
// upload (the page's and the API's), which is streamed (the server reads big
// bodies as streams) and limited to importMax by its handler.
func (s *Server) limitBodies(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	if c.Method() == fiber.MethodPost && (c.Path() == "/imports" || c.Path() == apiPrefix+"/imports") {
		return c.Next()
	}
	if n > formBodyLimit || n == -1 {
		c.Set(fiber.HeaderConnection, "close")
		if st := c.Context().RequestBodyStream(); st != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(st, 8<<20))
		}
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// requireImporter lets through owners, admins and, when the team allows it,
// members.
func (s *Server) requireImporter(c *fiber.Ctx) error {
	ok, err := s.store.CanImport(c.UserContext(), currentTeam(c).ID, currentUser(c))
	if err != nil {
		return err
	}
	if !ok {
		return fiber.NewError(fiber.StatusForbidden, "Only the owner and admins may import, unless the owner lets members import on the team page.")
	}
	return c.Next()
}

func (s *Server) importsPage(c *fiber.Ctx) error {
	return s.renderImportNew(c, fiber.StatusOK, "")
}

func (s *Server) renderImportNew(c *fiber.Ctx, status int, msg string) error {
	kind := c.Query("kind")
	if kind != store.ImportDeals {
		kind = store.ImportContacts
	}
	recent, err := s.store.ListImports(c.UserContext(), currentTeam(c).ID, 20)
	if err != nil {
		return err
	}
	v := views.ImportNewView{Kind: kind, MaxMB: s.importMax() >> 20, Error: msg, Recent: recent}
	return render(c, status, views.ImportNewPage(s.shell(c, "Import", kind), v))
}

func (s *Server) importMax() int64 {
	if s.cfg.ImportMaxBytes > 0 {
		return s.cfg.ImportMaxBytes
	}
	return DefaultImportMaxBytes
}

// uploadImport streams the multipart field "file" into the store.
func (s *Server) uploadImport(c *fiber.Ctx) error {
	max := s.importMax()
	tooLarge := fmt.Sprintf("The file is larger than the import limit of %d MB. Split it into smaller files, or ask the administrator to raise SHERPA_IMPORT_MAX_BYTES.", max>>20)
	if n := int64(c.Request().Header.ContentLength()); n > max+64<<10 {
		discardBody(c)
		return s.renderImportNew(c, fiber.StatusRequestEntityTooLarge, tooLarge)
	}
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		return s.renderImportNew(c, fiber.StatusBadRequest, "Choose a file to upload.")
	}
	// The body is read as a stream, never as a whole (c.Body() would read
	// it all into memory).
	body := c.Context().RequestBodyStream()
	if body == nil {
		body = bytes.NewReader(c.Request().Body())
	}
	mr := multipart.NewReader(body, boundary)
	kind := c.Query("kind")
	for {
		part, err := mr.NextPart()
		if err != nil {
			return s.renderImportNew(c, fiber.StatusBadRequest, "Choose a file to upload.")
		}
		if part.FormName() == "kind_choice" {
			b, _ := io.ReadAll(io.LimitReader(part, 16))
			kind = string(b)
			continue
		}
		if part.FormName() != "file" {
			continue
		}
		name := filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "" || name == "." || name == "/" {
			return s.renderImportNew(c, fiber.StatusBadRequest, "Choose a file to upload.")
		}
		im, err := s.store.CreateImport(c.UserContext(), currentTeam(c).ID, currentUser(c), name, kind, part, max)
		switch {
		case errors.Is(err, store.ErrImportTooLarge):
			discardBody(c)
			return s.renderImportNew(c, fiber.StatusRequestEntityTooLarge, tooLarge)
		case errors.Is(err, store.ErrNotAllowed):
			return fiber.ErrForbidden
		case err != nil && strings.Contains(err.Error(), "read upload"):
			return s.renderImportNew(c, fiber.StatusBadRequest, "The upload was cut off; please try again.")
		case err != nil:
			return err
		}
		// Whatever follows the file (the closing boundary, a chunked
		// body's last chunk) is read too, so the connection stays usable.
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
		return s.redirect(c, "/imports/"+strconv.FormatInt(im.ID, 10))
	}
}

// discardBody reads a refused upload's rest (up to a bound) so that the
// answer reaches the client, and closes the connection.
func discardBody(c *fiber.Ctx) {
	c.Set(fiber.HeaderConnection, "close")
	if st := c.Context().RequestBodyStream(); st != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(st, 64<<20))
	}
}

// theImport loads the URL's import of the current team (404 otherwise).
func (s *Server) theImport(c *fiber.Ctx) (*store.Import, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.ImportByID(c.UserContext(), currentTeam(c).ID, id)
}

func (s *Server) importPage(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	return s.renderImport(c, fiber.StatusOK, im, im.MappingInfo(), views.Errors{})
}

func (s *Server) renderImport(c *fiber.Ctx, status int, im *store.Import, m store.ImportMapping, errs views.Errors) error {
	v, err := s.importView(c.UserContext(), currentTeam(c).ID, im, m, errs)
	if err != nil {
		return err
	}
	return render(c, status, views.ImportPage(s.shell(c, "Import", im.Kind), v))
}

func (s *Server) importView(ctx context.Context, teamID int64, im *store.Import, m store.ImportMapping, errs views.Errors) (views.ImportView, error) {
	d := im.DetectedInfo()
	v := views.ImportView{Import: im, Detected: d, Mapping: m, Preview: im.PreviewInfo(), Fields: store.ImportFields(im.Kind),
		Errors: errs, Progress: progressView(im, time.Now())}
	if im.Status == store.ImportUndone {
		kept, err := s.store.ImportKept(ctx, teamID, im.ID, 100)
		if err != nil {
			return v, err
		}
		v.Kept = kept
	}
	if im.Status != store.ImportUploaded && im.Status != store.ImportPreviewed {
		return v, nil
	}
	members, err := s.store.TeamMembers(ctx, teamID)
	if err != nil {
		return v, err
	}
	var reasons []string
	if im.Kind == store.ImportDeals {
		if reasons, err = s.store.LostReasons(ctx, teamID); err != nil {
			return v, err
		}
		v.LostReasons = reasons
	}
	for i, f := range m.Columns {
		switch f {
		case "close_date":
			if o := d.DateOrders[i]; o == "ambiguous" || o == "mixed" {
				v.NeedOrder = true
			}
		case "status", "stage", "owner", "lost_reason":
			v.Values = append(v.Values, valueRows(f, d.Values[i], m, members, reasons)...)
		}
	}
	return v, nil
}

// valueRows lists the file's values of a status, stage, owner or lost
// reason column that Sherpa does not match by itself.
func valueRows(field string, values []string, m store.ImportMapping, members []store.User, reasons []string) []views.ImportValueRow {
	var known []string
	var opts []views.ImportOption
	switch field {
	case "status":
		known = store.ContactStatuses
	case "stage":
		known = store.Stages
	case "lost_reason":
		known = reasons
	case "owner":
		opts = append(opts, views.ImportOption{Value: "0", Label: "Unassigned"})
		for _, u := range members {
			known = append(known, u.Email, u.Name)
			opts = append(opts, views.ImportOption{Value: strconv.FormatInt(u.ID, 10), Label: u.Name + " <" + u.Email + ">"})
		}
	}
	if field != "owner" {
		for _, k := range known {
			opts = append(opts, views.ImportOption{Value: k, Label: k})
		}
	}
	folded := map[string]bool{}
	for _, k := range known {
		folded[store.FoldValue(k)] = true
	}
	var rows []views.ImportValueRow
	for _, val := range values {
		if folded[store.FoldValue(val)] {
			continue
		}
		key := store.ValueKey(field, val)
		rows = append(rows, views.ImportValueRow{Key: key, Field: field, Value: val, Chosen: m.Values[key], Options: opts})
	}
	return rows
}

// mappingForm reads the mapping form.
func mappingForm(c *fiber.Ctx, im *store.Import) store.ImportMapping {
	d := im.DetectedInfo()
	old := im.MappingInfo()
	m := store.ImportMapping{Columns: make([]string, len(d.Header)), Mode: c.FormValue("mode", old.Mode),
		DateOrder: c.FormValue("date_order"), Unknown: c.FormValue("unknown", store.UnknownDefault),
		UnknownOwner: c.FormValue("unknown_owner", store.UnknownUnassigned), Values: map[string]string{}}
	for i := range m.Columns {
		m.Columns[i] = c.FormValue("col" + strconv.Itoa(i))
	}
	args := c.Request().PostArgs()
	keys, vals := args.PeekMulti("vk"), args.PeekMulti("vv")
	for i := 0; i < len(keys) && i < len(vals) && i < 1000; i++ {
		if len(vals[i]) > 0 {
			m.Values[string(keys[i])] = string(vals[i])
		}
	}
	return m
}

func (s *Server) saveImportMapping(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	ctx, teamID := c.UserContext(), currentTeam(c).ID
	if d := im.DetectedInfo(); d.Problem != "" {
		return s.renderImport(c, fiber.StatusUnprocessableEntity, im, im.MappingInfo(), views.Errors{"": d.Problem})
	}
	m := mappingForm(c, im)
	if _, err := s.store.SaveImportMapping(ctx, teamID, im.ID, m); err != nil {
		var fe store.FieldErrors
		switch {
		case errors.As(err, &fe):
			return s.renderImport(c, fiber.StatusUnprocessableEntity, im, m, views.Errors(fe))
		case errors.Is(err, store.ErrImportState):
			return s.renderImport(c, fiber.StatusConflict, im, im.MappingInfo(), views.Errors{"": "This import has already started; its mapping can no longer change."})
		}
		return err
	}
	if im.Size > s.importInlineCheck() {
		// A large file's dry run runs as a job; the page shows its progress.
		if err := s.store.QueueImportCheck(ctx, teamID, im.ID); err != nil {
			return err
		}
		s.imports.kick()
	} else if _, err := s.store.PreviewImport(ctx, teamID, im.ID); err != nil {
		return err
	}
	return s.redirect(c, "/imports/"+strconv.FormatInt(im.ID, 10))
}

// DefaultImportInlineCheck is the largest file whose dry run runs in the
// request that saves the mapping; a larger one is checked by a worker.
const DefaultImportInlineCheck = 4 << 20

func (s *Server) importInlineCheck() int64 {
	if s.cfg.ImportInlineCheck > 0 {
		return s.cfg.ImportInlineCheck
	}
	return DefaultImportInlineCheck
}

func (s *Server) startImport(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	if err := s.store.StartImport(c.UserContext(), currentTeam(c).ID, im.ID); err != nil {
		if errors.Is(err, store.ErrImportState) {
			return s.renderImport(c, fiber.StatusConflict, im, im.MappingInfo(), views.Errors{"": "Run the dry run for the current mapping first."})
		}
		return err
	}
	s.imports.kick()
	return s.redirect(c, "/imports/"+strconv.FormatInt(im.ID, 10))
}

// progressView computes the bar's numbers.
func progressView(im *store.Import, now time.Time) views.ImportProgressView {
	p := views.ImportProgressView{ID: im.ID, Status: im.Status, Done: im.RowsDone, Total: im.RowsTotal, Finished: im.Finished(),
		Rate: "starting", Left: "time left unknown"}
	started, unit := im.StartedAt, "rows/s"
	if im.Status == store.ImportUndoing {
		// The undo goes through the records the import created or updated.
		p.Done, p.Total, started, unit = im.UndoDone, im.Created+im.Updated, im.UndoneAt, "records/s"
	}
	if p.Total > 0 {
		p.Percent = int(100 * p.Done / p.Total)
	}
	if !started.IsZero() && p.Done > 0 {
		secs := now.Sub(started).Seconds()
		if secs > 0 {
			rate := float64(p.Done) / secs
			p.Rate = fmt.Sprintf("%.0f %s", rate, unit)
			left := time.Duration(float64(p.Total-p.Done)/rate) * time.Second
			switch {
			case left < time.Minute:
				p.Left = "less than a minute left"
			default:
				p.Left = fmt.Sprintf("about %d min left", int(left.Minutes()+0.5))
			}
		}
	}
	return p
}

// importProgress is the polled fragment; a finished job sends the browser
// to its result.
func (s *Server) importProgress(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	if im.InProgress() {
		// Any instance that shows a job may pick it up if its worker died.
		s.imports.kick()
	}
	if (im.Finished() || im.Status == store.ImportUploaded || im.Status == store.ImportPreviewed) && isHTMX(c) {
		c.Set("HX-Redirect", "/imports/"+strconv.FormatInt(im.ID, 10))
		return c.SendStatus(fiber.StatusNoContent)
	}
	return render(c, fiber.StatusOK, views.ImportProgress(progressView(im, time.Now())))
}

func (s *Server) cancelImport(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	if err := s.store.CancelImport(c.UserContext(), currentTeam(c).ID, im.ID); err != nil && !errors.Is(err, store.ErrImportState) {
		return err
	}
	return s.redirect(c, "/imports/"+strconv.FormatInt(im.ID, 10))
}

func (s *Server) undoImport(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	_, err = s.store.QueueUndo(c.UserContext(), currentTeam(c).ID, im.ID, currentUser(c))
	switch {
	case errors.Is(err, store.ErrImportState):
		s.flash(c, "error", "This import was already undone, or has not finished.")
	case err != nil:
		return err
	default:
		s.log.Info().Int64("import", im.ID).Int64("team", im.TeamID).Int64("by", currentUser(c).ID).Msg("import undo queued")
		s.imports.kick()
	}
	return s.redirect(c, "/imports/"+strconv.FormatInt(im.ID, 10))
}

// importRejects downloads the rejected rows: the file's header and rows
// plus a Reason column.
func (s *Server) importRejects(c *fiber.Ctx) error {
	im, err := s.theImport(c)
	if err != nil {
		return err
	}
	teamID := im.TeamID
	header := append(slices.Clone(im.DetectedInfo().Header), "Reason")
	name := strings.TrimSuffix(im.FileName, filepath.Ext(im.FileName)) + "-rejected.csv"
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
	log := s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		cw := csv.NewWriter(w)
		_ = cw.Write(header)
		err := s.store.ImportRejects(ctx, teamID, im.ID, func(rec []string, reason string) error {
			for i := range rec {
				rec[i] = store.NeutralizeCell(rec[i])
			}
			return cw.Write(append(rec, reason))
		})
		cw.Flush()
		if err != nil {
			log.Error().Err(err).Int64("import", im.ID).Msg("rejects report failed half-way")
		}
	})
	return nil
}

func (s *Server) setImportSetting(c *fiber.Ctx) error {
	allow := c.FormValue("members_may_import") == "on" || c.FormValue("members_may_import") == "1"
	if err := s.store.SetMembersMayImport(c.UserContext(), currentTeam(c).ID, currentUser(c), allow); err != nil {
		if errors.Is(err, store.ErrNotAllowed) {
			return fiber.ErrForbidden
		}
		return err
	}
	s.flash(c, "success", "Import setting saved.")
	return s.redirect(c, "/team")
}

// importWorker runs import jobs in this process: kick starts it when idle;
// it claims jobs (queued ones, and running ones whose lease ran out because
// their instance died) until there are none, then stops. Its jobs step
// aside for the requests the process serves (importPace).
type importWorker struct {
	jobRunner
	*importPace
	st    *store.Store
	log   zerolog.Logger
	owner string
}

func newImportWorker(st *store.Store, log zerolog.Logger) *importWorker {
	tail := time.Duration(0)
	if st.Dialect == store.SQLite {
		tail = importResponseTail
	}
	w := &importWorker{importPace: newImportPace(tail), st: st, log: log, owner: workerName("instance")}
	w.next = w.runOne
	return w
}

// defaultImportPoll is how often an instance looks for jobs it could run
// without being told: a job whose instance died mid-run (its lease ran out,
// store.ImportLease) is picked up by the next look of any live instance.
const defaultImportPoll = store.ImportLease / 2

// start runs the worker now (resuming jobs this instance or a dead one
// left) and every poll interval until the app shuts down.
func (w *importWorker) start(app *fiber.App, poll time.Duration) {
	if poll <= 0 {
		poll = defaultImportPoll
	}
	stop := make(chan struct{})
	app.Hooks().OnShutdown(func() error {
		close(stop)
		return nil
	})
	w.kick()
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				w.kick()
			}
		}
	}()
}

// runOne claims an import job and runs it: its dry run when the job is
// being checked, the import otherwise (from the row it got to).
func (w *importWorker) runOne(ctx context.Context) (bool, error) {
	job, err := w.st.ClaimImport(ctx, w.owner)
	if err != nil {
		w.log.Warn().Err(err).Msg("import worker: claim failed")
		return false, err
	}
	switch {
	case job == nil:
		return false, nil
	case job.Status == store.ImportChecking:
		if err := w.st.RunImportCheckPaced(ctx, job, w.owner, w); err != nil {
			w.log.Error().Err(err).Int64("import", job.ID).Msg("import dry run failed")
		}
	case job.Status == store.ImportUndoing:
		// A failed undo keeps its state and lease: once the lease runs
		// out, a worker takes it up again from the changes left.
		if err := w.st.RunUndoPaced(ctx, job, w.owner, w); err != nil {
			w.log.Error().Err(err).Int64("import", job.ID).Msg("import undo failed")
		} else {
			w.log.Info().Int64("import", job.ID).Msg("import undone")
		}
	default:
		w.log.Info().Int64("import", job.ID).Int64("from_row", job.RowsDone).Msg("import started")
		if err := w.st.RunImportPaced(ctx, job, w.owner, w); err != nil {
			w.log.Error().Err(err).Int64("import", job.ID).Msg("import failed")
		} else {
			w.log.Info().Int64("import", job.ID).Msg("import finished")
		}
	}
	return true, nil
}

// importNotes adds "imported by X from FILE" to a contact's activities,
// newest first.
func (s *Server) importNotes(ctx context.Context, teamID, contactID int64, items []store.Activity) ([]store.Activity, error) {
	notes, err := s.store.ContactImportNotes(ctx, teamID, contactID)
	if err != nil || len(notes) == 0 {
		return items, err
	}
	for _, n := range notes {
		what := "imported"
		if n.Action == "updated" {
			what = "updated"
		}
		desc := what + " by " + n.UserName + " from " + n.FileName
		if n.Status == store.ImportUndone {
			desc += " (the import was undone)"
		}
		items = append(items, store.Activity{Type: "import", Description: desc, UserName: n.UserName, At: n.At})
	}
	slices.SortStableFunc(items, func(a, b store.Activity) int { return b.At.Compare(a.At) })
	return items, nil
}

// bigBody reports whether the request's body is above formBodyLimit (or of
// unknown length): read it as a stream, never whole.
func bigBody(c *fiber.Ctx) bool {
	n := c.Request().Header.ContentLength()
	return n > formBodyLimit || n < 0
}
