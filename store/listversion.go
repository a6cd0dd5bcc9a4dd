package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// The list version (team_changes.list_version, migration 0022) is a team's
// counter of everything its contacts and deals tables can show: the rows
// (contacts, deals, and the activities behind Last contacted and Next
// step), the members (owner names, the owner selects), the team's
// settings, its saved views and its members' column choices. The handlers
// cache rendered list pages per version (handlers/list_cache.go); each
// request reads the version with its session (FindRequest), so a write
// through any instance makes the next request on every instance render
// afresh.
//
// The rule: a write that can change what a list shows calls listChanged in
// its transaction. emitMany (every contact, deal and note write announces
// itself there), recordChange (deals, activities, members, teams),
// boardChanged and touchContact do it for their callers; the few writes
// that go through none of them (saved views, column choices, team and
// stage settings) call it themselves. TestEveryWriteMovesTheListVersion
// runs every write method on both databases.
//
// listChanged only notes the team: inTx moves the counters once, as the
// transaction's last statement, for the same reason recordChange runs
// last (the counter row is the lock that orders a team's writers; a writer
// that went on to other rows after taking it could meet one that holds
// those rows and waits for the counter).

type listMarksKey struct{}

// listMarks are the teams whose list version the transaction in progress
// moves when it commits.
type listMarks struct{ teams []int64 }

// listChanged records that the write in progress can change what the
// teams' lists show. Inside inTx it only notes them; outside (a single
// statement on the pool) it moves the counters at once.
func (s *Store) listChanged(ctx context.Context, db bun.IDB, teams ...int64) error {
	if m, ok := ctx.Value(listMarksKey{}).(*listMarks); ok {
		m.teams = append(m.teams, teams...)
		return nil
	}
	return bumpListVersions(ctx, db, teams)
}

// bumpListVersions moves the list version of each team once, in team order
// (a fixed lock order).
func bumpListVersions(ctx context.Context, db bun.IDB, teams []int64) error {
	ids := slices.Clone(teams)
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id <= 0 })
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if _, err := db.NewRaw("UPDATE team_changes SET list_version = list_version + 1 WHERE team_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("move the list version of teams %v: %w", ids, err)
	}
	return nil
}

// withListMarks runs fn with a fresh set of marks in its context and, when
// fn succeeds, moves the marked teams' list versions as the transaction's
// last statement.
func withListMarks(fn func(ctx context.Context, tx bun.Tx) error) func(ctx context.Context, tx bun.Tx) error {
	return func(ctx context.Context, tx bun.Tx) error {
		m := &listMarks{}
		if err := fn(context.WithValue(ctx, listMarksKey{}, m), tx); err != nil {
			return err
		}
		return bumpListVersions(ctx, tx, m.teams)
	}
}

// ListVersion reads the team's list version (0 when the team has no
// counters row: nothing may then be cached for it).
func (s *Store) ListVersion(ctx context.Context, teamID int64) (int64, error) {
	var v []int64
	if err := s.DB.NewRaw("SELECT list_version FROM team_changes WHERE team_id = ?", teamID).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("list version of team %d: %w", teamID, err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}

// userListChanged moves the list version of the user's team (a column
// choice is the user's own, but cached pages are per team version), after
// the write: a reader between the two renders the new choice under the old
// version at worst, never the old one under the new.
func (s *Store) userListChanged(ctx context.Context, userID int64) error {
	if _, err := s.DB.NewRaw("UPDATE team_changes SET list_version = list_version + 1 WHERE team_id = (SELECT team_id FROM users WHERE id = ?)", userID).Exec(ctx); err != nil {
		return fmt.Errorf("move the list version of user %d's team: %w", userID, err)
	}
	return nil
}
