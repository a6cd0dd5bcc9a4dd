package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"sherpa/money"
)

// Kinds of stage-log rows. A row written before migration 0007 has kind
// LogMove.
const (
	// LogMove: the deal entered ToStage.
	LogMove = "move"
	// LogUndone: a close (to Closed Won or Closed Lost) that a reopen took
	// back. The funnel skips it, so a reopened deal no longer counts as won.
	LogUndone = "undone"
	// LogReopen: an owner or admin sent a closed deal back to the stage it
	// was closed from. It reaches nothing new, so the funnel skips it too.
	LogReopen = "reopen"
)

// Board limits.
const (
	BoardPageSize = 50
	boardMaxPage  = 200
)

// checkMover is the roles rule of moving a deal through the stages:
// owners and admins may move any deal, members their own deals and
// unassigned ones.
func checkMover(actor *User, d *Deal) error {
	if actor.CanManage() || d.OwnerID == 0 || d.OwnerID == actor.ID {
		return nil
	}
	return ErrNotAllowed
}

// CanMoveDeal reports whether actor may move d (see checkMover); views use
// it to offer the board's drag and "Move to…" only where they work.
func CanMoveDeal(actor *User, d *Deal) bool { return !IsClosed(d.Stage) && checkMover(actor, d) == nil }

// parseClosing reads the closing fields of a deal form: the day it closed,
// and the loss's reason and note.
func parseClosing(fe FieldErrors, v *dealValues, in DealInput) {
	if d := strings.TrimSpace(in.ClosedOn); d != "" {
		t, err := ParseDay(d, time.UTC)
		switch {
		case errors.Is(err, ErrDayRange):
			fe["closed_on"] = fmt.Sprintf("Enter a day between %d and %d.", MinDayYear, MaxDayYear)
		case err != nil:
			fe["closed_on"] = "Enter the day it closed as YYYY-MM-DD."
		default:
			v.closedOn = t
		}
	}
	v.lostReason = strings.Join(strings.Fields(in.LostReason), " ")
	v.lostNote = strings.TrimSpace(in.LostNote)
	if msg := TextError("The note", v.lostNote, lostNoteMax, true); msg != "" {
		fe["lost_note"] = msg
	}
}

// TeamToday is today's date in the team's time zone, as midnight UTC (how
// close dates are kept).
func (s *Store) TeamToday(ctx context.Context, teamID int64) (time.Time, error) {
	return s.teamToday(ctx, s.DB, teamID)
}

