package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Drift is one totals row that does not match a recount of the rows it
// sums (or a team without its counters row).
type Drift struct {
	TeamID  int64
	Table   string // deal_month_totals, activity_day_totals, deal_stage_totals or team_changes
	Key     string // the row's key, e.g. "2026-03-01 Closed Won"
	Stored  string // what the table holds ("none" for a missing row)
	Counted string // what the recount gives ("none": no rows to count)
}

func (d Drift) String() string {
	return fmt.Sprintf("team %d %s [%s]: stored %s, counted %s", d.TeamID, d.Table, d.Key, d.Stored, d.Counted)
}

// ReconcileReport is what Reconcile found and did.
type ReconcileReport struct {
	Teams int     // teams checked
	Drift []Drift // every mismatch found, by team
	Fixed int     // teams whose totals were recounted
}

// Reconcile recounts every team's dashboard totals from its deals and
// activities and reports where the stored totals differ (rows whose sums
// are all zero count as absent). With fix it replaces a drifted team's
// totals by the recount, in a transaction that moves its counters first,
// like any write (see recordChange), so that cached dashboards are drawn
// again. The store keeps the totals in every write's own transaction, so
// drift means a write outside the store (a manual UPDATE, a restore of one
// table) or a bug: TestEveryWriteKeepsTheTotals is the guard against the
// latter.
func (s *Store) Reconcile(ctx context.Context, fix bool) (*ReconcileReport, error) {
	var teams []int64
	if err := s.DB.NewSelect().Model((*Team)(nil)).Column("id").Order("id").Scan(ctx, &teams); err != nil {
		return nil, fmt.Errorf("reconcile: list teams: %w", err)
	}
	rep := &ReconcileReport{Teams: len(teams)}
	for _, teamID := range teams {
		var drift []Drift
		err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var err error
			if drift, err = s.teamDrift(ctx, tx, teamID); err != nil {
				return err
			}
			if !fix || len(drift) == 0 {
				return nil
			}
			missing := slices.ContainsFunc(drift, func(d Drift) bool { return d.Table == "team_changes" })
			return s.recordChange(ctx, tx, Change{TeamID: teamID, Recount: true, NewTeam: missing})
		})
		if err != nil {
			return rep, fmt.Errorf("reconcile team %d: %w", teamID, err)
		}
		rep.Drift = append(rep.Drift, drift...)
		if fix && len(drift) > 0 {
			rep.Fixed++
		}
	}
	return rep, nil
}

// teamDrift compares one team's stored totals with a recount, in one
// transaction (one snapshot).
func (s *Store) teamDrift(ctx context.Context, tx bun.Tx, teamID int64) ([]Drift, error) {
	var drift []Drift
	var counters int
	if err := tx.NewRaw("SELECT COUNT(*) FROM team_changes WHERE team_id = ?", teamID).Scan(ctx, &counters); err != nil {
		return nil, err
	}
	if counters == 0 {
		drift = append(drift, Drift{TeamID: teamID, Table: "team_changes", Key: "counters", Stored: "none", Counted: "a row"})
	}
	compare := func(table, stored, counted string) error {
		got, err := sums(ctx, tx, stored, teamID)
		if err != nil {
			return err
		}
		want, err := sums(ctx, tx, counted, teamID)
		if err != nil {
			return err
		}
		drift = append(drift, driftBetween(teamID, table, got, want)...)
		return nil
	}
	if err := compare("deal_month_totals",
		"SELECT month, stage, deals, amount, goal FROM deal_month_totals WHERE team_id = ?",
		"SELECT "+s.monthOf("close_date")+" AS month, stage, COUNT(*), SUM(amount), SUM(goal) FROM deals WHERE team_id = ? AND close_date IS NOT NULL GROUP BY "+s.monthOf("close_date")+", stage"); err != nil {
		return nil, err
	}
	if err := compare("activity_day_totals",
		"SELECT day, user_id, type, n FROM activity_day_totals WHERE team_id = ?",
		"SELECT "+s.dayOf("at")+" AS day, user_id, type, COUNT(*) FROM activities WHERE team_id = ? GROUP BY "+s.dayOf("at")+", user_id, type"); err != nil {
		return nil, err
	}
	stages, err := s.stageTotalsDrift(ctx, tx, teamID) // the board's (store/board_totals.go)
	if err != nil {
		return nil, err
	}
	return append(drift, stages...), nil
}

// driftBetween lists, in key order, the keys whose stored value differs from
// the counted one (a key missing on one side counts as "none").
func driftBetween(teamID int64, table string, got, want map[string]string) []Drift {
	keys := make([]string, 0, len(got)+len(want))
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var drift []Drift
	for _, k := range keys {
		if got[k] != want[k] {
			drift = append(drift, Drift{TeamID: teamID, Table: table, Key: k, Stored: orNone(got[k]), Counted: orNone(want[k])})
		}
	}
	return drift
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sums runs a query whose first column is a date, then key columns, then
// the summed numbers, and maps "date key…" to "n n n", leaving out rows
// whose numbers are all zero. The date is read as whatever the driver gives
// (a time on MySQL, text on SQLite) and written YYYY-MM-DD.
func sums(ctx context.Context, tx bun.Tx, query string, teamID int64) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, query, teamID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	nkeys := 3 // date, and for months the stage; for days the member and type
	if len(cols) == 5 && cols[1] == "stage" {
		nkeys = 2
	}
	out := map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case time.Time:
				parts[i] = v.UTC().Format(time.DateOnly)
			case []byte:
				parts[i] = string(v)
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		if len(parts[0]) > 10 {
			parts[0] = parts[0][:10]
		}
		nums := parts[nkeys:]
		if !slices.ContainsFunc(nums, func(n string) bool { return n != "0" }) {
			continue
		}
		out[strings.Join(parts[:nkeys], " ")] = strings.Join(nums, " ")
	}
	return out, rows.Err()
}
