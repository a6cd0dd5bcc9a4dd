package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// formClaimLifetime is how long a submitted form is remembered; a browser
// re-sending a form later than this acts again.
const formClaimLifetime = 7 * 24 * time.Hour

// formClaim remembers that a user's form (a send, an add, a schedule) was
// acted on, so the same form submitted twice acts once. Only a hash of the
// form's token is kept.
type formClaim struct {
	bun.BaseModel `bun:"table:form_claims"`

	UserID    int64     `bun:"user_id,pk"`
	KeyHash   string    `bun:"key_hash,pk"`
	Kind      string    `bun:"kind,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// ClaimForm records that the user acts on the form whose token hashes to
// keyHash; false means it was claimed before (a double submit) and nothing
// should be done. Claims older than a week are deleted on the way.
func (s *Store) ClaimForm(ctx context.Context, userID int64, keyHash, kind string) (bool, error) {
	now := s.now()
	if _, err := s.DB.NewDelete().Model((*formClaim)(nil)).Where("created_at < ?", now.Add(-formClaimLifetime)).Exec(ctx); err != nil {
		return false, fmt.Errorf("delete old form claims: %w", err)
	}
	q := s.upsert(s.DB.NewInsert().Model(&formClaim{UserID: userID, KeyHash: keyHash, Kind: kind, CreatedAt: now}), "user_id, key_hash")
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim %s form of user %d: %w", kind, userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s form of user %d: %w", kind, userID, err)
	}
	return n == 1, nil
}

// ReleaseForm forgets a claim whose action failed, so the same form can be
// submitted again.
func (s *Store) ReleaseForm(ctx context.Context, userID int64, keyHash string) error {
	_, err := s.DB.NewDelete().Model((*formClaim)(nil)).Where("user_id = ?", userID).Where("key_hash = ?", keyHash).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release form claim of user %d: %w", userID, err)
	}
	return nil
}
