package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Bulk changes
//
// A bulk change (assign an owner, change the status or the stage, delete)
// of the rows a member selected runs as one job: a row of bulk_jobs that a
// worker in any instance claims (with a lease, like imports) and runs in
// batches of bulkBatch records, each batch one transaction. The job first
// writes the ids it will work on into bulk_rows (the ids selected, or every
// row matching the list query when "all matching" was chosen, found with the
// list's own paging), so a job resumed after a crash goes on where it
// stopped and never picks up rows that started matching later. Every batch
// records each record's outcome, its value before and its version after.
//
// Undo (24 hours, owner and status changes) restores the values before in
// batches too, but only where the record's version is still the one the job
// left: a record someone changed since is kept as it is and listed. Stage
// moves follow the pipeline's rules per deal (forward only, nothing out of a
// closed stage, won with an amount, lost with a reason, members their own
// deals) and are not undone: moving back is what the rules forbid. Deletes
// are final; their confirmation counts what goes with them.

// Bulk actions.
const (
	BulkAssign = "assign"
	BulkStatus = "status"
	BulkStage  = "stage"
	BulkDelete = "delete"
)

// Bulk job states.
const (
	BulkQueued  = "queued"
	BulkRunning = "running"
	BulkDone    = "done"
	BulkFailed  = "failed"
	BulkUndoing = "undoing"
	BulkUndone  = "undone"
)

// Outcomes of a record in a bulk job.
const (
	bulkPending = "pending"
	bulkChanged = "changed"
	bulkSame    = "same"
	bulkRefused = "refused"
	bulkGone    = "gone"
	bulkDeleted = "deleted"
	bulkKept    = "kept"
	bulkRestore = "undone"
)

// BulkUndoFor is how long a bulk change can be undone.
const BulkUndoFor = 24 * time.Hour

// bulkBatch is the number of records one transaction changes.
var bulkBatch = 1000

// MaxBulkIDs bounds an explicit selection (larger ones select "all
// matching").
const MaxBulkIDs = 5000

// BulkSelection is what a bulk change works on: the ids chosen, or every
// record matching a list query.
type BulkSelection struct {
	IDs      []int64       `json:"ids,omitempty"`
	All      bool          `json:"all,omitempty"`
	Contacts *ContactQuery `json:"contacts,omitempty"`
	Deals    *DealQuery    `json:"deals,omitempty"`
}

// BulkJob is one bulk change.
type BulkJob struct {
	bun.BaseModel `bun:"table:bulk_jobs,alias:bj"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TeamID     int64     `bun:"team_id,notnull"`
	UserID     int64     `bun:"user_id,notnull"`
	List       string    `bun:"list,notnull"`
	Action     string    `bun:"action,notnull"`
	Value      string    `bun:"value,notnull"`
	Selection  string    `bun:"selection,notnull"`
	Status     string    `bun:"status,notnull"`
	Total      int       `bun:"total,notnull"`
	Done       int       `bun:"done,notnull"`
	Changed    int       `bun:"changed,notnull"`
	Refused    int       `bun:"refused,notnull"`
	Kept       int       `bun:"kept,notnull"`
	Error      string    `bun:"error,notnull"`
	LeaseOwner string    `bun:"lease_owner,notnull"`
	LeaseUntil time.Time `bun:"lease_until,nullzero"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	FinishedAt time.Time `bun:"finished_at,nullzero"`
	UndoneAt   time.Time `bun:"undone_at,nullzero"`

	UserName string `bun:"user_name,scanonly"`
}

// Undoable reports whether the job's changes can still be undone at now.
func (j *BulkJob) Undoable(now time.Time) bool {
	return j.Status == BulkDone && j.Changed > 0 && (j.Action == BulkAssign || j.Action == BulkStatus) &&
		now.Sub(j.FinishedAt) < BulkUndoFor
}

// CanUndo reports whether user may undo the job: its author, or an owner or
// admin; an owner change only owners and admins.
func (j *BulkJob) CanUndo(user *User) bool {
	if user == nil || user.TeamID != j.TeamID {
		return false
	}
	if j.Action == BulkAssign {
		return user.CanManage()
	}
	return user.ID == j.UserID || user.CanManage()
}

// StageValue is the value of a bulk stage change: the stage, and the reason
// for Closed Lost.
func StageValue(stage, reason string) string {
	if reason == "" {
		return stage
	}
	return stage + "\t" + reason
}

