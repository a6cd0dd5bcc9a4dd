package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RatePolicy is the API's rate limit per key: Rate requests a second on
// average, and up to Burst at once after a quiet spell.
type RatePolicy struct {
	Rate  int
	Burst int
}

// RateResult is the answer of one rate-limit check.
type RateResult struct {
	Allowed   bool
	Limit     int           // the burst: what a full bucket holds
	Remaining int           // requests that may follow at once
	Reset     time.Duration // until the bucket is full again
	// RetryAfter is how long a refused client should wait.
	RetryAfter time.Duration
}

// TakeRate counts one request of an API key against the policy, as a
// generic cell rate algorithm (GCRA) over one row per key: the row holds the
// "theoretical arrival time" (TAT) of the next request, each request moves
// it on by 1/Rate, and a request is refused when that would put the TAT more
// than Burst/Rate ahead of now. The check and the move are one UPDATE, so
// instances sharing the database share the limit and concurrent requests
// cannot both take the last token.
func (s *Store) TakeRate(ctx context.Context, keyID int64, p RatePolicy) (RateResult, error) {
	return s.TakeRateN(ctx, keyID, p, 1)
}

// TakeRateN takes n tokens at once (an instance reserving a few requests'
// worth, to spare the database a write per request): all n, or none.
func (s *Store) TakeRateN(ctx context.Context, keyID int64, p RatePolicy, n int) (RateResult, error) {
	if p.Rate <= 0 {
		return RateResult{Allowed: true, Limit: p.Burst, Remaining: p.Burst}, nil
	}
	burst := max(p.Burst, 1)
	step := int64(time.Second/time.Microsecond) / int64(p.Rate) // µs per request
	tolerance := step * int64(burst)
	n = min(max(n, 1), burst)
	now := s.now().UnixMicro()
	res := RateResult{Limit: burst}
	tat, ok, err := s.advanceRate(ctx, keyID, now, step*int64(n), tolerance)
	if err != nil {
		return res, fmt.Errorf("rate limit of key %d: %w", keyID, err)
	}
	if !ok {
		// No row yet (the key's first request), or refused.
		var ins sql.Result
		q := "INSERT OR IGNORE INTO api_rate (key_id, tat) VALUES (?, ?)"
		if s.Dialect == MySQL {
			q = "INSERT IGNORE INTO api_rate (key_id, tat) VALUES (?, ?)"
		}
		if ins, err = s.DB.ExecContext(ctx, q, keyID, now+step*int64(n)); err != nil {
			return res, fmt.Errorf("rate limit of key %d: %w", keyID, err)
		}
		if rows, _ := ins.RowsAffected(); rows == 1 {
			tat, ok = now+step*int64(n), true
		}
	}
	if ok {
		res.Allowed = true
		res.Remaining = int((tolerance - (tat - now)) / step)
		res.Reset = time.Duration(tat-now) * time.Microsecond
		return res, nil
	}
	if err := s.DB.NewSelect().Table("api_rate").Column("tat").Where("key_id = ?", keyID).Scan(ctx, &tat); err != nil {
		return res, fmt.Errorf("rate limit of key %d: %w", keyID, err)
	}
	wait := max(tat, now) + step*int64(n) - now - tolerance
	res.RetryAfter = time.Duration(max(wait, 1)) * time.Microsecond
	res.Reset = time.Duration(max(tat-now, 0)) * time.Microsecond
	return res, nil
}

// advanceRate moves the key's TAT on by one step if that stays within the
// tolerance, and returns the new TAT; ok is false when nothing moved.
func (s *Store) advanceRate(ctx context.Context, keyID, now, step, tolerance int64) (tat int64, ok bool, err error) {
	if s.Dialect == MySQL {
		// LAST_INSERT_ID(expr) hands the new value back in the OK packet:
		// one statement, no second read.
		res, err := s.DB.ExecContext(ctx, "UPDATE api_rate SET tat = LAST_INSERT_ID(GREATEST(tat, ?) + ?) "+
			"WHERE key_id = ? AND GREATEST(tat, ?) + ? - ? <= ?", now, step, keyID, now, step, now, tolerance)
		if err != nil {
			return 0, false, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return 0, false, nil
		}
		tat, err = res.LastInsertId()
		return tat, err == nil, err
	}
	err = s.DB.QueryRowContext(ctx, "UPDATE api_rate SET tat = MAX(tat, ?) + ? "+
		"WHERE key_id = ? AND MAX(tat, ?) + ? - ? <= ? RETURNING tat", now, step, keyID, now, step, now, tolerance).Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return tat, err == nil, err
}

