package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
)

// IsUnavailable reports whether err means the database could not do the work
// at all, for a reason that is not the request's fault and may pass on its
// own: it is unreachable, did not answer before the deadline, is out of
// space, or stayed locked after the write retries. Nothing of such a request
// was committed, so handlers answer 503 ("try again") instead of 500.
//
// It is the one place that knows the drivers' error shapes; a canceled
// context (the client went away) is not an outage.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, mysql.ErrPktSync) || errors.Is(err, mysql.ErrPktSyncMul) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return mysqlUnavailable[me.Number]
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteUnavailable[se.Code()&0xff] // the primary code of an extended one
	}
	return false
}

// mysqlUnavailable are the MySQL/MariaDB server errors that mean "not now"
// rather than "not this request".
var mysqlUnavailable = map[uint16]bool{
	1021: true, // ER_DISK_FULL
	1040: true, // ER_CON_COUNT_ERROR: too many connections
	1053: true, // ER_SERVER_SHUTDOWN
	1114: true, // ER_RECORD_FILE_FULL: the table is full
	1159: true, // ER_NET_READ_INTERRUPTED
	1160: true, // ER_NET_ERROR_ON_WRITE
	1161: true, // ER_NET_WRITE_INTERRUPTED
	1205: true, // ER_LOCK_WAIT_TIMEOUT (still, after the write retries)
	1213: true, // ER_LOCK_DEADLOCK (still, after the write retries)
	1927: true, // MariaDB ER_CONNECTION_KILLED
	1969: true, // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
	3024: true, // MySQL ER_QUERY_TIMEOUT (max_execution_time)
}

// sqliteUnavailable are SQLite's primary result codes for the same.
var sqliteUnavailable = map[int]bool{
	5:  true, // SQLITE_BUSY: another writer held the lock past busy_timeout
	6:  true, // SQLITE_LOCKED
	9:  true, // SQLITE_INTERRUPT: the request's deadline interrupted the statement
	10: true, // SQLITE_IOERR
	13: true, // SQLITE_FULL: disk or max_page_count reached
	14: true, // SQLITE_CANTOPEN
}