// stageOf splits a stage value.
func stageOf(v string) (stage, reason string) {
	stage, reason, _ = strings.Cut(v, "\t")
	return
}

// BulkRow is one record a job looked at, for the job's page.
type BulkRow struct {
	RecordID int64  `bun:"record_id"`
	Outcome  string `bun:"outcome"`
	Before   string `bun:"before_value"`
	Note     string `bun:"note"`
	Name     string `bun:"name,scanonly"`
}

// table and column of a job's records.
func (j *BulkJob) table() string {
	if j.List == ListDeals {
		return "deals"
	}
	return "contacts"
}

func (j *BulkJob) column() string {
	switch j.Action {
	case BulkAssign:
		return "owner_id"
	case BulkStatus:
		return "status"
	}
	return "stage"
}

// CreateBulkJob queues a bulk change. The roles: assigning takes an owner
// or admin; the new owner must be a member. A status is a contact status, a
// stage one of the stages (Closed Lost with a reason). Selections of more
// than MaxBulkIDs ids are refused (choose "all matching" instead).
func (s *Store) CreateBulkJob(ctx context.Context, teamID int64, actor *User, list, action, value string, sel BulkSelection) (*BulkJob, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if !validList(list) {
		return nil, fmt.Errorf("bulk: list %q: %w", list, ErrInvalid)
	}
	switch action {
	case BulkAssign:
		if !actor.CanManage() {
			return nil, ErrNotAllowed
		}
		owner, err := strconv.ParseInt(value, 10, 64)
		if value != "" && (err != nil || owner <= 0) {
			return nil, FieldErrors{"value": "Choose a member of your team."}
		}
		if err := checkOwner(ctx, s.DB, teamID, owner); err != nil {
			return nil, err
		}
	case BulkStatus:
		if list != ListContacts || !slices.Contains(ContactStatuses, value) {
			return nil, FieldErrors{"value": "Choose one of the listed statuses."}
		}
	case BulkStage:
		stage, reason := stageOf(value)
		if list != ListDeals || StageIndex(stage) < 0 {
			return nil, FieldErrors{"value": "Choose one of the listed stages."}
		}
		if stage == StageLost && strings.TrimSpace(reason) == "" {
			return nil, FieldErrors{"reason": "Closing as lost needs a reason."}
		}
	case BulkDelete:
	default:
		return nil, fmt.Errorf("bulk: action %q: %w", action, ErrInvalid)
	}
	if !sel.All && len(sel.IDs) == 0 {
		return nil, FieldErrors{"ids": "Select some rows first."}
	}
	if !sel.All && len(sel.IDs) > MaxBulkIDs {
		return nil, FieldErrors{"ids": fmt.Sprintf("Select at most %d rows one by one, or all rows matching the filter.", MaxBulkIDs)}
	}
	if sel.All {
		sel.IDs = nil
	}
	b, err := json.Marshal(sel)
	if err != nil {
		return nil, fmt.Errorf("bulk: selection: %w", err)
	}
	j := &BulkJob{TeamID: teamID, UserID: actor.ID, List: list, Action: action, Value: value, Selection: string(b),
		Status: BulkQueued, CreatedAt: s.now()}
	if _, err := s.DB.NewInsert().Model(j).Exec(ctx); err != nil {
		return nil, fmt.Errorf("bulk: create job: %w", err)
	}
	return j, nil
}

// BulkJob loads a job of the team; ErrNotFound otherwise.
func (s *Store) BulkJob(ctx context.Context, teamID, id int64) (*BulkJob, error) {
	j := new(BulkJob)
	err := s.DB.NewSelect().Model(j).ColumnExpr("bj.*").ColumnExpr("u.name AS user_name").
		Join("LEFT JOIN users AS u ON u.id = bj.user_id").Where("bj.team_id = ?", teamID).Where("bj.id = ?", id).Scan(ctx)
	if notFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load bulk job %d: %w", id, err)
	}
	return j, nil
}

// BulkRows lists up to limit records of a job with the given outcome, with
// their names (those still there).
func (s *Store) BulkRows(ctx context.Context, j *BulkJob, outcome string, limit int) ([]BulkRow, error) {
	var rows []BulkRow
	err := s.DB.NewRaw("SELECT r.record_id, r.outcome, r.before_value, r.note, COALESCE(t.name, '') AS name FROM bulk_rows AS r LEFT JOIN "+j.table()+
		" AS t ON t.id = r.record_id AND t.team_id = ? WHERE r.job_id = ? AND r.outcome = ? ORDER BY r.record_id LIMIT ?",
		j.TeamID, j.ID, outcome, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("rows of bulk job %d: %w", j.ID, err)
	}
	return rows, nil
}

