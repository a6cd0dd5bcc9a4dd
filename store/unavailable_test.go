package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestIsUnavailableSortsDriverErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", store.ErrNotFound, false},
		{"duplicate", fmt.Errorf("save: %w", store.ErrDuplicate), false},
		{"canceled (client left)", fmt.Errorf("list: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		{"bad conn", fmt.Errorf("q: %w", driver.ErrBadConn), true},
		{"mysql invalid conn", fmt.Errorf("q: %w", mysql.ErrInvalidConn), true},
		{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"lock wait after retries", fmt.Errorf("tx: %w", &mysql.MySQLError{Number: 1205}), true},
		{"table full", &mysql.MySQLError{Number: 1114}, true},
		{"mysql duplicate key", &mysql.MySQLError{Number: 1062}, false},
		{"mysql syntax", &mysql.MySQLError{Number: 1064}, false},
		{"plain error", errors.New("boom"), false},
	}
	for _, c := range cases {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// A query that runs out of its deadline is an outage on both databases, a
// missing row is not.
func TestIsUnavailableOnRealErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		_, err := s.UserByEmail(context.Background(), "nobody@example.com")
		if err == nil || store.IsUnavailable(err) {
			t.Errorf("missing user: err %v, unavailable %v", err, store.IsUnavailable(err))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		_, err = s.UserByEmail(ctx, "nobody@example.com")
		if !store.IsUnavailable(err) {
			t.Errorf("expired deadline: %v not classified as unavailable", err)
		}
	})
}

// A SQLite database that cannot grow (max_page_count reached, as on a full
// disk) fails writes with SQLITE_FULL, which is an outage.
func TestIsUnavailableOnAFullSQLiteDatabase(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	storetest.FillSQLite(t, s)
	_, err := s.DB.ExecContext(context.Background(), "INSERT INTO settings (name, value) VALUES (?, ?)", "filler", strings.Repeat("x", 64<<10))
	if err == nil || !store.IsUnavailable(err) || !strings.Contains(err.Error(), "full") {
		t.Fatalf("write on a full database: err %v, unavailable %v", err, store.IsUnavailable(err))
	}
}

func TestMySQLURLGetsDriverTimeouts(t *testing.T) {
	_, dsn, err := store.ParseURL("mysql://root@127.0.0.1:3306/sherpa")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout <= 0 || cfg.ReadTimeout <= 0 || cfg.WriteTimeout <= 0 {
		t.Errorf("default timeouts missing: dial %s read %s write %s", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
	}
	_, dsn, err = store.ParseURL("mysql://root@127.0.0.1:3306/sherpa?timeout=1s&readTimeout=3s&writeTimeout=4s&tls=preferred")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = mysql.ParseDSN(dsn); err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout != time.Second || cfg.ReadTimeout != 3*time.Second || cfg.WriteTimeout != 4*time.Second || cfg.TLSConfig != "preferred" {
		t.Errorf("timeouts from the URL not kept: %+v", cfg)
	}
	if _, _, err := store.ParseURL("mysql://root@127.0.0.1:3306/sherpa?readTimeout=soon"); err == nil {
		t.Errorf("a malformed timeout was accepted")
	}
}
