package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"sherpa/money"
)

// CSV import
//
// An upload is stored in the database in 1 MB chunks (import_chunks), so any
// instance can preview it, run it or resume it: nothing lives on one
// machine's disk. The job's state is the imports row. A worker claims a
// queued job, or one whose lease ran out (its instance died), with a lease it
// renews on every batch; each batch of importBatch rows is one transaction
// that writes the records, their search terms, what it created and what the
// updated rows were before (import_changes, for undo), the rejected rows
// (import_rejects, for the report) and the job's counters and offset. A
// resumed job skips the rows its committed batches covered. The dry run
// streams the same file through the same decisions and writes nothing.

// Import statuses.
const (
	ImportUploaded  = "uploaded"  // stored and analysed; mapping to confirm
	ImportPreviewed = "previewed" // dry run done for the current mapping
	ImportChecking  = "checking"  // dry run running as a job (a large file)
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed"
	ImportCancelled = "cancelled"
	ImportUndoing   = "undoing"
	ImportUndone    = "undone"
)

const (
	importChunkSize = 1 << 20
	importBatch     = 1000
	// ImportLease is how long a worker holds a job without renewing it.
	ImportLease = time.Minute
)

// Import errors.
var (
	ErrImportTooLarge = errors.New("the file is larger than the import limit")
	ErrImportState    = errors.New("the import is not in a state that allows this")
)

// Import is one uploaded file and its job.
type Import struct {
	bun.BaseModel `bun:"table:imports,alias:i"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TeamID     int64     `bun:"team_id,notnull"`
	UserID     int64     `bun:"user_id,notnull"`
	FileName   string    `bun:"file_name,notnull"`
	Kind       string    `bun:"kind,notnull"`
	Size       int64     `bun:"size,notnull"`
	Detected   string    `bun:"detected,notnull"`
	Mapping    string    `bun:"mapping,notnull"`
	Preview    string    `bun:"preview,notnull"`
	Mode       string    `bun:"mode,notnull"`
	Status     string    `bun:"status,notnull"`
	RowsDone   int64     `bun:"rows_done,notnull"`
	RowsTotal  int64     `bun:"rows_total,notnull"`
	Created    int64     `bun:"created,notnull"`
	Updated    int64     `bun:"updated,notnull"`
	Skipped    int64     `bun:"skipped,notnull"`
	Rejected   int64     `bun:"rejected,notnull"`
	Error      string    `bun:"error,notnull"`
	LeaseOwner string    `bun:"lease_owner,notnull"`
	LeaseUntil time.Time `bun:"lease_until,nullzero"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	StartedAt  time.Time `bun:"started_at,nullzero"`
	FinishedAt time.Time `bun:"finished_at,nullzero"`
	UndoneAt   time.Time `bun:"undone_at,nullzero"`
	UndoneBy   int64     `bun:"undone_by,nullzero"`
	UndoKept   int64     `bun:"undo_kept,notnull"`
	UndoDone   int64     `bun:"undo_done,notnull"` // changes the undo went through so far

	UserName string `bun:"user_name,scanonly"`
}

// DetectedInfo decodes what the upload found out.
func (im *Import) DetectedInfo() ImportDetected {
	var d ImportDetected
	_ = json.Unmarshal([]byte(im.Detected), &d)
	return d
}

// MappingInfo decodes the saved mapping.
func (im *Import) MappingInfo() ImportMapping {
	var m ImportMapping
	_ = json.Unmarshal([]byte(im.Mapping), &m)
	return m
}

// PreviewInfo decodes the dry run's result (nil before one).
func (im *Import) PreviewInfo() *ImportPreview {
	if im.Preview == "" {
		return nil
	}
	p := new(ImportPreview)
	if json.Unmarshal([]byte(im.Preview), p) != nil {
		return nil
	}
	return p
}

// Finished reports a job that no longer runs.
func (im *Import) Finished() bool {
	switch im.Status {
	case ImportDone, ImportFailed, ImportCancelled, ImportUndone:
		return true
	}
	return false
}

// InProgress reports a job a worker runs or will run: a dry run, an
// import or an undo.
func (im *Import) InProgress() bool {
	switch im.Status {
	case ImportQueued, ImportRunning, ImportChecking, ImportUndoing:
		return true
	}
	return false
}

// CanUndo reports whether the import wrote something that undo can revert.
func (im *Import) CanUndo() bool {
	return (im.Status == ImportDone || im.Status == ImportFailed || im.Status == ImportCancelled) && im.Created+im.Updated > 0
}

// ImportMapping is the user's choice on the mapping page.
type ImportMapping struct {
	Columns   []string `json:"columns"` // the field of each column, "" to ignore it
	Mode      string   `json:"mode"`
	DateOrder string   `json:"date_order,omitempty"` // "dmy" or "mdy" for dates written with / . -
	// Values maps a status, stage or owner as written in the file (field
	// "|" FoldValue(value)) to a status, a stage or a member id; RejectValue
	// rejects the row.
	Values map[string]string `json:"values,omitempty"`
	// Unknown is what happens to a status or stage the file has and Sherpa
	// doesn't: UnknownDefault (New, Created) or UnknownReject.
	Unknown string `json:"unknown"`
	// UnknownOwner: UnknownUnassigned or UnknownReject.
	UnknownOwner string `json:"unknown_owner"`
}

// Value mapping choices.
const (
	RejectValue       = "-"
	UnknownDefault    = "default"
	UnknownReject     = "reject"
	UnknownUnassigned = "unassigned"
)

// ValueKey is the key of a value in ImportMapping.Values.
func ValueKey(field, v string) string { return field + "|" + FoldValue(v) }

// ImportPreview is the dry run's answer.
type ImportPreview struct {
	Rows    int                     `json:"rows"`
	Create  int                     `json:"create"`
	Update  int                     `json:"update"`
	Skip    int                     `json:"skip"`
	Reject  int                     `json:"reject"`
	Samples map[string][]PreviewRow `json:"samples"` // by "create", "update", "skip", "reject"
	Reasons []ReasonCount           `json:"reasons"` // skip and reject reasons, most frequent first
	Problem string                  `json:"problem,omitempty"`
}

// PreviewRow is a sample row of the dry run.
type PreviewRow struct {
	Line   int    `json:"line"`
	Label  string `json:"label"` // the record as Sherpa would show it
	Reason string `json:"reason,omitempty"`
}

// ReasonCount is how many rows a reason skips or rejects.
type ReasonCount struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Rows    int    `json:"rows"`
}

const previewSamples = 5

// Settings

// MembersMayImport reports the team's setting "members may import".
func (s *Store) MembersMayImport(ctx context.Context, teamID int64) (bool, error) {
	var v []int
	if err := s.DB.NewRaw("SELECT members_may_import FROM import_settings WHERE team_id = ?", teamID).Scan(ctx, &v); err != nil {
		return false, fmt.Errorf("read import setting of team %d: %w", teamID, err)
	}
	return len(v) > 0 && v[0] == 1, nil
}

// SetMembersMayImport changes the setting; only the owner may.
func (s *Store) SetMembersMayImport(ctx context.Context, teamID int64, actor *User, allow bool) error {
	if err := checkActor(actor, teamID); err != nil || actor.Role != RoleOwner {
		return fmt.Errorf("change import setting of team %d: %w", teamID, ErrNotAllowed)
	}
	v := 0
	if allow {
		v = 1
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the contacts page offers the import or not
			return err
		}
		var n int
		if err := tx.NewRaw("SELECT COUNT(*) FROM import_settings WHERE team_id = ?", teamID).Scan(ctx, &n); err != nil {
			return fmt.Errorf("read import setting: %w", err)
		}
		if n > 0 {
			if _, err := tx.NewRaw("UPDATE import_settings SET members_may_import = ? WHERE team_id = ?", v, teamID).Exec(ctx); err != nil {
				return fmt.Errorf("update import setting: %w", err)
			}
		} else {
			if _, err := tx.NewRaw("INSERT INTO import_settings (team_id, members_may_import) VALUES (?, ?)", teamID, v).Exec(ctx); err != nil {
				return fmt.Errorf("insert import setting: %w", err)
			}
		}
		return nil
	})
}

// CanImport reports whether the user may import into their team: owners and
// admins, members when the team allows it.
func (s *Store) CanImport(ctx context.Context, teamID int64, actor *User) (bool, error) {
	if checkActor(actor, teamID) != nil {
		return false, nil
	}
	if actor.CanManage() {
		return true, nil
	}
	return s.MembersMayImport(ctx, teamID)
}

// Upload

// CreateImport stores an uploaded file in chunks and analyses it: encoding,
// delimiter, header, a sample, and a proposed mapping. A file above
// maxBytes is refused with ErrImportTooLarge and nothing is kept. A file
// that cannot be imported is kept with the problem in its DetectedInfo.
func (s *Store) CreateImport(ctx context.Context, teamID int64, actor *User, fileName, kind string, src io.Reader, maxBytes int64) (*Import, error) {
	if ok, err := s.CanImport(ctx, teamID, actor); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("create import: %w", ErrNotAllowed)
	}
	if kind != ImportDeals {
		kind = ImportContacts
	}
	im := &Import{TeamID: teamID, UserID: actor.ID, FileName: shorten(fileName, 200), Kind: kind, Detected: "{}", Mapping: "{}",
		Mode: ModeCreate, Status: ImportUploaded, CreatedAt: s.now()}
	if _, err := s.DB.NewInsert().Model(im).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create import: %w", err)
	}
	fail := func(err error) (*Import, error) {
		// A fresh context: the request's may be what ended.
		_, _ = s.DB.NewDelete().Model((*Import)(nil)).Where("id = ?", im.ID).Exec(context.WithoutCancel(ctx))
		return nil, err
	}
	buf := make([]byte, importChunkSize)
	var head []byte
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			size += int64(n)
			if size > maxBytes {
				return fail(fmt.Errorf("create import: %w", ErrImportTooLarge))
			}
			if head == nil {
				head = append([]byte(nil), buf[:min(n, detectBytes)]...)
			}
			if err := s.writeChunk(ctx, im.ID, seq, buf[:n]); err != nil {
				return fail(fmt.Errorf("store import chunk: %w", err))
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read upload: %w", err))
		}
	}
	det, _ := analyse(kind, head, s.chunkReaderFrom(ctx, im.ID, len(head)))
	m := ImportMapping{Columns: AutoMap(kind, det.Header), Mode: ModeCreate, Unknown: UnknownDefault, UnknownOwner: UnknownUnassigned}
	for i, f := range m.Columns {
		if f == "close_date" {
			if o := det.DateOrders[i]; o == "dmy" || o == "mdy" {
				m.DateOrder = o
			}
		}
	}
	dj, _ := json.Marshal(det)
	mj, _ := json.Marshal(m)
	if _, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("size = ?", size).Set("detected = ?", string(dj)).
		Set("mapping = ?", string(mj)).Where("id = ?", im.ID).Exec(ctx); err != nil {
		return fail(fmt.Errorf("save import analysis: %w", err))
	}
	return s.ImportByID(ctx, teamID, im.ID)
}

// chunkReader reads an import's file back from its chunks, one at a time.
type chunkReader struct {
	ctx  context.Context
	s    *Store
	id   int64
	seq  int
	skip int // bytes of the first chunk already read
	buf  []byte
	done bool
}

