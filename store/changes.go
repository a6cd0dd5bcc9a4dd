package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The dashboard's change counters and totals (team_changes,
// deal_month_totals, activity_day_totals; see migration 0005) are kept by
// the store's own write methods, in the transaction of the write, the same
// way on every database: no triggers, so the same schema runs on engines
// that have none (TiDB, Vitess).
//
// recordChange is the one place that moves them. The rule for every write
// method: a write that inserts, updates or deletes deals, stage-log rows or
// activities, deletes a contact (its cascade deletes its deals and
// activities), changes a member's name or team, or creates a team calls
// recordChange ONCE, inside its transaction, as its last statement, with a
// Change that says what it did. TestEveryWriteKeepsTheTotals runs every
// write method and compares the totals with an independent recount, and
// `sherpa reconcile` (Reconcile) finds and repairs drift in a live database.
//
// Calling it last matters on MySQL: the counter row is the lock that
// orders a team's writers before the totals rows, so that two writers never
// hold the totals in opposite orders; a writer that went on to other rows
// after taking it could meet one that holds those rows and waits for the
// counter.

// Change is what one write transaction did to the rows the dashboard reads.
type Change struct {
	// TeamID is the team written to.
	TeamID int64
	// OtherTeams are further teams whose charts the write can change (the
	// team a member left or joined).
	OtherTeams []int64
	// Past says that the write can change a month already over (a deletion,
	// a member renamed or leaving, a reopen). Rows dated more than an hour
	// back in Deals, Activities and Logged make it so on their own.
	Past bool
	// Deals are the deals the write inserted, updated or deleted: Before is
	// nil for an insert, After nil for a delete. Only team, stage, amount,
	// goal and close date matter.
	Deals []DealDelta
	// Activities are the activities inserted (Before nil) or deleted (After
	// nil); only team, member, type and time matter.
	Activities []ActivityDelta
	// Logged are the times of the stage-log rows the write inserted.
	Logged []time.Time
	// Recount recomputes the team's totals from its deals and activities
	// instead of applying deltas: for bulk writes (the demo seed, a currency
	// change that rescales every amount).
	Recount bool
	// NewTeam says the team was created by this write: its counters row is
	// made.
	NewTeam bool
}

// DealDelta is one deal as it was before a write and after it.
type DealDelta struct{ Before, After *Deal }

// ActivityDelta is one activity before a write and after it.
type ActivityDelta struct{ Before, After *Activity }

// Inserted, Deleted and Updated build the deltas of common writes.
func dealsInserted(ds []Deal) []DealDelta {
	out := make([]DealDelta, len(ds))
	for i := range ds {
		out[i] = DealDelta{After: &ds[i]}
	}
	return out
}

func dealsDeleted(ds []Deal) []DealDelta {
	out := make([]DealDelta, len(ds))
	for i := range ds {
		out[i] = DealDelta{Before: &ds[i]}
	}
	return out
}

func activitiesInserted(as []Activity) []ActivityDelta {
	out := make([]ActivityDelta, len(as))
	for i := range as {
		out[i] = ActivityDelta{After: &as[i]}
	}
	return out
}

func activitiesDeleted(as []Activity) []ActivityDelta {
	out := make([]ActivityDelta, len(as))
	for i := range as {
		out[i] = ActivityDelta{Before: &as[i]}
	}
	return out
}

// pastAge is how far back a row's time must be for it to change a month
// already over: a row written "now" cannot change last month.
const pastAge = time.Hour

type monthKey struct {
	team  int64
	month string // YYYY-MM-01
	stage string
}

type monthSum struct{ deals, amount, goal int64 }

type dayKey struct {
	team int64
	day  string // YYYY-MM-DD, UTC
	user int64
	typ  string
}

// dealMonth is the deal_month_totals key of a deal with a close date.
func dealMonth(d *Deal) (monthKey, bool) {
	if d.CloseDate.IsZero() {
		return monthKey{}, false
	}
	return monthKey{team: d.TeamID, month: d.CloseDate.UTC().Format("2006-01") + "-01", stage: d.Stage}, true
}

func activityDay(a *Activity) dayKey {
	return dayKey{team: a.TeamID, day: a.At.UTC().Format(time.DateOnly), user: a.UserID, typ: a.Type}
}

