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

// FindCtx returns the data of a live session.
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
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
