package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// SessionStore keeps scs sessions in the sessions table so that every app
// instance on the database shares them. It implements scs.CtxStore.
type SessionStore struct{ s *Store }

// Sessions returns the scs store backed by this database.
func (s *Store) Sessions() *SessionStore { return &SessionStore{s: s} }

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	Token  string    `bun:"token,pk"`
	Data   []byte    `bun:"data,notnull"`
	Expiry time.Time `bun:"expiry,notnull"`
}

// FindCtx returns the data of a live session.
func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := ss.s.DB.NewSelect().Model(&row).
		Where("token = ?", token).Where("expiry > ?", ss.s.Now()).Scan(ctx)
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
	row := &sessionRow{Token: token, Data: b, Expiry: expiry.UTC()}
	q := ss.s.DB.NewInsert().Model(row)
	if ss.s.Dialect == MySQL {
		q = q.On("DUPLICATE KEY UPDATE").Set("data = VALUES(data)").Set("expiry = VALUES(expiry)")
	} else {
		q = q.On("CONFLICT (token) DO UPDATE").Set("data = EXCLUDED.data").Set("expiry = EXCLUDED.expiry")
	}
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
	res, err := ss.s.DB.NewDelete().TableExpr("sessions").Where("expiry <= ?", ss.s.Now()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
