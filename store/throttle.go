package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// ThrottlePolicy says how many login attempts within Window a key allows,
// and for how long it is locked once they are used up.
type ThrottlePolicy struct {
	Limit  int
	Window time.Duration
	Lock   time.Duration
}

// ThrottleKey is one counter a login attempt is charged to (the email, the
// client address) with its policy.
type ThrottleKey struct {
	Key    string
	Policy ThrottlePolicy
}

// throttleRow counts the attempts charged to a key in its current window.
// The column keeps its first name, failures: a successful login gives its
// attempt back, so what stays counted are the failures (and the attempts
// still being checked).
type throttleRow struct {
	bun.BaseModel `bun:"table:login_throttle"`

	Key         string    `bun:"throttle_key,pk"`
	Failures    int       `bun:"failures,notnull"`
	WindowStart time.Time `bun:"window_start,notnull"`
	LockedUntil time.Time `bun:"locked_until,nullzero"`
}

// errThrottled rolls back a refused reservation.
var errThrottled = errors.New("throttled")

// ReserveLogin charges one login attempt to every key, before the password
// is checked, and returns the zero time when the attempt may go on. When
// any key has used up its attempts it charges none of them and returns the
// time until which that key is locked.
//
// Each key is one upsert that increments its counter, read back in the same
// transaction under the row lock the upsert took, so any number of parallel
// attempts get at most Limit checks per key.
func (s *Store) ReserveLogin(ctx context.Context, keys ...ThrottleKey) (time.Time, error) {
	keys = append([]ThrottleKey(nil), keys...)
	// One lock order for every attempt, so two of them never wait on each other.
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	var until time.Time
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		until = time.Time{}
		for _, k := range keys {
			u, err := s.reserve(ctx, tx, k)
			if err != nil {
				return err
			}
			if u.After(until) {
				until = u
			}
		}
		if !until.IsZero() {
			return errThrottled
		}
		return nil
	})
	if errors.Is(err, errThrottled) {
		return until, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Time{}, nil
}

// reserve charges one attempt to k in tx and returns the zero time, or the
// lock's end when k has no attempt left.
func (s *Store) reserve(ctx context.Context, tx bun.Tx, k ThrottleKey) (time.Time, error) {
	now, p := s.now(), k.Policy
	limit := max(p.Limit, 1)
	ins := tx.NewInsert().Model(&throttleRow{Key: k.Key, Failures: 1, WindowStart: now})
	if _, err := s.upsertExpr(ins, "throttle_key", "failures = failures + 1").Exec(ctx); err != nil {
		return time.Time{}, fmt.Errorf("count login attempt: %w", err)
	}
	row := new(throttleRow)
	if err := tx.NewSelect().Model(row).Where("throttle_key = ?", k.Key).Scan(ctx); err != nil {
		return time.Time{}, fmt.Errorf("read login throttle: %w", err)
	}
	changed := false
	// A lock that has run out, or a window gone by without one, starts
	// afresh with this attempt.
	if (!row.LockedUntil.IsZero() && !row.LockedUntil.After(now)) ||
		(row.LockedUntil.IsZero() && now.Sub(row.WindowStart) > p.Window) {
		row.Failures, row.WindowStart, row.LockedUntil = 1, now, time.Time{}
		changed = true
	}
	if row.Failures > limit {
		return row.LockedUntil, nil
	}
	if row.Failures == limit {
		// The last attempt allowed: should it fail, the key is locked.
		row.LockedUntil = now.Add(p.Lock)
		changed = true
	}
	if changed {
		if _, err := tx.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
			return time.Time{}, fmt.Errorf("update login throttle: %w", err)
		}
	}
	return time.Time{}, nil
}

// LoginSucceeded forgets the attempts charged to clear (the email that just
// logged in) and gives back the one attempt charged to each of keys (the
// client address, whose other attempts stay counted).
func (s *Store) LoginSucceeded(ctx context.Context, clear string, keys ...string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*throttleRow)(nil)).Where("throttle_key = ?", clear).Exec(ctx); err != nil {
			return fmt.Errorf("clear login throttle: %w", err)
		}
		return release(ctx, tx, keys)
	})
}

// ReleaseLogin gives back the attempt charged to each key by a login that
// checked no password after all (the hashing pool was busy).
func (s *Store) ReleaseLogin(ctx context.Context, keys ...string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return release(ctx, tx, keys)
	})
}

func release(ctx context.Context, tx bun.Tx, keys []string) error {
	for _, key := range keys {
		if _, err := tx.NewUpdate().Model((*throttleRow)(nil)).Set("failures = failures - 1").
			Where("throttle_key = ?", key).Where("failures > 0").Exec(ctx); err != nil {
			return fmt.Errorf("release login attempt: %w", err)
		}
	}
	return nil
}