// Outcome names for BulkRows.
const (
	BulkRowsRefused = bulkRefused
	BulkRowsKept    = bulkKept
)

// bulkLease is how long a claimed job is its worker's before another
// instance may take it over.
const bulkLease = 2 * time.Minute

// ClaimBulkJob takes the oldest job waiting to run or to be undone (or one
// whose worker's lease ran out) for worker owner; nil when there is none.
func (s *Store) ClaimBulkJob(ctx context.Context, owner string) (*BulkJob, error) {
	now := s.now()
	var ids []int64
	free := "(status = '" + BulkQueued + "' OR (status IN ('" + BulkRunning + "', '" + BulkUndoing + "') AND (lease_until IS NULL OR lease_until < ?)))"
	if err := s.DB.NewRaw("SELECT id FROM bulk_jobs WHERE "+free+" ORDER BY id LIMIT 5", now).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find bulk jobs: %w", err)
	}
	for _, id := range ids {
		res, err := s.DB.NewRaw("UPDATE bulk_jobs SET status = CASE WHEN status = ? THEN ? ELSE status END, lease_owner = ?, lease_until = ? "+
			"WHERE id = ? AND "+free,
			BulkQueued, BulkRunning, owner, now.Add(bulkLease), id, now).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("claim bulk job %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			j := new(BulkJob)
			if err := s.DB.NewSelect().Model(j).Where("id = ?", id).Scan(ctx); err != nil {
				return nil, fmt.Errorf("load bulk job %d: %w", id, err)
			}
			return j, nil
		}
	}
	return nil, nil
}

// QueueBulkUndo asks for a job's changes to be undone (the worker does it).
func (s *Store) QueueBulkUndo(ctx context.Context, teamID int64, actor *User, id int64) (*BulkJob, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	j, err := s.BulkJob(ctx, teamID, id)
	if err != nil {
		return nil, err
	}
	if !j.CanUndo(actor) {
		return nil, ErrNotAllowed
	}
	if !j.Undoable(s.now()) {
		return nil, fmt.Errorf("bulk job %d cannot be undone (%s, finished %v): %w", id, j.Status, j.FinishedAt, ErrConflict)
	}
	res, err := s.DB.NewRaw("UPDATE bulk_jobs SET status = ?, lease_until = NULL WHERE id = ? AND team_id = ? AND status = ?",
		BulkUndoing, id, teamID, BulkDone).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue undo of bulk job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, fmt.Errorf("bulk job %d is being undone already: %w", id, ErrConflict)
	}
	return s.BulkJob(ctx, teamID, id)
}

// RunBulkJob runs (or undoes) a claimed job to its end, renewing the lease
// batch by batch; another worker's job is left alone.
func (s *Store) RunBulkJob(ctx context.Context, j *BulkJob, owner string) error {
	err := s.runBulkJob(ctx, j, owner)
	if err != nil && !errors.Is(err, errBulkLeaseLost) {
		msg := shorten(err.Error(), 500)
		_, _ = s.DB.NewRaw("UPDATE bulk_jobs SET status = ?, error = ?, finished_at = ? WHERE id = ? AND lease_owner = ?",
			BulkFailed, msg, s.now(), j.ID, owner).Exec(context.WithoutCancel(ctx))
	}
	return err
}

var errBulkLeaseLost = errors.New("bulk job taken over by another worker")

func (s *Store) runBulkJob(ctx context.Context, j *BulkJob, owner string) error {
	if j.Status == BulkUndoing {
		return s.undoBulk(ctx, j, owner)
	}
	actor, err := s.UserByID(ctx, j.UserID)
	if err != nil {
		return fmt.Errorf("bulk job %d: its author: %w", j.ID, err)
	}
	if actor.TeamID != j.TeamID {
		return fmt.Errorf("bulk job %d: its author left the team: %w", j.ID, ErrNotAllowed)
	}
	if j.Total == 0 {
		if err := s.resolveBulk(ctx, j, owner); err != nil {
			return err
		}
	}
	for {
		var ids []int64
		if err := s.DB.NewRaw("SELECT record_id FROM bulk_rows WHERE job_id = ? AND outcome = ? ORDER BY record_id LIMIT ?",
			j.ID, bulkPending, bulkBatch).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("bulk job %d: next batch: %w", j.ID, err)
		}
		if len(ids) == 0 {
			break
		}
		var outs []bulkOutcome
		if j.Action == BulkStage {
			// Each move is its own transaction (MoveDeal's), by its rules.
			if outs, err = s.stageMoves(ctx, j, actor, ids); err != nil {
				return err
			}
		}
		if err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := s.renewBulkLease(ctx, tx, j, owner); err != nil {
				return err
			}
			if outs != nil {
				return s.recordBulk(ctx, tx, j, ids, outs)
			}
			return s.bulkBatch(ctx, tx, j, ids)
		}); err != nil {
			return err
		}
	}
	_, err = s.DB.NewRaw("UPDATE bulk_jobs SET status = ?, finished_at = ? WHERE id = ? AND lease_owner = ?", BulkDone, s.now(), j.ID, owner).Exec(ctx)
	return err
}

