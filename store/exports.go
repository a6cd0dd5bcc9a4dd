package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"sherpa/money"
)

// Export
//
// An export lists the same rows in the same order as the tables (same view,
// search, filters and sort: both start at listSpec.prepare) and hands them to
// the caller as CSV records, exportPageSize at a time, so memory stays flat
// whatever the team's size. The columns are the ones the importer matches
// automatically, so an exported file imports back into an empty team as the
// same records.
//
// Each segment of the listing is one statement read to its end (the
// segment's page query without a cursor or a limit, selecting the export's
// columns): a million contacts walked as 1,000 pages of keys and then rows
// by primary key took 70 s on MariaDB, two statements and a round trip per
// page. A search whose plan is a set walk (the sort index filtered by an id
// set in memory) still pages, with pages of exportPageSize.

// ContactExportHeader is the header row of a contacts export.
var ContactExportHeader = []string{"Name", "Email", "Phone", "Company", "Status", "Owner"}

// DealExportHeader is the header row of a deals export.
var DealExportHeader = []string{"Name", "Stage", "Goal", "Amount", "Close date", "Owner", "Contact email", "Company"}

// memberEmails maps the team's member ids to their emails.
func (s *Store) memberEmails(ctx context.Context, teamID int64) (map[int64]string, error) {
	members, err := s.TeamMembers(ctx, teamID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(members))
	for _, m := range members {
		out[m.ID] = m.Email
	}
	return out, nil
}

// contactExportCols are the columns an export of contacts reads, in
// ContactExportHeader's order (the owner as an id; 0 for none).
const contactExportCols = "r.name, r.email, r.phone, r.company, r.status, COALESCE(r.owner_id, 0)"

