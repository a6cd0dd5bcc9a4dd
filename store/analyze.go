package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
)

// analyzedTables are the tables whose statistics the list, search and
// dashboard queries depend on.
var analyzedTables = []string{
	"users", "contacts", "contact_terms", "deals", "deal_terms", "deal_stage_log",
	"notes", "activities", "deal_month_totals", "activity_day_totals",
}

// Analyze gathers the query planner's statistics. Call it after migrations,
// after seeding and after large imports.
//
// SQLite has none until ANALYZE runs, and then guesses: it took an index on
// team_id for a lookup by primary key and scanned the whole team. The
// queries that matter carry index hints (indexHint) and their plans are
// asserted in explain_test.go with and without statistics; the statistics
// are for everything else. analysis_limit keeps ANALYZE to a sample of each
// index (milliseconds at a million rows), so it is cheap enough for every
// start. On MySQL InnoDB keeps persistent statistics on its own; ANALYZE
// TABLE refreshes them after a bulk load.
func (s *Store) Analyze(ctx context.Context) error {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("analyze: get connection: %w", err)
	}
	defer conn.Close()
	if s.Dialect == MySQL {
		if _, err := conn.ExecContext(ctx, "ANALYZE TABLE "+strings.Join(analyzedTables, ", ")); err != nil {
			return fmt.Errorf("analyze tables: %w", err)
		}
		return nil
	}
	// The samples are read once: through a 1 MiB page cache (as
	// readChunk's), not the connection's 32 MiB, which they filled at every
	// start (a server on a million contacts began at 134 MB, round 7).
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -1024"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+sqliteCacheSize); err != nil {
			// The connection would keep the small cache: drop it from the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	for _, stmt := range []string{"PRAGMA analysis_limit = 1000", "ANALYZE", "PRAGMA optimize"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("analyze: %s: %w", stmt, err)
		}
	}
	return nil
}
