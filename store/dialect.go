package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// This file holds every place where MySQL and SQLite need different SQL or
// different handling, so the rest of the package writes one query.

// now is the store's one clock: the time source (which tests replace) cut to
// what both databases keep (microseconds) and in UTC, so that a value read
// back equals the value written. Read the time only through now.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Now is the store's clock for callers outside the package (expiry checks,
// the dashboard's month), so every part of Sherpa reads the same time.
func (s *Store) Now() time.Time { return s.now() }

// SetClock replaces the time source (tests travel in time with it) and
// returns a function that puts the previous one back.
func (s *Store) SetClock(fn func() time.Time) (restore func()) {
	old := s.clock
	s.clock = fn
	return func() { s.clock = old }
}

// forUpdate locks the selected rows on MySQL for the rest of the
// transaction; SQLite transactions here are IMMEDIATE and already serialise
// writers.
func (s *Store) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if s.Dialect == MySQL {
		return q.For("UPDATE")
	}
	return q
}

// upsert turns an insert into "insert, or on a clash with the unique key
// made of the conflict columns, overwrite the given columns with the values
// of the row being inserted". With no columns to overwrite the clashing
// insert does nothing (and affects no row on either database).
func (s *Store) upsert(q *bun.InsertQuery, conflict string, overwrite ...string) *bun.InsertQuery {
	if s.Dialect == MySQL {
		if len(overwrite) == 0 {
			// A no-op assignment: MySQL reports 0 affected rows for it.
			first, _, _ := strings.Cut(conflict, ",")
			c := strings.TrimSpace(first)
			return q.On("DUPLICATE KEY UPDATE").Set(c + " = " + c)
		}
		q = q.On("DUPLICATE KEY UPDATE")
		for _, c := range overwrite {
			q = q.Set(c + " = VALUES(" + c + ")")
		}
		return q
	}
	if len(overwrite) == 0 {
		return q.On("CONFLICT (" + conflict + ") DO NOTHING")
	}
	q = q.On("CONFLICT (" + conflict + ") DO UPDATE")
	for _, c := range overwrite {
		q = q.Set(c + " = EXCLUDED." + c)
	}
	return q
}

// upsertExpr is upsert with one overwrite written as an expression of the
// existing row, such as "failures = failures + 1".
func (s *Store) upsertExpr(q *bun.InsertQuery, conflict, set string, args ...any) *bun.InsertQuery {
	if s.Dialect == MySQL {
		return q.On("DUPLICATE KEY UPDATE").Set(set, args...)
	}
	return q.On("CONFLICT ("+conflict+") DO UPDATE").Set(set, args...)
}

// migrationLock keeps two instances that start at once from applying the
// same migration twice: a named lock on MySQL, named after the database so
// that databases sharing a server do not wait for each other; on SQLite the
// migration's own write transaction does it.
func (s *Store) migrationLock(ctx context.Context, conn bun.Conn) (unlock func(), err error) {
	if s.Dialect != MySQL {
		return func() {}, nil
	}
	var got int
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(CONCAT('sherpa_migrate:', DATABASE()), 60)").Scan(&got); err != nil || got != 1 {
		return nil, fmt.Errorf("migrate: take lock (got %d): %v", got, err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(CONCAT('sherpa_migrate:', DATABASE()))")
	}, nil
}