// renewBulkLease extends the lease and fails when another worker holds it.
func (s *Store) renewBulkLease(ctx context.Context, db bun.IDB, j *BulkJob, owner string) error {
	res, err := db.NewRaw("UPDATE bulk_jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?", s.now().Add(bulkLease), j.ID, owner).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renew lease of bulk job %d: %w", j.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// MySQL counts changed rows: a lease renewed within the same
		// instant changes nothing. Whose is it?
		var owners []string
		if err := db.NewRaw("SELECT lease_owner FROM bulk_jobs WHERE id = ?", j.ID).Scan(ctx, &owners); err != nil {
			return fmt.Errorf("lease of bulk job %d: %w", j.ID, err)
		}
		if len(owners) != 1 || owners[0] != owner {
			return errBulkLeaseLost
		}
	}
	return nil
}

// resolveBulk writes the ids the job works on into bulk_rows as pending.
func (s *Store) resolveBulk(ctx context.Context, j *BulkJob, owner string) error {
	var sel BulkSelection
	if err := json.Unmarshal([]byte(j.Selection), &sel); err != nil {
		return fmt.Errorf("bulk job %d: selection: %w", j.ID, err)
	}
	if _, err := s.DB.NewRaw("DELETE FROM bulk_rows WHERE job_id = ?", j.ID).Exec(ctx); err != nil {
		return fmt.Errorf("bulk job %d: clear rows: %w", j.ID, err)
	}
	total := 0
	write := func(ids []int64) error {
		if len(ids) == 0 {
			return nil
		}
		return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := s.renewBulkLease(ctx, tx, j, owner); err != nil {
				return err
			}
			if err := insertBulkRows(ctx, tx, j.ID, ids); err != nil {
				return err
			}
			total += len(ids)
			return nil
		})
	}
	if !sel.All {
		ids := slices.Compact(slices.Sorted(slices.Values(sel.IDs)))
		// Only the team's records: other ids are dropped here.
		for chunk := range slices.Chunk(ids, bulkBatch) {
			var mine []int64
			if err := s.DB.NewRaw("SELECT id FROM "+j.table()+s.byPK()+" WHERE team_id = ? AND id IN (?)", j.TeamID, bun.In(chunk)).Scan(ctx, &mine); err != nil {
				return fmt.Errorf("bulk job %d: check ids: %w", j.ID, err)
			}
			if err := write(mine); err != nil {
				return err
			}
		}
	} else {
		if err := s.eachMatching(ctx, j.TeamID, sel, write); err != nil {
			return fmt.Errorf("bulk job %d: find matches: %w", j.ID, err)
		}
	}
	_, err := s.DB.NewRaw("UPDATE bulk_jobs SET total = ? WHERE id = ? AND lease_owner = ?", total, j.ID, owner).Exec(ctx)
	j.Total = total
	return err
}

// eachMatching walks every record matching a list query, a page of
// bulkBatch ids at a time, through the list's own paging.
func (s *Store) eachMatching(ctx context.Context, teamID int64, sel BulkSelection, fn func(ids []int64) error) error {
	var sp *listSpec
	var p listParams
	switch {
	case sel.Contacts != nil:
		var ok bool
		var err error
		q := *sel.Contacts
		q.Cursor, q.Sort, q.Desc = "", walkSort(q.Search, q.Sort, contactWalkSorts(q.Filter)), false
		if p, ok, err = s.contactParams(ctx, teamID, q); err != nil || !ok {
			return err
		}
		sp = &contactList
	case sel.Deals != nil:
		q := *sel.Deals
		q.Cursor, q.Sort, q.Desc = "", walkSort(q.Search, q.Sort, dealWalkSorts(q.Filter)), false
		var ok bool
		if p, ok = s.dealParams(q); !ok {
			return nil
		}
		sp = &dealList
	default:
		return fmt.Errorf("no query: %w", ErrInvalid)
	}
	p.limit, p.unbounded = bulkBatch, true
	for {
		res, err := sp.listPage(ctx, s, teamID, p)
		if err != nil {
			return err
		}
		if err := fn(res.ids); err != nil {
			return err
		}
		if res.next == "" {
			return nil
		}
		p.cursor = res.next
	}
}