// recordChange moves the team's change counters and its totals by what c
// says the write did (see the rule at the top of this file). A change that
// touches nothing a chart shows (a deal renamed) writes nothing.
func (s *Store) recordChange(ctx context.Context, db bun.IDB, c Change) error {
	wall := time.Now() // the past rule is about the real clock, like the database's
	past := c.Past
	old := func(t time.Time) bool { return !t.IsZero() && t.Before(wall.Add(-pastAge)) }
	teams := map[int64]bool{}
	if c.TeamID != 0 && (c.Past || c.Recount || c.NewTeam || len(c.OtherTeams) > 0 || len(c.Logged) > 0) {
		teams[c.TeamID] = true
	}
	for _, t := range c.OtherTeams {
		if t != 0 {
			teams[t] = true
		}
	}
	months := map[monthKey]monthSum{}
	for _, d := range c.Deals {
		b, a := d.Before, d.After
		if b != nil && a != nil && b.TeamID == a.TeamID && b.Stage == a.Stage && b.Amount == a.Amount &&
			b.Goal == a.Goal && b.CloseDate.Equal(a.CloseDate) {
			continue // nothing a chart reads changed
		}
		if b != nil {
			teams[b.TeamID] = true
			if a == nil {
				past = true // a deleted deal leaves the months it was counted in
			}
			if k, ok := dealMonth(b); ok {
				m := months[k]
				m.deals, m.amount, m.goal = m.deals-1, m.amount-b.Amount, m.goal-b.Goal
				months[k] = m
			}
		}
		if a != nil {
			teams[a.TeamID] = true
			if k, ok := dealMonth(a); ok {
				m := months[k]
				m.deals, m.amount, m.goal = m.deals+1, m.amount+a.Amount, m.goal+a.Goal
				months[k] = m
			}
		}
	}
	days := map[dayKey]int64{}
	for _, d := range c.Activities {
		if d.Before != nil {
			teams[d.Before.TeamID] = true
			past = true
			days[activityDay(d.Before)]--
		}
		if d.After != nil {
			teams[d.After.TeamID] = true
			past = past || old(d.After.At)
			days[activityDay(d.After)]++
		}
	}
	for _, at := range c.Logged {
		past = past || old(at)
	}
	if len(teams) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(teams))
	for t := range teams {
		ids = append(ids, t)
	}
	slices.Sort(ids)
	// The counters first: they order the team's writers (see above).
	if c.NewTeam {
		if _, err := db.NewRaw("INSERT INTO team_changes (team_id) VALUES (?)", c.TeamID).Exec(ctx); err != nil {
			return fmt.Errorf("record change: counters of new team %d: %w", c.TeamID, err)
		}
	}
	pastStep := 0
	if past || c.Recount {
		pastStep = 1
	}
	if _, err := db.NewRaw("UPDATE team_changes SET version = version + 1, past_version = past_version + ? WHERE team_id IN (?)",
		pastStep, bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("record change: counters of teams %v: %w", ids, err)
	}
	// Deals, activities (Last contacted, Next step), members and teams all
	// show in the lists (listversion.go).
	if err := s.listChanged(ctx, db, ids...); err != nil {
		return err
	}
	if c.Recount {
		return s.recount(ctx, db, c.TeamID)
	}
	if err := s.addMonthTotals(ctx, db, months); err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	if err := s.addDayTotals(ctx, db, days); err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	// The board's per-stage totals (store/board_totals.go).
	if err := s.addStageTotals(ctx, db, stageDeltas(c.Deals)); err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	return nil
}