func (s *Store) chunkReaderFrom(ctx context.Context, id int64, skip int) *chunkReader {
	return &chunkReader{ctx: ctx, s: s, id: id, skip: skip}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		data, err := r.s.readChunk(r.ctx, r.id, r.seq)
		if err != nil {
			return 0, fmt.Errorf("read import chunk %d: %w", r.seq, err)
		}
		if len(data) == 0 {
			r.done = true
			return 0, io.EOF
		}
		r.seq++
		r.buf = data[0]
		if r.skip > 0 {
			r.buf = r.buf[min(r.skip, len(r.buf)):]
			r.skip = 0
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// readChunk reads one chunk of a file (nil after the last). On SQLite the
// read goes through a connection whose page cache is first cut to 1 MB and
// given back its size after: the chunk's pages would otherwise fill the
// connection's 32 MB cache with data read once, in every pooled connection
// that reads chunks.
func (s *Store) readChunk(ctx context.Context, id int64, seq int) ([][]byte, error) {
	const q = "SELECT data FROM import_chunks WHERE import_id = ? AND seq = ?"
	if s.Dialect != SQLite {
		var data [][]byte
		err := s.DB.NewRaw(q, id, seq).Scan(ctx, &data)
		return data, err
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -1024"); err != nil {
		return nil, err
	}
	var data [][]byte
	err = conn.NewRaw(q, id, seq).Scan(ctx, &data)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+sqliteCacheSize); rerr != nil {
		// The connection would keep the small cache: drop it from the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return nil, errors.Join(err, rerr)
	}
	return data, err
}

// importCacheSize is the page cache (KiB) of the SQLite connection an import
// job writes through. A job writes pages once per batch and moves on: with
// the store's 32 MiB per connection, the job's connection (and, across
// batches, every pooled connection it happened to get) filled its whole
// cache, and the process's memory grew past 150 MB over a million rows.
// The batch's dirty pages beyond it spill to the WAL, which the operating
// system's cache holds anyway.
const importCacheSize = "-8192"

// withImportConn runs an import job's batches. On SQLite they all go through
// one connection whose page cache is cut to importCacheSize for the job and
// given back its size after (see readChunk); runTx is a retried transaction
// on it. On MySQL the cache is the server's, and runTx is inTx.
func (s *Store) withImportConn(ctx context.Context, fn func(runTx func(func(ctx context.Context, tx bun.Tx) error) error) error) error {
	if s.Dialect != SQLite {
		return fn(func(f func(ctx context.Context, tx bun.Tx) error) error { return s.inTx(ctx, f) })
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("import connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = "+importCacheSize); err != nil {
		return fmt.Errorf("import connection: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+sqliteCacheSize); err != nil {
			// The connection would keep the small cache: drop it from the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(func(f func(ctx context.Context, tx bun.Tx) error) error {
		var err error
		// As inTx: the list versions move once, last (listversion.go).
		f = withListMarks(f)
		for attempt := 1; ; attempt++ {
			err = conn.RunInTx(ctx, nil, f)
			if err == nil || attempt == txAttempts || !IsRetryable(err) {
				return err
			}
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(txBackoff << (attempt - 1)):
			}
		}
	})
}

// withDryRunConn runs a dry run's reads. On SQLite they all go through one
// connection whose page cache is cut to importCacheSize for the run (as
// withImportConn does for the job): the dry run of an update over 100,000
// contacts looks every one of them up by email, and through the pool each
// of the four connections filled its 32 MiB cache with the same pages
// (the process's memory went from 74 to 125 MB, round 7). On MySQL the
// cache is the server's, and the reads go to the pool.
func (s *Store) withDryRunConn(ctx context.Context, fn func(db bun.IDB) error) error {
	if s.Dialect != SQLite {
		return fn(s.DB)
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("dry run connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = "+importCacheSize); err != nil {
		return fmt.Errorf("dry run connection: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+sqliteCacheSize); err != nil {
			// The connection would keep the small cache: drop it from the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(conn)
}

// writeChunk stores one chunk of an upload. On SQLite it goes through a
// connection whose page cache is cut to 1 MB for the write (as readChunk
// does for reads): a 200 MB file's pages would otherwise fill the 32 MB
// cache of the pooled connections that wrote them, with data written once.
// The connection is taken per chunk, so a slow upload holds none of the
// pool's four between chunks.
func (s *Store) writeChunk(ctx context.Context, id int64, seq int, data []byte) error {
	const q = "INSERT INTO import_chunks (import_id, seq, data) VALUES (?, ?, ?)"
	if s.Dialect != SQLite {
		_, err := s.DB.NewRaw(q, id, seq, data).Exec(ctx)
		return err
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -1024"); err != nil {
		return err
	}
	_, err = conn.NewRaw(q, id, seq, data).Exec(ctx)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+sqliteCacheSize); rerr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(err, rerr)
	}
	return err
}

// decoderFor returns the decoder of an encoding ImportDetected named.
func decoderFor(enc string) transform.Transformer {
	switch enc {
	case "UTF-8 (BOM)":
		return xunicode.UTF8BOM.NewDecoder()
	case "UTF-16LE":
		return xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewDecoder()
	case "UTF-16BE":
		return xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM).NewDecoder()
	case "Windows-1252":
		return charmap.Windows1252.NewDecoder()
	}
	return transform.Nop
}

// ImportByID loads one import of the team; ErrNotFound for another team's.
func (s *Store) ImportByID(ctx context.Context, teamID, id int64) (*Import, error) {
	im := new(Import)
	err := s.DB.NewSelect().Model(im).ColumnExpr("i.*").ColumnExpr("u.name AS user_name").
		Join("LEFT JOIN users AS u ON u.id = i.user_id").Where("i.team_id = ?", teamID).Where("i.id = ?", id).Scan(ctx)
	if err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load import %d: %w", id, err)
	}
	return im, nil
}

// ListImports lists the team's latest imports, newest first.
func (s *Store) ListImports(ctx context.Context, teamID int64, limit int) ([]Import, error) {
	var out []Import
	err := s.DB.NewSelect().Model(&out).ColumnExpr("i.id, i.team_id, i.user_id, i.file_name, i.kind, i.size, i.mode, i.status, i.rows_done, i.rows_total, i.created, i.updated, i.skipped, i.rejected, i.error, i.created_at, i.finished_at, i.undone_at").
		ColumnExpr("'' AS detected, '' AS mapping, '' AS preview, '' AS lease_owner, 0 AS undo_kept, 0 AS undo_done").
		ColumnExpr("u.name AS user_name").Join("LEFT JOIN users AS u ON u.id = i.user_id").
		Where("i.team_id = ?", teamID).OrderExpr("i.created_at DESC, i.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list imports of team %d: %w", teamID, err)
	}
	return out, nil
}

// Mapping

// Validate checks a mapping against the file's header: known fields, each
// mapped once, the fields a kind needs, a known mode and date order.
func (m ImportMapping) Validate(kind string, d ImportDetected) FieldErrors {
	fe := FieldErrors{}
	if len(m.Columns) != len(d.Header) {
		fe["columns"] = "The mapping does not match the file's columns; upload the file again."
		return fe
	}
	known := map[string]bool{}
	for _, f := range ImportFields(kind) {
		known[f.Key] = true
	}
	used := map[string]int{}
	for i, f := range m.Columns {
		if f == "" {
			continue
		}
		if !known[f] {
			fe["col"+strconv.Itoa(i)] = "Choose a field from the list."
			continue
		}
		if j, dup := used[f]; dup {
			fe["col"+strconv.Itoa(i)] = fmt.Sprintf("This field is already mapped to column %d (%s).", j+1, d.Header[j])
			continue
		}
		used[f] = i
	}
	_, hasName := used["name"]
	_, hasFirst := used["first_name"]
	_, hasLast := used["last_name"]
	if kind == ImportDeals {
		if !hasName {
			fe["columns"] = "Map a column to the deal's Name."
		} else if _, ok := used["contact_email"]; !ok {
			fe["columns"] = "Map a column to Contact email: each deal belongs to one of the team's contacts."
		}
	} else {
		if _, ok := used["email"]; !ok {
			fe["columns"] = "Map a column to Email: contacts are matched by their email."
		} else if !hasName && !hasFirst && !hasLast && m.Mode != ModeUpdate {
			fe["columns"] = "Map a column to Name (or First name and Last name)."
		}
	}
	if kind == ImportContacts && !slices.Contains(ImportModes, m.Mode) {
		fe["mode"] = "Choose what to do with contacts that already exist."
	}
	if i, ok := used["close_date"]; ok {
		switch d.DateOrders[i] {
		case "ambiguous", "mixed":
			if m.DateOrder != "dmy" && m.DateOrder != "mdy" {
				fe["date_order"] = "The dates could be day/month or month/day: choose which."
			}
		}
	}
	if m.Unknown != UnknownDefault && m.Unknown != UnknownReject {
		fe["unknown"] = "Choose what to do with unknown values."
	}
	if m.UnknownOwner != UnknownUnassigned && m.UnknownOwner != UnknownReject {
		fe["unknown_owner"] = "Choose what to do with unknown owners."
	}
	return fe
}