// CountMatching counts the records a list query matches (for "select all
// N matching"), walking them like a bulk job does.
func (s *Store) CountMatching(ctx context.Context, teamID int64, sel BulkSelection) (int, error) {
	n := 0
	err := s.eachMatching(ctx, teamID, sel, func(ids []int64) error { n += len(ids); return nil })
	return n, err
}

func insertBulkRows(ctx context.Context, db bun.IDB, jobID int64, ids []int64) error {
	var q strings.Builder
	args := make([]any, 0, 2*len(ids))
	q.WriteString("INSERT INTO bulk_rows (job_id, record_id, outcome) VALUES ")
	for i, id := range ids {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, '" + bulkPending + "')")
		args = append(args, jobID, id)
	}
	if _, err := db.NewRaw(q.String(), args...).Exec(ctx); err != nil {
		return fmt.Errorf("insert bulk rows: %w", err)
	}
	return nil
}

// bulkOutcome is what a batch did to one record.
type bulkOutcome struct {
	id           int64
	outcome      string
	before, note string
	version      int
}

// recordBulk writes the outcomes over the batch's pending rows and
// moves the job's counters on.
func (s *Store) recordBulk(ctx context.Context, tx bun.Tx, j *BulkJob, ids []int64, outs []bulkOutcome) error {
	// The pending rows are overwritten in place: one upsert per 500 rows.
	upsert := " ON CONFLICT (job_id, record_id) DO UPDATE SET outcome = excluded.outcome, before_value = excluded.before_value, version_after = excluded.version_after, note = excluded.note"
	if s.Dialect == MySQL {
		upsert = " ON DUPLICATE KEY UPDATE outcome = VALUES(outcome), before_value = VALUES(before_value), version_after = VALUES(version_after), note = VALUES(note)"
	}
	changed, refused := 0, 0
	for chunk := range slices.Chunk(outs, 500) {
		var q strings.Builder
		args := make([]any, 0, 6*len(chunk))
		q.WriteString("INSERT INTO bulk_rows (job_id, record_id, outcome, before_value, version_after, note) VALUES ")
		for i, o := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, j.ID, o.id, o.outcome, o.before, o.version, shorten(o.note, 200))
		}
		q.WriteString(upsert)
		if _, err := tx.NewRaw(q.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("bulk rows: %w", err)
		}
	}
	for _, o := range outs {
		switch o.outcome {
		case bulkChanged, bulkDeleted:
			changed++
		case bulkRefused:
			refused++
		}
	}
	_, err := tx.NewRaw("UPDATE bulk_jobs SET done = done + ?, changed = changed + ?, refused = refused + ? WHERE id = ?",
		len(ids), changed, refused, j.ID).Exec(ctx)
	j.Done += len(ids)
	j.Changed += changed
	j.Refused += refused
	return err
}

// bulkBatch applies the job's action to one batch of its records.
func (s *Store) bulkBatch(ctx context.Context, tx bun.Tx, j *BulkJob, ids []int64) error {
	switch j.Action {
	case BulkAssign, BulkStatus:
		return s.bulkSet(ctx, tx, j, ids)
	case BulkDelete:
		return s.bulkDelete(ctx, tx, j, ids)
	}
	return fmt.Errorf("bulk action %q: %w", j.Action, ErrInvalid)
}

// bulkValue is the stored form of a column's value (owner ids as text, ""
// for none).
type bulkValue struct {
	ID      int64  `bun:"id"`
	Value   string `bun:"v"`
	Version int    `bun:"version"`
}