// addMonthTotals adds sums to deal_month_totals, in key order (a fixed lock
// order), in multi-row upserts.
func (s *Store) addMonthTotals(ctx context.Context, db bun.IDB, months map[monthKey]monthSum) error {
	keys := make([]monthKey, 0, len(months))
	for k, m := range months {
		if m != (monthSum{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b monthKey) int {
		return cmp.Or(cmp.Compare(a.team, b.team), strings.Compare(a.month, b.month), strings.Compare(a.stage, b.stage))
	})
	for len(keys) > 0 {
		n := min(len(keys), 500)
		var b strings.Builder
		args := make([]any, 0, n*6)
		b.WriteString("INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal) VALUES ")
		for i, k := range keys[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			m := months[k]
			args = append(args, k.team, k.month, k.stage, m.deals, m.amount, m.goal)
		}
		if s.Dialect == MySQL {
			b.WriteString(" ON DUPLICATE KEY UPDATE deals = deals + VALUES(deals), amount = amount + VALUES(amount), goal = goal + VALUES(goal)")
		} else {
			b.WriteString(" ON CONFLICT (team_id, month, stage) DO UPDATE SET deals = deals + excluded.deals, amount = amount + excluded.amount, goal = goal + excluded.goal")
		}
		if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("monthly deal totals: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// addDayTotals adds counts to activity_day_totals like addMonthTotals.
func (s *Store) addDayTotals(ctx context.Context, db bun.IDB, days map[dayKey]int64) error {
	keys := make([]dayKey, 0, len(days))
	for k, n := range days {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b dayKey) int {
		return cmp.Or(cmp.Compare(a.team, b.team), strings.Compare(a.day, b.day), cmp.Compare(a.user, b.user), strings.Compare(a.typ, b.typ))
	})
	for len(keys) > 0 {
		n := min(len(keys), 500)
		var b strings.Builder
		args := make([]any, 0, n*5)
		b.WriteString("INSERT INTO activity_day_totals (team_id, day, user_id, type, n) VALUES ")
		for i, k := range keys[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, k.team, k.day, k.user, k.typ, days[k])
		}
		if s.Dialect == MySQL {
			b.WriteString(" ON DUPLICATE KEY UPDATE n = n + VALUES(n)")
		} else {
			b.WriteString(" ON CONFLICT (team_id, day, user_id, type) DO UPDATE SET n = n + excluded.n")
		}
		if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("daily activity totals: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// monthOf and dayOf are the SQL of a close date's month (its first day)
// and an activity's UTC day, written so that every engine reads them the
// same way (no INTERVAL arithmetic).
func (s *Store) monthOf(col string) string {
	if s.Dialect == MySQL {
		return "CAST(DATE_FORMAT(" + col + ", '%Y-%m-01') AS DATE)"
	}
	return "substr(" + col + ", 1, 7) || '-01'"
}

func (s *Store) dayOf(col string) string {
	if s.Dialect == MySQL {
		return "DATE(" + col + ")"
	}
	return "substr(" + col + ", 1, 10)"
}

// recount replaces the team's totals with sums of its deals and activities.
func (s *Store) recount(ctx context.Context, db bun.IDB, teamID int64) error {
	stmts := []string{
		"DELETE FROM deal_month_totals WHERE team_id = ?",
		"INSERT INTO deal_month_totals (team_id, month, stage, deals, amount, goal) SELECT team_id, " + s.monthOf("close_date") +
			", stage, COUNT(*), SUM(amount), SUM(goal) FROM deals WHERE team_id = ? AND close_date IS NOT NULL GROUP BY team_id, " +
			s.monthOf("close_date") + ", stage",
		"DELETE FROM activity_day_totals WHERE team_id = ?",
		"INSERT INTO activity_day_totals (team_id, day, user_id, type, n) SELECT team_id, " + s.dayOf("at") +
			", user_id, type, COUNT(*) FROM activities WHERE team_id = ? GROUP BY team_id, " + s.dayOf("at") + ", user_id, type",
	}
	for _, q := range stmts {
		if _, err := db.NewRaw(q, teamID).Exec(ctx); err != nil {
			return fmt.Errorf("recount totals of team %d: %w", teamID, err)
		}
	}
	return s.recountStageTotals(ctx, db, teamID)
}

// loggedIf is Change.Logged for a write that inserted one stage-log row at
// at when moved is true.
func loggedIf(moved bool, at time.Time) []time.Time {
	if !moved {
		return nil
	}
	return []time.Time{at}
}

// contactCascade locks a contact of the team (ErrNotFound if the team has
// none such) with the deals and activities that deleting it deletes too,
// and returns the Change of that delete: the cascade's rows leave the
// totals. The locks keep a deal edited or an activity logged meanwhile from
// slipping between the read and the delete.
func (s *Store) contactCascade(ctx context.Context, tx bun.Tx, teamID, contactID int64) (Change, error) {
	var ids []int64
	if err := s.forUpdate(tx.NewSelect().Model((*Contact)(nil)).Column("id").
		Where("team_id = ?", teamID).Where("id = ?", contactID)).Scan(ctx, &ids); err != nil {
		return Change{}, fmt.Errorf("lock contact: %w", err)
	}
	if len(ids) == 0 {
		return Change{}, ErrNotFound
	}
	var deals []Deal
	if err := s.forUpdate(tx.NewSelect().Model(&deals).Column("id", "team_id", "stage", "amount", "goal", "close_date").
		Where("team_id = ?", teamID).Where("contact_id = ?", contactID)).Scan(ctx); err != nil {
		return Change{}, fmt.Errorf("lock deals of contact: %w", err)
	}
	var acts []Activity
	if err := s.forUpdate(tx.NewSelect().Model(&acts).Column("id", "team_id", "user_id", "type", "at").
		Where("team_id = ?", teamID).Where("contact_id = ?", contactID)).Scan(ctx); err != nil {
		return Change{}, fmt.Errorf("lock activities of contact: %w", err)
	}
	return Change{TeamID: teamID, Past: true, Deals: dealsDeleted(deals), Activities: activitiesDeleted(acts)}, nil
}

// importedDealsForDelete locks the deals an import's undo is about to
// delete (those of ids still at version 1) and returns the Change of that
// delete; for contacts (which the undo deletes only without deals or
// activities) it is an empty Change.
func (s *Store) importedDealsForDelete(ctx context.Context, tx bun.Tx, teamID int64, table string, ids []int64) (Change, error) {
	if table != "deals" || len(ids) == 0 {
		return Change{}, nil
	}
	var deals []Deal
	if err := s.forUpdate(tx.NewSelect().Model(&deals).Column("id", "team_id", "stage", "amount", "goal", "close_date").
		Where("team_id = ?", teamID).Where("id IN (?)", bun.In(ids)).Where("version = 1")).Scan(ctx); err != nil {
		return Change{}, fmt.Errorf("lock imported deals: %w", err)
	}
	return Change{TeamID: teamID, Deals: dealsDeleted(deals)}, nil
}
