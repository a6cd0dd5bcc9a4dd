package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// deal_stage_totals (migration 0024) holds, per team and stage, the number
// of deals and their summed amount over every close date and none: the
// board's open columns read their totals there (one key range for the
// whole board) instead of summing deal_month_totals and counting the
// undated deals from the board index per column. Like deal_month_totals it
// is kept by recordChange in the transaction of every write (from the same
// DealDeltas: team, stage and amount are all it needs), recounted with the
// other totals (recount), and checked by Reconcile, so every store test's
// closing check and TestEveryWriteKeepsTheTotals compare it with a recount.

type stageKey struct {
	team  int64
	stage string
}

type stageSum struct{ deals, amount int64 }

// stageDeltas is what a write's deal deltas add to deal_stage_totals.
func stageDeltas(deltas []DealDelta) map[stageKey]stageSum {
	out := map[stageKey]stageSum{}
	for _, d := range deltas {
		b, a := d.Before, d.After
		if b != nil && a != nil && b.TeamID == a.TeamID && b.Stage == a.Stage && b.Amount == a.Amount {
			continue
		}
		if b != nil {
			k := stageKey{b.TeamID, b.Stage}
			m := out[k]
			out[k] = stageSum{m.deals - 1, m.amount - b.Amount}
		}
		if a != nil {
			k := stageKey{a.TeamID, a.Stage}
			m := out[k]
			out[k] = stageSum{m.deals + 1, m.amount + a.Amount}
		}
	}
	return out
}

// addStageTotals adds sums to deal_stage_totals in key order (a fixed lock
// order, after the team's counters row like the other totals).
func (s *Store) addStageTotals(ctx context.Context, db bun.IDB, sums map[stageKey]stageSum) error {
	keys := make([]stageKey, 0, len(sums))
	for k, m := range sums {
		if m != (stageSum{}) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b stageKey) int {
		return cmp.Or(cmp.Compare(a.team, b.team), strings.Compare(a.stage, b.stage))
	})
	var b strings.Builder
	args := make([]any, 0, len(keys)*4)
	b.WriteString("INSERT INTO deal_stage_totals (team_id, stage, deals, amount) VALUES ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, k.team, k.stage, sums[k].deals, sums[k].amount)
	}
	if s.Dialect == MySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE deals = deals + VALUES(deals), amount = amount + VALUES(amount)")
	} else {
		b.WriteString(" ON CONFLICT (team_id, stage) DO UPDATE SET deals = deals + excluded.deals, amount = amount + excluded.amount")
	}
	if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
		return fmt.Errorf("stage totals: %w", err)
	}
	return nil
}

// recountStageTotals replaces a team's deal_stage_totals by sums of its
// deals (part of recount).
func (s *Store) recountStageTotals(ctx context.Context, db bun.IDB, teamID int64) error {
	for _, q := range []string{
		"DELETE FROM deal_stage_totals WHERE team_id = ?",
		"INSERT INTO deal_stage_totals (team_id, stage, deals, amount) SELECT team_id, stage, COUNT(*), SUM(amount) FROM deals WHERE team_id = ? GROUP BY team_id, stage",
	} {
		if _, err := db.NewRaw(q, teamID).Exec(ctx); err != nil {
			return fmt.Errorf("recount stage totals of team %d: %w", teamID, err)
		}
	}
	return nil
}

// stageTotalsDrift compares a team's deal_stage_totals with a count of its
// deals (part of teamDrift); rows that sum to nothing count as absent.
func (s *Store) stageTotalsDrift(ctx context.Context, tx bun.Tx, teamID int64) ([]Drift, error) {
	type row struct {
		Stage  string `bun:"stage"`
		Deals  int64  `bun:"deals"`
		Amount int64  `bun:"amount"`
	}
	read := func(q string) (map[string]string, error) {
		var rows []row
		if err := tx.NewRaw(q, teamID).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("stage totals of team %d: %w", teamID, err)
		}
		out := map[string]string{}
		for _, r := range rows {
			if r.Deals != 0 || r.Amount != 0 {
				out[r.Stage] = fmt.Sprintf("%d %d", r.Deals, r.Amount)
			}
		}
		return out, nil
	}
	got, err := read("SELECT stage, deals, amount FROM deal_stage_totals WHERE team_id = ?")
	if err != nil {
		return nil, err
	}
	want, err := read("SELECT stage, COUNT(*) AS deals, SUM(amount) AS amount FROM deals WHERE team_id = ? GROUP BY stage")
	if err != nil {
		return nil, err
	}
	return driftBetween(teamID, "deal_stage_totals", got, want), nil
}

// boardTotals reads, in one statement, the totals of every column whose
// filter is the whole team's deals (see totalsMonths): open columns
// without a close-date range from deal_stage_totals, the others from
// deal_month_totals over their whole months. It writes only the columns'
// Count, Amount and Weighted (the cards load meanwhile); the other columns
// are counted under their filter (boardColumn).
func (s *Store) boardTotals(ctx context.Context, teamID int64, q BoardQuery, cols []BoardColumn) error {
	// part[i] is the statement part that sums column i (-1: none). Part 0
	// reads the team's deal_stage_totals rows, each further part one range
	// of months of deal_month_totals (closed columns share the month).
	part := make([]int, len(cols))
	var parts []string
	var args []any
	ranges := map[[2]time.Time]int{}
	for i := range cols { // no copy of the columns: their cards load meanwhile
		part[i] = -1
		from, to, ok := totalsMonths(q, cols[i].Stage)
		if !ok {
			continue
		}
		if from.IsZero() {
			part[i] = 0
			continue
		}
		r := [2]time.Time{from, to}
		p, seen := ranges[r]
		if !seen {
			p = len(ranges) + 1
			ranges[r] = p
			parts = append(parts, "SELECT "+strconv.Itoa(p)+" AS part, stage, deals, amount FROM deal_month_totals WHERE team_id = ? AND month >= ? AND month < ?")
			args = append(args, teamID, dateString(from), dateString(to))
		}
		part[i] = p
	}
	if slices.Contains(part, 0) {
		// The team's rows by its key (a handful: one a stage).
		parts = append([]string{"SELECT 0 AS part, stage, deals, amount FROM deal_stage_totals WHERE team_id = ?"}, parts...)
		args = append([]any{teamID}, args...)
	}
	if len(parts) == 0 {
		return nil
	}
	var rows []struct {
		Part   int    `bun:"part"`
		Stage  string `bun:"stage"`
		Deals  int64  `bun:"deals"`
		Amount int64  `bun:"amount"`
	}
	if err := s.DB.NewRaw(strings.Join(parts, " UNION ALL "), args...).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("board totals: %w", err)
	}
	for i := range cols {
		if part[i] < 0 {
			continue
		}
		for _, r := range rows {
			if r.Part == part[i] && r.Stage == cols[i].Stage {
				cols[i].Count += int(r.Deals)
				cols[i].Amount += r.Amount
			}
		}
		cols[i].Weighted = (cols[i].Amount*int64(cols[i].WinPercent) + 50) / 100
	}
	return nil
}