func (s *Store) lockValues(ctx context.Context, tx bun.Tx, j *BulkJob, ids []int64) (map[int64]bulkValue, error) {
	var rows []bulkValue
	q := "SELECT id, COALESCE(" + s.textExpr(j.column()) + ", '') AS v, version FROM " + j.table() + s.byPK() + " WHERE team_id = ? AND id IN (?)"
	if s.Dialect == MySQL {
		q += " FOR UPDATE"
	}
	if err := tx.NewRaw(q, j.TeamID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("lock %s: %w", j.table(), err)
	}
	out := make(map[int64]bulkValue, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// textExpr casts a column to text for bulk_rows.before_value.
func (s *Store) textExpr(col string) string {
	if col != "owner_id" {
		return col
	}
	if s.Dialect == MySQL {
		return "CAST(owner_id AS CHAR)"
	}
	return "CAST(owner_id AS TEXT)"
}

// setArg is the value to store for a bulk value ("" owner: NULL).
func (j *BulkJob) setArg(v string) any {
	if j.Action == BulkAssign {
		if v == "" {
			return nil
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return v
}

// bulkSet sets the owner or status of a batch.
func (s *Store) bulkSet(ctx context.Context, tx bun.Tx, j *BulkJob, ids []int64) error {
	cur, err := s.lockValues(ctx, tx, j, ids)
	if err != nil {
		return err
	}
	outs := make([]bulkOutcome, 0, len(ids))
	var change []int64
	for _, id := range ids {
		r, ok := cur[id]
		switch {
		case !ok:
			outs = append(outs, bulkOutcome{id: id, outcome: bulkGone})
		case r.Value == j.Value:
			outs = append(outs, bulkOutcome{id: id, outcome: bulkSame, before: r.Value, version: r.Version})
		default:
			outs = append(outs, bulkOutcome{id: id, outcome: bulkChanged, before: r.Value, version: r.Version + 1})
			change = append(change, id)
		}
	}
	if len(change) > 0 {
		if _, err := tx.NewRaw("UPDATE "+j.table()+s.byPK()+" SET "+j.column()+" = ?, version = version + 1, updated_at = ? WHERE team_id = ? AND id IN (?)",
			j.setArg(j.Value), s.now(), j.TeamID, bun.In(change)).Exec(ctx); err != nil {
			return fmt.Errorf("bulk %s: %w", j.Action, err)
		}
		if err := s.emitMany(ctx, tx, j.updates(j.UserID, change)); err != nil {
			return err
		}
	}
	return s.recordBulk(ctx, tx, j, ids, outs)
}

// stageMoves moves each deal of a batch by the pipeline's rules.
func (s *Store) stageMoves(ctx context.Context, j *BulkJob, actor *User, ids []int64) ([]bulkOutcome, error) {
	stage, reason := stageOf(j.Value)
	outs := make([]bulkOutcome, 0, len(ids))
	for _, id := range ids {
		d, err := s.MoveDeal(ctx, j.TeamID, actor, id, MoveInput{Stage: stage, LostReason: reason})
		switch {
		case err == nil:
			outs = append(outs, bulkOutcome{id: id, outcome: bulkChanged, version: d.Version})
		case errors.Is(err, ErrNotFound):
			outs = append(outs, bulkOutcome{id: id, outcome: bulkGone})
		default:
			note, ok := refusal(err)
			if !ok {
				return nil, err
			}
			outs = append(outs, bulkOutcome{id: id, outcome: bulkRefused, note: note})
		}
	}
	return outs, nil
}

// refusal turns a rule's refusal into a sentence; false for other errors.
func refusal(err error) (string, bool) {
	var fe FieldErrors
	switch {
	case errors.As(err, &fe):
		var msgs []string
		for _, m := range fe {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		return strings.Join(msgs, " "), true
	case errors.Is(err, ErrClosed):
		return "The deal is closed: reopen it on the board first.", true
	case errors.Is(err, ErrNotAllowed):
		return "Members move only their own and unassigned deals.", true
	}
	return "", false
}

// bulkDelete deletes a batch (with what goes with each record).
func (s *Store) bulkDelete(ctx context.Context, tx bun.Tx, j *BulkJob, ids []int64) error {
	var there []int64
	if err := tx.NewRaw("SELECT id FROM "+j.table()+s.byPK()+" WHERE team_id = ? AND id IN (?)", j.TeamID, bun.In(ids)).Scan(ctx, &there); err != nil {
		return fmt.Errorf("bulk delete: %w", err)
	}
	if len(there) > 0 {
		// What goes with the records, for the dashboard's totals
		// (recordChange, as DeleteContact and DeleteDeal do).
		dc := Change{TeamID: j.TeamID, Past: true}
		var deals []Deal
		dq := tx.NewSelect().Model(&deals).Column("id", "team_id", "stage", "amount", "goal", "close_date").Where("team_id = ?", j.TeamID)
		if j.List == ListDeals {
			dq = dq.Where("id IN (?)", bun.In(there))
		} else {
			dq = dq.Where("contact_id IN (?)", bun.In(there))
			var acts []Activity
			if err := s.forUpdate(tx.NewSelect().Model(&acts).Column("id", "team_id", "user_id", "type", "at").
				Where("team_id = ?", j.TeamID).Where("contact_id IN (?)", bun.In(there))).Scan(ctx); err != nil {
				return fmt.Errorf("bulk delete: activities: %w", err)
			}
			dc.Activities = activitiesDeleted(acts)
		}
		if err := s.forUpdate(dq).Scan(ctx); err != nil {
			return fmt.Errorf("bulk delete: deals: %w", err)
		}
		dc.Deals = dealsDeleted(deals)
		// Announced before the delete (the payloads are the records as
		// they were): the deals a contact takes with it, then the records.
		var evs []change
		kind, typ := "deal", EventDealDeleted
		if j.List != ListDeals {
			var err error
			if evs, err = s.dealDeletes(ctx, tx, j.TeamID, j.UserID, "contact_id IN (?)", bun.In(there)); err != nil {
				return err
			}
			kind, typ = "contact", EventContactDeleted
		}
		for _, id := range there {
			evs = append(evs, change{team: j.TeamID, actor: j.UserID, kind: kind, id: id, types: []string{typ}})
		}
		if err := s.emitMany(ctx, tx, evs); err != nil {
			return err
		}
		if _, err := tx.NewRaw("DELETE FROM "+j.table()+s.byPK()+" WHERE team_id = ? AND id IN (?)", j.TeamID, bun.In(there)).Exec(ctx); err != nil {
			return fmt.Errorf("bulk delete: %w", err)
		}
		if err := s.recordChange(ctx, tx, dc); err != nil {
			return fmt.Errorf("bulk delete: %w", err)
		}
	}
	outs := make([]bulkOutcome, 0, len(ids))
	for _, id := range ids {
		if slices.Contains(there, id) {
			outs = append(outs, bulkOutcome{id: id, outcome: bulkDeleted})
		} else {
			outs = append(outs, bulkOutcome{id: id, outcome: bulkGone})
		}
	}
	return s.recordBulk(ctx, tx, j, ids, outs)
}

// undoBulk restores the values before of the records the job changed and
// nobody changed since.
func (s *Store) undoBulk(ctx context.Context, j *BulkJob, owner string) error {
	after := int64(0)
	for {
		var rows []struct {
			ID      int64  `bun:"record_id"`
			Before  string `bun:"before_value"`
			Version int    `bun:"version_after"`
		}
		if err := s.DB.NewRaw("SELECT record_id, before_value, version_after FROM bulk_rows WHERE job_id = ? AND outcome = ? AND record_id > ? ORDER BY record_id LIMIT ?",
			j.ID, bulkChanged, after, bulkBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("undo bulk job %d: %w", j.ID, err)
		}
		if len(rows) == 0 {
			break
		}
		after = rows[len(rows)-1].ID
		err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := s.renewBulkLease(ctx, tx, j, owner); err != nil {
				return err
			}
			ids := make([]int64, len(rows))
			for i, r := range rows {
				ids[i] = r.ID
			}
			cur, err := s.lockValues(ctx, tx, j, ids)
			if err != nil {
				return err
			}
			restore := map[string][]int64{}
			var kept, undone []int64
			for _, r := range rows {
				c, ok := cur[r.ID]
				if !ok || c.Version != r.Version {
					kept = append(kept, r.ID)
					continue
				}
				restore[r.Before] = append(restore[r.Before], r.ID)
				undone = append(undone, r.ID)
			}
			now := s.now()
			for before, group := range restore {
				if _, err := tx.NewRaw("UPDATE "+j.table()+s.byPK()+" SET "+j.column()+" = ?, version = version + 1, updated_at = ? WHERE team_id = ? AND id IN (?)",
					j.setArg(before), now, j.TeamID, bun.In(group)).Exec(ctx); err != nil {
					return fmt.Errorf("undo: %w", err)
				}
			}
			// The undo is announced as the job's author's (who queued the
			// undo is not recorded).
			if err := s.emitMany(ctx, tx, j.updates(j.UserID, undone)); err != nil {
				return err
			}
			for _, set := range []struct {
				ids     []int64
				outcome string
			}{{kept, bulkKept}, {undone, bulkRestore}} {
				if len(set.ids) == 0 {
					continue
				}
				if _, err := tx.NewRaw("UPDATE bulk_rows SET outcome = ? WHERE job_id = ? AND record_id IN (?)", set.outcome, j.ID, bun.In(set.ids)).Exec(ctx); err != nil {
					return fmt.Errorf("undo: %w", err)
				}
			}
			_, err = tx.NewRaw("UPDATE bulk_jobs SET kept = kept + ? WHERE id = ?", len(kept), j.ID).Exec(ctx)
			return err
		})
		if err != nil {
			return err
		}
	}
	_, err := s.DB.NewRaw("UPDATE bulk_jobs SET status = ?, undone_at = ? WHERE id = ? AND lease_owner = ?", BulkUndone, s.now(), j.ID, owner).Exec(ctx)
	return err
}

// BulkDeleteImpact counts what deleting the selection deletes with it: the
// records, and for contacts their deals and notes.
func (s *Store) BulkDeleteImpact(ctx context.Context, teamID int64, list string, sel BulkSelection) (records, deals, notes int, err error) {
	count := func(ids []int64) error {
		if len(ids) == 0 {
			return nil
		}
		var n []int
		if err := s.DB.NewRaw("SELECT COUNT(*) FROM "+map[string]string{ListContacts: "contacts", ListDeals: "deals"}[list]+s.byPK()+" WHERE team_id = ? AND id IN (?)",
			teamID, bun.In(ids)).Scan(ctx, &n); err != nil {
			return err
		}
		records += n[0]
		if list != ListContacts {
			return nil
		}
		for _, t := range []struct {
			table string
			dst   *int
		}{{"deals", &deals}, {"notes", &notes}} {
			var m []int
			if err := s.DB.NewRaw("SELECT COUNT(*) FROM "+t.table+" WHERE team_id = ? AND contact_id IN (?)", teamID, bun.In(ids)).Scan(ctx, &m); err != nil {
				return err
			}
			*t.dst += m[0]
		}
		return nil
	}
	if sel.All {
		err = s.eachMatching(ctx, teamID, sel, count)
	} else {
		for chunk := range slices.Chunk(sel.IDs, bulkBatch) {
			if err = count(chunk); err != nil {
				break
			}
		}
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bulk delete impact: %w", err)
	}
	return records, deals, notes, nil
}

// walkSort is the order a bulk job walks the matches in: the order does not
// matter, so the sort whose index holds a filter's rows as one range (by
// status for a status filter, …) is read instead of checking every row of
// the name index. A search keeps the page's sort (its plan serves it).
func walkSort(search, sort string, byFilter []string) string {
	if search != "" || len(byFilter) == 0 {
		return sort
	}
	return byFilter[0]
}

func contactWalkSorts(f ContactFilter) []string {
	var out []string
	switch {
	case len(f.Statuses) > 0:
		out = append(out, "status")
	case f.Company != "":
		out = append(out, "company")
	case !f.CreatedFrom.IsZero() || !f.CreatedTo.IsZero():
		out = append(out, "created")
	case !f.UpdatedFrom.IsZero() || !f.UpdatedTo.IsZero():
		out = append(out, "updated")
	case !f.ContactedFrom.IsZero() || !f.ContactedTo.IsZero() || !f.NotContactedSince.IsZero():
		out = append(out, "last_contacted")
	}
	return out
}

func dealWalkSorts(f DealFilter) []string {
	var out []string
	switch {
	case len(f.Stages) > 0:
		out = append(out, "stage")
	case !f.CloseFrom.IsZero() || !f.CloseTo.IsZero():
		out = append(out, "close_date")
	case f.AmountMin != nil || f.AmountMax != nil:
		out = append(out, "amount")
	}
	return out
}

// byPK makes SQLite reach the listed ids through the primary key: without
// statistics it answers team_id = ? AND id IN (…) by scanning the team
// through an index on team_id (see indexHint). MySQL takes the primary key
// for an id list by itself.
func (s *Store) byPK() string {
	if s.Dialect == MySQL {
		return ""
	}
	return " NOT INDEXED"
}

// updates are the *.updated events of the job's records ids.
func (j *BulkJob) updates(actor int64, ids []int64) []change {
	kind, typ := "contact", EventContactUpdated
	if j.List == ListDeals {
		kind, typ = "deal", EventDealUpdated
	}
	out := make([]change, len(ids))
	for i, id := range ids {
		out[i] = change{team: j.TeamID, actor: actor, kind: kind, id: id, types: []string{typ}}
	}
	return out
}
