// Command loadtest measures Sherpa's table pages over HTTP the way the
// contacts-and-deals issue asks: N concurrent clients (8 by default) on one
// running instance, each scenario a fixed number of requests, reporting
// p50/p95/p99 latency and throughput. Deep-page cursors are computed once
// from the database (store.ListCursorAt) so no client walks 30,000 pages.
//
//	go run ./loadtest -url http://127.0.0.1:8090 \
//	  -db mysql://root@127.0.0.1:3306/sherpa_bench \
//	  -email bench@sherpa.test -password bench-password-1
//
// It sends traffic only to the URL given (use a local instance).
//
// Both databases: -db takes either URL form, so the same run works on the
// embedded SQLite file the instance serves (WAL lets both open it):
//
//	go run . --database-url sqlite:/tmp/sherpa_bench.db --addr 127.0.0.1:8090 &
//	go run ./loadtest -db sqlite:/tmp/sherpa_bench.db -set-password -save sqlite-before.json
//
// -set-password gives the login user the -password first (databases filled
// by the store's benchmark seeder have no usable login). -save writes the
// results as JSON; -baseline reads such a file and prints each scenario
// beside it, before and after in one table.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sherpa/handlers"
	"sherpa/store"
)

type scenario struct {
	name string
	// request builds the i-th request of a client; it may do untimed
	// preparation first (the inline save reads the row's version).
	request func(c *http.Client, worker, i int) (*http.Request, error)
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8090", "running Sherpa instance")
	dbURL := flag.String("db", "", "its database URL, to compute deep-page cursors")
	email := flag.String("email", "bench@sherpa.test", "login")
	password := flag.String("password", "bench-password-1", "password")
	clients := flag.Int("c", 8, "concurrent clients")
	requests := flag.Int("n", 400, "requests per scenario")
	depth := flag.Int("depth", 30000, "pages deep for the deep-page scenarios")
	only := flag.String("only", "", "run only scenarios whose name contains this (or one of these, separated by |)")
	setPassword := flag.Bool("set-password", false, "first set the login user's password to -password (needs -db)")
	save := flag.String("save", "", "write the results as JSON to this file")
	baseline := flag.String("baseline", "", "compare against results saved earlier with -save")
	soakFor := flag.Duration("for", 0, "instead of one scenario after another: send them mixed for this long (at most -n requests in all) and print the totals")
	warm := flag.Duration("warm", 0, "before timing each scenario, send its request untimed from one client for this long (a cache warmed in the background)")
	writeEvery := flag.Duration("write-every", 0, "meanwhile, edit a contact's status every this long through the store (needs -db): a write of no search term by another instance, as the demo's next steps are")
	writeTerms := flag.Bool("write-terms", false, "with -write-every: edit the contact's company instead of its status, a write that changes search terms")
	flag.Parse()
	o := options{setPassword: *setPassword, save: *save, baseline: *baseline, soak: *soakFor, warm: *warm, writeEvery: *writeEvery, writeTerms: *writeTerms}
	if err := run(*base, *dbURL, *email, *password, *clients, *requests, *depth, *only, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func login(base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login as %s: status %d", email, resp.StatusCode)
	}
	return c, nil
}

// options are the flags around a run.
type options struct {
	setPassword    bool
	save, baseline string
	soak           time.Duration
	warm           time.Duration
	writeEvery     time.Duration
	writeTerms     bool
}

// saved is one scenario's result in a -save file.
type saved struct {
	Scenario string  `json:"scenario"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	Rate     float64 `json:"req_s"`
	Errors   int64   `json:"errors"`
}

func run(base, dbURL, email, password string, clients, requests, depth int, only string, o options) error {
	ctx := context.Background()
	if o.setPassword {
		if dbURL == "" {
			return fmt.Errorf("-set-password needs -db")
		}
		st, err := store.Open(ctx, dbURL)
		if err != nil {
			return err
		}
		u, err := st.UserByEmail(ctx, email)
		if err == nil {
			err = st.UpdatePasswordHash(ctx, u.ID, handlers.HashPassword(handlers.DefaultPasswordParams, password))
		}
		st.Close()
		if err != nil {
			return fmt.Errorf("set the password of %s: %w", email, err)
		}
	}
	var before map[string]saved
	if o.baseline != "" {
		b, err := os.ReadFile(o.baseline)
		if err != nil {
			return err
		}
		var rows []saved
		if err := json.Unmarshal(b, &rows); err != nil {
			return fmt.Errorf("baseline %s: %w", o.baseline, err)
		}
		before = map[string]saved{}
		for _, r := range rows {
			before[r.Scenario] = r
		}
	}
	cs := make([]*http.Client, clients)
	for i := range cs {
		c, err := login(base, email, password)
		if err != nil {
			return err
		}
		cs[i] = c
	}
	var st *store.Store
	var teamID, userID int64
	if dbURL != "" {
		var err error
		if st, err = store.Open(ctx, dbURL); err != nil {
			return err
		}
		defer st.Close()
		u, err := st.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		teamID, userID = u.TeamID, u.ID
		if o.writeEvery > 0 {
			stop, err := statusWriter(ctx, st, u, o.writeEvery, o.writeTerms)
			if err != nil {
				return err
			}
			defer stop()
		}
	} else if o.writeEvery > 0 {
		return fmt.Errorf("-write-every needs -db")
	}
	get := func(path string) func(*http.Client, int, int) (*http.Request, error) {
		return func(*http.Client, int, int) (*http.Request, error) {
			r, err := http.NewRequest("GET", base+path, nil)
			if err == nil {
				r.Header.Set("HX-Request", "true") // the table fragment, as the page's htmx asks
			}
			return r, err
		}
	}
	// -only: a scenario not asked for is not prepared either.
	wanted := func(name string) bool {
		for _, o := range strings.Split(only, "|") {
			if strings.Contains(name, o) {
				return true
			}
		}
		return false
	}
	// page is a full page, as a browser's navigation asks for it.
	page := func(path string) func(*http.Client, int, int) (*http.Request, error) {
		return func(*http.Client, int, int) (*http.Request, error) { return http.NewRequest("GET", base+path, nil) }
	}
	var scenarios []scenario
	scenarios = append(scenarios, scenario{"contacts first page (name)", get("/contacts")})
	scenarios = append(scenarios, scenario{"contacts full page (name)", page("/contacts")})
	for _, sortKey := range store.ContactSorts {
		scenarios = append(scenarios, scenario{"contacts first page sort=" + sortKey, get("/contacts?sort=" + sortKey + "&dir=asc")})
	}
	if st != nil {
		for _, sortKey := range store.ContactSorts {
			for _, desc := range []bool{false, true} {
				dir := map[bool]string{false: "asc", true: "desc"}[desc]
				name := fmt.Sprintf("contacts %d pages deep sort=%s %s", depth, sortKey, dir)
				if !wanted(name) {
					continue // its cursor takes a while to compute
				}
				cur, err := st.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, userID, sortKey, desc, depth*store.PageSize-1)
				if err != nil {
					return fmt.Errorf("cursor for %s: %w", sortKey, err)
				}
				scenarios = append(scenarios, scenario{name,
					get("/contacts?sort=" + sortKey + "&dir=" + dir + "&cursor=" + url.QueryEscape(cur))})
			}
		}
		deepDeals := depth / 5 // 6,000 pages of 200,000 deals at 1M contacts
		if name := fmt.Sprintf("deals %d pages deep sort=amount desc", deepDeals); wanted(name) {
			cur, err := st.ListCursorAt(ctx, "deals", teamID, store.ViewAll, userID, "amount", true, deepDeals*store.PageSize-1)
			if err != nil {
				return err
			}
			scenarios = append(scenarios, scenario{name, get("/deals?sort=amount&dir=desc&cursor=" + url.QueryEscape(cur))})
		}
		if name := fmt.Sprintf("contacts full page %d pages deep sort=updated desc", depth); wanted(name) {
			cur, err := st.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, userID, "updated", true, depth*store.PageSize-1)
			if err != nil {
				return err
			}
			scenarios = append(scenarios, scenario{name, page("/contacts?sort=updated&dir=desc&cursor=" + url.QueryEscape(cur))})
		}
	}
	scenarios = append(scenarios,
		scenario{"deals first page (name)", get("/deals")},
		scenario{"deals full page (name)", page("/deals")},
		scenario{"dashboard", page("/")},
		scenario{"dashboard poll (304)", dashboardPoll(base)},
		scenario{"search most common first name (anna)", get("/contacts?q=anna")},
		scenario{"search one letter (a)", get("/contacts?q=a")},
		scenario{"search common word (müller)", get("/contacts?q=" + url.QueryEscape("müller"))},
		scenario{"search common word (schmidt)", get("/contacts?q=schmidt")},
		scenario{"search two words (anna müller)", get("/contacts?q=" + url.QueryEscape("anna müller"))},
		scenario{"search rare word (brenneranalytics)", get("/contacts?q=brenneranalytics")},
		scenario{"search phone digits (1711)", get("/contacts?q=1711")},
		scenario{"inline save", inlineSave(base, cs)},
	)
	scenarios = append(scenarios, searchScenarios(ctx, st, teamID, get)...)
	if o.soak > 0 {
		var mixed []scenario
		for _, sc := range scenarios {
			if wanted(sc.name) {
				mixed = append(mixed, sc)
			}
		}
		return soak(cs, mixed, o.soak, requests)
	}
	fmt.Printf("%d clients, %d requests per scenario, against %s, load average %s\n\n", clients, requests, base, loadAvg())
	if before != nil {
		fmt.Printf("| scenario | p50 before → after | p99 before → after | req/s before → after | errors |\n| --- | --- | --- | --- | --- |\n")
	} else {
		fmt.Printf("| scenario | p50 | p95 | p99 | req/s | errors |\n| --- | --- | --- | --- | --- | --- |\n")
	}
	var results []saved
	for _, sc := range scenarios {
		if !wanted(sc.name) {
			continue
		}
		if o.warm > 0 {
			warmUp(cs[0], sc, o.warm)
		}
		res := measure(cs, sc, requests)
		r := saved{Scenario: sc.name, P50: msf(res.p(50)), P95: msf(res.p(95)), P99: msf(res.p(99)), Rate: res.rate, Errors: res.errors}
		results = append(results, r)
		if b, ok := before[sc.name]; ok {
			fmt.Printf("| %s | %.1f → %.1f ms | %.1f → %.1f ms | %.0f → %.0f | %d |\n", sc.name, b.P50, r.P50, b.P99, r.P99, b.Rate, r.Rate, r.Errors)
		} else {
			fmt.Printf("| %s | %s | %s | %s | %.0f | %d |\n", sc.name, ms(res.p(50)), ms(res.p(95)), ms(res.p(99)), res.rate, res.errors)
		}
	}
	fmt.Printf("\nload average after the run: %s\n", loadAvg())
	if o.save != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.save, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// statusWriter edits the status of one of the team's first 50 contacts
// (by creation) every interval until stop, which prints how many it saved:
// each moves the team's list version, as any write of another instance
// does, and changes no search term. With terms it edits the company instead
// (a trailing " 1" put on or taken off), which moves the terms version too.
func statusWriter(ctx context.Context, st *store.Store, actor *store.User, every time.Duration, terms bool) (stop func(), err error) {
	first, err := st.ListContacts(ctx, actor.TeamID, store.ContactQuery{Sort: "created", Limit: 50})
	if err != nil || len(first.Rows) == 0 {
		return nil, fmt.Errorf("status writer: contacts to edit: %v (%d)", err, len(first.Rows))
	}
	done := make(chan struct{})
	finished := make(chan int)
	go func() {
		n := 0
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				finished <- n
				return
			case <-t.C:
			}
			c, err := st.ContactByID(ctx, actor.TeamID, first.Rows[i%len(first.Rows)].ID)
			if err != nil {
				fmt.Fprintln(os.Stderr, "writer:", err)
				continue
			}
			status, company := c.Status, c.Company
			if !terms {
				status = store.ContactStatuses[(slices.Index(store.ContactStatuses, c.Status)+1)%len(store.ContactStatuses)]
			} else if co, ok := strings.CutSuffix(company, " 1"); ok {
				company = co
			} else {
				company += " 1"
			}
			if _, err := st.UpdateContact(ctx, actor.TeamID, actor, c.ID, c.Version, store.ContactInput{Name: c.Name, Email: c.Email,
				Phone: c.Phone, Company: company, Status: status, OwnerID: c.OwnerID}); err != nil {
				fmt.Fprintln(os.Stderr, "writer:", err)
				continue
			}
			n++
		}
	}()
	return func() {
		close(done)
		what := "status"
		if terms {
			what = "company"
		}
		fmt.Printf("writer: %d %s edits, one every %s\n", <-finished, what, every)
	}, nil
}

// loadAvg is the machine's load average (Linux), to print beside a run:
// the machine may be shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var versionRe = regexp.MustCompile(`name="version" value="(\d+)"`)
var rowRe = regexp.MustCompile(`id="contact-(\d+)"`)

// inlineSave has each client save a different contact: it reads the edit row
// for the version (untimed), then the timed PUT saves a changed company.
func inlineSave(base string, cs []*http.Client) func(*http.Client, int, int) (*http.Request, error) {
	ids := map[int]string{}
	var mu sync.Mutex
	return func(c *http.Client, worker, i int) (*http.Request, error) {
		mu.Lock()
		id, ok := ids[worker]
		mu.Unlock()
		if !ok {
			body, err := fetch(c, base+"/contacts?sort=updated&dir=asc&q=gmbh")
			if err != nil {
				return nil, err
			}
			m := rowRe.FindAllStringSubmatch(body, -1)
			if len(m) <= worker {
				return nil, fmt.Errorf("not enough contacts to edit")
			}
			id = m[worker][1]
			mu.Lock()
			ids[worker] = id
			mu.Unlock()
		}
		body, err := fetch(c, base+"/contacts/"+id+"/edit")
		if err != nil {
			return nil, err
		}
		v := versionRe.FindStringSubmatch(body)
		if v == nil {
			return nil, fmt.Errorf("no version in the edit row of %s", id)
		}
		name := regexp.MustCompile(`name="name" value="([^"]*)"`).FindStringSubmatch(body)
		email := regexp.MustCompile(`name="email" type="email" value="([^"]*)"`).FindStringSubmatch(body)
		if name == nil || email == nil {
			return nil, fmt.Errorf("edit row of %s unreadable", id)
		}
		form := url.Values{"version": {v[1]}, "name": {htmlUnescape(name[1])}, "email": {htmlUnescape(email[1])},
			"company": {"Load Test GmbH " + strconv.Itoa(i)}, "status": {"Connected"}, "phone": {"+49 30 555 0101"}}
		r, err := http.NewRequest("PUT", base+"/contacts/"+id, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("HX-Request", "true")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		return r, nil
	}
}

