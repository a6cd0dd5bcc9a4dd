package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The board reads three times kept on each deal (migration 0010):
// last_touched_at, the latest moment anything was logged on the deal (a
// stage-log row of any kind) or on its contact (an activity);
// next_due_at, the latest due time of a task or start of a meeting on its
// contact; and stage_since, when it entered its current stage (its latest
// stage-log row a reopen did not undo). Every write that logs something
// calls touchDeal (a stage-log row: the deal's times computed again from
// its log and its contact's activities) or touchContactDeals (an activity) in
// its own transaction. (touchContactDeals only moves times forward: see there.)

// touchSet is the SET list that computes the three times of a deal row
// from its stage log and its contact's activities (the same expressions as
// migration 0010's backfill).
func (s *Store) touchSet() string {
	greatest := "GREATEST"
	if s.Dialect == SQLite {
		greatest = "MAX"
	}
	return "stage_since = (SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id AND l.kind <> '" + LogUndone + "'), " +
		"last_touched_at = " + greatest + "(" +
		"COALESCE((SELECT MAX(l.at) FROM deal_stage_log AS l WHERE l.deal_id = deals.id), deals.created_at), " +
		"COALESCE((SELECT MAX(a.at) FROM activities AS a WHERE a.contact_id = deals.contact_id), deals.created_at)), " +
		"next_due_at = (SELECT MAX(a.due_at) FROM activities AS a WHERE a.contact_id = deals.contact_id)"
}

// touchDeal brings a deal's board times up to date after a stage-log row
// was written for it, or it changed contact.
func (s *Store) touchDeal(ctx context.Context, db bun.IDB, teamID, dealID int64) error {
	if _, err := db.NewRaw("UPDATE deals SET "+s.touchSet()+" WHERE team_id = ? AND id = ?", teamID, dealID).Exec(ctx); err != nil {
		return fmt.Errorf("board times of deal %d: %w", dealID, err)
	}
	return nil
}

// touchDeals is touchDeal for many deals (imports, seeding).
func (s *Store) touchDeals(ctx context.Context, db bun.IDB, teamID int64, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		if _, err := db.NewRaw("UPDATE deals SET "+s.touchSet()+" WHERE team_id = ? AND id IN (?)", teamID, bun.In(ids[:n])).Exec(ctx); err != nil {
			return fmt.Errorf("board times of %d deals: %w", n, err)
		}
		ids = ids[n:]
	}
	return nil
}

// touchContactDeals records on a contact's deals that an activity was logged
// on the contact at at, due (a task's due time or a meeting's start) unless
// zero. It only moves the times forward, reading no other table: activities
// are never taken back, and the deal rows' locks order concurrent writes.
func (s *Store) touchContactDeals(ctx context.Context, db bun.IDB, teamID, contactID int64, at, due time.Time) error {
	greatest, hint := "GREATEST", ""
	if s.Dialect == SQLite {
		greatest, hint = "MAX", " INDEXED BY deals_of_contact"
	}
	set := "last_touched_at = " + greatest + "(COALESCE(last_touched_at, ?), ?)"
	args := []any{at, at}
	if !due.IsZero() {
		set += ", next_due_at = " + greatest + "(COALESCE(next_due_at, ?), ?)"
		args = append(args, due.UTC(), due.UTC())
	}
	if _, err := db.NewRaw("UPDATE deals"+hint+" SET "+set+" WHERE team_id = ? AND contact_id = ?", append(args, teamID, contactID)...).Exec(ctx); err != nil {
		return fmt.Errorf("board times of the deals of contact %d: %w", contactID, err)
	}
	return nil
}

// touchContactsDeals is touchContactDeals for many contacts at once, with
// no due time (imports: an update of a contact, or its undo, shows on the
// contact's Activity tab, so the stale rule counts it as something logged on
// the contact). It answers how many deals it touched.
func (s *Store) touchContactsDeals(ctx context.Context, db bun.IDB, teamID int64, contactIDs []int64, at time.Time) (int64, error) {
	greatest, hint := "GREATEST", ""
	if s.Dialect == SQLite {
		greatest, hint = "MAX", " INDEXED BY deals_of_contact"
	}
	var touched int64
	err := inLists(contactIDs, func(part []int64) error {
		res, err := db.NewRaw("UPDATE deals"+hint+" SET last_touched_at = "+greatest+"(COALESCE(last_touched_at, ?), ?) WHERE contact_id IN (?) AND team_id = ?",
			at, at, bun.In(part), teamID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("board times of the deals of %d contacts: %w", len(part), err)
		}
		n, _ := res.RowsAffected()
		touched += n
		return nil
	})
	return touched, err
}

// boardChanged moves the team's data version (team_changes, which the
// board's poll and cache read) for a change the dashboard's triggers do not
// count: a deal renamed, given another owner, company or contact, or its
// contact renamed. Open boards then draw the change within one poll.
func (s *Store) boardChanged(ctx context.Context, db bun.IDB, teamID int64) error {
	if _, err := db.NewRaw("UPDATE team_changes SET version = version + 1 WHERE team_id = ?", teamID).Exec(ctx); err != nil {
		return fmt.Errorf("count a board change of team %d: %w", teamID, err)
	}
	return s.listChanged(ctx, db, teamID) // what the board shows, the deals table shows too
}
