package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/store"
)

// BenchmarkDashboardHTTP measures the dashboard end to end — session,
// queries, charts, HTML — over real HTTP against a running app on the
// seeded benchmark database named by SHERPA_BENCH_MYSQL_URL (see
// store/bench_test.go):
//
//	SHERPA_BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306/sherpa_bench \
//	  go test ./handlers -run '^$' -bench DashboardHTTP -benchtime 400x
//
// The seeded users cannot log in, so a viewer signs up and is put into the
// big team for the run, and removed after it.
func BenchmarkDashboardHTTP(b *testing.B) {
	raw := os.Getenv("SHERPA_BENCH_MYSQL_URL")
	if raw == "" {
		b.Skip("set SHERPA_BENCH_MYSQL_URL to a seeded database (see store/bench_test.go)")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	owner, err := st.UserByEmail(ctx, "bench@sherpa.test")
	if err != nil {
		b.Fatal(err)
	}
	teamID := owner.TeamID

	base, hc := benchViewer(b, st, teamID, "Dashboard Bench")

	get := func(path string, headers ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Error(err) // Error, not Fatal: get runs on the load goroutines too
			return 0, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified {
			b.Errorf("GET %s: %d\n%.500s", path, resp.StatusCode, body)
		}
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	bump := func(past bool) {
		q := st.DB.NewUpdate().Table("team_changes").Set("version = version + 1").Where("team_id = ?", teamID)
		if past {
			q = q.Set("past_version = past_version + 1")
		}
		if _, err := q.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	get("/") // warm the connection and the team's caches

	// One viewer at a time, right after a change: every request runs the
	// SQL and draws charts.
	b.Run("page_after_any_change", func(b *testing.B) {
		sequential(b, func() { bump(true) }, func() { get("/") })
	})
	b.Run("page_after_change_this_month", func(b *testing.B) {
		sequential(b, func() { bump(false) }, func() { get("/") })
	})
	// Eight viewers at once with nothing new: the charts come from the
	// cache.
	b.Run("page_unchanged_8_clients", func(b *testing.B) {
		concurrent(b, 8, func() { get("/") })
	})
	// Eight open dashboards polling with nothing new: 304s.
	_, etag := get("/dashboard/charts", "HX-Request", "true")
	b.Run("poll_304_1_client", func(b *testing.B) {
		sequential(b, func() {}, func() { get("/dashboard/charts", "HX-Request", "true", "If-None-Match", etag) })
	})
	b.Run("poll_304_8_clients", func(b *testing.B) {
		concurrent(b, 8, func() {
			if code, _ := get("/dashboard/charts", "HX-Request", "true", "If-None-Match", etag); code != http.StatusNotModified {
				b.Errorf("poll answered %d", code)
			}
		})
	})
	// Eight dashboards polling while a teammate writes every 100 ms.
	b.Run("poll_8_clients_writes_every_100ms", func(b *testing.B) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					bump(false)
				}
			}
		}()
		var mu sync.Mutex
		tags := make([]string, 8)
		next := 0
		concurrent(b, 8, func() {
			mu.Lock()
			i := next % 8
			next++
			tag := tags[i]
			mu.Unlock()
			_, newTag := get("/dashboard/charts", "HX-Request", "true", "If-None-Match", tag)
			mu.Lock()
			tags[i] = newTag
			mu.Unlock()
		})
		close(stop)
		<-done
	})
}

// sequential times op b.N times, each after an untimed setup.
func sequential(b *testing.B, setup, op func()) {
	times := make([]time.Duration, 0, b.N)
	for range b.N {
		setup()
		start := time.Now()
		op()
		times = append(times, time.Since(start))
	}
	report(b, times, 0)
}

// concurrent runs op b.N times from n goroutines.
func concurrent(b *testing.B, n int, op func()) {
	var mu sync.Mutex
	times := make([]time.Duration, 0, b.N)
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	began := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				start := time.Now()
				op()
				d := time.Since(start)
				mu.Lock()
				times = append(times, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	report(b, times, time.Since(began))
}

func report(b *testing.B, times []time.Duration, wall time.Duration) {
	slices.Sort(times)
	ms := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	if wall > 0 {
		b.ReportMetric(float64(len(times))/wall.Seconds(), "req/s")
	}
}

// benchViewer serves st over real HTTP and signs up a member of team teamID
// (removed when the benchmark ends); it returns the base URL and the
// member's client.
func benchViewer(b *testing.B, st *store.Store, teamID int64, name string) (string, *http.Client) {
	b.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := handlers.DefaultConfig(mustURL(base))
	cfg.Password = handlers.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	// API benchmarks measure the rate limit's cost, not its refusals.
	cfg.APIRate = store.RatePolicy{Rate: 1_000_000, Burst: 1_000_000}
	app := handlers.New(cfg, st, nil, zerolog.Nop())
	go app.Listener(ln)
	b.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	email := fmt.Sprintf("bench-viewer-%d@sherpa.test", time.Now().UnixNano())
	req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(url.Values{
		"name": {name}, "email": {email}, "password": {"benchmark password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign up the viewer: %v %v", resp, err)
	}
	resp.Body.Close()
	viewer, err := st.UserByEmail(ctx, email)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB.NewUpdate().Model((*store.User)(nil)).Set("team_id = ?", teamID).Set("role = ?", store.RoleMember).
		Where("id = ?", viewer.ID).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		st.DB.NewDelete().Model((*store.User)(nil)).Where("id = ?", viewer.ID).Exec(context.Background())
	})
	return base, hc
}