func (s *Store) teamToday(ctx context.Context, db bun.IDB, teamID int64) (time.Time, error) {
	var zone string
	if err := db.NewSelect().Table("teams").Column("time_zone").Where("id = ?", teamID).Scan(ctx, &zone); err != nil {
		return time.Time{}, fmt.Errorf("time zone of team %d: %w", teamID, err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	y, m, d := s.Now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// applyClosing is the closing rule for a deal moving into a closed stage:
// its close date becomes the day it closed (the day given, else today in
// the team's zone), and Closed Lost needs one of the team's lost reasons.
func (s *Store) applyClosing(ctx context.Context, db bun.IDB, teamID int64, v *dealValues) error {
	v.expected = v.closeDate
	if v.closedOn.IsZero() {
		today, err := s.teamToday(ctx, db, teamID)
		if err != nil {
			return err
		}
		v.closedOn = today
	}
	v.closeDate = v.closedOn
	if v.stage != StageLost {
		v.lostReason, v.lostNote = "", ""
		return nil
	}
	if v.lostReason == "" {
		return FieldErrors{"lost_reason": "Choose why the deal was lost."}
	}
	reasons, err := s.lostReasons(ctx, db, teamID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(reasons, func(r string) bool { return strings.EqualFold(r, v.lostReason) })
	if i < 0 {
		return FieldErrors{"lost_reason": "Choose one of the team's lost reasons."}
	}
	v.lostReason = reasons[i]
	return nil
}

// MoveInput is a move on the board: the stage to move to and, for closing,
// the amount (Closed Won; "" keeps the deal's), the day it closed ("" for
// today) and the loss's reason and note.
type MoveInput struct {
	Stage      string
	Amount     string
	ClosedOn   string
	LostReason string
	LostNote   string
}

// MoveDeal moves a deal to a later stage, by the table's rules: forward only
// (Closed Lost from any open stage), nothing out of a closed stage
// (ErrClosed), Closed Won with an amount above zero, Closed Lost with a
// reason, and the roles rule of checkMover (ErrNotAllowed). The move is
// logged. Unlike UpdateDeal it needs no version: a move changes only the
// stage (and the closing values), and the row is locked while it is checked.
func (s *Store) MoveDeal(ctx context.Context, teamID int64, actor *User, id int64, in MoveInput) (*Deal, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	fe := FieldErrors{}
	v := dealValues{stage: strings.TrimSpace(in.Stage)}
	for _, st := range Stages {
		if strings.EqualFold(st, v.stage) {
			v.stage = st
		}
	}
	if StageIndex(v.stage) < 0 {
		fe["stage"] = "Choose one of the listed stages."
	}
	currency, err := s.teamCurrency(ctx, teamID)
	if err != nil {
		return nil, err
	}
	amount, err := money.Parse(in.Amount, currency)
	if err != nil {
		fe["amount"] = "Amount " + err.Error() + "."
	}
	parseClosing(fe, &v, DealInput{ClosedOn: in.ClosedOn, LostReason: in.LostReason, LostNote: in.LostNote})
	if err := fe.err(); err != nil {
		return nil, fmt.Errorf("move deal %d: %w", id, err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old := new(Deal)
		if err := s.forUpdate(tx.NewSelect().Model(old).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load deal: %w", err)
		}
		if IsClosed(old.Stage) {
			return ErrClosed
		}
		if !CanMove(old.Stage, v.stage) {
			return FieldErrors{"stage": fmt.Sprintf("A deal in %s cannot move to %s: deals only move forward.", old.Stage, v.stage)}
		}
		if err := checkMover(actor, old); err != nil {
			return err
		}
		v.amount, v.closeDate = old.Amount, old.CloseDate
		if strings.TrimSpace(in.Amount) != "" {
			v.amount = amount
		}
		if v.stage == StageWon && v.amount <= 0 {
			return FieldErrors{"amount": "Closing as won needs an amount above zero."}
		}
		now := s.now()
		q := tx.NewUpdate().Model((*Deal)(nil)).Set("stage = ?", v.stage).Set("stage_rank = ?", StageIndex(v.stage)).
			Set("version = version + 1").Set("updated_at = ?", now)
		if IsClosed(v.stage) {
			if err := s.applyClosing(ctx, tx, teamID, &v); err != nil {
				return err
			}
			q = q.Set("amount = ?", v.amount).Set("close_date = ?", v.closeDate).Set("closed_at = ?", now).
				Set("lost_reason = ?", v.lostReason).Set("lost_note = ?", v.lostNote)
		}
		if _, err := q.Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		if err := s.insertStageLog(ctx, tx, &StageLog{TeamID: teamID, DealID: id, FromStage: old.Stage, ToStage: v.stage,
			UserID: actor.ID, At: now, Reason: v.lostReason, Note: v.lostNote, PrevCloseDate: v.expected}); err != nil {
			return err
		}
		after := *old
		after.Stage = v.stage
		if IsClosed(v.stage) {
			after.Amount, after.CloseDate = v.amount, v.closeDate
		}
		if err := s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: []DealDelta{{Before: old, After: &after}}, Logged: []time.Time{now}}); err != nil {
			return err
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "deal", id: id, from: old.Stage, to: v.stage,
			types: stageEvents(old.Stage, v.stage, EventDealUpdated)})
	})
	if err != nil {
		return nil, fmt.Errorf("move deal %d: %w", id, err)
	}
	return s.DealByID(ctx, teamID, id)
}

// ErrNotClosed refuses to reopen a deal that is open.
var ErrNotClosed = fmt.Errorf("this deal is open: only closed deals can be reopened: %w", ErrInvalid)

// ReopenDeal sends a closed deal back to the stage it was closed from, with
// the expected close date it had before closing; only owners and admins may
// (ErrNotAllowed). The close's log row becomes LogUndone (the funnel and
// the closed-won totals no longer count the deal as won or lost) and a
// LogReopen row records who reopened it and when.
func (s *Store) ReopenDeal(ctx context.Context, teamID int64, actor *User, id int64) (*Deal, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		d := new(Deal)
		if err := s.forUpdate(tx.NewSelect().Model(d).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load deal: %w", err)
		}
		if !actor.CanManage() {
			return ErrNotAllowed
		}
		if !IsClosed(d.Stage) {
			return ErrNotClosed
		}
		closeRow := new(StageLog)
		err := tx.NewSelect().Model(closeRow).Where("team_id = ?", teamID).Where("deal_id = ?", id).
			Where("to_stage = ?", d.Stage).Where("kind <> ?", LogUndone).Where("kind <> ?", LogReopen).
			OrderExpr("at DESC, id DESC").Limit(1).Scan(ctx)
		back := StageCreated
		switch {
		case err == nil && !IsClosed(closeRow.FromStage) && closeRow.FromStage != "":
			back = closeRow.FromStage
		case err != nil && !notFound(err):
			return fmt.Errorf("find the close: %w", err)
		}
		now := s.now()
		if err == nil {
			if _, err := tx.NewUpdate().Model((*StageLog)(nil)).Set("kind = ?", LogUndone).
				Where("id = ?", closeRow.ID).Where("team_id = ?", teamID).Exec(ctx); err != nil {
				return fmt.Errorf("undo the close: %w", err)
			}
		}
		if _, err := tx.NewUpdate().Model((*Deal)(nil)).Set("stage = ?", back).Set("stage_rank = ?", StageIndex(back)).
			Set("close_date = ?", nullDate(closeRow.PrevCloseDate)).Set("closed_at = NULL").
			Set("lost_reason = ''").Set("lost_note = ''").
			Set("version = version + 1").Set("updated_at = ?", now).
			Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		if err := s.insertStageLog(ctx, tx, &StageLog{TeamID: teamID, DealID: id, FromStage: d.Stage, ToStage: back,
			UserID: actor.ID, At: now, Kind: LogReopen}); err != nil {
			return err
		}
		after := *d
		after.Stage, after.CloseDate = back, closeRow.PrevCloseDate
		// Past: the close it takes back may be in a month already over.
		if err := s.recordChange(ctx, tx, Change{TeamID: teamID, Past: true, Deals: []DealDelta{{Before: d, After: &after}}, Logged: []time.Time{now}}); err != nil {
			return err
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "deal", id: id, from: d.Stage, to: back,
			types: []string{EventDealUpdated, EventDealStageChanged}})
	})
	if err != nil {
		return nil, fmt.Errorf("reopen deal %d: %w", id, err)
	}
	return s.DealByID(ctx, teamID, id)
}

