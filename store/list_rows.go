package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The rows of a list page are read with their columns named and scanned
// into the fields directly: bun's scan of "c.*" looks every column up by
// name and sets it by reflection, which was 16% of a contacts page's CPU.
// The columns and the joins are selectContacts' and selectDeals'; a value
// this scan does not recognise (a time in a text form it does not know)
// makes the caller read the page the general way instead, so the fast
// path can only ever be as right as the general one.

var errRowShape = errors.New("list row: unexpected value")

// scanTime reads a time column as the drivers give it: time.Time (MySQL
// with parseTime, SQLite's TIMESTAMP and DATE columns), or text.
func scanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v, nil
	case string:
		return parseTimeText(v)
	case []byte:
		return parseTimeText(string(v))
	}
	return time.Time{}, errRowShape
}

var timeTextLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

func parseTimeText(s string) (time.Time, error) {
	for _, l := range timeTextLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errRowShape
}

const contactRowSQL = `SELECT c.id, c.team_id, c.name, c.email, c.phone, c.phone_digits, c.company, c.status,
COALESCE(c.owner_id, 0), c.version, c.created_at, c.updated_at, c.last_contacted_at, COALESCE(c.last_contacted_by, 0),
c.next_step_at, c.next_step_label, COALESCE(u.name, ''), COALESCE(lu.name, '')
FROM contacts AS c%s
LEFT JOIN users AS u ON u.id = c.owner_id
LEFT JOIN users AS lu ON lu.id = c.last_contacted_by
WHERE c.team_id = ? AND c.id IN (?)`

// contactRows reads the team's contacts of ids (any order) by primary key.
func (s *Store) contactRows(ctx context.Context, teamID int64, ids []int64) ([]Contact, error) {
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf(contactRowSQL, s.indexHint(primaryKey)), teamID, bun.In(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Contact, 0, len(ids))
	var created, updated, lastAt, nextAt any
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.ID, &c.TeamID, &c.Name, &c.Email, &c.Phone, &c.PhoneDigits, &c.Company, &c.Status,
			&c.OwnerID, &c.Version, &created, &updated, &lastAt, &c.LastContactedBy, &nextAt, &c.NextStepLabel,
			&c.OwnerName, &c.LastContactedName); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			v  any
			to *time.Time
		}{{created, &c.CreatedAt}, {updated, &c.UpdatedAt}, {lastAt, &c.LastContactedAt}, {nextAt, &c.NextStepAt}} {
			if *f.to, err = scanTime(f.v); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const dealRowSQL = `SELECT d.id, d.team_id, d.contact_id, d.name, d.stage, d.stage_rank, d.goal, d.amount, d.close_date,
COALESCE(d.owner_id, 0), d.contact_name, d.company, d.version, d.created_at, d.updated_at, d.closed_at,
d.lost_reason, d.lost_note, d.last_touched_at, d.next_due_at, d.stage_since, COALESCE(u.name, '')
FROM deals AS d%s
LEFT JOIN users AS u ON u.id = d.owner_id
WHERE d.team_id = ? AND d.id IN (?)`

// dealRows reads the team's deals of ids (any order) by primary key.
func (s *Store) dealRows(ctx context.Context, teamID int64, ids []int64) ([]Deal, error) {
	rows, err := s.DB.QueryContext(ctx, fmt.Sprintf(dealRowSQL, s.indexHint(primaryKey)), teamID, bun.In(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Deal, 0, len(ids))
	var closeDate, created, updated, closed, touched, due, since any
	for rows.Next() {
		var d Deal
		if err := rows.Scan(&d.ID, &d.TeamID, &d.ContactID, &d.Name, &d.Stage, &d.StageRank, &d.Goal, &d.Amount, &closeDate,
			&d.OwnerID, &d.ContactName, &d.Company, &d.Version, &created, &updated, &closed,
			&d.LostReason, &d.LostNote, &touched, &due, &since, &d.OwnerName); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			v  any
			to *time.Time
		}{{closeDate, &d.CloseDate}, {created, &d.CreatedAt}, {updated, &d.UpdatedAt}, {closed, &d.ClosedAt},
			{touched, &d.LastTouchedAt}, {due, &d.NextDueAt}, {since, &d.StageSince}} {
			if *f.to, err = scanTime(f.v); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// rowsOrGeneral returns fast's rows, or general's when fast met a value it
// does not know (errRowShape) or a scan it cannot do.
func rowsOrGeneral[T any](fast func() ([]T, error), general func() ([]T, error)) ([]T, error) {
	rows, err := fast()
	if err == nil {
		return rows, nil
	}
	if errors.Is(err, errRowShape) || isScanError(err) {
		return general()
	}
	return nil, err
}

// isScanError reports a database/sql conversion failure (a column whose
// type the fast scan did not expect), as opposed to the database failing.
func isScanError(err error) bool { return strings.Contains(err.Error(), "sql: Scan error") }
