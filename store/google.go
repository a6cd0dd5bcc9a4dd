package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ErrExpired answers a single-use value that existed but is past its time.
var ErrExpired = errors.New("expired")

// GoogleAccount is a user's connected Google account. SealedToken is the OAuth
// token as the google package encrypted it: the store keeps bytes it cannot read.
type GoogleAccount struct {
	bun.BaseModel `bun:"table:google_accounts"`

	UserID      int64     `bun:"user_id,pk"`
	GoogleEmail string    `bun:"google_email,notnull"`
	SealedToken []byte    `bun:"sealed_token,notnull"`
	ConnectedAt time.Time `bun:"connected_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// GoogleAccount loads the user's connected Google account; ErrNotFound if the
// user has not connected one.
func (s *Store) GoogleAccount(ctx context.Context, userID int64) (*GoogleAccount, error) {
	a := new(GoogleAccount)
	if err := s.DB.NewSelect().Model(a).Where("user_id = ?", userID).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load google account of user %d: %w", userID, err)
	}
	return a, nil
}

// SaveGoogleAccount connects a Google account to the user, replacing any
// account connected before.
func (s *Store) SaveGoogleAccount(ctx context.Context, userID int64, googleEmail string, sealedToken []byte) error {
	now := s.now()
	row := &GoogleAccount{UserID: userID, GoogleEmail: googleEmail, SealedToken: sealedToken, ConnectedAt: now, UpdatedAt: now}
	q := s.upsert(s.DB.NewInsert().Model(row), "user_id", "google_email", "sealed_token", "connected_at", "updated_at")
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save google account of user %d: %w", userID, err)
	}
	return nil
}

// UpdateGoogleToken stores a refreshed token of the user's Google account.
// It changes nothing (ErrNotFound) when that account was disconnected or
// replaced by another meanwhile, so a late refresh cannot bring it back.
func (s *Store) UpdateGoogleToken(ctx context.Context, userID int64, googleEmail string, sealedToken []byte) error {
	res, err := s.DB.NewUpdate().Model((*GoogleAccount)(nil)).
		Set("sealed_token = ?", sealedToken).Set("updated_at = ?", s.now()).
		Where("user_id = ?", userID).Where("google_email = ?", googleEmail).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update google token of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteGoogleAccount disconnects the user's Google account; ErrNotFound if
// none was connected.
func (s *Store) DeleteGoogleAccount(ctx context.Context, userID int64) error {
	res, err := s.DB.NewDelete().Model((*GoogleAccount)(nil)).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete google account of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// OAuthState is one Google connection in progress: the hash of the state sent
// to Google, the sealed PKCE verifier, and where to go back to. It lives in the
// database so that any instance can finish the flow.
type OAuthState struct {
	bun.BaseModel `bun:"table:oauth_states"`

	StateHash      string    `bun:"state_hash,pk"`
	UserID         int64     `bun:"user_id,notnull"`
	VerifierSealed []byte    `bun:"verifier_sealed,notnull"`
	ReturnTo       string    `bun:"return_to,notnull"`
	CreatedAt      time.Time `bun:"created_at,notnull"`
	ExpiresAt      time.Time `bun:"expires_at,notnull"`
}

// CreateOAuthState records a connection in progress valid for validFor, and
// deletes the expired ones of every user on the way.
func (s *Store) CreateOAuthState(ctx context.Context, st *OAuthState, validFor time.Duration) error {
	now := s.now()
	st.CreatedAt, st.ExpiresAt = now, now.Add(validFor)
	if _, err := s.DB.NewDelete().Model((*OAuthState)(nil)).Where("expires_at < ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("delete expired oauth states: %w", err)
	}
	if _, err := s.DB.NewInsert().Model(st).Exec(ctx); err != nil {
		return fmt.Errorf("create oauth state for user %d: %w", st.UserID, err)
	}
	return nil
}

// TakeOAuthState uses up the user's connection in progress with this state
// hash: it is deleted, so it works once. ErrNotFound if there is none for
// this user (never issued, already used, or another user's); the state and
// ErrExpired if it was found but is too old.
func (s *Store) TakeOAuthState(ctx context.Context, stateHash string, userID int64) (*OAuthState, error) {
	st := new(OAuthState)
	err := s.DB.NewSelect().Model(st).Where("state_hash = ?", stateHash).Where("user_id = ?", userID).Scan(ctx)
	if notFound(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load oauth state: %w", err)
	}
	// Whoever deletes the row owns it: two callbacks racing with one state
	// cannot both succeed.
	res, err := s.DB.NewDelete().Model((*OAuthState)(nil)).
		Where("state_hash = ?", stateHash).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("use oauth state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	if !s.now().Before(st.ExpiresAt) {
		return st, ErrExpired
	}
	return st, nil
}

// googleTaskList remembers the Google Tasks list a user keeps for a contact.
type googleTaskList struct {
	bun.BaseModel `bun:"table:google_task_lists"`

	UserID    int64     `bun:"user_id,pk"`
	ContactID int64     `bun:"contact_id,pk"`
	ListID    string    `bun:"list_id,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// TaskListID answers the id of the Google Tasks list the user keeps for the
// contact; ErrNotFound if none was created yet. The caller checks that the
// contact belongs to the user's team.
func (s *Store) TaskListID(ctx context.Context, userID, contactID int64) (string, error) {
	var id string
	err := s.DB.NewSelect().Model((*googleTaskList)(nil)).Column("list_id").
		Where("user_id = ?", userID).Where("contact_id = ?", contactID).Scan(ctx, &id)
	if notFound(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("load task list of user %d for contact %d: %w", userID, contactID, err)
	}
	return id, nil
}

// SetTaskListID remembers the Google Tasks list the user keeps for the
// contact, replacing one remembered before (after it was deleted in Google).
func (s *Store) SetTaskListID(ctx context.Context, userID, contactID int64, listID string) error {
	row := &googleTaskList{UserID: userID, ContactID: contactID, ListID: listID, CreatedAt: s.now()}
	q := s.upsert(s.DB.NewInsert().Model(row), "user_id, contact_id", "list_id", "created_at")
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save task list of user %d for contact %d: %w", userID, contactID, err)
	}
	return nil
}
