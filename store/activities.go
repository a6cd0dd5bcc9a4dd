package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Activity types: the customer interactions a contact's Activity tab lists.
const (
	ActivityNote          = "note"
	ActivityEmail         = "email"
	ActivityTask          = "task"
	ActivityTaskCompleted = "task_completed"
	ActivityMeeting       = "meeting"
)

// ActivityTypes lists every activity type.
var ActivityTypes = []string{ActivityNote, ActivityEmail, ActivityTask, ActivityTaskCompleted, ActivityMeeting}

// activityDescriptionMax is the length of activities.description.
const activityDescriptionMax = 500

// Activity is one interaction of a member with a contact.
type Activity struct {
	bun.BaseModel `bun:"table:activities,alias:a"`

	ID          int64     `bun:"id,pk,autoincrement"`
	TeamID      int64     `bun:"team_id,notnull"`
	ContactID   int64     `bun:"contact_id,notnull"`
	UserID      int64     `bun:"user_id,notnull"`
	Type        string    `bun:"type,notnull"`
	Description string    `bun:"description,notnull"`
	At          time.Time `bun:"at,notnull"`
	// DueAt is when a task is due or a meeting starts (see LogScheduled).
	DueAt time.Time `bun:"due_at,nullzero"`

	UserName string `bun:"user_name,scanonly"`
}

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// LogActivity records that userID had an interaction of type typ with a
// contact of the team, now. The description is cut to 500 characters.
// ErrNotFound if the team has no such contact.
func (s *Store) LogActivity(ctx context.Context, teamID, contactID, userID int64, typ, description string) (*Activity, error) {
	return s.LogScheduled(ctx, teamID, contactID, userID, typ, description, time.Time{})
}

// LogScheduled is LogActivity for a task or meeting, with when it is due or
// starts (zero: not scheduled): a deal whose contact has one ahead is not
// stale on the board.
func (s *Store) LogScheduled(ctx context.Context, teamID, contactID, userID int64, typ, description string, due time.Time) (*Activity, error) {
	if !slices.Contains(ActivityTypes, typ) {
		return nil, fmt.Errorf("log activity: unknown type %q: %w", typ, ErrInvalid)
	}
	var a *Activity
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contactExists(ctx, tx, teamID, contactID); err != nil {
			return err
		}
		var err error
		if a, err = s.logActivity(ctx, tx, teamID, contactID, userID, typ, description, s.now(), due); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, Change{TeamID: teamID, Activities: activitiesInserted([]Activity{*a})})
	})
	if err != nil {
		return nil, fmt.Errorf("log %s activity on contact %d: %w", typ, contactID, err)
	}
	return a, nil
}

func (s *Store) logActivity(ctx context.Context, db bun.IDB, teamID, contactID, userID int64, typ, description string, at, due time.Time) (*Activity, error) {
	a := &Activity{TeamID: teamID, ContactID: contactID, UserID: userID, Type: typ,
		// Descriptions quote what people typed (an email's subject, a
		// task's title); what the databases can't keep is dropped.
		Description: shorten(StripControl(description), activityDescriptionMax), At: at}
	if !due.IsZero() {
		a.DueAt = due.UTC()
	}
	if _, err := db.NewInsert().Model(a).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert activity: %w", err)
	}
	return a, nil
}

// contactExists is ErrNotFound unless the team has the contact.
func contactExists(ctx context.Context, db bun.IDB, teamID, contactID int64) error {
	ok, err := db.NewSelect().Model((*Contact)(nil)).Where("team_id = ?", teamID).Where("id = ?", contactID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check contact %d: %w", contactID, err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// ListActivities returns a contact's latest activities, newest first, at
// most limit (100 when limit is 0). ErrNotFound if the team has no such
// contact.
func (s *Store) ListActivities(ctx context.Context, teamID, contactID int64, limit int) ([]Activity, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if err := contactExists(ctx, s.DB, teamID, contactID); err != nil {
		return nil, err
	}
	var rows []Activity
	err := s.DB.NewSelect().Model(&rows).ColumnExpr("a.*").ColumnExpr("u.name AS user_name").
		Join("LEFT JOIN users AS u ON u.id = a.user_id").
		Where("a.team_id = ?", teamID).Where("a.contact_id = ?", contactID).
		OrderExpr("a.at DESC, a.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list activities of contact %d: %w", contactID, err)
	}
	return rows, nil
}