// Idempotency: a POST sent with an Idempotency-Key acts once. The first
// request with a key claims it (status 0, "in progress"); its answer is
// stored under the key, and a retry with the same key and the same request
// gets that answer again instead of acting twice.

// IdempotencyTTL is how long a stored answer is replayed.
const IdempotencyTTL = 24 * time.Hour

// idempotencyStale is how long a claim may stay in progress: after it, the
// request that claimed it is taken for dead (its instance stopped) and a
// retry may act.
const idempotencyStale = time.Minute

// IdempotentAnswer is a stored answer; Status 0 means the first request is
// still being answered.
type IdempotentAnswer struct {
	bun.BaseModel `bun:"table:api_idempotency"`

	UserID      int64     `bun:"user_id,pk"`
	Key         string    `bun:"idem_key,pk"`
	RequestHash string    `bun:"request_hash,notnull"`
	Status      int       `bun:"status,notnull"`
	Location    string    `bun:"location,notnull"`
	Body        string    `bun:"body,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	ExpiresAt   time.Time `bun:"expires_at,notnull"`
}

// ClaimIdempotencyKey claims key for the user's request. claimed is true
// when this request is the first (it must then Finish or Release the key);
// otherwise prev is the earlier request's answer (Status 0: still running).
func (s *Store) ClaimIdempotencyKey(ctx context.Context, userID int64, key, requestHash string) (claimed bool, prev *IdempotentAnswer, err error) {
	for range 2 {
		now := s.now()
		row := &IdempotentAnswer{UserID: userID, Key: key, RequestHash: requestHash, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL)}
		if _, err := s.DB.NewInsert().Model(row).Exec(ctx); err == nil {
			return true, nil, nil
		} else if !isDuplicate(err) {
			return false, nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		prev = new(IdempotentAnswer)
		err := s.DB.NewSelect().Model(prev).Where("user_id = ?", userID).Where("idem_key = ?", key).Scan(ctx)
		if notFound(err) {
			continue // deleted in between: claim again
		}
		if err != nil {
			return false, nil, fmt.Errorf("load idempotency key: %w", err)
		}
		expired := !prev.ExpiresAt.After(now)
		abandoned := prev.Status == 0 && now.Sub(prev.CreatedAt) > idempotencyStale
		if !expired && !abandoned {
			return false, prev, nil
		}
		// Take over an expired or abandoned claim: delete exactly the row
		// we saw, then claim again.
		if _, err := s.DB.NewDelete().Model((*IdempotentAnswer)(nil)).Where("user_id = ?", userID).
			Where("idem_key = ?", key).Where("created_at = ?", prev.CreatedAt).Exec(ctx); err != nil {
			return false, nil, fmt.Errorf("drop stale idempotency key: %w", err)
		}
	}
	return false, prev, nil
}

// FinishIdempotencyKey stores the answer of the request that claimed key.
func (s *Store) FinishIdempotencyKey(ctx context.Context, userID int64, key string, status int, location, body string) error {
	_, err := s.DB.NewUpdate().Model((*IdempotentAnswer)(nil)).Set("status = ?", status).Set("location = ?", location).
		Set("body = ?", body).Where("user_id = ?", userID).Where("idem_key = ?", key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey gives up a claim whose request failed without an
// answer worth replaying (a server error): a retry may act.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, userID int64, key string) error {
	_, err := s.DB.NewDelete().Model((*IdempotentAnswer)(nil)).Where("user_id = ?", userID).Where("idem_key = ?", key).
		Where("status = 0").Exec(ctx)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredAPIState removes stored idempotent answers past their time.
func (s *Store) DeleteExpiredAPIState(ctx context.Context) (int64, error) {
	res, err := s.DB.NewDelete().Model((*IdempotentAnswer)(nil)).Where("expires_at < ?", s.now()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
