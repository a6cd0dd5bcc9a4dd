package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Last contacted and next step
//
// A contact carries when it was last contacted (the latest email, meeting or
// note logged for it, and who logged it) and its next step (the earliest
// open task or meeting ahead, and what it is), so that both sort and page
// through an index like every other column. They are worked out from the
// contact's activities, never patched by hand: touchContact reads the two
// answers (two short index reads on activities_contact and activities_due)
// and writes them, inside the transaction of every write that logs an
// activity. A task stops being a next step when a "task completed" activity
// for a task of the same title is logged (it is marked done_at).

// contactedTypes are the activity types that count as contacting someone.
var contactedTypes = []string{ActivityEmail, ActivityMeeting, ActivityNote}

// nextStepLabelMax is the length of contacts.next_step_label.
const nextStepLabelMax = 200

// Prefixes the Google task handlers give tasks' descriptions.
const (
	taskPrefix          = "Task: "
	taskCompletedPrefix = "Task completed: "
)

// touchContact recomputes the contact's last-contacted and next-step
// columns from its activities. Call it in the transaction that logged one.
func (s *Store) touchContact(ctx context.Context, db bun.IDB, teamID, contactID int64) error {
	var last []struct {
		At     time.Time `bun:"at"`
		UserID int64     `bun:"user_id"`
	}
	if err := db.NewRaw("SELECT at, user_id FROM activities WHERE contact_id = ? AND team_id = ? AND type IN (?) ORDER BY at DESC, id DESC LIMIT 1",
		contactID, teamID, bun.In(contactedTypes)).Scan(ctx, &last); err != nil {
		return fmt.Errorf("last contact of %d: %w", contactID, err)
	}
	var next []struct {
		DueAt       time.Time `bun:"due_at"`
		Description string    `bun:"description"`
	}
	if err := db.NewRaw("SELECT due_at, description FROM activities WHERE contact_id = ? AND due_at > ? AND team_id = ? AND (type = ? OR (type = ? AND done_at IS NULL)) ORDER BY due_at, id LIMIT 1",
		contactID, s.now(), teamID, ActivityMeeting, ActivityTask).Scan(ctx, &next); err != nil {
		return fmt.Errorf("next step of %d: %w", contactID, err)
	}
	q := db.NewUpdate().Model((*Contact)(nil)).Where("team_id = ?", teamID).Where("id = ?", contactID)
	if len(last) == 1 {
		q = q.Set("last_contacted_at = ?", last[0].At).Set("last_contacted_by = ?", nullID(last[0].UserID))
	} else {
		q = q.Set("last_contacted_at = NULL").Set("last_contacted_by = NULL")
	}
	if len(next) == 1 {
		q = q.Set("next_step_at = ?", next[0].DueAt).Set("next_step_label = ?", shorten(next[0].Description, nextStepLabelMax))
	} else {
		q = q.Set("next_step_at = NULL").Set("next_step_label = ''")
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("touch contact %d: %w", contactID, err)
	}
	return s.listChanged(ctx, db, teamID) // Last contacted and Next step are columns
}