// BoardQuery asks for the board's columns under one filter. View is
// ViewAll, ViewMine (UserID's deals) or ViewOwner (OwnerID's). From and To
// bound the close date (inclusive days, zero for open); the closed columns
// show Month (a month's first day, the current one by default) unless a
// range is given. Search is the deals table's search.
type BoardQuery struct {
	View      string
	UserID    int64
	OwnerID   int64
	Search    string
	From, To  time.Time
	Month     time.Time
	StaleOnly bool
	Limit     int
}

// ViewOwner is the board's filter on one owner's deals.
const ViewOwner = "owner"

// BoardCard is a deal on the board.
type BoardCard struct {
	Deal
	// Since is when the deal entered its current stage (its latest
	// stage-log row that a reopen did not undo).
	Since time.Time
	Stale bool
}

// DaysInStage is how many whole days the deal has been in its stage at now.
func (c BoardCard) DaysInStage(now time.Time) int {
	if c.Since.IsZero() || now.Before(c.Since) {
		return 0
	}
	return int(now.Sub(c.Since) / (24 * time.Hour))
}

// BoardColumn is one stage of the board: its totals over the whole filter
// (SQL aggregates, not the cards shown) and its first cards.
type BoardColumn struct {
	Stage      string
	Count      int
	Amount     int64
	WinPercent int   // open stages; 100 for Closed Won, 0 for Closed Lost
	Weighted   int64 // Amount × WinPercent / 100, rounded
	StaleDays  int
	Cards      []BoardCard
	Next       string // cursor of the next cards, "" when there are none
}

// boardFilter is a query's WHERE for one stage.
type boardFilter struct {
	where []string
	args  []any
	index string
}

