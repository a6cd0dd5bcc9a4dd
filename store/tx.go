package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"
)

// txAttempts is how many times inTx runs a transaction that keeps meeting a
// deadlock, a lock-wait timeout or a busy SQLite database.
const txAttempts = 5

// txBackoff is the base wait before the second attempt; it doubles for every
// further one, and each wait is jittered so that the transactions that
// collided do not collide again.
var txBackoff = 20 * time.Millisecond

// inTx runs fn in a transaction and commits it, retrying the whole of fn when
// the database reports a conflict that a retry resolves (see IsRetryable).
// Every write transaction of the store goes through here, so fn must be safe
// to run again: it may only change variables it sets afresh each time.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.inTxOpts(ctx, nil, fn)
}

func (s *Store) inTxOpts(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx bun.Tx) error) error {
	var err error
	fn = withListMarks(fn) // the list versions move last (listversion.go)
	for attempt := 1; ; attempt++ {
		err = s.DB.RunInTx(ctx, opts, fn)
		if err == nil || attempt == txAttempts || !IsRetryable(err) {
			break
		}
		if s.onRetry != nil {
			s.onRetry(err)
		}
		wait := txBackoff << (attempt - 1)
		wait = wait/2 + rand.N(wait) // jitter: between half and one and a half times
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
	if err != nil && IsRetryable(err) {
		return fmt.Errorf("transaction failed %d times: %w", txAttempts, err)
	}
	return err
}

// MySQL error numbers a retry of the whole transaction resolves.
const (
	mysqlLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT
	mysqlDeadlock        = 1213 // ER_LOCK_DEADLOCK
	// TiDB's own: a write conflict of an optimistic transaction, a
	// SELECT … FOR UPDATE it cannot retry itself, and a schema change
	// (online DDL) during the transaction.
	tidbWriteConflict    = 9007
	tidbCannotRetry      = 8002
	tidbInfoSchemaChange = 8028
)

// SQLite primary result codes of a database another connection holds.
const (
	sqliteBusy   = 5 // SQLITE_BUSY
	sqliteLocked = 6 // SQLITE_LOCKED
)

// IsRetryable reports whether err is a deadlock or lock-wait timeout on
// MySQL/MariaDB (or a write conflict on TiDB), or a busy or locked database on SQLite: a transaction that
// failed for it can simply be run again.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if n, ok := MySQLErrorNumber(err); ok {
		switch n {
		case mysqlDeadlock, mysqlLockWaitTimeout, tidbWriteConflict, tidbCannotRetry, tidbInfoSchemaChange:
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff // extended codes keep the primary one in the low byte
		return code == sqliteBusy || code == sqliteLocked
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// MySQLErrorNumber returns the server error number inside err, if err came
// from a MySQL or MariaDB server.
func MySQLErrorNumber(err error) (uint16, bool) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number, true
	}
	return 0, false
}
