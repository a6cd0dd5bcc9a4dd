package store_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sherpa/store"
)

// Benchmarks run against a database that already holds a big seeded team,
// named by SHERPA_BENCH_URL (or SHERPA_BENCH_MYSQL_URL), MySQL/MariaDB or
// SQLite, for example
//
//	SHERPA_BENCH_URL=mysql://root@127.0.0.1:3306/sherpa_bench
//	SHERPA_BENCH_URL=sqlite:/tmp/sherpa_bench.db
//
// Fill it once (1,000,000 contacts and 200,000 deals by default) with
//
//	SHERPA_BENCH_SEED=1 SHERPA_BENCH_URL=… go test ./store -run '^$' -bench BenchmarkSeedDatabase -benchtime 1x -timeout 2h
//
// then
//
//	SHERPA_BENCH_URL=… go test ./store -run '^$' -bench . -benchtime 200x
const benchEnv = "SHERPA_BENCH_URL"

// benchURL is the benchmark database's URL, "" when none is set.
func benchURL() string {
	if v := os.Getenv(benchEnv); v != "" {
		return v
	}
	return os.Getenv("SHERPA_BENCH_MYSQL_URL")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSeedDatabase creates (if needed) and fills the benchmark
// database once (run it with -benchtime 1x); it is a benchmark so that the
// normal test run never sees it.
func BenchmarkSeedDatabase(b *testing.B) {
	if os.Getenv("SHERPA_BENCH_SEED") != "1" {
		b.Skip("set SHERPA_BENCH_SEED=1 and " + benchEnv + " to seed the benchmark database")
	}
	raw := benchURL()
	if raw == "" {
		b.Fatal(benchEnv + " is not set")
	}
	if strings.HasPrefix(raw, "mysql://") {
		u, err := url.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		pass, _ := u.User.Password()
		admin, err := sql.Open("mysql", u.User.Username()+":"+pass+"@tcp("+u.Host+")/")
		if err != nil {
			b.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE DATABASE IF NOT EXISTS `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	s, err := store.Open(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	last := map[string]time.Time{}
	res, err := s.Seed(ctx, store.SeedOptions{
		OwnerEmail: "bench@sherpa.test", TeamName: "Bench Sales", PasswordHash: "not-a-login",
		Contacts: envInt("SHERPA_BENCH_CONTACTS", 1_000_000), Deals: envInt("SHERPA_BENCH_DEALS", 200_000),
		Members: 6, Rand: rand.New(rand.NewPCG(1, 2)),
		Progress: func(stage string, done, total int) {
			if time.Since(last[stage]) > 10*time.Second || done == total {
				last[stage] = time.Now()
				b.Logf("%6.1fs %s %d/%d", time.Since(began).Seconds(), stage, done, total)
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded team %d (%d contacts, %d deals, %d stage log rows, %d notes, %d activities) and team %d in %s",
		res.TeamID, res.Contacts, res.Deals, res.StageLogs, res.Notes, res.Activities, res.Second.TeamID, time.Since(began).Round(time.Second))
}

// bench is the benchmark database with its big team, opened once.
var bench struct {
	once   sync.Once
	s      *store.Store
	teamID int64
	user   *store.User
	err    error
}

func benchStore(b *testing.B) (*store.Store, int64, *store.User) {
	b.Helper()
	raw := benchURL()
	if raw == "" {
		b.Skip("set " + benchEnv + " to a seeded database (see BenchmarkSeedDatabase)")
	}
	bench.once.Do(func() {
		ctx := context.Background()
		if bench.s, bench.err = store.Open(ctx, raw); bench.err != nil {
			return
		}
		// SHERPA_BENCH_ANALYZE=1 gathers the planner's statistics first (a
		// database seeded before Seed did so has none).
		if os.Getenv("SHERPA_BENCH_ANALYZE") == "1" {
			if bench.err = bench.s.Analyze(ctx); bench.err != nil {
				return
			}
		}
		email := os.Getenv("SHERPA_BENCH_OWNER")
		if email == "" {
			email = "bench@sherpa.test"
		}
		if bench.user, bench.err = bench.s.UserByEmail(ctx, email); bench.err == nil {
			bench.teamID = bench.user.TeamID
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.s, bench.teamID, bench.user
}

// measure runs op b.N times and reports the median and 95th percentile
// latency besides ns/op.
func measure(b *testing.B, op func() error) {
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

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// benchPages is how many pages deep the deep-page benchmarks go: 30,000
// (row 750,000) by default, SHERPA_BENCH_PAGES for a smaller database. The
// owner views go a tenth of that, deals a fifth.
var benchPages = envInt("SHERPA_BENCH_PAGES", 30_000)

// deepOffset is benchPages pages of 25 rows in.
var deepOffset = benchPages * store.PageSize

func BenchmarkContactList(b *testing.B) {
	s, teamID, user := benchStore(b)
	ctx := context.Background()
	for _, sortKey := range store.ContactSorts {
		for _, desc := range []bool{false, true} {
			q := store.ContactQuery{Sort: sortKey, Desc: desc}
			b.Run("first/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
				measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			})
			b.Run("deep/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
				cur, err := s.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, 0, sortKey, desc, deepOffset-1)
				if err != nil {
					b.Fatal(err)
				}
				q := q
				q.Cursor = cur
				p, err := s.ListContacts(ctx, teamID, q)
				if err != nil || len(p.Rows) != store.PageSize {
					b.Fatalf("deep page: %d rows, %v", len(p.Rows), err)
				}
				measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			})
		}
	}
	for _, view := range []string{store.ViewMine, store.ViewUnassigned} {
		for _, sortKey := range []string{"name", "status", "updated"} {
			q := store.ContactQuery{View: view, UserID: user.ID, Sort: sortKey}
			b.Run(view+"/first/"+sortKey, func(b *testing.B) {
				measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			})
			b.Run(view+"/deep/"+sortKey, func(b *testing.B) {
				// The views hold 100,000–300,000 rows at 1M: go 3,000 pages in.
				cur, err := s.ListCursorAt(ctx, "contacts", teamID, view, user.ID, sortKey, false, benchPages/10*store.PageSize-1)
				if err != nil {
					b.Fatal(err)
				}
				q := q
				q.Cursor = cur
				measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			})
		}
	}
	// Previous from a deep page.
	b.Run("deep-prev/name", func(b *testing.B) {
		cur, err := s.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, 0, "name", false, deepOffset-1)
		if err != nil {
			b.Fatal(err)
		}
		p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Sort: "name", Cursor: cur})
		if err != nil {
			b.Fatal(err)
		}
		q := store.ContactQuery{Sort: "name", Cursor: p.Prev}
		measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
	})
}

// Search terms of the seeded data: "anna" is the most common first name,
// "müller" and "schmidt" are last names
// (about 6,000 term rows each, just above the rare-word cap: the worst case
// of the walking plan), "com" is the domain of a third of the emails, "a"
// starts 40% of all terms, "laura kowalczyk" is a rare pair, "brenner
// analytics" a company, "356.434" a phone prefix, "anna müller" two common
// words with few contacts having both.
var benchSearches = []string{"anna", "müller", "schmidt", "com", "a", "laura kowalczyk", "brenneranalytics", "356.434", "+31 6 947", "anna müller", "zz"}

func BenchmarkContactSearch(b *testing.B) {
	s, teamID, _ := benchStore(b)
	ctx := context.Background()
	for _, term := range benchSearches {
		for _, sortKey := range []string{"name", "updated"} {
			q := store.ContactQuery{Search: term, Sort: sortKey}
			b.Run(strings.ReplaceAll(term, " ", "_")+"/"+sortKey, func(b *testing.B) {
				p, err := s.ListContacts(ctx, teamID, q)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(p.Rows)), "rows")
				measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			})
		}
	}
	// The second page of a common word.
	b.Run("müller/name/page2", func(b *testing.B) {
		p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Search: "müller"})
		if err != nil {
			b.Fatal(err)
		}
		q := store.ContactQuery{Search: "müller", Cursor: p.Next}
		measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
	})
}

func BenchmarkDealList(b *testing.B) {
	s, teamID, user := benchStore(b)
	ctx := context.Background()
	for _, sortKey := range store.DealSorts {
		q := store.DealQuery{Sort: sortKey}
		b.Run("first/"+sortKey, func(b *testing.B) {
			measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
		})
		b.Run("deep/"+sortKey, func(b *testing.B) {
			// 200,000 deals at 1M contacts: 6,000 pages in.
			cur, err := s.ListCursorAt(ctx, "deals", teamID, store.ViewAll, 0, sortKey, true, benchPages/5*store.PageSize-1)
			if err != nil {
				b.Fatal(err)
			}
			q := store.DealQuery{Sort: sortKey, Desc: true, Cursor: cur}
			measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
		})
	}
	b.Run("mine/first/close_date", func(b *testing.B) {
		q := store.DealQuery{View: store.ViewMine, UserID: user.ID, Sort: "close_date"}
		measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
	})
	for _, term := range []string{"renewal", "acme", "laura kowalczyk"} {
		q := store.DealQuery{Search: term}
		b.Run("search/"+strings.ReplaceAll(term, " ", "_"), func(b *testing.B) {
			measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
		})
	}
}

// BenchmarkContactSave is an inline save: load the row, change its name
// (which rewrites its search terms and the name indexes), save.
func BenchmarkContactSave(b *testing.B) {
	s, teamID, user := benchStore(b)
	ctx := context.Background()
	p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Sort: "updated"})
	if err != nil {
		b.Fatal(err)
	}
	ids := contactIDs(p.Rows)
	i := 0
	measure(b, func() error {
		id := ids[i%len(ids)]
		i++
		c, err := s.ContactByID(ctx, teamID, id)
		if err != nil {
			return err
		}
		name := c.Name
		if strings.HasSuffix(name, " Jr") {
			name = strings.TrimSuffix(name, " Jr")
		} else {
			name += " Jr"
		}
		_, err = s.UpdateContact(ctx, teamID, user, id, c.Version, store.ContactInput{
			Name: name, Email: c.Email, Phone: c.Phone, Company: c.Company, Status: c.Status, OwnerID: c.OwnerID,
		})
		return err
	})
}

// BenchmarkContactListParallel runs first and deep pages under every sort
// and the searches from 8 goroutines, as 8 concurrent clients would, and
// reports latency percentiles for pages and searches apart.
func BenchmarkContactListParallel(b *testing.B) {
	s, teamID, _ := benchStore(b)
	ctx := context.Background()
	type job struct {
		q      store.ContactQuery
		search bool
	}
	var jobs []job
	for _, sortKey := range store.ContactSorts {
		cur, err := s.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, 0, sortKey, false, deepOffset-1)
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, job{q: store.ContactQuery{Sort: sortKey}}, job{q: store.ContactQuery{Sort: sortKey, Cursor: cur}})
	}
	for _, term := range benchSearches {
		jobs = append(jobs, job{q: store.ContactQuery{Search: term}, search: true})
	}
	var mu sync.Mutex
	var pages, searches []time.Duration
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var p, sr []time.Duration
		i := rand.IntN(len(jobs))
		for pb.Next() {
			j := jobs[i%len(jobs)]
			i++
			start := time.Now()
			if _, err := s.ListContacts(ctx, teamID, j.q); err != nil {
				b.Error(err)
				return
			}
			if j.search {
				sr = append(sr, time.Since(start))
			} else {
				p = append(p, time.Since(start))
			}
		}
		mu.Lock()
		pages, searches = append(pages, p...), append(searches, sr...)
		mu.Unlock()
	})
	b.StopTimer()
	for _, m := range []struct {
		name  string
		times []time.Duration
	}{{"page", pages}, {"search", searches}} {
		if len(m.times) == 0 {
			continue
		}
		slices.Sort(m.times)
		b.ReportMetric(float64(m.times[len(m.times)/2].Microseconds())/1000, m.name+"-p50-ms")
		b.ReportMetric(float64(m.times[len(m.times)*95/100].Microseconds())/1000, m.name+"-p95-ms")
	}
}
