package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// SessionStore keeps scs sessions in the sessions table so that every app
// instance on the database shares them. It implements scs.CtxStore.
type SessionStore struct {
	s *Store
	// userOf reads the logged-in user's id out of a session's encoded data
	// (0 for none), so each row records whose session it is.
	userOf func(data []byte) int64
}

// Sessions returns the scs store backed by this database. userOf tells the
// user id a session's data belongs to (0 when nobody is logged in); it may be
// nil, and then no session is recorded as anyone's.
func (s *Store) Sessions(userOf func(data []byte) int64) *SessionStore {
	if userOf == nil {
		userOf = func([]byte) int64 { return 0 }
	}
	return &SessionStore{s: s, userOf: userOf}
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	Token  string    `bun:"token,pk"`
	Data   []byte    `bun:"data,notnull"`
	Expiry time.Time `bun:"expiry,notnull"`
	UserID int64     `bun:"user_id,nullzero"`
}

// SessionUser is what FindCtx reads beside a session's data when the
// context asks for it (WithSessionUser): the user the session row names,
// their team and the team's list and terms versions, in the same statement, so a
// request of a logged-in user costs one query before its own work.
type SessionUser struct {
	// Found says the session is live; User is nil when it names nobody (or
	// a user since deleted).
	Found bool
	User  *User
	Team  *Team
	// ListVersion is the team's list version (listversion.go); 0 when
	// unknown, and then nothing may be cached for the request.
	ListVersion int64
	// TermsVersion is the team's terms version (listversion.go), read in
	// the same statement; 0 when unknown.
	TermsVersion int64
	// ImportVersion is the part of ListVersion that import jobs' batches
	// moved (listversion.go), read in the same statement.
	ImportVersion int64
}

type sessionUserKey struct{}

// WithSessionUser asks FindCtx, when it runs with the returned context, to
// fill su with the session's user, team and list version.
func WithSessionUser(ctx context.Context, su *SessionUser) context.Context {
	return context.WithValue(ctx, sessionUserKey{}, su)
}

// sessionUserRow is one row of the session's joined lookup; the user and
// team columns are empty when the session names nobody.
type sessionUserRow struct {
	Data          []byte    `bun:"data"`
	UserID        int64     `bun:"u_id"`
	Email         string    `bun:"u_email"`
	Name          string    `bun:"u_name"`
	PasswordHash  string    `bun:"u_password_hash"`
	TeamID        int64     `bun:"u_team_id"`
	Role          string    `bun:"u_role"`
	CreatedAt     time.Time `bun:"u_created_at"`
	UpdatedAt     time.Time `bun:"u_updated_at"`
	SessionsSince time.Time `bun:"u_sessions_since"`
	TeamName      string    `bun:"t_name"`
	TeamCurrency  string    `bun:"t_currency"`
	TeamTimeZone  string    `bun:"t_time_zone"`
	TeamCreated   time.Time `bun:"t_created_at"`
	ListVersion   int64     `bun:"list_version"`
	TermsVersion  int64     `bun:"terms_version"`
	ImportVersion int64     `bun:"import_version"`
}

// The user, team and counters come by primary key through the session row's
// user_id (CommitCtx keeps it equal to the data's user).
const sessionUserQuery = `SELECT se.data, COALESCE(u.id, 0) AS u_id, COALESCE(u.email, '') AS u_email,
COALESCE(u.name, '') AS u_name, COALESCE(u.password_hash, '') AS u_password_hash, COALESCE(u.team_id, 0) AS u_team_id,
COALESCE(u.role, '') AS u_role, u.created_at AS u_created_at, u.updated_at AS u_updated_at, u.sessions_since AS u_sessions_since,
COALESCE(t.name, '') AS t_name, COALESCE(t.currency, '') AS t_currency, COALESCE(t.time_zone, '') AS t_time_zone,
t.created_at AS t_created_at, COALESCE(tc.list_version, 0) AS list_version,
COALESCE(tc.terms_version, 0) AS terms_version, COALESCE(tc.import_version, 0) AS import_version
FROM sessions AS se
LEFT JOIN users AS u ON u.id = se.user_id
LEFT JOIN teams AS t ON t.id = u.team_id
LEFT JOIN team_changes AS tc ON tc.team_id = u.team_id
WHERE se.token = ? AND se.expiry > ?`

