package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// API key scopes.
const (
	ScopeRead  = "read"  // GET only
	ScopeWrite = "write" // everything the user's role allows
)

// APIKeyPrefix starts every API key, so a leaked key is recognisable (and
// secret scanners can be taught its shape).
const APIKeyPrefix = "sherpa_"

// maxAPIKeysPerUser bounds the keys one user can hold.
const maxAPIKeysPerUser = 50

// apiKeyTouchEvery is how stale a key's last-used time may get: a request
// writes it only when the stored one is older, so a busy key costs one
// write a minute, not one per request.
const apiKeyTouchEvery = time.Minute

// APIKey is a personal API key. The token itself is shown once, when the
// key is made; the database keeps only its SHA-256. A slow password hash is
// not needed: the token is 256 random bits, so there is nothing to guess
// from its hash, and a fast hash lets every request look the key up by its
// (unique, indexed) hash.
//
// A key belongs to one team membership: it acts as its user, with the
// user's current role, in the team the user was in when it was made, and
// stops working if the user leaves that team.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys,alias:k"`

	ID         int64     `bun:"id,pk,autoincrement"`
	UserID     int64     `bun:"user_id,notnull"`
	TeamID     int64     `bun:"team_id,notnull"`
	Name       string    `bun:"name,notnull"`
	Prefix     string    `bun:"prefix,notnull"` // the token's first characters, to tell keys apart
	TokenHash  string    `bun:"token_hash,notnull"`
	Scope      string    `bun:"scope,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

// CanWrite reports whether the key may change data.
func (k *APIKey) CanWrite() bool { return k.Scope == ScopeWrite }

// ValidateAPIKey checks the form that makes a key.
func ValidateAPIKey(name, scope string) FieldErrors {
	fe := FieldErrors{}
	if msg := NameError("Name", strings.TrimSpace(name)); msg != "" {
		fe["name"] = msg
	}
	if scope != ScopeRead && scope != ScopeWrite {
		fe["scope"] = "Choose read-only or read and write."
	}
	return fe
}

// hashAPIToken is how tokens are kept and looked up.
func hashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes a key for the actor in their team and returns it with
// the token, which is not kept and cannot be shown again.
func (s *Store) CreateAPIKey(ctx context.Context, actor *User, name, scope string) (*APIKey, string, error) {
	if actor == nil || actor.TeamID == 0 {
		return nil, "", fmt.Errorf("create API key: %w", ErrNotAllowed)
	}
	name = strings.TrimSpace(name)
	if err := ValidateAPIKey(name, scope).err(); err != nil {
		return nil, "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	token := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := &APIKey{UserID: actor.ID, TeamID: actor.TeamID, Name: name, Prefix: token[:len(APIKeyPrefix)+6],
		TokenHash: hashAPIToken(token), Scope: scope, CreatedAt: s.now()}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*APIKey)(nil)).Where("user_id = ?", actor.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count keys: %w", err)
		}
		if n >= maxAPIKeysPerUser {
			return FieldErrors{"name": fmt.Sprintf("You already have %d keys; revoke one you no longer use first.", maxAPIKeysPerUser)}
		}
		_, err = tx.NewInsert().Model(k).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return k, token, nil
}

// APIKeysOf lists a user's keys, newest first.
func (s *Store) APIKeysOf(ctx context.Context, userID int64) ([]APIKey, error) {
	var keys []APIKey
	if err := s.DB.NewSelect().Model(&keys).Where("user_id = ?", userID).OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list API keys of user %d: %w", userID, err)
	}
	return keys, nil
}

// RevokeAPIKey deletes one of the user's keys; ErrNotFound if the user has
// no such key. A revoked key is refused from the next request on.
func (s *Store) RevokeAPIKey(ctx context.Context, userID, keyID int64) error {
	res, err := s.DB.NewDelete().Model((*APIKey)(nil)).Where("id = ?", keyID).Where("user_id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke API key %d: %w", keyID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// APIKeyUser finds the key a token names and the user it acts as, in one
// query. ErrNotFound when the token is unknown (or revoked), or when the
// user is no longer in the key's team. The key's last-used time is written
// at most once a minute.
func (s *Store) APIKeyUser(ctx context.Context, token string) (*APIKey, *User, *Team, error) {
	if !strings.HasPrefix(token, APIKeyPrefix) || len(token) > 100 {
		return nil, nil, nil, ErrNotFound
	}
	var row struct {
		APIKey
		UserEmail    string    `bun:"u_email"`
		UserName     string    `bun:"u_name"`
		UserTeam     int64     `bun:"u_team_id"`
		UserRole     string    `bun:"u_role"`
		UserCreated  time.Time `bun:"u_created_at"`
		TeamName     string    `bun:"t_name"`
		TeamCurrency string    `bun:"t_currency"`
		TeamTimeZone string    `bun:"t_time_zone"`
		TeamCreated  time.Time `bun:"t_created_at"`
	}
	err := s.DB.NewSelect().Model((*APIKey)(nil)).ColumnExpr("k.*").
		ColumnExpr("u.email AS u_email, u.name AS u_name, COALESCE(u.team_id, 0) AS u_team_id, u.role AS u_role, u.created_at AS u_created_at").
		ColumnExpr("t.name AS t_name, t.currency AS t_currency, t.time_zone AS t_time_zone, t.created_at AS t_created_at").
		Join("JOIN users AS u ON u.id = k.user_id").Join("JOIN teams AS t ON t.id = k.team_id").
		Where("k.token_hash = ?", hashAPIToken(token)).Scan(ctx, &row)
	if notFound(err) {
		return nil, nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("look up API key: %w", err)
	}
	if row.UserTeam != row.TeamID {
		return nil, nil, nil, ErrNotFound
	}
	k := row.APIKey
	now := s.now()
	if k.LastUsedAt.IsZero() || now.Sub(k.LastUsedAt) >= apiKeyTouchEvery {
		if _, err := s.DB.NewUpdate().Model((*APIKey)(nil)).Set("last_used_at = ?", now).Where("id = ?", k.ID).Exec(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("note API key use: %w", err)
		}
		k.LastUsedAt = now
	}
	u := &User{ID: k.UserID, Email: row.UserEmail, Name: row.UserName, TeamID: row.UserTeam, Role: row.UserRole, CreatedAt: row.UserCreated}
	t := &Team{ID: k.TeamID, Name: row.TeamName, Currency: row.TeamCurrency, TimeZone: row.TeamTimeZone, CreatedAt: row.TeamCreated}
	return &k, u, t, nil
}