// ExportContacts calls emit with the records of every contact the query
// lists, a page at a time, in the list's order (q.Cursor and q.Limit are
// ignored). A record follows ContactExportHeader; the owner is the member's
// email. emit must not keep the slice.
func (s *Store) ExportContacts(ctx context.Context, teamID int64, q ContactQuery, emit func(records [][]string) error) error {
	s, err := s.exportStore()
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	owners, err := s.memberEmails(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	p, ok, err := s.contactParams(ctx, teamID, q)
	if err != nil || !ok {
		return err
	}
	bucket := &bucketCols{cols: contactExportCols, n: 6,
		record: func(raw []sql.RawBytes) ([]string, error) {
			owner, err := strconv.ParseInt(string(raw[5]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("owner %q: %w", raw[5], err)
			}
			return []string{string(raw[0]), string(raw[1]), string(raw[2]), string(raw[3]), string(raw[4]), owners[owner]}, nil
		}}
	streamed, err := contactList.exportStream(ctx, s, teamID, p,
		contactExportCols, "", bucket,
		func(rows *sql.Rows, out [][]string) ([][]string, error) {
			var name, email, phone, company, status string
			var owner int64
			if err := rows.Scan(&name, &email, &phone, &company, &status, &owner); err != nil {
				return nil, err
			}
			return append(out, []string{name, email, phone, company, status, owners[owner]}), nil
		}, emit)
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	if streamed {
		return nil
	}
	q.Limit, q.bulk = exportBatch, true
	list := func(cursor string) ([]Contact, string, error) {
		q.Cursor = cursor
		page, err := s.ListContacts(ctx, teamID, q)
		if err != nil {
			return nil, "", err
		}
		return page.Rows, page.Next, nil
	}
	record := func(rows []Contact, out [][]string) ([][]string, error) {
		for _, c := range rows {
			out = append(out, []string{c.Name, c.Email, c.Phone, c.Company, c.Status, owners[c.OwnerID]})
		}
		return out, nil
	}
	if err := exportPages(list, record, emit); err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	return nil
}

// ExportDeals is ExportContacts for deals; records follow DealExportHeader
// (money as 1,234.50, dates as YYYY-MM-DD, the contact by email).
func (s *Store) ExportDeals(ctx context.Context, teamID int64, q DealQuery, emit func(records [][]string) error) error {
	s, err := s.exportStore()
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	currency, err := s.teamCurrency(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	owners, err := s.memberEmails(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	p, ok := s.dealParams(q)
	if !ok {
		return nil
	}
	// The contact's email comes with the deal: a second statement per page
	// would need a second connection of the export pool while the stream
	// holds one, and two exports at once would each wait for the other's.
	streamed, err := dealList.exportStream(ctx, s, teamID, p,
		"r.name, r.stage, r.goal, r.amount, r.close_date, COALESCE(r.owner_id, 0), COALESCE(ce.email, ''), r.company",
		" LEFT JOIN contacts AS ce ON ce.id = r.contact_id AND ce.team_id = r.team_id", nil,
		func(rows *sql.Rows, out [][]string) ([][]string, error) {
			var d Deal
			var closeDate any
			var email string
			if err := rows.Scan(&d.Name, &d.Stage, &d.Goal, &d.Amount, &closeDate, &d.OwnerID, &email, &d.Company); err != nil {
				return nil, err
			}
			t, err := scanTime(closeDate)
			if err != nil {
				return nil, fmt.Errorf("close date of deal %q: %w", d.Name, err)
			}
			date := ""
			if !t.IsZero() {
				date = t.UTC().Format(time.DateOnly)
			}
			return append(out, []string{d.Name, d.Stage, money.FormatPlain(d.Goal, currency), money.FormatPlain(d.Amount, currency), date,
				owners[d.OwnerID], email, d.Company}), nil
		}, emit)
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	if streamed {
		return nil
	}
	q.Limit, q.bulk = exportBatch, true
	list := func(cursor string) ([]Deal, string, error) {
		q.Cursor = cursor
		page, err := s.ListDeals(ctx, teamID, q)
		if err != nil {
			return nil, "", err
		}
		return page.Rows, page.Next, nil
	}
	record := func(rows []Deal, out [][]string) ([][]string, error) {
		emails, err := s.contactEmails(ctx, s.DB, teamID, rows)
		if err != nil {
			return nil, err
		}
		for _, d := range rows {
			date := ""
			if !d.CloseDate.IsZero() {
				date = d.CloseDate.UTC().Format(time.DateOnly)
			}
			out = append(out, []string{d.Name, d.Stage, money.FormatPlain(d.Goal, currency), money.FormatPlain(d.Amount, currency), date,
				owners[d.OwnerID], emails[d.ContactID], d.Company})
		}
		return out, nil
	}
	if err := exportPages(list, record, emit); err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	return nil
}

// exportStream reads the listing of p for an export (on MySQL, with
// bucket, by passes in primary-key order: exports_buckets.go): segment by segment,
// each one statement selecting sel (columns of r, the listed table, and of
// the tables join adds) read to its end in the list's order, record making
// each row's record. It answers false, having read nothing, when the listing
// is a set or member walk (the caller pages instead).
func (sp *listSpec) exportStream(ctx context.Context, s *Store, teamID int64, p listParams, sel, join string, bucket *bucketCols,
	record func(rows *sql.Rows, out [][]string) ([][]string, error), emit func([][]string) error) (bool, error) {
	lp, err := sp.prepare(ctx, s, teamID, p)
	if err != nil {
		return false, err
	}
	if lp.empty {
		return true, nil
	}
	if lp.plan.walks() {
		return false, nil
	}
	if bucket != nil && s.Dialect == MySQL {
		return true, sp.bucketExport(ctx, s, teamID, lp, p.desc, *bucket, emit)
	}
	var stmts []exportStmt
	for _, g := range lp.segs {
		query, args := sp.segmentSelect(s, teamID, g, nil, nil, lp.plan, -1, p.desc, sel, join)
		stmts = append(stmts, exportStmt{query, args})
	}
	return true, s.streamExport(ctx, stmts, record, emit)
}

// exportBatch is how many records an export hands over at a time (and the
// page of a paging export); tests make it small to cross batch boundaries.
var exportBatch = exportPageSize

type exportStmt struct {
	query string
	args  []any
}

// exportNetWriteTimeout (seconds) is how long MariaDB waits for an export's
// connection to take more rows before it gives up on the statement: longer
// than the HTTP side lets a client pause (handlers' exportWriteIdle), so
// the client's pace decides, not the server's 60 s default.
const exportNetWriteTimeout = 600

// streamExport runs the statements one after the other on a connection of
// their own (exportConn) and emits their rows' records exportBatch at a
// time.
func (s *Store) streamExport(ctx context.Context, stmts []exportStmt, record func(rows *sql.Rows, out [][]string) ([][]string, error), emit func([][]string) error) error {
	return s.exportConn(ctx, func(ctx context.Context, cancel context.CancelFunc, conn bun.Conn) error {
		b := newExportBatcher(ctx, emit)
		for _, st := range stmts {
			if err := s.streamStmt(ctx, cancel, conn, st, func(rows *sql.Rows) error {
				var err error
				if b.records, err = record(rows, b.records); err != nil {
					return err
				}
				return b.maybeFlush()
			}); err != nil {
				return err
			}
		}
		return b.flush()
	})
}

// exportBatcher hands records to emit exportBatch at a time.
type exportBatcher struct {
	ctx     context.Context
	emit    func([][]string) error
	records [][]string
}

func newExportBatcher(ctx context.Context, emit func([][]string) error) *exportBatcher {
	return &exportBatcher{ctx: ctx, emit: emit, records: make([][]string, 0, exportBatch)}
}

func (b *exportBatcher) maybeFlush() error {
	if len(b.records) < exportBatch {
		return nil
	}
	return b.flush()
}

func (b *exportBatcher) flush() error {
	if len(b.records) > 0 {
		err := b.emit(b.records)
		b.records = b.records[:0]
		if err != nil {
			return err
		}
	}
	// A driver may hand over rows it had read before the context ended:
	// none of them go out after it.
	return b.ctx.Err()
}

// exportConn runs an export's reads (fn) on a connection of their own,
// held for the whole export.
//
// When the export stops early (emit fails: the client went away; or ctx
// ends) its statement must stop too: closing an unfinished MySQL result
// would otherwise read the rest of it (a million rows) first. fn cancels
// the context before it closes the rows (streamStmt), which makes the
// driver drop the connection, and on MySQL the statement is also killed by
// id (KILL QUERY), since a server busy with it may not notice a closed
// socket before it writes; the connection is then thrown away rather than
// returned to the pool.
func (s *Store) exportConn(ctx context.Context, fn func(ctx context.Context, cancel context.CancelFunc, conn bun.Conn) error) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("export connection: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	stopped := false
	defer func() {
		cancel()
		if stopped {
			// Not back into the pool: its session may have a statement
			// still being killed.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	if s.Dialect == MySQL {
		var id int64
		if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			return fmt.Errorf("export connection id: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "SET SESSION net_write_timeout = ?", exportNetWriteTimeout); err != nil {
			return fmt.Errorf("export connection: %w", err)
		}
		killed := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(killed)
			kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer kcancel()
			// An error means the statement had already ended.
			_, _ = s.DB.ExecContext(kctx, "KILL QUERY ?", id)
		})
		defer func() {
			if !stop() {
				stopped = true
				<-killed
				return
			}
			// Back to the server's default for the pool's next user.
			_, _ = conn.ExecContext(ctx, "SET SESSION net_write_timeout = DEFAULT")
		}()
	}
	if err := fn(ctx, cancel, conn); err != nil {
		stopped = true
		cancel()
		return err
	}
	return nil
}

// streamStmt reads one statement's rows to the end, or up to row's first
// error: then cancel ends the statement before its rows are closed (see
// streamExport).
func (s *Store) streamStmt(ctx context.Context, cancel context.CancelFunc, conn bun.Conn, st exportStmt, row func(rows *sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, st.query, st.args...)
	if err != nil {
		return fmt.Errorf("export read: %w", err)
	}
	done := false
	defer func() {
		if !done { // an error (or a panic) half-way
			cancel()
			_ = rows.Close()
		}
	}()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export read: %w", err)
	}
	done = true
	return rows.Close()
}

// exportPages walks a list from its first page to its last (list answers a
// page's rows and the next cursor, "" after the last), turning each page's
// rows into records and emitting them.
func exportPages[T any](list func(cursor string) ([]T, string, error), record func(rows []T, out [][]string) ([][]string, error), emit func([][]string) error) error {
	records := make([][]string, 0, exportBatch)
	cursor := ""
	for {
		rows, next, err := list(cursor)
		if err != nil {
			return err
		}
		if records, err = record(rows, records[:0]); err != nil {
			return err
		}
		if len(records) > 0 {
			if err := emit(records); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// contactEmails maps the contact ids of deals to the contacts' emails.
func (s *Store) contactEmails(ctx context.Context, db bun.IDB, teamID int64, deals []Deal) (map[int64]string, error) {
	out := map[int64]string{}
	if len(deals) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(deals))
	for _, d := range deals {
		ids = append(ids, d.ContactID)
	}
	var rows []struct {
		ID    int64  `bun:"id"`
		Email string `bun:"email"`
	}
	if err := db.NewRaw("SELECT id, email FROM contacts WHERE team_id = ? AND id IN (?)", teamID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load contact emails: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Email
	}
	return out, nil
}

// NeutralizeCell makes a CSV cell safe to open in a spreadsheet: a cell that
// starts with =, +, -, @, a tab or a carriage return would be read as a
// formula, so it gets a leading apostrophe. The importer takes it off again
// (UnneutralizeCell).
func NeutralizeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// UnneutralizeCell undoes NeutralizeCell.
func UnneutralizeCell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}
