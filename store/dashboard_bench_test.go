package store_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"sherpa/store"
)

// Dashboard benchmarks run on the seeded benchmark database named by
// SHERPA_BENCH_URL (see bench_test.go). The first run applies the
// dashboard migration there, as the app does at start:
//
//	SHERPA_BENCH_URL=mysql://root@127.0.0.1:3306/sherpa_bench \
//	  go test ./store -run '^$' -bench Dashboard -benchtime 50x
//
// Every iteration runs the SQL: these are the numbers without the handlers'
// per-version chart cache.

var dashBench struct {
	once   sync.Once
	s      *store.Store
	teamID int64
	err    error
}

func dashBenchStore(b *testing.B) (*store.Store, int64) {
	b.Helper()
	raw := benchURL()
	if raw == "" {
		b.Skip("set " + benchEnv + " to a seeded database (see BenchmarkSeedDatabase)")
	}
	dashBench.once.Do(func() {
		ctx := context.Background()
		s, err := store.Open(ctx, raw)
		if err != nil {
			dashBench.err = err
			return
		}
		began := time.Now()
		n, err := s.Migrate(ctx)
		if err != nil {
			dashBench.err = err
			return
		}
		if n > 0 {
			b.Logf("applied %d migrations to the benchmark database in %s", n, time.Since(began).Round(time.Millisecond))
		}
		email := os.Getenv("SHERPA_BENCH_OWNER")
		if email == "" {
			email = "bench@sherpa.test"
		}
		u, err := s.UserByEmail(ctx, email)
		if err != nil {
			dashBench.err = err
			return
		}
		dashBench.s, dashBench.teamID = s, u.TeamID
		for _, table := range []string{"deals", "deal_stage_log", "activities"} {
			var count int
			if err := s.DB.NewSelect().Table(table).Where("team_id = ?", u.TeamID).ColumnExpr("COUNT(*)").Scan(ctx, &count); err == nil {
				b.Logf("team %d: %d rows in %s", u.TeamID, count, table)
			}
		}
		explainDashboard(b, raw, u.TeamID)
		began = time.Now()
		if _, err := s.LoadDashboard(ctx, u.TeamID, time.UTC, time.Now()); err != nil {
			dashBench.err = err
			return
		}
		b.Logf("first dashboard load after opening: %s", time.Since(began).Round(time.Microsecond))
	})
	if dashBench.err != nil {
		b.Fatal(dashBench.err)
	}
	return dashBench.s, dashBench.teamID
}

// sqlRecorder keeps the statements a store runs.
type sqlRecorder struct {
	mu   sync.Mutex
	stmt []string
}

func (r *sqlRecorder) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	r.mu.Lock()
	r.stmt = append(r.stmt, e.Query)
	r.mu.Unlock()
	return ctx
}

func (r *sqlRecorder) AfterQuery(context.Context, *bun.QueryEvent) {}

// explainDashboard logs MySQL's plan of each dashboard query.
func explainDashboard(b *testing.B, raw string, teamID int64) {
	ctx := context.Background()
	s, err := store.Open(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := &sqlRecorder{}
	s.DB.AddQueryHook(rec)
	if _, err := s.LoadDashboard(ctx, teamID, time.UTC, time.Now()); err != nil {
		b.Fatal(err)
	}
	for _, q := range rec.stmt {
		rows, err := s.DB.QueryContext(ctx, "EXPLAIN "+q)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			var parts []string
			for i, c := range cols {
				if v, ok := vals[i].([]byte); ok && len(v) > 0 && c != "id" && c != "possible_keys" && c != "key_len" {
					parts = append(parts, c+"="+string(v))
				}
			}
			lines = append(lines, strings.Join(parts, " "))
		}
		rows.Close()
		b.Logf("EXPLAIN %s\n    %s", strings.Join(strings.Fields(q), " "), strings.Join(lines, "\n    "))
	}
}

// dashMeasure runs op b.N times and reports the median and 95th percentile.
func dashMeasure(b *testing.B, op func() error) {
	b.Helper()
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	ms := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
}

func BenchmarkDashboardQueries(b *testing.B) {
	s, teamID := dashBenchStore(b)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := time.Now()
	queries := []struct {
		name string
		run  func() error
	}{
		{"closed_vs_goal", func() error { _, err := s.ClosedVsGoal(ctx, teamID, loc, now); return err }},
		{"forecast", func() error { _, err := s.Forecast(ctx, teamID, loc, now); return err }},
		{"funnel", func() error { _, err := s.Funnel(ctx, teamID, loc, now); return err }},
		{"team_activity", func() error { _, err := s.TeamActivity(ctx, teamID, loc, now); return err }},
		{"all_four_at_once", func() error { _, err := s.LoadDashboard(ctx, teamID, loc, now); return err }},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) { dashMeasure(b, q.run) })
	}
}

// BenchmarkDashboardPoll is the database side of a poll with nothing new.
func BenchmarkDashboardPoll(b *testing.B) {
	s, teamID := dashBenchStore(b)
	ctx := context.Background()
	dashMeasure(b, func() error { _, err := s.TeamVersion(ctx, teamID); return err })
}
