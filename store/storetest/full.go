package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"sherpa/store"
)

// FillSQLite makes a SQLite store full, the way a full disk does: the
// database may not grow past its current pages (max_page_count), and the
// free space left in them is used up, so the next write that needs room
// fails with SQLITE_FULL. The pool is kept to one connection, since the cap
// is a setting of the connection.
func FillSQLite(t testing.TB, s *store.Store) {
	t.Helper()
	if s.Dialect != store.SQLite {
		t.Fatalf("FillSQLite on %s", s.Dialect)
	}
	ctx := context.Background()
	s.DB.DB.SetMaxOpenConns(1)
	var pages int
	if err := s.DB.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{8 << 10, 1 << 10, 128, 8, 1} {
		for i := 0; ; i++ {
			var b [8]byte
			rand.Read(b[:])
			_, err := s.DB.ExecContext(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)",
				"filler-"+hex.EncodeToString(b[:]), strings.Repeat("x", size))
			if err != nil {
				if !store.IsUnavailable(err) {
					t.Fatalf("filling the database: %v", err)
				}
				break
			}
			if i > 100000 {
				t.Fatal("the database does not fill up")
			}
		}
	}
}
