package store

import (
	"context"
	"fmt"
	"time"
)

// PollGrant is what a board poll's quick answer relies on about the
// viewer: their session, membership and role, their team's currency and
// time zone, as the full request checked them last (see BoardPollVersion).
type PollGrant struct {
	Token    string
	UserID   int64
	TeamID   int64
	Role     string
	Currency string
	TimeZone string
	// LoginAt is when the session logged in (or last ended the user's
	// other sessions): a session older than the user's SessionsSince is
	// over.
	LoginAt time.Time
}

// BoardPollVersion reads the team's data version for a board poll in one
// statement by primary keys, and only while everything g says still
// holds: the session is live and the user's, the user is still in the team
// with that role and has not ended their sessions since it logged in, and
// the team keeps its currency and zone. ok is false when any of it
// changed; the caller then answers the poll the long way.
func (s *Store) BoardPollVersion(ctx context.Context, g PollGrant) (version int64, ok bool, err error) {
	var rows []int64
	err = s.DB.NewRaw(`SELECT tc.version FROM team_changes AS tc
JOIN teams AS t ON t.id = tc.team_id
JOIN users AS u ON u.id = ? AND u.team_id = tc.team_id
JOIN sessions AS se ON se.token = ? AND se.user_id = u.id
WHERE tc.team_id = ? AND se.expiry > ? AND u.role = ? AND t.currency = ? AND t.time_zone = ?
AND (u.sessions_since IS NULL OR u.sessions_since <= ?)`,
		g.UserID, g.Token, g.TeamID, s.now(), g.Role, g.Currency, g.TimeZone, g.LoginAt.UTC()).Scan(ctx, &rows)
	if err != nil {
		return 0, false, fmt.Errorf("board poll version of team %d: %w", g.TeamID, err)
	}
	if len(rows) != 1 {
		return 0, false, nil
	}
	return rows[0], true, nil
}