func (f *boardFilter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

func (s *Store) boardFilter(teamID int64, q BoardQuery, stage string, staleDays int, now time.Time, words []searchWord) boardFilter {
	f := boardFilter{index: "deals_board"}
	f.add("d.team_id = ?", teamID)
	switch q.View {
	case ViewMine:
		f.add("d.owner_id = ?", q.UserID)
		f.index = "deals_owner_board"
	case ViewOwner:
		f.add("d.owner_id = ?", q.OwnerID)
		f.index = "deals_owner_board"
	}
	f.add("d.stage = ?", stage)
	from, to := q.From, q.To
	if IsClosed(stage) && from.IsZero() && to.IsZero() {
		from, to = q.Month, q.Month.AddDate(0, 1, -1)
	}
	if !from.IsZero() {
		f.add("d.close_date >= ?", from)
	}
	if !to.IsZero() {
		f.add("d.close_date < ?", to.AddDate(0, 0, 1))
	}
	for i, w := range words {
		alias := "t" + strconv.Itoa(i)
		cond, cargs := prefixCond(alias, w)
		byRecord := " FORCE INDEX (deal_terms_deal)"
		if s.Dialect == SQLite {
			byRecord = " INDEXED BY deal_terms_deal"
		}
		f.add("(SELECT 1 FROM deal_terms AS "+alias+byRecord+" WHERE "+alias+".deal_id = d.id AND "+alias+".team_id = ? AND "+cond+" LIMIT 1) IS NOT NULL",
			append([]any{teamID}, cargs...)...)
	}
	if q.StaleOnly {
		if IsClosed(stage) {
			f.add("1 = 0")
		} else {
			// The times kept on the deal (store/board_touch.go), read from
			// the board index itself. On SQLite the unary plus drops the
			// columns' NUMERIC affinity (they are TIMESTAMP), which would
			// otherwise try to read the text parameter as a number on
			// every row; the index still serves them.
			plus := ""
			if s.Dialect == SQLite {
				plus = "+"
			}
			f.add(plus+"d.last_touched_at < ? AND ("+plus+"d.next_due_at IS NULL OR "+plus+"d.next_due_at < ?)", staleCutoff(now, staleDays), now)
		}
	}
	return f
}

func (f boardFilter) sql() string { return strings.Join(f.where, " AND ") }

// boardCardColumns are the deal columns a card shows or its rules need
// (fewer than d.*: each column read is a conversion, each time column a
// parse on SQLite). The team and stage are the column's; a closed card is
// never stale, so it reads no touch times.
func boardCardColumns(stage string) string {
	cols := "d.id, d.name, d.amount, d.close_date, d.owner_id, d.contact_name, d.company, d.stage_since"
	switch {
	case !IsClosed(stage):
		cols += ", d.last_touched_at, d.next_due_at"
	case stage == StageLost:
		cols += ", d.lost_reason"
	}
	return cols
}

// boardCursor is the position after a card: close date, amount, id.
func boardCursor(d *Deal) string {
	date := ""
	if !d.CloseDate.IsZero() {
		date = d.CloseDate.Format(time.DateOnly)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(date + "|" + strconv.FormatInt(d.Amount, 10) + "|" + strconv.FormatInt(d.ID, 10)))
}

func parseBoardCursor(s string) (date time.Time, amount, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return date, 0, 0, false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 {
		return date, 0, 0, false
	}
	if parts[0] != "" {
		if date, err = time.Parse(time.DateOnly, parts[0]); err != nil {
			return date, 0, 0, false
		}
	}
	amount, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	return date, amount, id, err1 == nil && err2 == nil
}

// Board loads every column of the team's board: per stage the totals
// under the filter and the first cards in the board's order (deals without
// a close date first, then by close date, amount and id).
func (s *Store) Board(ctx context.Context, teamID int64, q BoardQuery) ([]BoardColumn, error) {
	settings, err := s.StageSettings(ctx, teamID)
	if err != nil {
		return nil, err
	}
	cols := make([]BoardColumn, 0, len(Stages))
	for _, st := range Stages {
		col := BoardColumn{Stage: st}
		if st == StageWon {
			col.WinPercent = 100
		}
		for _, set := range settings {
			if set.Stage == st {
				col.WinPercent, col.StaleDays = set.WinPercent, set.StaleDays
			}
		}
		cols = append(cols, col)
	}
	words, ok := parseSearch(q.Search)
	if !ok {
		return cols, nil // a search with no word matches nothing
	}
	// The whole team's totals in one statement (store/board_totals.go),
	// then each column on its own connection, like the dashboard's
	// aggregates: the board takes about as long as its slowest column.
	now := s.now()
	errs := make([]error, len(cols)+2)
	var names map[int64]string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[len(cols)] = s.boardTotals(ctx, teamID, q, cols) // only the totals' fields
	}()
	go func() {
		defer wg.Done()
		names, errs[len(cols)+1] = s.memberNames(ctx, teamID)
	}()
	for i := range cols {
		if q.StaleOnly && IsClosed(cols[i].Stage) {
			cols[i].Cards = []BoardCard{} // closed deals are never stale
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, counted := totalsMonths(q, cols[i].Stage)
			errs[i] = s.boardColumn(ctx, teamID, q, &cols[i], words, now, counted)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := s.nameOwners(ctx, cols, names); err != nil {
		return nil, err
	}
	return cols, nil
}

// memberNames maps the team's members to their names: the cards' owners,
// read once a board instead of joined to every card.
func (s *Store) memberNames(ctx context.Context, teamID int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	// By users_team: MySQL would rather scan a small table.
	if err := s.DB.NewRaw("SELECT id, name FROM users"+s.forceIndex("users_team")+" WHERE team_id = ?", teamID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("names of team %d: %w", teamID, err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// nameOwners fills the cards' owner names from names, reading those of
// owners no longer in the team (a deal keeps its owner until reassigned)
// by primary key.
func (s *Store) nameOwners(ctx context.Context, cols []BoardColumn, names map[int64]string) error {
	var missing []int64
	for i := range cols {
		for j := range cols[i].Cards {
			if id := cols[i].Cards[j].OwnerID; id != 0 {
				if _, ok := names[id]; !ok && !slices.Contains(missing, id) {
					missing = append(missing, id)
				}
			}
		}
	}
	if len(missing) > 0 {
		var rows []struct {
			ID   int64  `bun:"id"`
			Name string `bun:"name"`
		}
		if err := s.DB.NewRaw("SELECT id, name FROM users WHERE id IN (?)", bun.In(missing)).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("names of former members: %w", err)
		}
		for _, r := range rows {
			names[r.ID] = r.Name
		}
	}
	for i := range cols {
		for j := range cols[i].Cards {
			c := &cols[i].Cards[j]
			c.OwnerName = names[c.OwnerID]
		}
	}
	return nil
}

// BoardMore loads the cards of one column after a cursor (its totals are
// not read again).
func (s *Store) BoardMore(ctx context.Context, teamID int64, q BoardQuery, stage, after string) (BoardColumn, error) {
	settings, err := s.StageSettings(ctx, teamID)
	if err != nil {
		return BoardColumn{}, err
	}
	col := BoardColumn{Stage: stage}
	for _, set := range settings {
		if set.Stage == stage {
			col.WinPercent, col.StaleDays = set.WinPercent, set.StaleDays
		}
	}
	words, ok := parseSearch(q.Search)
	if StageIndex(stage) < 0 || !ok || (q.StaleOnly && IsClosed(stage)) {
		return col, nil
	}
	if err := s.boardCards(ctx, teamID, q, &col, words, s.now(), after); err != nil {
		return col, err
	}
	cols := []BoardColumn{col}
	if err := s.nameOwners(ctx, cols, map[int64]string{}); err != nil {
		return col, err
	}
	return cols[0], nil
}

// boardColumn loads a column's cards and, unless boardTotals counted them
// already, its totals under the filter.
func (s *Store) boardColumn(ctx context.Context, teamID int64, q BoardQuery, col *BoardColumn, words []searchWord, now time.Time, counted bool) error {
	if !counted {
		var total struct {
			N      int   `bun:"n"`
			Amount int64 `bun:"amount"`
		}
		f := s.boardFilter(teamID, q, col.Stage, col.StaleDays, now, words)
		if err := s.DB.NewRaw("SELECT COUNT(*) AS n, COALESCE(SUM(d.amount), 0) AS amount FROM deals AS d"+s.forceIndex(f.index)+" WHERE "+f.sql(), f.args...).
			Scan(ctx, &total); err != nil {
			return fmt.Errorf("board totals of %s: %w", col.Stage, err)
		}
		col.Count, col.Amount = total.N, total.Amount
		col.Weighted = (col.Amount*int64(col.WinPercent) + 50) / 100
	}
	return s.boardCards(ctx, teamID, q, col, words, now, "")
}

func (s *Store) forceIndex(index string) string {
	if s.Dialect == SQLite {
		return " INDEXED BY " + index
	}
	return " FORCE INDEX (" + index + ")"
}

func (s *Store) boardCards(ctx context.Context, teamID int64, q BoardQuery, col *BoardColumn, words []searchWord, now time.Time, after string) error {
	limit := q.Limit
	if limit <= 0 {
		limit = BoardPageSize
	}
	limit = min(limit, boardMaxPage)
	f := s.boardFilter(teamID, q, col.Stage, col.StaleDays, now, words)
	if date, amount, id, ok := parseBoardCursor(after); ok {
		if date.IsZero() {
			f.add("((d.close_date IS NULL AND (d.amount > ? OR (d.amount = ? AND d.id > ?))) OR d.close_date IS NOT NULL)", amount, amount, id)
		} else {
			f.add("(d.close_date > ? OR (d.close_date = ? AND (d.amount > ? OR (d.amount = ? AND d.id > ?))))", date, date, amount, amount, id)
		}
	}
	// One read: the column's range of the board index in order, each row
	// by its primary key (owners' names: nameOwners).
	var deals []Deal
	if err := s.DB.NewSelect().Model((*Deal)(nil)).ModelTableExpr("deals AS d"+s.indexHint(f.index)).
		ColumnExpr(boardCardColumns(col.Stage)).Where(f.sql(), f.args...).
		OrderExpr("d.close_date, d.amount, d.id").Limit(int64(limit+1)).Scan(ctx, &deals); err != nil {
		return fmt.Errorf("board cards of %s: %w", col.Stage, err)
	}
	more := len(deals) > limit
	if more {
		deals = deals[:limit]
	}
	col.Cards = make([]BoardCard, len(deals))
	for i, d := range deals {
		d.TeamID, d.Stage = teamID, col.Stage
		col.Cards[i] = BoardCard{Deal: d}
	}
	if more && len(deals) > 0 {
		col.Next = boardCursor(&deals[len(deals)-1])
	}
	return s.markCards(ctx, teamID, col, now)
}

// staleCutoff is the moment before which a deal's last touch makes it
// stale, for a stage's threshold in days.
func staleCutoff(now time.Time, staleDays int) time.Time { return now.AddDate(0, 0, -staleDays) }

// IsStale is the stale rule: an open deal with nothing logged on it or its
// contact since staleDays before now, and no task or meeting on its contact
// due now or later. The "stale only" filter is the same rule in SQL.
func IsStale(d *Deal, now time.Time, staleDays int) bool {
	return !IsClosed(d.Stage) && !d.LastTouchedAt.IsZero() && d.LastTouchedAt.Before(staleCutoff(now, staleDays)) && d.NextDueAt.Before(now)
}

// markCards fills each card's time in its stage and stale flag from the
// times kept on the deal.
func (s *Store) markCards(_ context.Context, _ int64, col *BoardColumn, now time.Time) error {
	for i := range col.Cards {
		c := &col.Cards[i]
		c.Since = c.StageSince
		c.Stale = IsStale(&c.Deal, now, col.StaleDays)
	}
	return nil
}

// totalsMonths tells whether a column's totals can be read from
// deal_month_totals: the filter is the whole team's deals (no owner, search
// or stale filter) and the close-date range is none (open columns: every
// month and the undated deals) or whole months, [from, to) by first days.
func totalsMonths(q BoardQuery, stage string) (from, to time.Time, ok bool) {
	if (q.View != "" && q.View != ViewAll) || strings.TrimSpace(q.Search) != "" || q.StaleOnly {
		return from, to, false
	}
	lo, hi := q.From, q.To
	if IsClosed(stage) && lo.IsZero() && hi.IsZero() {
		lo, hi = q.Month, q.Month.AddDate(0, 1, -1)
	}
	if lo.IsZero() && hi.IsZero() {
		return from, to, true
	}
	if lo.IsZero() || hi.IsZero() || lo.Day() != 1 || hi.AddDate(0, 0, 1).Day() != 1 || hi.Before(lo) {
		return from, to, false
	}
	return lo, hi.AddDate(0, 0, 1), true
}
