package handlers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// The CSV import over the API: the wizard's steps as calls. Upload the file
// as the body (text/csv, streamed, up to the page's limit
// SHERPA_IMPORT_MAX_BYTES; an Idempotency-Key only up to 1 MB), read the detected columns and the
// proposed mapping, PUT a mapping (which runs the dry run, as the page
// does), start, and undo.

func (s *Server) apiImportRoutes(g fiber.Router) {
	g.Get("/imports", s.apiImporter, s.apiListImports)
	g.Post("/imports", s.apiImporter, s.apiCreateImport)
	g.Get("/imports/:id", s.apiImporter, s.apiImport)
	g.Put("/imports/:id/mapping", s.apiImporter, s.apiImportMapping)
	g.Post("/imports/:id/start", s.apiImporter, s.apiStartImport)
	g.Post("/imports/:id/cancel", s.apiImporter, s.apiCancelImport)
	g.Post("/imports/:id/undo", s.apiImporter, s.apiUndoImport)
}

// apiImporter lets through the users who may import (owners and admins,
// members when the team allows it).
func (s *Server) apiImporter(c *fiber.Ctx) error {
	ok, err := s.store.CanImport(c.UserContext(), currentTeam(c).ID, currentUser(c))
	if err != nil {
		return err
	}
	if !ok {
		return &apiProblem{Status: fiber.StatusForbidden, Code: "forbidden",
			Detail: "Only the owner and admins may import, unless the owner lets members import on the team page."}
	}
	return c.Next()
}

