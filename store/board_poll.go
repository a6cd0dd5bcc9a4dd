package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// PollGrant is what a board poll's quick answer relies on about the
// viewer: their session, membership and role, their team's currency and
// time zone, as the full request checked them last (see BoardPollVersions).
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

// pollRow is what BoardPollVersions reads per session.
type pollRow struct {
	Token         string    `bun:"token"`
	UserID        int64     `bun:"user_id"`
	Expiry        time.Time `bun:"expiry"`
	TeamID        int64     `bun:"team_id"`
	Role          string    `bun:"role"`
	SessionsSince time.Time `bun:"sessions_since,nullzero"`
	Currency      string    `bun:"currency"`
	TimeZone      string    `bun:"time_zone"`
	Version       int64     `bun:"version"`
}

// pollBatchMax bounds the sessions one statement of BoardPollVersions
// reads (the IN list); more are read in further statements.
const pollBatchMax = 500

// BoardPollVersions reads, for each grant, its team's data version, by
// primary keys in one statement for the whole batch, and only for the
// grants whose every claim still holds: the session is live and the
// user's, the user is still in the team with that role and has not ended
// their sessions since it logged in, and the team keeps its currency and
// zone. A grant missing from the map has changed; the caller then answers
// its poll the long way.
func (s *Store) BoardPollVersions(ctx context.Context, grants []PollGrant) (map[string]int64, error) {
	out := make(map[string]int64, len(grants))
	now := s.now()
	for len(grants) > 0 {
		n := min(len(grants), pollBatchMax)
		tokens := make([]string, n)
		for i, g := range grants[:n] {
			tokens[i] = g.Token
		}
		// The sessions by token, then each one's user, team and counters
		// by primary key. MySQL is told so (order and keys): with a few
		// rows in a table it would rather start from a scan of it.
		straight, pk := "", ""
		if s.Dialect == MySQL {
			straight, pk = "STRAIGHT_JOIN ", " FORCE INDEX (PRIMARY)"
		}
		var rows []pollRow
		if err := s.DB.NewRaw(`SELECT `+straight+`se.token, se.user_id, se.expiry, u.team_id, u.role, u.sessions_since, t.currency, t.time_zone, tc.version
FROM sessions AS se`+pk+`
JOIN users AS u`+pk+` ON u.id = se.user_id
JOIN teams AS t`+pk+` ON t.id = u.team_id
JOIN team_changes AS tc`+pk+` ON tc.team_id = u.team_id
WHERE se.token IN (?)`, bun.In(tokens)).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("board poll versions of %d sessions: %w", n, err)
		}
		byToken := make(map[string]*pollRow, len(rows))
		for i := range rows {
			byToken[rows[i].Token] = &rows[i]
		}
		for _, g := range grants[:n] {
			r := byToken[g.Token]
			if r != nil && r.UserID == g.UserID && r.TeamID == g.TeamID && r.Expiry.After(now) && r.Role == g.Role &&
				r.Currency == g.Currency && r.TimeZone == g.TimeZone && (r.SessionsSince.IsZero() || !r.SessionsSince.After(g.LoginAt.UTC())) {
				out[g.Token] = r.Version
			}
		}
		grants = grants[n:]
	}
	return out, nil
}