// closeTask marks done the contact's open tasks that a "task completed"
// activity with this description closes (same title).
func (s *Store) closeTask(ctx context.Context, db bun.IDB, teamID, contactID int64, completed string, at time.Time) error {
	title, ok := strings.CutPrefix(completed, taskCompletedPrefix)
	if !ok {
		return nil
	}
	var open []struct {
		ID          int64  `bun:"id"`
		Description string `bun:"description"`
	}
	if err := db.NewRaw("SELECT id, description FROM activities WHERE contact_id = ? AND team_id = ? AND type = ? AND done_at IS NULL",
		contactID, teamID, ActivityTask).Scan(ctx, &open); err != nil {
		return fmt.Errorf("open tasks of %d: %w", contactID, err)
	}
	var ids []int64
	for _, t := range open {
		if taskTitle(t.Description) == title {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.NewRaw("UPDATE activities SET done_at = ? WHERE team_id = ? AND id IN (?)", at, teamID, bun.In(ids)).Exec(ctx); err != nil {
		return fmt.Errorf("close tasks of %d: %w", contactID, err)
	}
	return nil
}

// taskTitle is the title in a task activity's description ("Task: T" or
// "Task: T (due 2 Jan 2006)").
func taskTitle(desc string) string {
	t := strings.TrimPrefix(desc, taskPrefix)
	if i := strings.LastIndex(t, " (due "); i >= 0 && strings.HasSuffix(t, ")") {
		t = t[:i]
	}
	return t
}

// AdvanceNextSteps recomputes the next step of the team's contacts whose
// next step is now behind them (a meeting held, a task's day over), so that
// the column shows what comes next. It reads the next-step index from its
// start up to now and returns how many contacts it moved on.
func (s *Store) AdvanceNextSteps(ctx context.Context, teamID int64) (int, error) {
	var ids []int64
	if err := s.DB.NewRaw("SELECT id FROM contacts"+s.indexHint("contacts_next_step")+" WHERE team_id = ? AND next_step_at <= ? ORDER BY next_step_at, id LIMIT 1000",
		teamID, s.now()).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("passed next steps of team %d: %w", teamID, err)
	}
	for _, id := range ids {
		if err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.touchContact(ctx, tx, teamID, id) }); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// refreshContactTouches recomputes last contacted and next step for every
// contact of the team in a few statements (the seeder, which writes
// activities in bulk).
func (s *Store) refreshContactTouches(ctx context.Context, teamID int64) error {
	now := s.now()
	for _, q := range []string{
		"UPDATE contacts SET last_contacted_at = (SELECT MAX(a.at) FROM activities a WHERE a.contact_id = contacts.id AND a.type IN (?)), " +
			"last_contacted_by = (SELECT a.user_id FROM activities a WHERE a.contact_id = contacts.id AND a.type IN (?) ORDER BY a.at DESC, a.id DESC LIMIT 1) WHERE team_id = ?",
		"UPDATE contacts SET next_step_at = (SELECT MIN(a.due_at) FROM activities a WHERE a.contact_id = contacts.id AND a.due_at > ? AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL))), " +
			"next_step_label = COALESCE((SELECT " + s.leftExpr("a.description", nextStepLabelMax) + " FROM activities a WHERE a.contact_id = contacts.id AND a.due_at > ? AND (a.type = 'meeting' OR (a.type = 'task' AND a.done_at IS NULL)) ORDER BY a.due_at, a.id LIMIT 1), '') WHERE team_id = ?",
	} {
		var args []any
		if strings.Contains(q, "last_contacted_at") {
			args = []any{bun.In(contactedTypes), bun.In(contactedTypes), teamID}
		} else {
			args = []any{now, now, teamID}
		}
		if _, err := s.DB.NewRaw(q, args...).Exec(ctx); err != nil {
			return fmt.Errorf("refresh last contacted of team %d: %w", teamID, err)
		}
	}
	return nil
}

// leftExpr is the first n characters of a text column.
func (s *Store) leftExpr(col string, n int) string {
	if s.Dialect == MySQL {
		return fmt.Sprintf("LEFT(%s, %d)", col, n)
	}
	return fmt.Sprintf("substr(%s, 1, %d)", col, n)
}

// touchAfterActivity keeps the contact's columns up to date after a logged
// activity: a completed task closes its task first.
func (s *Store) touchAfterActivity(ctx context.Context, db bun.IDB, a *Activity) error {
	if a.Type == ActivityTaskCompleted {
		if err := s.closeTask(ctx, db, a.TeamID, a.ContactID, a.Description, a.At); err != nil {
			return err
		}
	}
	return s.touchContact(ctx, db, a.TeamID, a.ContactID)
}
