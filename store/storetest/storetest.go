// Package storetest opens real databases for tests: a fresh SQLite file, and
// a fresh database on the MySQL/MariaDB server named by
// SHERPA_TEST_MYSQL_URL (for example mysql://root@127.0.0.1:3306/). Without
// that variable MySQL tests skip, unless CI=true, where they fail instead so
// MySQL is never skipped silently.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"sherpa/store"
)

// MySQLEnv is the environment variable naming the test MySQL server.
const MySQLEnv = "SHERPA_TEST_MYSQL_URL"

// TiDBEnv names a TiDB server (for example mysql://root@127.0.0.1:4000/,
// see scripts/tidb.sh). When it is set, the MySQL-dialect tests ("mysql"
// subtests) run on that server instead of the one MySQLEnv names.
const TiDBEnv = "SHERPA_TEST_TIDB_URL"

// TiDB reports whether the MySQL-dialect tests run on TiDB (TiDBEnv).
func TiDB() bool { return os.Getenv(TiDBEnv) != "" }

// mysqlBase is the server the MySQL-dialect tests create databases on.
func mysqlBase() (env, url string) {
	if u := os.Getenv(TiDBEnv); u != "" {
		return TiDBEnv, u
	}
	return MySQLEnv, os.Getenv(MySQLEnv)
}

// Dialects lists the databases every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.MySQL}

// Each runs fn once per database as subtests named "sqlite" and "mysql".
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated store on a fresh database of dialect d, removed when
// the test ends.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	u := URL(t, d)
	s, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	// Runs before the Close above: whatever the test wrote, the dashboard
	// totals must still equal a recount (store/changes.go), so a write
	// method that forgets them fails the tests that use it.
	t.Cleanup(func() { checkTotals(t, s) })
	return s
}

// checkTotals fails t when a store's dashboard totals differ from a
// recount of its deals and activities. A database the test made
// unreachable is only noted.
func checkTotals(t testing.TB, s *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := s.Reconcile(ctx, false)
	if err != nil {
		t.Logf("dashboard totals not checked: %v", err)
		return
	}
	for _, d := range rep.Drift {
		t.Errorf("after the test, a dashboard total differs from a recount (a write forgot store.recordChange?): %s", d)
	}
}

// URL creates a fresh empty database of dialect d and returns its Sherpa
// database URL; the database is dropped when the test ends.
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return "sqlite:" + filepath.Join(sqliteDir(t), "test.db")
	}
	env, base := mysqlBase()
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: MySQL tests must run in CI", MySQLEnv)
		}
		t.Skipf("MySQL test skipped: set %s=mysql://root@127.0.0.1:3306/ to run it", MySQLEnv)
	}
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "sherpa_test_" + hex.EncodeToString(b[:])
	admin := adminDB(t, pu)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	pu.Path = "/" + name
	return pu.String()
}

func adminDB(t testing.TB, u *url.URL) *sql.DB {
	t.Helper()
	pass, _ := u.User.Password()
	dsn := u.User.Username() + ":" + pass + "@tcp(" + u.Host + ")/"
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("connect to MySQL: %v", err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("MySQL at %s is unreachable: %v", u.Host, err)
	}
	return db
}

// sqliteDir is a fresh directory for a test's SQLite files, removed when the
// test ends. Unlike t.TempDir it tries the removal again for a moment: a
// test app's background goroutine (the import worker's first look for
// jobs, started with the app) may still hold a connection when the test
// ends, and its WAL and shared-memory files go when that connection
// closes, after Store.Close returned ("directory not empty", seen in CI).
func sqliteDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sherpa-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 20 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("remove the test's SQLite directory: %v", err)
	})
	return dir
}