// findWithUser is FindCtx's joined lookup (see SessionUser).
func (ss *SessionStore) findWithUser(ctx context.Context, token string, su *SessionUser) ([]byte, bool, error) {
	*su = SessionUser{}
	var rows []sessionUserRow
	if err := ss.s.DB.NewRaw(sessionUserQuery, token, ss.s.now()).Scan(ctx, &rows); err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	r := rows[0]
	su.Found = true
	if r.UserID != 0 {
		su.User = &User{ID: r.UserID, Email: r.Email, Name: r.Name, PasswordHash: r.PasswordHash, TeamID: r.TeamID, Role: r.Role,
			CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SessionsSince: r.SessionsSince}
		if r.TeamID != 0 {
			su.Team = &Team{ID: r.TeamID, Name: r.TeamName, Currency: r.TeamCurrency, TimeZone: r.TeamTimeZone, CreatedAt: r.TeamCreated}
			su.ListVersion, su.TermsVersion, su.ImportVersion = r.ListVersion, r.TermsVersion, r.ImportVersion
		}
	}
	return r.Data, true, nil
}

// FindCtx returns the data of a live session (and, when the context asks,
// its user: see WithSessionUser).
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if su, ok := ctx.Value(sessionUserKey{}).(*SessionUser); ok && su != nil {
		return ss.findWithUser(ctx, token, su)
	}
	var row sessionRow
	err := ss.s.DB.NewSelect().Model(&row).
		Where("token = ?", token).Where("expiry > ?", ss.s.now()).Scan(ctx)
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return row.Data, true, nil
}

// CommitCtx inserts or replaces a session.
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := &sessionRow{Token: token, Data: b, Expiry: expiry.UTC(), UserID: ss.userOf(b)}
	q := ss.s.upsert(ss.s.DB.NewInsert().Model(row), "token", "data", "expiry", "user_id")
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session; deleting a missing one is not an error.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := ss.s.DB.NewDelete().TableExpr("sessions").Where("token = ?", token).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Find, Commit and Delete satisfy scs.Store; scs calls the Ctx forms.
func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}
func (ss *SessionStore) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// DeleteExpired removes sessions past their expiry; main runs it periodically.
func (ss *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.s.DB.NewDelete().TableExpr("sessions").Where("expiry <= ?", ss.s.now()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// EndOtherSessions logs the user out everywhere but the session keepToken:
// it deletes the user's other sessions and records the moment, so that a
// session committed again by a request already in flight is refused too
// (see User.SessionsSince). It returns that moment, which the kept session
// must carry as its login time, and how many sessions it deleted.
func (s *Store) EndOtherSessions(ctx context.Context, userID int64, keepToken string) (time.Time, int64, error) {
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		n, err = endSessions(ctx, tx, userID, keepToken, now)
		return err
	})
	if err != nil {
		return time.Time{}, 0, err
	}
	return now, n, nil
}

func endSessions(ctx context.Context, tx bun.Tx, userID int64, keepToken string, now time.Time) (int64, error) {
	if _, err := tx.NewUpdate().Model((*User)(nil)).Set("sessions_since = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
		return 0, fmt.Errorf("mark sessions of user %d ended: %w", userID, err)
	}
	res, err := tx.NewDelete().TableExpr("sessions").Where("user_id = ?", userID).Where("token <> ?", keepToken).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// CountUserSessions is how many live sessions the user has.
func (s *Store) CountUserSessions(ctx context.Context, userID int64) (int, error) {
	n, err := s.DB.NewSelect().TableExpr("sessions").Where("user_id = ?", userID).Where("expiry > ?", s.now()).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}
