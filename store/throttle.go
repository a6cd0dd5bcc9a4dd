package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ThrottlePolicy says how many failures within Window lock a key, and for how long.
type ThrottlePolicy struct {
	Limit  int
	Window time.Duration
	Lock   time.Duration
}

type throttleRow struct {
	bun.BaseModel `bun:"table:login_throttle"`

	Key         string    `bun:"throttle_key,pk"`
	Failures    int       `bun:"failures,notnull"`
	WindowStart time.Time `bun:"window_start,notnull"`
	LockedUntil time.Time `bun:"locked_until,nullzero"`
}

// LockedUntil returns the latest time until which any of keys is locked, or
// the zero time when none is.
func (s *Store) LockedUntil(ctx context.Context, keys ...string) (time.Time, error) {
	var rows []throttleRow
	if err := s.DB.NewSelect().Model(&rows).Where("throttle_key IN (?)", bun.In(keys)).
		Where("locked_until > ?", s.Now()).Scan(ctx); err != nil {
		return time.Time{}, fmt.Errorf("read login throttle: %w", err)
	}
	var until time.Time
	for _, r := range rows {
		if r.LockedUntil.After(until) {
			until = r.LockedUntil
		}
	}
	return until, nil
}

// RecordFailure counts one failed login for key under policy p and locks the
// key when the count reaches the limit within the window.
func (s *Store) RecordFailure(ctx context.Context, key string, p ThrottlePolicy) error {
	now := s.Now()
	return s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row := new(throttleRow)
		q := tx.NewSelect().Model(row).Where("throttle_key = ?", key)
		if s.Dialect == MySQL {
			q = q.For("UPDATE")
		}
		err := q.Scan(ctx)
		if notFound(err) {
			row = &throttleRow{Key: key, Failures: 1, WindowStart: now}
			if p.Limit <= 1 {
				row.LockedUntil = now.Add(p.Lock)
			}
			if _, err := tx.NewInsert().Model(row).Ignore().Exec(ctx); err != nil {
				return fmt.Errorf("insert login throttle: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read login throttle: %w", err)
		}
		if now.Sub(row.WindowStart) > p.Window {
			row.Failures, row.WindowStart, row.LockedUntil = 0, now, time.Time{}
		}
		row.Failures++
		if row.Failures >= p.Limit {
			row.LockedUntil = now.Add(p.Lock)
		}
		if _, err := tx.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update login throttle: %w", err)
		}
		return nil
	})
}

// ClearFailures forgets the failures of key, after a successful login.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	if _, err := s.DB.NewDelete().Model((*throttleRow)(nil)).Where("throttle_key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("clear login throttle: %w", err)
	}
	return nil
}
