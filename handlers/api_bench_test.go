package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
	"sherpa/webhook"
)

var newKeyRe = regexp.MustCompile(`value="(sherpa_[A-Za-z0-9_-]+)"`)

// BenchmarkAPIvsTable compares the API's list and get with the HTML table
// fragments that run the same store queries, over real HTTP, on a seeded
// team of 100,000 contacts and 20,000 deals. SHERPA_BENCH_API_URL names the
// database (MySQL or SQLite); a database without the team is seeded first:
//
//	SHERPA_BENCH_API_URL=mysql://root@127.0.0.1:3306/sherpa_api_bench \
//	  go test ./handlers -run '^$' -bench APIvsTable -benchtime 300x -timeout 1h
//	SHERPA_BENCH_API_URL=sqlite:/tmp/sherpa_api_bench.db go test ./handlers -run '^$' -bench APIvsTable -benchtime 300x -timeout 1h
func BenchmarkAPIvsTable(b *testing.B) {
	raw := os.Getenv("SHERPA_BENCH_API_URL")
	if raw == "" {
		b.Skip("set SHERPA_BENCH_API_URL to a database for the API benchmark (seeded on first use)")
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
	const ownerEmail = "api-bench@sherpa.test"
	owner, err := st.UserByEmail(ctx, ownerEmail)
	if err != nil {
		began := time.Now()
		if _, err := st.Seed(ctx, store.SeedOptions{
			TeamName: "API Bench", OwnerEmail: ownerEmail, Contacts: 100_000, Deals: 20_000, NoSecondTeam: true,
			PasswordHash: handlers.HashPassword(handlers.PasswordParams{Memory: 64, Time: 1, Threads: 1}, "unused password"),
			Rand:         rand.New(rand.NewPCG(14, 14)),
		}); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded in %s", time.Since(began).Round(time.Second))
		if owner, err = st.UserByEmail(ctx, ownerEmail); err != nil {
			b.Fatal(err)
		}
	}
	base, hc := benchViewer(b, st, owner.TeamID, "API Bench Viewer")
	// The viewer makes a key on the profile page.
	req, _ := http.NewRequest("POST", base+"/profile/api-keys", strings.NewReader("name=bench&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := newKeyRe.FindSubmatch(page)
	if m == nil {
		b.Fatalf("no key on the profile page: %d", resp.StatusCode)
	}
	token := string(m[1])
	api := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	get := func(c *http.Client, path string, headers ...string) []byte {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Error(err)
			return nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s: %d %.300s", path, resp.StatusCode, body)
		}
		return body
	}
	html := func(path string) func() { return func() { get(hc, path, "HX-Request", "true") } }
	json := func(path string) func() { return func() { get(api, "/api/v1"+path, "Authorization", "Bearer "+token) } }
	// A deep page: ten pages in by the API's cursors (the same cursors the
	// table's Next links carry).
	cursor := ""
	for range 10 {
		var l struct{ Next string }
		if err := jsonUnmarshal(get(api, "/api/v1/contacts?sort=company&cursor="+cursor, "Authorization", "Bearer "+token), &l); err != nil {
			b.Fatal(err)
		}
		cursor = l.Next
	}
	var first struct {
		Data []struct{ ID int64 }
	}
	jsonUnmarshal(get(api, "/api/v1/contacts", "Authorization", "Bearer "+token), &first)
	var deals struct {
		Data []struct{ ID int64 }
	}
	jsonUnmarshal(get(api, "/api/v1/deals", "Authorization", "Bearer "+token), &deals)
	cid, did := first.Data[0].ID, deals.Data[0].ID
	for _, c := range []struct {
		name       string
		table, api func()
	}{
		{"contacts_first_page", html("/contacts"), json("/contacts")},
		{"contacts_sorted_desc", html("/contacts?sort=updated&dir=desc"), json("/contacts?sort=updated&dir=desc")},
		{"contacts_page_11", html("/contacts?sort=company&cursor=" + cursor), json("/contacts?sort=company&cursor=" + cursor)},
		{"contacts_search", html("/contacts?q=smith"), json("/contacts?q=smith")},
		{"deals_first_page", html("/deals?sort=amount&dir=desc"), json("/deals?sort=amount&dir=desc")},
		{"contact_get", html(fmt.Sprintf("/contacts/%d/row", cid)), json(fmt.Sprintf("/contacts/%d", cid))},
		{"deal_get", html(fmt.Sprintf("/deals/%d/row", did)), json(fmt.Sprintf("/deals/%d", did))},
	} {
		c.table()
		c.api()
		// Interleaved, so both see the same load on a busy machine.
		b.Run(c.name, func(b *testing.B) {
			var tt, at []time.Duration
			for range b.N {
				start := time.Now()
				c.table()
				tt = append(tt, time.Since(start))
				start = time.Now()
				c.api()
				at = append(at, time.Since(start))
			}
			quantiles(b, "table", tt)
			quantiles(b, "api", at)
		})
	}
}

// quantiles reports p50 and p95 of times under a name.
func quantiles(b *testing.B, name string, times []time.Duration) {
	slices.Sort(times)
	ms := func(q float64) float64 { return float64(times[int(q*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), name+"-p50-ms")
	b.ReportMetric(ms(0.95), name+"-p95-ms")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// BenchmarkWebhookFanout drives 100 changes a second (contacts created
// through the store's write method, each announced in its transaction) for
// b.N changes, to endpoints on a local receiver, with the webhook worker
// running as in production, and reports the delivery latency from the
// change's commit to its arrival (p50, p95, max) and the deliveries per
// second. On a fresh database of each kind (MySQL with
// SHERPA_TEST_MYSQL_URL):
//
//	SHERPA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ go test ./handlers -run '^$' -bench WebhookFanout -benchtime 1000x
func BenchmarkWebhookFanout(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, endpoints := range []int{0, 1, 3} {
			b.Run(fmt.Sprintf("%s/%d_endpoints", d, endpoints), func(b *testing.B) {
				st := storetest.Open(b, d)
				fanout(b, st, endpoints)
			})
		}
	}
}

func fanout(b *testing.B, st *store.Store, endpoints int) {
	ctx := context.Background()
	owner, err := st.CreateUser(ctx, "Fan Owner", fmt.Sprintf("fan-%d@example.com", time.Now().UnixNano()), "x")
	if err != nil {
		b.Fatal(err)
	}
	team, err := st.CreateTeam(ctx, owner.ID, "Fan")
	if err != nil {
		b.Fatal(err)
	}
	owner.TeamID, owner.Role = team.ID, store.RoleOwner
	var mu sync.Mutex
	var lat []time.Duration
	got := 0
	done := make(chan struct{})
	want := b.N * endpoints
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Data struct {
				Contact struct {
					CreatedAt time.Time `json:"created_at"`
				} `json:"contact"`
			} `json:"data"`
		}
		json.NewDecoder(r.Body).Decode(&ev)
		d := time.Since(ev.Data.Contact.CreatedAt)
		mu.Lock()
		lat = append(lat, d)
		got++
		if got == want {
			close(done)
		}
		mu.Unlock()
	}))
	defer srv.Close()
	if want == 0 {
		close(done) // the baseline: the writes alone
	}
	for i := range endpoints {
		if _, err := st.CreateWebhookEndpoint(ctx, team.ID, owner, fmt.Sprintf("%s/hook/%d", srv.URL, i), []string{store.EventContactCreated}); err != nil {
			b.Fatal(err)
		}
	}
	w := webhook.NewWorker(st, webhook.Config{AllowPrivate: true}, zerolog.Nop())
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { w.Run(wctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	b.ResetTimer()
	began := time.Now()
	tick := time.NewTicker(10 * time.Millisecond) // 100 changes a second
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range b.N {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.CreateContact(ctx, team.ID, owner, store.ContactInput{Name: "Fan", Email: fmt.Sprintf("fan%d@example.com", i)}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	writes := time.Since(began)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d deliveries arrived", got, want)
	}
	wall := time.Since(began)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(b.N)/writes.Seconds(), "changes/s")
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
	b.ReportMetric(ms(1), "max-ms")
	b.ReportMetric(float64(want)/wall.Seconds(), "deliveries/s")
}