// dashboardPoll is the dashboard's poll as an open dashboard sends it: with
// the ETag of the charts it shows, answered 304 while nothing changed.
func dashboardPoll(base string) func(*http.Client, int, int) (*http.Request, error) {
	etags := map[int]string{}
	var mu sync.Mutex
	return func(c *http.Client, worker, i int) (*http.Request, error) {
		mu.Lock()
		etag, ok := etags[worker]
		mu.Unlock()
		if !ok {
			r, _ := http.NewRequest("GET", base+"/dashboard/charts", nil)
			r.Header.Set("HX-Request", "true")
			resp, err := c.Do(r)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			etag = resp.Header.Get("ETag")
			mu.Lock()
			etags[worker] = etag
			mu.Unlock()
		}
		r, err := http.NewRequest("GET", base+"/dashboard/charts", nil)
		if err == nil {
			r.Header.Set("HX-Request", "true")
			r.Header.Set("If-None-Match", etag)
		}
		return r, err
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

func fetch(c *http.Client, u string) (string, error) {
	r, _ := http.NewRequest("GET", u, nil)
	r.Header.Set("HX-Request", "true")
	resp, err := c.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b), err
}

type result struct {
	lat    []time.Duration
	rate   float64
	errors int64
}

func (r result) p(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat)-1) * q / 100)
	return r.lat[i]
}

func measure(cs []*http.Client, sc scenario, total int) result {
	var next atomic.Int64
	var errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for w, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > total {
					return
				}
				req, err := sc.request(c, w, i)
				if err != nil {
					errs.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := c.Do(req)
				d := time.Since(t0)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 304 {
					errs.Add(1)
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{lat: lat, rate: float64(len(lat)) / time.Since(start).Seconds(), errors: errs.Load()}
}

// warmUp sends the scenario's request from one client, untimed, for d:
// what a cache builds in the background on a first request (the search
// cache's ordered and dense sets) is then in before the timed requests.
func warmUp(c *http.Client, sc scenario, d time.Duration) {
	for end, i := time.Now().Add(d), 0; time.Now().Before(end); i++ {
		req, err := sc.request(c, 0, i)
		if err != nil {
			return
		}
		resp, err := c.Do(req)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