// importJSON is an import job as the API shows it.
type importJSON struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	FileName   string          `json:"file_name"`
	Status     string          `json:"status"`
	Mode       string          `json:"mode"`
	RowsDone   int64           `json:"rows_done"`
	RowsTotal  int64           `json:"rows_total"`
	Created    int64           `json:"created"`
	Updated    int64           `json:"updated"`
	Skipped    int64           `json:"skipped"`
	Rejected   int64           `json:"rejected"`
	Error      string          `json:"error"`
	Detected   json.RawMessage `json:"detected"`
	Mapping    json.RawMessage `json:"mapping"`
	Preview    json.RawMessage `json:"preview"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	UndoneAt   *time.Time      `json:"undone_at"`
	UndoDone   int64           `json:"undo_done"` // changes the undo went through (of created + updated)
	UndoKept   int64           `json:"undo_kept"` // records left alone: changed by someone since
}

func rawOr(s, def string) json.RawMessage {
	if strings.TrimSpace(s) == "" || !json.Valid([]byte(s)) {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func importOut(im *store.Import) importJSON {
	return importJSON{ID: im.ID, Kind: im.Kind, FileName: im.FileName, Status: im.Status, Mode: im.Mode,
		RowsDone: im.RowsDone, RowsTotal: im.RowsTotal, Created: im.Created, Updated: im.Updated, Skipped: im.Skipped,
		Rejected: im.Rejected, Error: im.Error, Detected: rawOr(im.Detected, "{}"), Mapping: rawOr(im.Mapping, "{}"),
		Preview: rawOr(im.Preview, "null"), CreatedAt: im.CreatedAt, StartedAt: optTime(im.StartedAt),
		FinishedAt: optTime(im.FinishedAt), UndoneAt: optTime(im.UndoneAt), UndoDone: im.UndoDone, UndoKept: im.UndoKept}
}

func importStateConflict() error {
	return &apiProblem{Status: fiber.StatusConflict, Code: "import_state",
		Detail: "The import is not in a state that allows this: a mapping (with its dry run) comes before start, and a started import's mapping no longer changes."}
}

func (s *Server) apiListImports(c *fiber.Ctx) error {
	list, err := s.store.ListImports(c.UserContext(), currentTeam(c).ID, 50)
	if err != nil {
		return err
	}
	out := make([]importJSON, len(list))
	for i := range list {
		out[i] = importOut(&list[i])
	}
	return apiJSON(c, fiber.StatusOK, listJSON[importJSON]{Data: out})
}

func (s *Server) apiImportByPath(c *fiber.Ctx) (*store.Import, error) {
	id, err := apiID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.ImportByID(c.UserContext(), currentTeam(c).ID, id)
}

func (s *Server) apiImport(c *fiber.Ctx) error {
	im, err := s.apiImportByPath(c)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, importOut(im))
}

func (s *Server) apiCreateImport(c *fiber.Ctx) error {
	kind := c.Query("kind")
	if kind != store.ImportContacts && kind != store.ImportDeals {
		return &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_query", Detail: "Some query parameters are not valid; see errors.",
			Errors: map[string]string{"kind": "Choose contacts or deals."}}
	}
	name := store.CleanText(c.Query("file_name", kind+".csv"))
	max := s.importMax()
	tooLarge := &apiProblem{Status: fiber.StatusRequestEntityTooLarge, Code: "too_large",
		Detail: fmt.Sprintf("The file is larger than the import limit of %d MB (SHERPA_IMPORT_MAX_BYTES).", max>>20)}
	if int64(c.Request().Header.ContentLength()) > max {
		discardBody(c)
		return tooLarge
	}
	// A large body is read as a stream (up to the import limit), never whole.
	var body io.Reader
	if bigBody(c) {
		body = c.Context().RequestBodyStream()
	}
	if body == nil {
		body = bytes.NewReader(c.Body())
	}
	br := bufio.NewReader(body)
	if _, err := br.Peek(1); err != nil {
		return &apiProblem{Status: fiber.StatusBadRequest, Code: "empty_file", Detail: "Send the CSV file as the request body (Content-Type: text/csv)."}
	}
	im, err := s.store.CreateImport(c.UserContext(), currentTeam(c).ID, currentUser(c), name, kind, br, max)
	if errors.Is(err, store.ErrImportTooLarge) {
		discardBody(c)
		return tooLarge
	}
	if err != nil && strings.Contains(err.Error(), "read upload") {
		return &apiProblem{Status: fiber.StatusBadRequest, Code: "upload_cut_off", Detail: "The upload was cut off; please try again."}
	}
	if err != nil {
		return err
	}
	return apiCreated(c, apiPrefix+"/imports/"+strconv.FormatInt(im.ID, 10), importOut(im))
}

// apiImportMapping saves the mapping (an ImportMapping, as the page's form
// makes it) and runs the dry run.
func (s *Server) apiImportMapping(c *fiber.Ctx) error {
	im, err := s.apiImportByPath(c)
	if err != nil {
		return err
	}
	if _, err := readJSON(c); err != nil {
		return err
	}
	var m store.ImportMapping
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return &apiProblem{Status: fiber.StatusUnprocessableEntity, Code: "invalid",
			Detail: "The mapping must be an object with columns (one field name, or \"\", per column), mode, unknown, unknown_owner, and optionally values and date_order: " + err.Error()}
	}
	if d := im.DetectedInfo(); d.Problem != "" {
		return &apiProblem{Status: fiber.StatusUnprocessableEntity, Code: "unreadable_file", Detail: d.Problem}
	}
	ctx, teamID := c.UserContext(), currentTeam(c).ID
	if _, err := s.store.SaveImportMapping(ctx, teamID, im.ID, m); err != nil {
		if errors.Is(err, store.ErrImportState) {
			return importStateConflict()
		}
		return err
	}
	done, err := s.store.PreviewImport(ctx, teamID, im.ID)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, importOut(done))
}

func (s *Server) apiStartImport(c *fiber.Ctx) error {
	im, err := s.apiImportByPath(c)
	if err != nil {
		return err
	}
	if err := s.store.StartImport(c.UserContext(), currentTeam(c).ID, im.ID); err != nil {
		if errors.Is(err, store.ErrImportState) {
			return importStateConflict()
		}
		return err
	}
	s.imports.kick()
	if im, err = s.store.ImportByID(c.UserContext(), currentTeam(c).ID, im.ID); err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusAccepted, importOut(im))
}

func (s *Server) apiCancelImport(c *fiber.Ctx) error {
	im, err := s.apiImportByPath(c)
	if err != nil {
		return err
	}
	if err := s.store.CancelImport(c.UserContext(), currentTeam(c).ID, im.ID); err != nil {
		if errors.Is(err, store.ErrImportState) {
			return importStateConflict()
		}
		return err
	}
	if im, err = s.store.ImportByID(c.UserContext(), currentTeam(c).ID, im.ID); err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, importOut(im))
}

func (s *Server) apiUndoImport(c *fiber.Ctx) error {
	im, err := s.apiImportByPath(c)
	if err != nil {
		return err
	}
	// The undo runs as a job, as the import did: poll the import until its
	// status is "undone".
	queued, err := s.store.QueueUndo(c.UserContext(), currentTeam(c).ID, im.ID, currentUser(c))
	if errors.Is(err, store.ErrImportState) {
		return importStateConflict()
	}
	if err != nil {
		return err
	}
	s.imports.kick()
	return apiJSON(c, fiber.StatusAccepted, importOut(queued))
}
