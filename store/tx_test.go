package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// Two transactions lock two rows in opposite order: MariaDB kills one with
// a deadlock, and inTx runs it again, so both succeed.
func TestTransactionRetriedAfterDeadlock(t *testing.T) {
	s := storetest.Open(t, store.MySQL)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if _, err := s.EnsureSetting(ctx, name, func() string { return "0" }); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var retried []error
	s.OnRetry(func(err error) { mu.Lock(); retried = append(retried, err); mu.Unlock() })

	holds := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	run := func(first, second string) error {
		attempt := 0
		return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			attempt++
			if _, err := tx.NewRaw("UPDATE settings SET value = CONCAT(value, ?) WHERE name = ?", first, first).Exec(ctx); err != nil {
				return err
			}
			if attempt == 1 {
				// Both hold their first row before either asks for its second.
				close(holds[first])
				<-holds[second]
			}
			_, err := tx.NewRaw("UPDATE settings SET value = CONCAT(value, ?) WHERE name = ?", second, second).Exec(ctx)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run("a", "b") }()
	go func() { errs <- run("b", "a") }()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("transaction failed: %v", err)
		}
	}
	if len(retried) == 0 {
		t.Fatalf("no transaction was retried")
	}
	if n, _ := store.MySQLErrorNumber(retried[0]); n != 1213 {
		t.Errorf("retried for %v, want a deadlock (1213)", retried[0])
	}
	// Each transaction's two updates landed once.
	for _, name := range []string{"a", "b"} {
		var v string
		s.DB.NewRaw("SELECT value FROM settings WHERE name = ?", name).Scan(ctx, &v)
		if strings.Count(v, name) != 2 {
			t.Errorf("setting %s = %q, want two %q", name, v, name)
		}
	}
}

// A transaction that is not a conflict is not run again.
func TestTransactionNotRetriedForOtherErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		runs := 0
		boom := errors.New("boom")
		err := s.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error { runs++; return boom })
		if !errors.Is(err, boom) || runs != 1 {
			t.Errorf("err %v after %d runs, want boom after 1", err, runs)
		}
	})
}

// SQLite answers a writer that finds the database locked with SQLITE_BUSY;
// that real error is one inTx retries.
func TestSQLiteBusyIsRetryable(t *testing.T) {
	u := storetest.URL(t, store.SQLite)
	s, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second connection with no busy timeout, so it fails at once.
	raw, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(u, "sqlite:")+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "UPDATE settings SET value = value"); err != nil {
				return err
			}
			select {
			case <-held:
			default:
				close(held)
			}
			<-release
			return nil
		})
	}()
	<-held
	_, busyErr := raw.Exec("BEGIN IMMEDIATE")
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if busyErr == nil {
		t.Fatalf("a second writer got the lock")
	}
	if !store.IsRetryable(busyErr) {
		t.Errorf("IsRetryable(%v) = false", busyErr)
	}
	if store.IsRetryable(errors.New("no such table: x")) {
		t.Errorf("an ordinary error is retryable")
	}
}