// SaveImportMapping saves a mapping; the import needs a new dry run.
func (s *Store) SaveImportMapping(ctx context.Context, teamID, id int64, m ImportMapping) (*Import, error) {
	im, err := s.ImportByID(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if im.Status != ImportUploaded && im.Status != ImportPreviewed && im.Status != ImportChecking {
		return nil, fmt.Errorf("save mapping of import %d: %w", id, ErrImportState)
	}
	d := im.DetectedInfo()
	if d.Problem != "" {
		return nil, fmt.Errorf("save mapping of import %d: %w", id, ErrImportState)
	}
	if im.Kind == ImportDeals {
		m.Mode = ModeCreate
	}
	if err := m.Validate(im.Kind, d).err(); err != nil {
		return nil, err
	}
	mj, _ := json.Marshal(m)
	if _, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("mapping = ?", string(mj)).Set("mode = ?", m.Mode).
		Set("status = ?", ImportUploaded).Set("preview = ''").
		Where("team_id = ?", teamID).Where("id = ?", id).Where("status IN (?)", bun.In([]string{ImportUploaded, ImportPreviewed, ImportChecking})).Exec(ctx); err != nil {
		return nil, fmt.Errorf("save mapping of import %d: %w", id, err)
	}
	return s.ImportByID(ctx, teamID, id)
}

// Runs: the dry run and the job share importRun.

type importRun struct {
	s       *Store
	im      *Import
	m       ImportMapping
	actor   *User
	manager bool
	dry     bool
	owners  map[string]int64 // FoldValue(email or unique name) → member id
	members map[int64]bool
	seen    *emailSeen // dry run: the file's emails so far
	preview *ImportPreview
	reasons map[[2]string]int
	header  []string
	// currency is the team's: amounts are read in its minor units.
	currency string
	// lostReasons are the team's (deals); a Closed Lost deal without a
	// known one gets fallbackReason.
	lostReasons    []string
	fallbackReason string
	today          time.Time
	// pace is the job's ImportPacer (nil: never steps aside).
	pace ImportPacer
}

func (s *Store) newImportRun(ctx context.Context, im *Import, dry bool) (*importRun, error) {
	members, err := s.TeamMembers(ctx, im.TeamID)
	if err != nil {
		return nil, err
	}
	r := &importRun{s: s, im: im, m: im.MappingInfo(), dry: dry, owners: map[string]int64{}, members: map[int64]bool{},
		preview: &ImportPreview{Samples: map[string][]PreviewRow{}}, reasons: map[[2]string]int{}}
	if dry {
		r.seen = newEmailSeen()
	}
	names := map[string]int{}
	for _, u := range members {
		names[FoldValue(u.Name)]++
	}
	for i := range members {
		u := &members[i]
		r.members[u.ID] = true
		r.owners[FoldValue(u.Email)] = u.ID
		if names[FoldValue(u.Name)] == 1 {
			r.owners[FoldValue(u.Name)] = u.ID
		}
		if u.ID == im.UserID {
			r.actor = u
		}
	}
	if r.actor == nil {
		return nil, fmt.Errorf("import %d: its author left the team: %w", im.ID, ErrNotAllowed)
	}
	r.manager = r.actor.CanManage()
	r.header = im.DetectedInfo().Header
	if r.currency, err = s.teamCurrency(ctx, im.TeamID); err != nil {
		return nil, err
	}
	if im.Kind == ImportDeals {
		if r.lostReasons, err = s.LostReasons(ctx, im.TeamID); err != nil {
			return nil, err
		}
		r.fallbackReason = FallbackLostReason(r.lostReasons)
		if r.today, err = s.TeamToday(ctx, im.TeamID); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// importRow is one record of the file.
type importRow struct {
	line   int
	rec    []string
	reason string // set when the row is rejected
}

// outcome is what happened to a row.
type outcome struct {
	kind   string // "create", "update", "skip", "reject"
	line   int
	label  string
	reason string
	rec    []string
}

func (r *importRun) note(o outcome) {
	p := r.preview
	switch o.kind {
	case "create":
		p.Create++
	case "update":
		p.Update++
	case "skip":
		p.Skip++
	case "reject":
		p.Reject++
	}
	if len(p.Samples[o.kind]) < previewSamples {
		p.Samples[o.kind] = append(p.Samples[o.kind], PreviewRow{Line: o.line, Label: shorten(o.label, 120), Reason: o.reason})
	}
	if o.reason != "" {
		key, _, _ := strings.Cut(o.reason, ": ")
		r.reasons[[2]string{o.kind, key}]++
	}
}

func (r *importRun) finishPreview() {
	for k, n := range r.reasons {
		r.preview.Reasons = append(r.preview.Reasons, ReasonCount{Outcome: k[0], Reason: k[1], Rows: n})
	}
	sort.Slice(r.preview.Reasons, func(i, j int) bool {
		a, b := r.preview.Reasons[i], r.preview.Reasons[j]
		if a.Rows != b.Rows {
			return a.Rows > b.Rows
		}
		return a.Reason < b.Reason
	})
}

// A batch's records and terms are written this many rows per statement,
// and the job may step aside between statements (yield): a list request
// that comes in while a batch runs waits for the statement running, a few
// tens of milliseconds, not for the rest of the batch. On SQLite a batch's
// contacts stay one statement: four of 250 cost the job about 1 s of CPU
// more per 100,000 rows (round 6).
const (
	importInsertRows       = 250
	importInsertRowsSQLite = 1000
	importInsertTerms      = 2000
)

// While the app serves requests (ImportPacer.Recent) the statements are
// shorter, a few milliseconds each: the pacer's hold before the next
// request is due (handlers' importPace) then begins with no statement of
// the job left running. With 250 contacts a statement on MariaDB, a
// statement started just before the hold still ran when the request came
// (list p95 during a 100k import 2.4 ms against 1.4 ms with 50); the job
// takes ~10 % longer (round 9).
const (
	importPacedRows       = 50
	importPacedRowsSQLite = 100
	importPacedTerms      = 400
	// An update batch's reads by email and id (an IN list of 999 emails
	// on MariaDB: p50 1.7, p95 7.7, at most 29 ms) and its deletes of
	// changed terms (300 rows: 11 ms) are paced too; the stored terms are
	// read for half as many contacts a statement (each has ~10). In update
	// mode the list p95 during a 100k import went from x2.4-3.1 to
	// x1.1-1.3 on MariaDB, the job from 12.5 to 14.6 s (round 11).
	importPacedLookups = 200
	importPacedDeletes = 50
)

// chunk is how many rows the next statement writes: full, or paced while
// the app serves requests.
func (r *importRun) chunk(full, paced int) int {
	if r.pace != nil && r.pace.Recent() {
		return min(full, paced)
	}
	return full
}

// yieldEvery is how many rows of a batch's own work in Go (reading the
// file, checking rows, making terms) go between two yields: a request
// that comes in meanwhile finds the job's goroutines parked, not on the
// process's two cores.
const yieldEvery = 64

// yield steps aside, inside a batch, while the app serves requests (see
// ImportPacer). Inside a transaction whose locks others may wait for (see
// withHoldBudget) it holds for importTxHold at most in all.
func (r *importRun) yield(ctx context.Context) {
	if r.pace == nil || !r.pace.Busy() {
		return
	}
	left, limited := ctx.Value(holdBudgetKey{}).(*time.Duration)
	if limited && *left <= 0 {
		return
	}
	start := time.Now()
	r.pace.Wait(ctx)
	if limited {
		*left -= time.Since(start)
	}
}

// importTxHold bounds how long one transaction of a job holds for the
// app's requests: SQLite's one writer, and an update's locked contacts,
// keep a user's edit waiting for the batch's end meanwhile. A SQLite batch
// of 1,000 contacts works ~100 ms (100k in 10 s during list traffic), and
// a bound of 500 ms instead of 50 made no difference to the list's p95
// there (round 9). A pipelined create-only batch (MySQL) locks only the
// rows it creates and, at its very end, the counters: it has no bound.
const importTxHold = 50 * time.Millisecond

type holdBudgetKey struct{}

// withHoldBudget bounds the holds of the transaction that runs with the
// returned context to importTxHold (yield).
func withHoldBudget(ctx context.Context) context.Context {
	left := importTxHold
	return context.WithValue(ctx, holdBudgetKey{}, &left)
}

// importJobBatch is the rows per transaction of an import job (the dry run
// reads importBatch at a time); a variable so that benchmarks can try sizes.
var importJobBatch = importBatch

// importPipeBatch is the rows per transaction of a pipelined job (MySQL,
// contacts, create only: imports_pipe.go). Every commit moves the team's
// list version, so each one makes the next list request of every user of
// the team draw its page afresh (and read the members and their column
// choices again); with 1,000-row batches a million-row import moved it
// ~4 times a second for its whole run. 4,000 rows commit about once a
// second. A create-only batch locks only the rows it creates (and the
// job's and the team's counter rows, at its end), so a longer transaction
// keeps no other writer waiting; SQLite, whose one writer holds the
// database for the whole transaction, keeps importJobBatch.
var importPipeBatch = 4 * importBatch

func (r *importRun) batch() int {
	switch {
	case r.dry:
		return importBatch
	case r.pipelined():
		return importPipeBatch
	}
	return importJobBatch
}

// stream reads the file's rows after skip rows and hands them to fn in
// batches.
func (r *importRun) stream(ctx context.Context, skip int64, fn func(rows []importRow) error) error {
	d := r.im.DetectedInfo()
	if d.Problem != "" {
		return errors.New(d.Problem)
	}
	ir := newImportReader(r.s.chunkReaderFrom(ctx, r.im.ID, 0), decoderFor(d.Encoding), d.Delimiter)
	if _, _, _, err := ir.next(); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	var rows []importRow
	var n int64
	for {
		rec, line, reason, err := ir.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The rest of the file cannot be decoded: one reject says so.
			rec, reason = nil, "The rest of the file could not be read as "+d.Encoding+"."
		}
		n++
		if n <= skip {
			if err != nil {
				break
			}
			continue
		}
		if reason == "" && len(rec) != len(d.Header) {
			reason = fmt.Sprintf("Row: it has %d cells but the header has %d.", len(rec), len(d.Header))
		}
		rows = append(rows, importRow{line: line, rec: rec, reason: reason})
		if len(rows)%yieldEvery == 0 {
			r.yield(ctx)
		}
		if len(rows) >= r.batch() {
			if err := fn(rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
		if err != nil {
			break
		}
	}
	if len(rows) > 0 {
		return fn(rows)
	}
	return nil
}

// cells returns the mapped, trimmed values of a row by field, or a reason.
// rowValues is the row's mapped cells, or false when the row is rejected
// (unreadable, or a cell refused), the reason recorded in res.
func (r *importRun) rowValues(res *batchResult, row importRow) (map[string]string, bool) {
	reason := row.reason
	var vals map[string]string
	if reason == "" {
		vals, reason = r.cells(row)
	}
	if reason != "" {
		r.reject(res, row, "", reason)
		return nil, false
	}
	return vals, true
}

func (r *importRun) cells(row importRow) (map[string]string, string) {
	out := map[string]string{}
	for i, f := range r.m.Columns {
		if f == "" || i >= len(row.rec) {
			continue
		}
		v := strings.TrimSpace(row.rec[i])
		if looksLikeFormula(v) {
			return nil, fmt.Sprintf("%s: %q looks like a spreadsheet formula; remove the = (or start the cell with ') and import again.", r.header[i], shorten(v, 40))
		}
		if !validUTF8(v) {
			return nil, fmt.Sprintf("%s: the text is not valid UTF-8; save the file as UTF-8 and import again.", r.header[i])
		}
		out[f] = UnneutralizeCell(v)
	}
	return out, ""
}

func validUTF8(s string) bool { return utf8.ValidString(s) }

// status maps a status or stage cell; ok false with a reason rejects.
func (r *importRun) choice(field, label, v string, allowed []string, def string) (string, string) {
	if v == "" {
		return "", ""
	}
	fv := FoldValue(v)
	for _, a := range allowed {
		if FoldValue(a) == fv {
			return a, ""
		}
	}
	if t, ok := r.m.Values[ValueKey(field, v)]; ok {
		if t == RejectValue {
			return "", fmt.Sprintf("%s: %q is set to be rejected.", label, shorten(v, 40))
		}
		if slices.Contains(allowed, t) {
			return t, ""
		}
	}
	if r.m.Unknown == UnknownReject {
		return "", fmt.Sprintf("%s: %q is not one of Sherpa's values.", label, shorten(v, 40))
	}
	return def, ""
}

// FallbackLostReason is the reason an imported Closed Lost deal gets when
// its row names none, or one the team doesn't have (unless the mapping
// rejects those): the team's "Other" when it has one, else its last reason.
func FallbackLostReason(reasons []string) string {
	for _, r := range reasons {
		if FoldValue(r) == "other" {
			return r
		}
	}
	if len(reasons) == 0 {
		return "Other"
	}
	return reasons[len(reasons)-1]
}

// lostReason maps the lost-reason cell of a Closed Lost row to one of the
// team's reasons: by name (case and accents ignored), else by the value
// mapping, else the fallback (with a note saying so) or a rejection, as
// the mapping's rule for unknown values says.
func (r *importRun) lostReason(v string) (reason, note, reject string) {
	if v == "" {
		return r.fallbackReason, "Lost reason: none given; it gets " + r.fallbackReason + ".", ""
	}
	fv := FoldValue(v)
	for _, a := range r.lostReasons {
		if FoldValue(a) == fv {
			return a, "", ""
		}
	}
	if t, ok := r.m.Values[ValueKey("lost_reason", v)]; ok {
		if t == RejectValue {
			return "", "", fmt.Sprintf("Lost reason: %q is set to be rejected.", shorten(v, 40))
		}
		if slices.Contains(r.lostReasons, t) {
			return t, "", ""
		}
	}
	if r.m.Unknown == UnknownReject {
		return "", "", fmt.Sprintf("Lost reason: %q is not one of the team's lost reasons.", shorten(v, 40))
	}
	return r.fallbackReason, fmt.Sprintf("Lost reason: %q is not one of the team's; it gets %s.", shorten(v, 40), r.fallbackReason), ""
}

// owner maps an owner cell to a member id (0: unassigned).
func (r *importRun) owner(v string) (int64, string) {
	if v == "" {
		return 0, ""
	}
	if t, ok := r.m.Values[ValueKey("owner", v)]; ok {
		if t == RejectValue {
			return 0, fmt.Sprintf("Owner: %q is set to be rejected.", shorten(v, 40))
		}
		if id, err := strconv.ParseInt(t, 10, 64); err == nil && (id == 0 || r.members[id]) {
			return id, ""
		}
	}
	if id, ok := r.owners[FoldValue(v)]; ok {
		return id, ""
	}
	if r.m.UnknownOwner == UnknownReject {
		return 0, fmt.Sprintf("Owner: %q is not a member of the team.", shorten(v, 40))
	}
	return 0, ""
}

// firstError turns FieldErrors into one reason, "Field: message".
func firstError(fe FieldErrors, labels map[string]string) string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		l := labels[k]
		if l == "" {
			l = k
		}
		parts = append(parts, l+": "+fe[k])
	}
	return strings.Join(parts, " ")
}

var contactLabels = map[string]string{"name": "Name", "email": "Email", "phone": "Phone", "company": "Company", "status": "Status", "owner_id": "Owner"}
var dealLabels = map[string]string{"name": "Name", "stage": "Stage", "goal": "Goal", "amount": "Amount", "close_date": "Close date", "company": "Company", "owner_id": "Owner", "contact_id": "Contact email"}

func emailHash(e string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(e))
	return h.Sum64()
}

// Contacts

type contactCand struct {
	row     importRow
	in      ContactInput
	set     map[string]string // mapped, non-empty fields
	ownerOK bool              // an owner cell was given
}

type existingContact struct {
	ID      int64  `bun:"id"`
	Name    string `bun:"name"`
	Email   string `bun:"email"`
	Phone   string `bun:"phone"`
	Company string `bun:"company"`
	Status  string `bun:"status"`
	OwnerID int64  `bun:"owner_id"`
	Version int    `bun:"version"`
}

// contactBefore is what undo restores.
type contactBefore struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Company string `json:"company"`
	Status  string `json:"status"`
	OwnerID int64  `json:"owner_id"`
}

