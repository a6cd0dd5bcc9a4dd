// Package store owns every SQL statement of Sherpa and the bun models behind
// them. It runs on MySQL/MariaDB (production) and SQLite (the embedded
// default); dialect differences stay inside this package. Every method that
// touches team data takes the team id and puts it in its WHERE clause, so "not
// found" and "not yours" are the same answer.
//
// store imports no other package of the project.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Dialect names the database family a Store talks to.
type Dialect string

const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// Sentinel errors that handlers map to HTTP statuses.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrDuplicate = errors.New("duplicate")
)

// Store is the database handle every other package goes through.
type Store struct {
	DB      *bun.DB
	Dialect Dialect
	// clock is the time source; tests replace it with SetClock. It is read
	// only through now(), which fixes the precision.
	clock func() time.Time
	// onRetry, when set, is told of every transaction inTx runs again;
	// tests count retries with it.
	onRetry func(error)
	// tidb is set when the MySQL-dialect server is TiDB (SELECT VERSION()
	// says so): it has no triggers, and reads plans its own way.
	tidb bool
	// migrateDSN is the MySQL DSN with hour-long read and write timeouts:
	// an ALTER TABLE of a million-row table outlasts the pool's 2-minute
	// backstop, and a migration cut off by the client still finishes on the
	// server, leaving the next start to find its column already there.
	migrateDSN string
	// exports is the small pool SQLite exports read through (exportStore);
	// nil on MySQL and for in-memory databases.
	exports *exportPool
}

// TiDB reports whether the store talks to TiDB (the MySQL dialect).
func (s *Store) TiDB() bool { return s.tidb }

// Open connects to the database named by a Sherpa database URL:
//
//	sqlite:sherpa.db                        a file (created if missing)
//	sqlite::memory:                         an in-memory database (tests)
//	mysql://user:pass@host:3306/dbname?x=y  MySQL or MariaDB
//
// It does not apply migrations; call Migrate for that.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	dialect, dsn, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	var db *bun.DB
	switch dialect {
	case SQLite:
		sqldb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite %q: %w", dsn, err)
		}
		// One writer at a time is all SQLite can do; a small pool of
		// connections lets readers go on in WAL mode while a write waits.
		sqldb.SetMaxOpenConns(4)
		// All four stay open between bursts: database/sql keeps two idle by
		// default, and a new connection starts with an empty page cache and
		// parses the schema again (the board's six columns at once paid
		// that on every load).
		sqldb.SetMaxIdleConns(4)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case MySQL:
		sqldb, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, fmt.Errorf("open mysql: %w", err)
		}
		sqldb.SetMaxOpenConns(DefaultPool.MaxOpen)
		sqldb.SetMaxIdleConns(DefaultPool.MaxIdle)
		sqldb.SetConnMaxLifetime(DefaultPool.Lifetime)
		db = bun.NewDB(sqldb, mysqldialect.New())
	}
	s := &Store{DB: db, Dialect: dialect, clock: time.Now}
	if dialect == SQLite && !strings.Contains(dsn, ":memory:") {
		s.exports = &exportPool{dsn: strings.Replace(dsn, "cache_size("+sqliteCacheSize+")", "cache_size("+exportCacheSize+")", 1)}
	}
	if dialect == MySQL {
		if s.migrateDSN, err = migrationDSN(dsn); err != nil {
			db.Close()
			return nil, err
		}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	if dialect == MySQL {
		var version string
		if err := db.QueryRowContext(pingCtx, "SELECT VERSION()").Scan(&version); err != nil {
			db.Close()
			return nil, fmt.Errorf("read the server version: %w", err)
		}
		s.tidb = strings.Contains(version, "TiDB")
	}
	return s, nil
}

// sqliteCacheSize is each SQLite connection's page cache (PRAGMA
// cache_size: negative is KiB).
const sqliteCacheSize = "-32768"