type contactUpdate struct {
	id      int64
	version int // before the import
	before  contactBefore
	after   ContactInput
}

type changeRow struct {
	recordID int64
	action   string
	version  int
	before   string
}

type rejectRow struct {
	line   int
	reason string
	raw    string
}

// batchResult is what one batch writes.
type batchResult struct {
	created  []Contact
	deals    []Deal
	updates  []contactUpdate
	rejects  []rejectRow
	outcomes []outcome
}

func (r *importRun) reject(res *batchResult, row importRow, label, reason string) {
	o := outcome{kind: "reject", line: row.line, label: label, reason: reason, rec: row.rec}
	res.outcomes = append(res.outcomes, o)
	res.rejects = append(res.rejects, rejectRow{line: row.line, reason: reason, raw: encodeRecord(row.rec)})
}

func encodeRecord(rec []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// contactBatch decides what each row of a batch does; with db (a
// transaction) it also looks at what this import already wrote.
func (r *importRun) contactBatch(ctx context.Context, db bun.IDB, rows []importRow) (*batchResult, error) {
	res := &batchResult{}
	var cands []contactCand
	for i, row := range rows {
		if i%yieldEvery == yieldEvery-1 {
			r.yield(ctx)
		}
		vals, ok := r.rowValues(res, row)
		if !ok {
			continue
		}
		name := vals["name"]
		if name == "" {
			name = strings.TrimSpace(vals["first_name"] + " " + vals["last_name"])
		}
		set := map[string]string{}
		for _, f := range []string{"phone", "company"} {
			if vals[f] != "" {
				set[f] = vals[f]
			}
		}
		if name != "" {
			set["name"] = name
		}
		status, reason := r.choice("status", "Status", vals["status"], ContactStatuses, DefaultContactStatus)
		if reason != "" {
			r.reject(res, row, name, reason)
			continue
		}
		if status != "" {
			set["status"] = status
		}
		owner, reason := r.owner(vals["owner"])
		if reason != "" {
			r.reject(res, row, name, reason)
			continue
		}
		cand := contactCand{row: row, set: set, ownerOK: vals["owner"] != "" && (owner != 0 || r.m.Values[ValueKey("owner", vals["owner"])] == "0"),
			in: ContactInput{Name: name, Email: vals["email"], Phone: vals["phone"], Company: vals["company"], Status: status, OwnerID: owner}}
		cand.in = cand.in.Normalized()
		if cand.in.Email == "" {
			r.reject(res, row, name, "Email: it is empty; contacts are matched by email.")
			continue
		}
		cands = append(cands, cand)
	}
	emails := make([]string, 0, len(cands))
	for _, c := range cands {
		emails = append(emails, c.in.Email)
	}
	existing := map[string]existingContact{}
	if len(emails) > 0 {
		q := "SELECT id, name, email, phone, company, status, COALESCE(owner_id, 0) AS owner_id, version FROM contacts WHERE team_id = ? AND email IN (?)"
		if !r.dry && r.s.Dialect == MySQL {
			q += " FOR UPDATE" // the batch's updates check these versions
		}
		err := pacedParts(ctx, r, emails, 999, importPacedLookups, func(part []string) error {
			var rows []existingContact
			if err := db.NewRaw(q, r.im.TeamID, bun.In(part)).Scan(ctx, &rows); err != nil {
				return fmt.Errorf("look up contacts by email: %w", err)
			}
			for _, e := range rows {
				existing[NormalizeEmail(e.Email)] = e
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	mine := map[int64]bool{} // contacts this import wrote in earlier batches
	if !r.dry && len(existing) > 0 {
		ids := make([]int64, 0, len(existing))
		for _, e := range existing {
			ids = append(ids, e.ID)
		}
		err := pacedParts(ctx, r, ids, 999, importPacedLookups, func(part []int64) error {
			var got []int64
			if err := db.NewRaw("SELECT record_id FROM import_changes WHERE import_id = ? AND record_id IN (?)", r.im.ID, bun.In(part)).Scan(ctx, &got); err != nil {
				return fmt.Errorf("look up earlier batches: %w", err)
			}
			for _, id := range got {
				mine[id] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	inBatch := map[string]int{}
	now := r.s.now()
	for _, c := range cands {
		label := c.in.Name + " <" + c.in.Email + ">"
		if line, dup := inBatch[c.in.Email]; dup {
			res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: fmt.Sprintf("Duplicate: the same email as line %d of the file.", line)})
			continue
		}
		if r.dry {
			h := emailHash(c.in.Email)
			if line, dup := r.seen.lookup(h); dup {
				res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: fmt.Sprintf("Duplicate: the same email as line %d of the file.", line)})
				continue
			}
			r.seen.add(h, uint32(c.row.line))
		}
		e, exists := existing[c.in.Email]
		if exists && mine[e.ID] {
			res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: "Duplicate: the same email as an earlier line of the file."})
			continue
		}
		inBatch[c.in.Email] = c.row.line
		switch {
		case !exists && r.m.Mode == ModeUpdate:
			res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: "Not in the team: no contact has this email (update only)."})
		case !exists:
			in := c.in
			if !r.manager {
				in.OwnerID = r.actor.ID
			}
			if fe := in.Validate(); len(fe) > 0 {
				r.reject(res, c.row, label, firstError(fe, contactLabels))
				continue
			}
			res.created = append(res.created, Contact{TeamID: r.im.TeamID, Name: in.Name, Email: in.Email, Phone: in.Phone,
				PhoneDigits: digitsOf(in.Phone), Company: in.Company, Status: in.Status, OwnerID: in.OwnerID, Version: 1,
				CreatedAt: now, UpdatedAt: now})
			res.outcomes = append(res.outcomes, outcome{kind: "create", line: c.row.line, label: label})
		case r.m.Mode == ModeCreate:
			res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: "Exists: a contact with this email is already in the team (create new only)."})
		default:
			after := ContactInput{Name: e.Name, Email: e.Email, Phone: e.Phone, Company: e.Company, Status: e.Status, OwnerID: e.OwnerID}
			for f, v := range c.set {
				switch f {
				case "name":
					after.Name = v
				case "phone":
					after.Phone = v
				case "company":
					after.Company = v
				case "status":
					after.Status = v
				}
			}
			if c.ownerOK && r.manager {
				after.OwnerID = c.in.OwnerID
			}
			after = after.Normalized()
			if after.Name == e.Name && after.Phone == e.Phone && after.Company == e.Company && after.Status == e.Status && after.OwnerID == e.OwnerID {
				res.outcomes = append(res.outcomes, outcome{kind: "skip", line: c.row.line, label: label, reason: "Unchanged: the contact already has these values."})
				continue
			}
			if fe := after.Validate(); len(fe) > 0 {
				r.reject(res, c.row, label, firstError(fe, contactLabels))
				continue
			}
			res.updates = append(res.updates, contactUpdate{id: e.ID, version: e.Version, after: after,
				before: contactBefore{Name: e.Name, Phone: e.Phone, Company: e.Company, Status: e.Status, OwnerID: e.OwnerID}})
			res.outcomes = append(res.outcomes, outcome{kind: "update", line: c.row.line, label: label})
		}
	}
	return res, nil
}

// Deals

type contactRef struct {
	ID      int64  `bun:"id"`
	Email   string `bun:"email"`
	Name    string `bun:"name"`
	Company string `bun:"company"`
}