// ParseURL turns a Sherpa database URL into a dialect and a driver DSN.
func ParseURL(databaseURL string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(databaseURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("database URL %q: sqlite needs a file name, e.g. sqlite:sherpa.db", databaseURL)
		}
		// cache_size: 32 MiB of pages per connection instead of SQLite's
		// 2 MiB, so a search's row lookups stay in memory (a rare-word
		// page at 100k contacts: 3.5 ms instead of 9–40 ms, BENCHMARKS.md).
		params := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(" + sqliteCacheSize + ")&_txlock=immediate"
		if path == ":memory:" {
			// A shared cache keeps one in-memory database across the pool.
			return SQLite, "file::memory:?cache=shared&" + params, nil
		}
		return SQLite, "file:" + path + "?_pragma=journal_mode(WAL)&" + params, nil
	case strings.HasPrefix(databaseURL, "mysql://"):
		u, err := url.Parse(databaseURL)
		if err != nil {
			return "", "", fmt.Errorf("database URL: %w", err)
		}
		cfg := mysql.NewConfig()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Host + ":3306"
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if cfg.DBName == "" {
			return "", "", fmt.Errorf("database URL %q: mysql needs a database name, e.g. mysql://root@127.0.0.1:3306/sherpa", databaseURL)
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		cfg.MultiStatements = false
		cfg.Params = map[string]string{"charset": "utf8mb4", "time_zone": "'+00:00'"}
		// Driver-level timeouts are the backstop for work that runs without a
		// request's deadline (migrations, cleanup): a frozen server fails it
		// instead of hanging it. Requests end sooner, at their own deadline.
		cfg.Timeout = 5 * time.Second
		cfg.ReadTimeout = 2 * time.Minute
		cfg.WriteTimeout = 2 * time.Minute
		for k, v := range u.Query() {
			var d *time.Duration
			switch k {
			case "timeout":
				d = &cfg.Timeout
			case "readTimeout":
				d = &cfg.ReadTimeout
			case "writeTimeout":
				d = &cfg.WriteTimeout
			default:
				cfg.Params[k] = v[0]
				continue
			}
			if *d, err = time.ParseDuration(v[0]); err != nil {
				return "", "", fmt.Errorf("database URL: %s: %w", k, err)
			}
		}
		return MySQL, cfg.FormatDSN(), nil
	default:
		return "", "", fmt.Errorf("database URL %q: must start with sqlite: or mysql://", databaseURL)
	}
}

// Pool sizes the connection pool of a MySQL-dialect store (SQLite keeps its
// own small pool: one writer at a time is all it can do). Zero fields keep
// the defaults.
//
// Sizing for N instances on one server: each instance holds at most
// MaxOpen connections, so N × MaxOpen must stay below the server's
// max_connections (MariaDB's default is 151) with room for the operators'
// own sessions; with the default 32 that is four instances. A request
// holds a connection only while it runs a statement or a transaction (a
// dashboard uses four at once), so 16–32 per instance is plenty for a 2-core
// instance; MaxIdle at half of MaxOpen keeps warm connections without
// pinning the server's threads, and Lifetime recycles connections before a
// load balancer or proxy in between (HAProxy, ProxySQL, TiDB's own
// front ends) drops them as idle.
type Pool struct {
	MaxOpen  int           // SHERPA_DB_MAX_OPEN, default DefaultPool.MaxOpen
	MaxIdle  int           // SHERPA_DB_MAX_IDLE, default DefaultPool.MaxIdle
	Lifetime time.Duration // SHERPA_DB_CONN_LIFETIME, default DefaultPool.Lifetime
}

// DefaultPool is the MySQL pool Open sets up.
var DefaultPool = Pool{MaxOpen: 32, MaxIdle: 16, Lifetime: 10 * time.Minute}

// SetPool resizes the MySQL connection pool (see Pool); on SQLite it does
// nothing.
func (s *Store) SetPool(p Pool) {
	if s.Dialect != MySQL {
		return
	}
	if p.MaxOpen <= 0 {
		p.MaxOpen = DefaultPool.MaxOpen
	}
	if p.MaxIdle <= 0 {
		p.MaxIdle = min(DefaultPool.MaxIdle, p.MaxOpen)
	}
	if p.Lifetime <= 0 {
		p.Lifetime = DefaultPool.Lifetime
	}
	s.DB.SetMaxOpenConns(p.MaxOpen)
	s.DB.SetMaxIdleConns(min(p.MaxIdle, p.MaxOpen))
	s.DB.SetConnMaxLifetime(p.Lifetime)
}

// Close closes the connection pool (and the exports' one, if opened).
func (s *Store) Close() error {
	err := s.DB.Close()
	if s.exports != nil {
		err = errors.Join(err, s.exports.close())
	}
	return err
}

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	var one int
	if err := s.DB.NewRaw("SELECT 1").Scan(ctx, &one); err != nil {
		return fmt.Errorf("query database: %w", err)
	}
	return nil
}

// isDuplicate reports whether err is a unique-key violation on either database.
func isDuplicate(err error) bool {
	if n, ok := MySQLErrorNumber(err); ok {
		return n == 1062
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

func notFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// migrationDSN is dsn with hour-long read and write timeouts (see
// Store.migrateDSN).
func migrationDSN(dsn string) (string, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("open mysql: %w", err)
	}
	cfg.ReadTimeout, cfg.WriteTimeout = time.Hour, time.Hour
	return cfg.FormatDSN(), nil
}