func (r *importRun) dealBatch(ctx context.Context, db bun.IDB, rows []importRow) (*batchResult, error) {
	res := &batchResult{}
	type cand struct {
		row  importRow
		vals map[string]string
	}
	var cands []cand
	var emails []string
	for _, row := range rows {
		vals, ok := r.rowValues(res, row)
		if !ok {
			continue
		}
		vals["contact_email"] = NormalizeEmail(vals["contact_email"])
		cands = append(cands, cand{row, vals})
		if vals["contact_email"] != "" {
			emails = append(emails, vals["contact_email"])
		}
	}
	contacts := map[string]contactRef{}
	if len(emails) > 0 {
		err := inLists(emails, func(part []string) error {
			var refs []contactRef
			if err := db.NewRaw("SELECT id, email, name, company FROM contacts WHERE team_id = ? AND email IN (?)", r.im.TeamID, bun.In(part)).Scan(ctx, &refs); err != nil {
				return fmt.Errorf("look up contacts of deals: %w", err)
			}
			for _, c := range refs {
				contacts[NormalizeEmail(c.Email)] = c
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	now := r.s.now()
	for _, c := range cands {
		v := c.vals
		label := v["name"]
		stage, reason := r.choice("stage", "Stage", v["stage"], Stages, StageCreated)
		if reason != "" {
			r.reject(res, c.row, label, reason)
			continue
		}
		if stage == "" {
			stage = StageCreated
		}
		owner, reason := r.owner(v["owner"])
		if reason != "" {
			r.reject(res, c.row, label, reason)
			continue
		}
		if !r.manager {
			owner = r.actor.ID
		}
		var goal, amount int64
		var err error
		if goal, err = parseImportAmount(v["goal"], r.currency); err != nil {
			r.reject(res, c.row, label, "Goal: "+err.Error()+".")
			continue
		}
		if amount, err = parseImportAmount(v["amount"], r.currency); err != nil {
			r.reject(res, c.row, label, "Amount: "+err.Error()+".")
			continue
		}
		var close time.Time
		if v["close_date"] != "" {
			if close, err = parseImportDate(v["close_date"], r.m.DateOrder); err != nil {
				r.reject(res, c.row, label, "Close date: "+err.Error()+".")
				continue
			}
		}
		if v["contact_email"] == "" {
			r.reject(res, c.row, label, "Contact email: it is empty; each deal belongs to a contact.")
			continue
		}
		ct, ok := contacts[v["contact_email"]]
		if !ok {
			r.reject(res, c.row, label, fmt.Sprintf("Contact email: no contact of the team has the email %s; import the contacts first.", shorten(v["contact_email"], 60)))
			continue
		}
		in := DealInput{Name: v["name"], Stage: stage, Goal: money.FormatPlain(goal, r.currency), Amount: money.FormatPlain(amount, r.currency),
			Currency: r.currency, ContactID: ct.ID, Company: v["company"], OwnerID: owner}
		if !close.IsZero() {
			in.CloseDate = close.Format(time.DateOnly)
		}
		dv, fe := in.parse()
		if len(fe) > 0 {
			r.reject(res, c.row, label, firstError(fe, dealLabels))
			continue
		}
		d := Deal{TeamID: r.im.TeamID, ContactID: ct.ID, Name: dv.name, Stage: dv.stage, StageRank: StageIndex(dv.stage),
			Goal: dv.goal, Amount: dv.amount, CloseDate: dv.closeDate, OwnerID: owner, ContactName: ct.Name, Company: dv.company,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		if d.Company == "" {
			d.Company = ct.Company
		}
		note := ""
		if IsClosed(d.Stage) {
			// The closing rule of the board: a closed deal's close date is
			// the day it closed (the file's, else today), and a lost one
			// has one of the team's lost reasons.
			d.ClosedAt = now
			if d.CloseDate.IsZero() {
				d.CloseDate = r.today
			}
			if d.Stage == StageLost {
				var reject string
				d.LostReason, note, reject = r.lostReason(v["lost_reason"])
				if reject != "" {
					r.reject(res, c.row, label, reject)
					continue
				}
			}
		}
		res.deals = append(res.deals, d)
		res.outcomes = append(res.outcomes, outcome{kind: "create", line: c.row.line, label: label + " (" + ct.Name + ")", reason: note})
	}
	return res, nil
}

// PreviewImport runs the dry run of the current mapping in the caller's
// request: every row through the same decisions as the import, nothing
// written but the result. Large files are checked by a worker instead
// (QueueImportCheck).
func (s *Store) PreviewImport(ctx context.Context, teamID, id int64) (*Import, error) {
	im, err := s.ImportByID(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if im.Status != ImportUploaded && im.Status != ImportPreviewed {
		return nil, fmt.Errorf("preview import %d: %w", id, ErrImportState)
	}
	p, err := s.dryRun(ctx, im, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("preview import %d: %w", id, err)
	}
	pj, _ := json.Marshal(p)
	status := ImportPreviewed
	if p.Problem != "" {
		status = ImportUploaded
	}
	if _, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("preview = ?", string(pj)).Set("status = ?", status).
		Set("rows_total = ?", p.Rows).Where("team_id = ?", teamID).Where("id = ?", id).
		Where("status IN (?)", bun.In([]string{ImportUploaded, ImportPreviewed})).Exec(ctx); err != nil {
		return nil, fmt.Errorf("save preview of import %d: %w", id, err)
	}
	return s.ImportByID(ctx, teamID, id)
}

// dryRun streams the file through the mapping's decisions and returns the
// preview, stepping aside for pace (when not nil) as a job does; progress
// (if not nil) hears the rows read after each batch.
func (s *Store) dryRun(ctx context.Context, im *Import, pace ImportPacer, progress func(rows int) error) (*ImportPreview, error) {
	r, err := s.newImportRun(ctx, im, true)
	if err != nil {
		return nil, err
	}
	r.pace = pace
	if d := im.DetectedInfo(); d.Problem != "" {
		r.preview.Problem = d.Problem
	} else if fe := r.m.Validate(im.Kind, d); len(fe) > 0 {
		return nil, fe
	} else {
		err = s.withDryRunConn(ctx, func(db bun.IDB) error {
			return r.stream(ctx, 0, func(rows []importRow) error {
				r.yield(ctx)
				r.preview.Rows += len(rows)
				var res *batchResult
				var err error
				if im.Kind == ImportDeals {
					res, err = r.dealBatch(ctx, db, rows)
				} else {
					res, err = r.contactBatch(ctx, db, rows)
				}
				if err != nil {
					return err
				}
				for _, o := range res.outcomes {
					r.note(o)
				}
				if progress != nil {
					return progress(r.preview.Rows)
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
	}
	r.finishPreview()
	return r.preview, nil
}

// QueueImportCheck hands the dry run of the saved mapping to a worker (the
// state "checking"), so that a large file's check holds no request; the
// import page shows its progress. Saving another mapping meanwhile stops it.
func (s *Store) QueueImportCheck(ctx context.Context, teamID, id int64) error {
	res, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportChecking).Set("preview = ''").
		Set("rows_done = 0").Set("lease_owner = ''").Set("lease_until = NULL").
		Where("team_id = ?", teamID).Where("id = ?", id).Where("status IN (?)", bun.In([]string{ImportUploaded, ImportPreviewed})).Exec(ctx)
	if err != nil {
		return fmt.Errorf("queue check of import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.ImportByID(ctx, teamID, id); err != nil {
			return err
		}
		return fmt.Errorf("queue check of import %d: %w", id, ErrImportState)
	}
	return nil
}

// RunImportCheck runs a queued dry run the worker owner claimed. Its
// progress (rows read) is saved every 10,000 rows with the lease; a check
// whose instance died starts again from the top on another one (it keeps
// its state in memory). It ends early, writing nothing, when the mapping
// changed or the import was cancelled meanwhile.
func (s *Store) RunImportCheck(ctx context.Context, im *Import, owner string) error {
	return s.RunImportCheckPaced(ctx, im, owner, nil)
}

// RunImportCheckPaced is RunImportCheck stepping aside for pace (when not
// nil) like an import job: a large file's check parses every row and
// reads the team's contacts by email. Unpaced, a million-row check (6 s)
// put the list p95 at x3.2-4.2 its idle value on MariaDB and x2.7-3.7 on
// SQLite; paced, x0.6-1.3 and x0.9, the check 1-3 s longer (round 11).
func (s *Store) RunImportCheckPaced(ctx context.Context, im *Import, owner string, pace ImportPacer) error {
	still := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("id = ?", im.ID).Where("status = ?", ImportChecking).Where("lease_owner = ?", owner)
	}
	p, err := s.dryRun(ctx, im, pace, func(rows int) error {
		if rows%(10*importBatch) != 0 {
			return nil
		}
		res, err := still(s.DB.NewUpdate().Model((*Import)(nil)).Set("rows_done = ?", rows).
			Set("lease_until = ?", s.now().Add(ImportLease))).Exec(ctx)
		if err != nil {
			return fmt.Errorf("save check progress: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errLeaseLost
		}
		return nil
	})
	var fe FieldErrors
	switch {
	case errors.Is(err, errLeaseLost):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &fe):
		// The mapping no longer fits (it is checked when saved): back to it.
		_, uerr := still(s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportUploaded).Set("rows_done = 0").
			Set("lease_until = NULL")).Exec(ctx)
		return uerr
	case err != nil:
		p = &ImportPreview{Samples: map[string][]PreviewRow{}, Problem: "The dry run stopped: " + shorten(err.Error(), 300)}
	}
	pj, _ := json.Marshal(p)
	status := ImportPreviewed
	if p.Problem != "" {
		status = ImportUploaded
	}
	if _, err := still(s.DB.NewUpdate().Model((*Import)(nil)).Set("preview = ?", string(pj)).Set("status = ?", status).
		Set("rows_total = ?", p.Rows).Set("rows_done = 0").Set("lease_until = NULL")).Exec(ctx); err != nil {
		return fmt.Errorf("save check of import %d: %w", im.ID, err)
	}
	return nil
}

// StartImport queues a previewed import for a worker.
func (s *Store) StartImport(ctx context.Context, teamID, id int64) error {
	res, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportQueued).
		Where("team_id = ?", teamID).Where("id = ?", id).Where("status = ?", ImportPreviewed).Where("preview != ''").Exec(ctx)
	if err != nil {
		return fmt.Errorf("start import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.ImportByID(ctx, teamID, id); err != nil {
			return err
		}
		return fmt.Errorf("start import %d: %w", id, ErrImportState)
	}
	return nil
}

// CancelImport stops a queued or running import after its current batch;
// what committed batches wrote stays (and can be undone).
func (s *Store) CancelImport(ctx context.Context, teamID, id int64) error {
	res, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportCancelled).Set("finished_at = ?", s.now()).
		Where("team_id = ?", teamID).Where("id = ?", id).Where("status IN (?)", bun.In([]string{ImportQueued, ImportRunning, ImportUploaded, ImportPreviewed, ImportChecking})).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cancel import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.ImportByID(ctx, teamID, id); err != nil {
			return err
		}
		return fmt.Errorf("cancel import %d: %w", id, ErrImportState)
	}
	return nil
}

// ClaimImport gives the worker named owner the oldest queued job, or a
// running one whose lease ran out; nil when there is none.
func (s *Store) ClaimImport(ctx context.Context, owner string) (*Import, error) {
	now := s.now()
	var ids []int64
	jobs := []string{ImportQueued, ImportRunning, ImportChecking, ImportUndoing}
	if err := s.DB.NewRaw("SELECT id FROM imports WHERE status IN (?) AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT 5",
		bun.In(jobs), now).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find import jobs: %w", err)
	}
	stays := bun.In([]string{ImportChecking, ImportUndoing})
	for _, id := range ids {
		// A check stays a check and an undo an undo; a queued import
		// starts running.
		res, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = CASE WHEN status IN (?) THEN status ELSE ? END", stays, ImportRunning).
			Set("lease_owner = ?", owner).Set("lease_until = ?", now.Add(ImportLease)).
			Set("started_at = CASE WHEN status IN (?) THEN started_at ELSE COALESCE(started_at, ?) END", stays, now).
			Where("id = ?", id).Where("status IN (?)", bun.In(jobs)).
			Where("(lease_until IS NULL OR lease_until < ?)", now).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("claim import %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			im := new(Import)
			if err := s.DB.NewSelect().Model(im).Where("id = ?", id).Scan(ctx); err != nil {
				return nil, fmt.Errorf("load claimed import %d: %w", id, err)
			}
			return im, nil
		}
	}
	return nil, nil
}

// errLeaseLost stops a worker whose job was cancelled or taken over.
var errLeaseLost = errors.New("import lease lost or job cancelled")

// RunImport runs a job the worker owner claimed, batch by batch from where
// its committed batches ended, until the end, a cancel or an error.
func (s *Store) RunImport(ctx context.Context, im *Import, owner string) error {
	return s.RunImportPaced(ctx, im, owner, nil)
}

// ImportPacer makes an import job step aside for the app's own requests
// (handlers' importPace): while Busy says to hold (a request is being
// served, or one is due), the job calls Wait before each batch, outside
// any transaction of its own and with no batch of it in flight, between
// the statements of a batch and every yieldEvery rows of its work in Go
// (yield).
//
// Recent says whether the app served requests lately (one in flight, or
// one ended a moment ago): a pipelined job (imports_pipe.go) then runs
// one batch at a time, which leaves the database server a core for the
// requests (on two cores, a list page drawn afresh during a 100k import
// took 1.9-3.0x its idle p95 with two batches at once, 1.4-2.1x one at a
// time, and the job ~40 % longer under steady list traffic: BENCHMARKS.md,
// round 7 — moveio).
type ImportPacer interface {
	Busy() bool
	Recent() bool
	Wait(ctx context.Context)
}

// RunImportPaced is RunImport stepping aside for pace (when not nil)
// before each batch.
func (s *Store) RunImportPaced(ctx context.Context, im *Import, owner string, pace ImportPacer) error {
	r, err := s.newImportRun(ctx, im, false)
	if r != nil {
		r.pace = pace
	}
	switch {
	case err != nil:
	case r.pipelined():
		err = s.runPiped(ctx, r, im, owner, pace)
	default:
		err = s.withImportConn(ctx, func(runTx func(func(ctx context.Context, tx bun.Tx) error) error) error {
			start := im.RowsDone
			return r.stream(ctx, im.RowsDone, func(rows []importRow) error {
				if pace != nil && pace.Busy() {
					pace.Wait(ctx)
				}
				err := runTx(func(ctx context.Context, tx bun.Tx) error {
					return r.commitBatch(ctx, tx, rows, owner, start)
				})
				start += int64(len(rows))
				return err
			})
		})
	}
	switch {
	case errors.Is(err, errLeaseLost):
		return nil
	case ctx.Err() != nil:
		return ctx.Err() // shutting down: another instance or a restart resumes
	case err != nil:
		msg := "The import stopped: " + shorten(err.Error(), 300)
		if _, uerr := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportFailed).Set("error = ?", msg).
			Set("finished_at = ?", s.now()).Where("id = ?", im.ID).Where("lease_owner = ?", owner).
			Where("status = ?", ImportRunning).Exec(ctx); uerr != nil {
			return fmt.Errorf("run import %d: %w (and marking it failed: %v)", im.ID, err, uerr)
		}
		return fmt.Errorf("run import %d: %w", im.ID, err)
	}
	if _, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportDone).Set("finished_at = ?", s.now()).
		Set("lease_until = NULL").Where("id = ?", im.ID).Where("lease_owner = ?", owner).Where("status = ?", ImportRunning).Exec(ctx); err != nil {
		return fmt.Errorf("finish import %d: %w", im.ID, err)
	}
	return nil
}

// commitBatch writes one batch and moves the job's offset, in tx: the
// whole of a batch of a sequential job (SQLite, deals, and any batch of a
// pipelined job run again on its own).
func (r *importRun) commitBatch(ctx context.Context, tx bun.Tx, rows []importRow, owner string, start int64) error {
	ctx = withHoldBudget(ctx)
	// The job row first: it is the lock that orders batches, and it says
	// whether this worker still owns the job.
	if err := r.lockJob(ctx, tx, owner, start); err != nil {
		return err
	}
	w, err := r.writeBatch(ctx, tx, rows, nil)
	if err != nil {
		return err
	}
	return r.finishBatch(ctx, tx, rows, w)
}

// lockJob locks the job's row and checks that this worker still owns the
// running job and that its committed batches end where this batch starts
// (a batch is never applied twice nor out of order).
func (r *importRun) lockJob(ctx context.Context, tx bun.Tx, owner string, start int64) error {
	done, err := r.s.lockLease(ctx, tx, r.im.ID, owner, ImportRunning)
	if err == nil && done != start {
		return errLeaseLost
	}
	return err
}

// lockLease locks an import's row in tx and checks that owner still holds
// its lease in status (else errLeaseLost); it returns the rows done.
func (s *Store) lockLease(ctx context.Context, tx bun.Tx, id int64, owner, status string) (int64, error) {
	var holder []struct {
		Owner    string `bun:"lease_owner"`
		Status   string `bun:"status"`
		RowsDone int64  `bun:"rows_done"`
	}
	if err := s.forUpdate(tx.NewSelect().Model((*Import)(nil)).Column("lease_owner", "status", "rows_done").Where("id = ?", id)).
		Scan(ctx, &holder); err != nil {
		return 0, fmt.Errorf("lock import %d: %w", id, err)
	}
	if len(holder) != 1 || holder[0].Owner != owner || holder[0].Status != status {
		return 0, errLeaseLost
	}
	return holder[0].RowsDone, nil
}

// batchWrites is what writeBatch did, for finishBatch.
type batchWrites struct {
	res          *batchResult
	changes      []changeRow
	cardsRenamed bool // a contact with deals renamed: the board's cards change
	now          time.Time
}

// writeBatch decides a batch's rows and writes the batch's own rows: the
// records, their terms, and the updated contacts' deals. It writes no row
// that another batch of the job writes too (the job's row, the team's
// counters, import_changes and import_rejects, whose foreign keys lock the
// job's row): a pipelined batch runs it while the batch before it is still
// open (runImportPiped). locked, when not nil, is called once the batch's
// locking reads are done.
func (r *importRun) writeBatch(ctx context.Context, tx bun.Tx, rows []importRow, locked func()) (*batchWrites, error) {
	now := r.s.now()
	var res *batchResult
	var err error
	if r.im.Kind == ImportDeals {
		res, err = r.dealBatch(ctx, tx, rows)
	} else {
		res, err = r.contactBatch(ctx, tx, rows)
	}
	if err != nil {
		return nil, err
	}
	if locked != nil {
		locked()
	}
	w := &batchWrites{res: res, now: now}
	teamID := r.im.TeamID
	if len(res.created) > 0 {
		full, paced := importInsertRows, importPacedRows
		if r.s.Dialect == SQLite {
			full, paced = importInsertRowsSQLite, importPacedRowsSQLite
		}
		err := pacedParts(ctx, r, res.created, full, paced, func(part []Contact) error {
			if err := insertRows(ctx, tx, part); err != nil {
				return fmt.Errorf("insert contacts: %w", err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		var terms []termRow
		for i, c := range res.created {
			if i%yieldEvery == yieldEvery-1 {
				r.yield(ctx)
			}
			for _, t := range contactTerms(c.Name, c.Email, c.Company, c.Phone) {
				terms = append(terms, termRow{teamID, t, c.ID})
			}
			w.changes = append(w.changes, changeRow{recordID: c.ID, action: "created", version: 1})
		}
		if err := r.insertTerms(ctx, tx, sortedTerms(terms)); err != nil {
			return nil, err
		}
	}
	if len(res.deals) > 0 {
		if err := insertRows(ctx, tx, res.deals); err != nil {
			return nil, fmt.Errorf("insert deals: %w", err)
		}
		var terms []termRow
		var log []StageLog
		for _, d := range res.deals {
			for _, t := range dealTerms(d.Name, d.Company, d.ContactName) {
				terms = append(terms, termRow{teamID, t, d.ID})
			}
			log = append(log, StageLog{TeamID: teamID, DealID: d.ID, FromStage: "", ToStage: StageCreated, UserID: r.actor.ID, At: now, Kind: LogMove})
			if d.Stage != StageCreated {
				log = append(log, StageLog{TeamID: teamID, DealID: d.ID, FromStage: StageCreated, ToStage: d.Stage, UserID: r.actor.ID, At: now,
					Kind: LogMove, Reason: d.LostReason})
			}
			w.changes = append(w.changes, changeRow{recordID: d.ID, action: "created", version: 1})
		}
		if err := insertRows(ctx, tx, log); err != nil {
			return nil, fmt.Errorf("insert stage log: %w", err)
		}
		ids := make([]int64, len(res.deals))
		for i, d := range res.deals {
			ids[i] = d.ID
		}
		if err := r.s.touchDeals(ctx, tx, teamID, ids); err != nil {
			return nil, err
		}
		if err := insertTerms(ctx, tx, dealTermSet, sortedTerms(terms)); err != nil {
			return nil, err
		}
	}
	if err := r.updateContacts(ctx, tx, res.updates, now); err != nil {
		return nil, err
	}
	renamed, err := r.contactsWithDeals(ctx, tx, res.updates)
	if err != nil {
		return nil, err
	}
	for _, u := range res.updates {
		if u.after.Name != u.before.Name && renamed[u.id] {
			if err := r.s.renameDealContact(ctx, tx, teamID, u.id, u.after.Name); err != nil {
				return nil, err
			}
			w.cardsRenamed = true
		}
		bj, _ := json.Marshal(u.before)
		w.changes = append(w.changes, changeRow{recordID: u.id, action: "updated", version: u.version + 1, before: string(bj)})
	}
	if err := r.updateTerms(ctx, tx, res.updates); err != nil {
		return nil, err
	}
	if len(res.updates) > 0 {
		// An update is noted on the contact's Activity tab: its deals count
		// it as a touch (the board's stale rule), like an activity logged.
		ids := make([]int64, len(res.updates))
		for i, u := range res.updates {
			ids[i] = u.id
		}
		touched, err := r.s.touchContactsDeals(ctx, tx, teamID, ids, now)
		if err != nil {
			return nil, err
		}
		w.cardsRenamed = w.cardsRenamed || touched > 0
	}
	return w, nil
}

// finishBatch writes the rest of a batch under the job's lock (lockJob):
// what it created and changed (for undo), its rejects, the job's counters
// and offset, the team's counters and the batch's events.
func (r *importRun) finishBatch(ctx context.Context, tx bun.Tx, rows []importRow, w *batchWrites) error {
	res, teamID, now := w.res, r.im.TeamID, w.now
	// The batch's move of the list version is an import's: list pages
	// drawn before it may still be served for a moment (listversion.go).
	importBatchMoves(ctx, teamID)
	r.yield(ctx)
	if err := r.insertChanges(ctx, tx, w.changes); err != nil {
		return err
	}
	if err := r.insertRejects(ctx, tx, res.rejects); err != nil {
		return err
	}
	var created, updated, skipped, rejected int
	for _, o := range res.outcomes {
		switch o.kind {
		case "create":
			created++
		case "update":
			updated++
		case "skip":
			skipped++
		case "reject":
			rejected++
		}
	}
	// The lease is renewed as the batch ends, for a lease's time from now.
	_, err := tx.NewUpdate().Model((*Import)(nil)).Set("rows_done = rows_done + ?", len(rows)).
		Set("lease_until = ?", r.s.now().Add(ImportLease)).
		Set("created = created + ?", created).Set("updated = updated + ?", updated).
		Set("skipped = skipped + ?", skipped).Set("rejected = rejected + ?", rejected).
		Where("id = ?", r.im.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save import progress: %w", err)
	}
	if w.cardsRenamed {
		if err := r.s.boardChanged(ctx, tx, teamID); err != nil {
			return err
		}
	}
	// Announced per record, in the batch's transaction (one endpoint lookup
	// per batch for a team without webhooks).
	events := make([]change, 0, len(res.created)+len(res.deals)+len(res.updates))
	for _, c := range res.created {
		events = append(events, change{team: teamID, actor: r.actor.ID, kind: "contact", id: c.ID, types: []string{EventContactCreated}})
	}
	for _, d := range res.deals {
		events = append(events, change{team: teamID, actor: r.actor.ID, kind: "deal", id: d.ID,
			types: stageEvents(StageCreated, d.Stage, EventDealCreated), from: StageCreated, to: d.Stage})
	}
	for _, u := range res.updates {
		events = append(events, change{team: teamID, actor: r.actor.ID, kind: "contact", id: u.id, types: []string{EventContactUpdated}})
	}
	if err := r.s.emitMany(ctx, tx, events); err != nil {
		return err
	}
	return r.s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: dealsInserted(res.deals), Logged: loggedIf(len(res.deals) > 0, now)})
}

// updateContacts writes a batch's updates in a few statements: one UPDATE
// per 200 contacts joined to the new values (a VALUES list on SQLite, a
// UNION ALL of rows on MySQL) by primary key, each row only if its version
// is still the one the batch read (under a lock).
func (r *importRun) updateContacts(ctx context.Context, tx bun.Tx, ups []contactUpdate, now time.Time) error {
	return pacedParts(ctx, r, ups, 200, importPacedRows, func(chunk []contactUpdate) error {
		k := len(chunk)
		var b strings.Builder
		args := make([]any, 0, 8*k+2)
		if r.s.Dialect == SQLite {
			b.WriteString("UPDATE contacts SET name = v.column3, phone = v.column4, phone_digits = v.column5, company = v.column6," +
				" status = v.column7, owner_id = v.column8, version = version + 1, updated_at = ? FROM (VALUES ")
			args = append(args, now)
			for i, u := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, u.id, u.version, u.after.Name, u.after.Phone, digitsOf(u.after.Phone), u.after.Company, u.after.Status, nullID(u.after.OwnerID))
			}
			b.WriteString(") AS v WHERE contacts.id = v.column1 AND contacts.version = v.column2 AND contacts.team_id = ?")
			args = append(args, r.im.TeamID)
		} else {
			b.WriteString("UPDATE contacts AS c JOIN (")
			for i, u := range chunk {
				if i == 0 {
					b.WriteString("SELECT ? AS id, ? AS version, ? AS name, ? AS phone, ? AS phone_digits, ? AS company, ? AS status, ? AS owner_id")
				} else {
					b.WriteString(" UNION ALL SELECT ?, ?, ?, ?, ?, ?, ?, ?")
				}
				args = append(args, u.id, u.version, u.after.Name, u.after.Phone, digitsOf(u.after.Phone), u.after.Company, u.after.Status, nullID(u.after.OwnerID))
			}
			b.WriteString(") AS v ON c.id = v.id SET c.name = v.name, c.phone = v.phone, c.phone_digits = v.phone_digits, c.company = v.company," +
				" c.status = v.status, c.owner_id = v.owner_id, c.version = c.version + 1, c.updated_at = ? WHERE c.version = v.version AND c.team_id = ?")
			args = append(args, now, r.im.TeamID)
		}
		res, err := tx.NewRaw(b.String(), args...).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update contacts: %w", err)
		}
		if n, _ := res.RowsAffected(); n != int64(k) {
			return fmt.Errorf("update contacts: someone saved one meanwhile: %w", ErrConflict)
		}
		return nil
	})
}

// updateTerms brings the search terms of a batch's updated contacts up to
// date: their stored terms are read in bulk (by the contact index), and only
// the rows that differ are deleted or inserted, so a rename touches its
// name's terms and leaves the email's, company's and phone's alone.
func (r *importRun) updateTerms(ctx context.Context, tx bun.Tx, ups []contactUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	teamID := r.im.TeamID
	// An update may change the name, phone or company without changing a
	// term (a name's case): the terms version moves for every batch with
	// updates, as replaceTerms does (listversion.go).
	if err := termsChanged(ctx, tx, teamID); err != nil {
		return err
	}
	hint := ""
	if r.s.Dialect == SQLite {
		// By the contact's index: the planner would otherwise take the
		// primary key's team prefix and read every term of the team.
		hint = " INDEXED BY contact_terms_contact"
	}
	stored := make(map[int64][]string, len(ups))
	err := pacedParts(ctx, r, ups, 500, importPacedLookups/2, func(part []contactUpdate) error {
		ids := make([]int64, len(part))
		for i, u := range part {
			ids[i] = u.id
		}
		var rows []struct {
			ID   int64  `bun:"contact_id"`
			Term string `bun:"term"`
		}
		if err := tx.NewRaw("SELECT contact_id, term FROM contact_terms"+hint+" WHERE contact_id IN (?) AND team_id = ?", bun.In(ids), teamID).
			Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read terms of updated contacts: %w", err)
		}
		for _, t := range rows {
			stored[t.ID] = append(stored[t.ID], t.Term)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var gone, added []termRow
	for _, u := range ups {
		a := u.after
		want := map[string]bool{}
		for _, t := range contactTerms(a.Name, a.Email, a.Company, a.Phone) {
			want[t] = true
		}
		for _, t := range stored[u.id] {
			if want[t] {
				delete(want, t)
			} else {
				gone = append(gone, termRow{teamID, t, u.id})
			}
		}
		for t := range want {
			added = append(added, termRow{teamID, t, u.id})
		}
	}
	// Each row by its whole primary key: one range per row (on MariaDB
	// 300 rows a statement cost ~37 µs a row, 50 rows ~23 µs).
	err = pacedParts(ctx, r, sortedTerms(gone), 300, importPacedDeletes, func(part []termRow) error {
		var b strings.Builder
		b.WriteString("DELETE FROM contact_terms WHERE ")
		args := make([]any, 0, 3*len(part))
		for i, t := range part {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(team_id = ? AND term = ? AND contact_id = ?)")
			args = append(args, t.TeamID, t.Term, t.ID)
		}
		if _, err := tx.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("delete terms of updated contacts: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.insertTerms(ctx, tx, sortedTerms(added))
}

// insertTerms writes a batch's new contact terms, paced (pacedParts).
func (r *importRun) insertTerms(ctx context.Context, tx bun.Tx, terms []termRow) error {
	return pacedParts(ctx, r, terms, importInsertTerms, importPacedTerms, func(part []termRow) error {
		return insertTerms(ctx, tx, contactTermSet, part)
	})
}

// pacedParts calls fn with vals cut into parts of at most full rows, or
// paced while the app serves requests (chunk), and steps aside before each
// (yield): one statement a part, none of them long while a request may
// come. full stays below 1,000 for IN lists (inLists).
func pacedParts[T any](ctx context.Context, r *importRun, vals []T, full, paced int, fn func(part []T) error) error {
	for len(vals) > 0 {
		r.yield(ctx)
		k := min(r.chunk(full, paced), len(vals))
		if err := fn(vals[:k]); err != nil {
			return err
		}
		vals = vals[k:]
	}
	return nil
}

// contactsWithDeals says which updated contacts have deals (whose copy of
// the contact's name follows a rename).
func (r *importRun) contactsWithDeals(ctx context.Context, tx bun.Tx, ups []contactUpdate) (map[int64]bool, error) {
	out := map[int64]bool{}
	var ids []int64
	for _, u := range ups {
		if u.after.Name != u.before.Name {
			ids = append(ids, u.id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	// By the contact's index: the planner would otherwise read the team's
	// deals through an index on team_id.
	hint := " FORCE INDEX (deals_of_contact)"
	if r.s.Dialect == SQLite {
		hint = " INDEXED BY deals_of_contact"
	}
	err := inLists(ids, func(part []int64) error {
		var got []int64
		if err := tx.NewRaw("SELECT DISTINCT contact_id FROM deals"+hint+" WHERE contact_id IN (?) AND team_id = ?", bun.In(part), r.im.TeamID).Scan(ctx, &got); err != nil {
			return fmt.Errorf("find deals of updated contacts: %w", err)
		}
		for _, id := range got {
			out[id] = true
		}
		return nil
	})
	return out, err
}

// inLists calls fn with vals cut into parts of at most 999: from 1,000
// values MariaDB turns an IN list into a materialised table
// (in_predicate_conversion_threshold) instead of key lookups.
func inLists[T any](vals []T, fn func(part []T) error) error {
	for len(vals) > 0 {
		k := min(999, len(vals))
		if err := fn(vals[:k]); err != nil {
			return err
		}
		vals = vals[k:]
	}
	return nil
}

// sortedTerms orders term rows like the terms' primary key, so that a batch
// writes the index in order rather than at random places.
func sortedTerms(rows []termRow) []termRow {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Term != rows[j].Term {
			return rows[i].Term < rows[j].Term
		}
		return rows[i].ID < rows[j].ID
	})
	return rows
}

func (r *importRun) insertChanges(ctx context.Context, db bun.IDB, rows []changeRow) error {
	return pacedParts(ctx, r, rows, 500, importPacedTerms, func(part []changeRow) error {
		var b strings.Builder
		b.WriteString("INSERT INTO import_changes (import_id, record_id, team_id, kind, action, version_after, before_json) VALUES ")
		args := make([]any, 0, 7*len(part))
		for i, c := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			var before any
			if c.before != "" {
				before = c.before
			}
			args = append(args, r.im.ID, c.recordID, r.im.TeamID, r.im.Kind, c.action, c.version, before)
		}
		if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("insert import changes: %w", err)
		}
		return nil
	})
}

func (r *importRun) insertRejects(ctx context.Context, db bun.IDB, rows []rejectRow) error {
	for _, rj := range rows {
		// One statement per reject: a rejected row may hold megabytes.
		if _, err := db.NewRaw("INSERT INTO import_rejects (import_id, line, reason, raw) VALUES (?, ?, ?, ?)",
			r.im.ID, rj.line, shorten(rj.reason, 500), rj.raw).Exec(ctx); err != nil {
			if isDuplicate(err) {
				continue // two records reported on one line (a broken quote)
			}
			return fmt.Errorf("insert import reject: %w", err)
		}
	}
	return nil
}

// ImportRejects calls emit with each rejected row (as read from the file)
// and its reason, in file order, for the report.
func (s *Store) ImportRejects(ctx context.Context, teamID, id int64, emit func(rec []string, reason string) error) error {
	if _, err := s.ImportByID(ctx, teamID, id); err != nil {
		return err
	}
	after := int64(-1)
	for {
		var rows []struct {
			Line   int64  `bun:"line"`
			Reason string `bun:"reason"`
			Raw    string `bun:"raw"`
		}
		if err := s.DB.NewRaw("SELECT line, reason, raw FROM import_rejects WHERE import_id = ? AND line > ? ORDER BY line LIMIT 500", id, after).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read rejects of import %d: %w", id, err)
		}
		for _, r := range rows {
			rec, err := csv.NewReader(strings.NewReader(r.Raw)).Read()
			if err != nil {
				rec = []string{r.Raw}
			}
			if err := emit(rec, r.Reason); err != nil {
				return err
			}
			after = r.Line
		}
		if len(rows) < 500 {
			return nil
		}
	}
}

// Undo

// KeptRecord is a record undo left alone because someone changed it after
// the import.
type KeptRecord struct {
	ID     int64  `bun:"record_id"`
	Action string `bun:"action"`
	Name   string `bun:"name"`
}

// QueueUndo asks for an import to be reverted: the records it created are
// deleted, the ones it updated get their old values back; a record someone
// changed (or added deals, notes or activities to) since is left alone and
// listed. A worker does it (RunUndoPaced), a batch of changes at a time,
// and the import page shows its progress; an undo cut short (a restart, a
// dead instance) is picked up again like any job. Undo runs once: asking
// again while it runs changes nothing, and once it is done is
// ErrImportState.
func (s *Store) QueueUndo(ctx context.Context, teamID, id int64, actor *User) (*Import, error) {
	return s.queueUndo(ctx, teamID, id, actor, "")
}

// queueUndo moves a finished import to undoing, leased to owner (none: for
// any worker). An undo that stopped with its lease run out is taken over.
func (s *Store) queueUndo(ctx context.Context, teamID, id int64, actor *User, owner string) (*Import, error) {
	if ok, err := s.CanImport(ctx, teamID, actor); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("undo import %d: %w", id, ErrNotAllowed)
	}
	im, err := s.ImportByID(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	lease := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		if owner == "" {
			return q.Set("lease_owner = ''").Set("lease_until = NULL")
		}
		return q.Set("lease_owner = ?", owner).Set("lease_until = ?", now.Add(ImportLease))
	}
	q := lease(s.DB.NewUpdate().Model((*Import)(nil))).Where("team_id = ?", teamID).Where("id = ?", id)
	if im.Status == ImportUndoing {
		if owner == "" {
			return im, nil // queued already
		}
		// Taken over when its lease ran out, or from an earlier run of the
		// same owner that stopped (UndoImport asked again).
		q = q.Where("status = ?", ImportUndoing).Where("(lease_until IS NULL OR lease_until < ? OR lease_owner = ?)", now, owner)
	} else {
		q = q.Set("status = ?", ImportUndoing).Set("undone_by = ?", actor.ID).Set("undone_at = ?", now).Set("undo_done = 0").
			Where("status IN (?)", bun.In([]string{ImportDone, ImportFailed, ImportCancelled}))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("undo import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 && im.Status != ImportUndoing {
		return nil, fmt.Errorf("undo import %d: %w", id, ErrImportState)
	}
	return s.ImportByID(ctx, teamID, id)
}

// An undo reverts this many of an import's changes a transaction, or
// importPacedUndo while the app serves requests (ImportPacer.Recent): a
// batch deletes its created records in one statement.
const (
	importUndoBatch = 500
	importPacedUndo = 100
)

// RunUndoPaced runs the undo of im, which the worker owner holds the lease
// of (ClaimImport), stepping aside for pace (when not nil) before each
// batch and between the statements of one. Each batch is a transaction
// that checks the lease, reverts its changes (or keeps the ones changed
// since), counts them in undo_done and renews the lease; the undo resumes
// from the changes left. A lost lease (another worker took over) ends it
// quietly.
func (s *Store) RunUndoPaced(ctx context.Context, im *Import, owner string, pace ImportPacer) error {
	err := s.runUndo(ctx, im, owner, pace)
	if errors.Is(err, errLeaseLost) {
		return nil
	}
	return err
}

func (s *Store) runUndo(ctx context.Context, im *Import, owner string, pace ImportPacer) error {
	id := im.ID
	actor := &User{ID: im.UndoneBy}
	r := &importRun{s: s, pace: pace, im: im} // its pacing and update statements
	table := "contacts"
	if im.Kind == ImportDeals {
		table = "deals"
	}
	// On SQLite through one connection with a small page cache, as the
	// import's batches (withImportConn): through the pool, the undo of
	// 100,000 contacts filled every connection's cache, 120-150 MB.
	err := s.withImportConn(ctx, func(runTx func(func(ctx context.Context, tx bun.Tx) error) error) error {
		// The changes left, in record order from after the last batch's:
		// the reverted ones stay in import_changes (kept = 2), and a batch
		// that skipped past them from the start read ever more of them
		// (4.8 ms a batch on average over a 100k undo on SQLite).
		after := int64(0)
		for {
			if pace != nil && pace.Busy() {
				pace.Wait(ctx)
			}
			last := int64(-1) // the batch's last change; -1: none were left
			err := runTx(func(ctx context.Context, tx bun.Tx) error {
				last = -1
				ctx = withHoldBudget(ctx)
				if _, err := s.lockLease(ctx, tx, id, owner, ImportUndoing); err != nil {
					return err
				}
				var changes []undoChange
				if err := tx.NewRaw("SELECT record_id, action, version_after, before_json FROM import_changes WHERE import_id = ? AND kept = 0 AND record_id > ? ORDER BY record_id LIMIT ?",
					id, after, r.chunk(importUndoBatch, importPacedUndo)).Scan(ctx, &changes); err != nil {
					return fmt.Errorf("read changes to undo: %w", err)
				}
				if len(changes) == 0 {
					return nil
				}
				if err := s.undoBatch(ctx, tx, r, im, actor, table, changes); err != nil {
					return err
				}
				last = changes[len(changes)-1].RecordID
				return nil
			})
			if err != nil {
				return fmt.Errorf("undo import %d: %w", id, err)
			}
			if last < 0 {
				return nil
			}
			after = last
		}
	})
	if err != nil {
		return err
	}
	var kept int64
	if err := s.DB.NewRaw("SELECT COUNT(*) FROM import_changes WHERE import_id = ? AND kept = 1", id).Scan(ctx, &kept); err != nil {
		return fmt.Errorf("undo import %d: %w", id, err)
	}
	res, err := s.DB.NewUpdate().Model((*Import)(nil)).Set("status = ?", ImportUndone).Set("undo_kept = ?", kept).
		Set("lease_owner = ''").Set("lease_until = NULL").
		Where("id = ?", id).Where("status = ?", ImportUndoing).Where("lease_owner = ?", owner).Exec(ctx)
	if err != nil {
		return fmt.Errorf("undo import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errLeaseLost
	}
	return nil
}

// undoChange is one row of import_changes an undo reverts.
type undoChange struct {
	RecordID int64          `bun:"record_id"`
	Action   string         `bun:"action"`
	Version  int            `bun:"version_after"`
	Before   sql.NullString `bun:"before_json"`
}

// undoBatch reverts changes in tx (one batch of runUndo, under its lock):
// created records deleted, updated contacts restored, each unless changed
// since (then kept), and counts them in the import's undo_done.
func (s *Store) undoBatch(ctx context.Context, tx bun.Tx, r *importRun, im *Import, actor *User, table string, changes []undoChange) error {
	id, teamID := im.ID, im.TeamID
	// Its move of the list version is an import job's, as the import's
	// batches were (listversion.go): a list page drawn before it is still
	// served for a moment, and redrawn behind. As any write's, every batch
	// made the next list request of every user of the team draw afresh:
	// list p95 during a 100k undo x4.6 on MariaDB (round 11).
	importBatchMoves(ctx, teamID)
	var created, reverted, kept []int64
	for _, c := range changes {
		if c.Action == "created" {
			created = append(created, c.RecordID)
		}
	}
	if len(created) > 0 {
		dc, err := s.importedDealsForDelete(ctx, tx, teamID, table, created)
		if err != nil {
			return err
		}
		cond := " WHERE team_id = ? AND id IN (?) AND version = 1"
		if table == "contacts" {
			cond += " AND NOT EXISTS (SELECT 1 FROM deals WHERE deals.contact_id = contacts.id)" +
				" AND NOT EXISTS (SELECT 1 FROM notes WHERE notes.contact_id = contacts.id)" +
				" AND NOT EXISTS (SELECT 1 FROM activities WHERE activities.contact_id = contacts.id)"
		}
		// The records the delete removes are announced first (the
		// payload is the record as it was), and the delete must
		// remove exactly them.
		sel := "SELECT id FROM " + table + cond
		if s.Dialect == MySQL {
			sel += " FOR UPDATE"
		}
		var gone []int64
		if err := tx.NewRaw(sel, teamID, bun.In(created)).Scan(ctx, &gone); err != nil {
			return fmt.Errorf("find imported %s to delete: %w", table, err)
		}
		kind, typ := "contact", EventContactDeleted
		if table == "deals" {
			kind, typ = "deal", EventDealDeleted
		}
		evs := make([]change, len(gone))
		for i, g := range gone {
			evs[i] = change{team: teamID, actor: actor.ID, kind: kind, id: g, types: []string{typ}}
		}
		if err := s.emitMany(ctx, tx, evs); err != nil {
			return err
		}
		res, err := tx.NewRaw("DELETE FROM "+table+cond, teamID, bun.In(created)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete imported %s: %w", table, err)
		}
		if n, _ := res.RowsAffected(); n != int64(len(gone)) {
			return fmt.Errorf("delete imported %s: someone changed one meanwhile: %w", table, ErrConflict)
		}
		if err := s.recordChange(ctx, tx, dc); err != nil {
			return err
		}
		var left []int64
		if err := tx.NewRaw("SELECT id FROM "+table+" WHERE team_id = ? AND id IN (?)", teamID, bun.In(created)).Scan(ctx, &left); err != nil {
			return fmt.Errorf("check deleted %s: %w", table, err)
		}
		stay := map[int64]bool{}
		for _, l := range left {
			stay[l] = true
		}
		for _, c := range created {
			if stay[c] {
				kept = append(kept, c)
			} else {
				reverted = append(reverted, c)
			}
		}
	}
	now := s.now()
	// The updated contacts get their values before the import back in the
	// statements of an import's update batch (a few per 200 contacts,
	// paced): one at a time, a load, an update and its terms each, the
	// undo of a 100k update took 115 s on MariaDB (round 11).
	ups, changed, err := s.undoUpdates(ctx, tx, teamID, changes)
	if err != nil {
		return err
	}
	kept = append(kept, changed...)
	var restored []change
	var restoredIDs []int64
	if len(ups) > 0 {
		if err := r.updateContacts(ctx, tx, ups, now); err != nil {
			return err
		}
		renamed, err := r.contactsWithDeals(ctx, tx, ups)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if u.after.Name != u.before.Name && renamed[u.id] {
				if err := s.renameDealContact(ctx, tx, teamID, u.id, u.after.Name); err != nil {
					return err
				}
			}
			restoredIDs = append(restoredIDs, u.id)
			reverted = append(reverted, u.id)
			restored = append(restored, change{team: teamID, actor: actor.ID, kind: "contact", id: u.id, types: []string{EventContactUpdated}})
		}
		if err := r.updateTerms(ctx, tx, ups); err != nil {
			return err
		}
	}
	if err := s.emitMany(ctx, tx, restored); err != nil {
		return err
	}
	if len(restoredIDs) > 0 {
		// The restore is a touch of the contacts' deals (as the
		// import's update was), and a restored name is on their
		// cards: the board's counter moves so open boards redraw.
		touched, err := s.touchContactsDeals(ctx, tx, teamID, restoredIDs, now)
		if err != nil {
			return err
		}
		if touched > 0 {
			if err := s.boardChanged(ctx, tx, teamID); err != nil {
				return err
			}
		}
	}
	if len(reverted) > 0 {
		if _, err := tx.NewRaw("UPDATE import_changes SET kept = 2 WHERE import_id = ? AND record_id IN (?)", id, bun.In(reverted)).Exec(ctx); err != nil {
			return fmt.Errorf("mark reverted: %w", err)
		}
	}
	if len(kept) > 0 {
		if _, err := tx.NewRaw("UPDATE import_changes SET kept = 1 WHERE import_id = ? AND record_id IN (?)", id, bun.In(kept)).Exec(ctx); err != nil {
			return fmt.Errorf("mark kept: %w", err)
		}
	}
	_, err = tx.NewUpdate().Model((*Import)(nil)).Set("undo_done = undo_done + ?", len(changes)).
		Set("lease_until = ?", s.now().Add(ImportLease)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save undo progress: %w", err)
	}
	return nil
}

// undoUpdates reads, locked, the contacts an undo batch restores, and
// returns the restores to write (from their current values to those before
// the import) and the contacts to keep: deleted or changed since.
func (s *Store) undoUpdates(ctx context.Context, tx bun.Tx, teamID int64, changes []undoChange) ([]contactUpdate, []int64, error) {
	var ids []int64
	for _, c := range changes {
		if c.Action == "updated" {
			ids = append(ids, c.RecordID)
		}
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	var curs []Contact
	if err := s.forUpdate(tx.NewSelect().Model(&curs).Where("team_id = ?", teamID).Where("id IN (?)", bun.In(ids))).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load contacts to restore: %w", err)
	}
	found := make(map[int64]Contact, len(curs))
	for _, c := range curs {
		found[c.ID] = c
	}
	var ups []contactUpdate
	var kept []int64
	for _, c := range changes {
		if c.Action != "updated" {
			continue
		}
		cur, ok := found[c.RecordID]
		if !ok || cur.Version != c.Version {
			kept = append(kept, c.RecordID)
			continue
		}
		var b contactBefore
		_ = json.Unmarshal([]byte(c.Before.String), &b)
		ups = append(ups, contactUpdate{id: cur.ID, version: cur.Version,
			before: contactBefore{Name: cur.Name, Phone: cur.Phone, Company: cur.Company, Status: cur.Status, OwnerID: cur.OwnerID},
			after:  ContactInput{Name: b.Name, Email: cur.Email, Phone: b.Phone, Company: b.Company, Status: b.Status, OwnerID: b.OwnerID}})
	}
	return ups, kept, nil
}

// ImportKept lists the records undo left alone (at most limit).
func (s *Store) ImportKept(ctx context.Context, teamID, id int64, limit int) ([]KeptRecord, error) {
	im, err := s.ImportByID(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	table := "contacts"
	if im.Kind == ImportDeals {
		table = "deals"
	}
	var out []KeptRecord
	if err := s.DB.NewRaw("SELECT c.record_id, c.action, COALESCE(r.name, '') AS name FROM import_changes AS c LEFT JOIN "+table+
		" AS r ON r.id = c.record_id AND r.team_id = ? WHERE c.import_id = ? AND c.kept = 1 ORDER BY c.record_id LIMIT ?", teamID, id, limit).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list kept records of import %d: %w", id, err)
	}
	return out, nil
}

// ImportNote is one import that created or updated a contact, for its
// Activity tab.
type ImportNote struct {
	ImportID int64     `bun:"import_id"`
	Action   string    `bun:"action"`
	FileName string    `bun:"file_name"`
	UserName string    `bun:"user_name"`
	At       time.Time `bun:"at"`
	Status   string    `bun:"status"`
}

// ContactImportNotes lists the imports that wrote a contact, newest first.
func (s *Store) ContactImportNotes(ctx context.Context, teamID, contactID int64) ([]ImportNote, error) {
	var out []ImportNote
	if err := s.DB.NewRaw("SELECT c.import_id, c.action, i.file_name, COALESCE(u.name, '') AS user_name, i.created_at AS at, i.status"+
		" FROM import_changes AS c JOIN imports AS i ON i.id = c.import_id LEFT JOIN users AS u ON u.id = i.user_id"+
		" WHERE c.team_id = ? AND c.kind = ? AND c.record_id = ? ORDER BY i.created_at DESC, i.id DESC LIMIT 20", teamID, ImportContacts, contactID).
		Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list imports of contact %d: %w", contactID, err)
	}
	return out, nil
}

// ImportQueueDepth counts the import jobs of every team waiting for a worker
// and those running now, for operators' metrics.
func (s *Store) ImportQueueDepth(ctx context.Context) (queued, running int, err error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	if err := s.DB.NewSelect().Model((*Import)(nil)).Column("status").ColumnExpr("COUNT(*) AS n").
		Where("status IN (?)", bun.In([]string{ImportQueued, ImportRunning})).Group("status").Scan(ctx, &rows); err != nil {
		return 0, 0, fmt.Errorf("count import jobs: %w", err)
	}
	for _, r := range rows {
		if r.Status == ImportQueued {
			queued = r.N
		} else {
			running = r.N
		}
	}
	return queued, running, nil
}
