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
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	only := flag.String("only", "", "run only scenarios whose name contains this")
	flag.Parse()
	if err := run(*base, *dbURL, *email, *password, *clients, *requests, *depth, *only); err != nil {
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

func run(base, dbURL, email, password string, clients, requests, depth int, only string) error {
	ctx := context.Background()
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
	var scenarios []scenario
	scenarios = append(scenarios, scenario{"contacts first page (name)", get("/contacts")})
	for _, sortKey := range store.ContactSorts {
		scenarios = append(scenarios, scenario{"contacts first page sort=" + sortKey, get("/contacts?sort=" + sortKey + "&dir=asc")})
	}
	if st != nil {
		for _, sortKey := range store.ContactSorts {
			for _, desc := range []bool{false, true} {
				cur, err := st.ListCursorAt(ctx, "contacts", teamID, store.ViewAll, userID, sortKey, desc, depth*store.PageSize-1)
				if err != nil {
					return fmt.Errorf("cursor for %s: %w", sortKey, err)
				}
				dir := map[bool]string{false: "asc", true: "desc"}[desc]
				scenarios = append(scenarios, scenario{fmt.Sprintf("contacts %d pages deep sort=%s %s", depth, sortKey, dir),
					get("/contacts?sort=" + sortKey + "&dir=" + dir + "&cursor=" + url.QueryEscape(cur))})
			}
		}
		deepDeals := 6000
		cur, err := st.ListCursorAt(ctx, "deals", teamID, store.ViewAll, userID, "amount", true, deepDeals*store.PageSize-1)
		if err != nil {
			return err
		}
		scenarios = append(scenarios, scenario{fmt.Sprintf("deals %d pages deep sort=amount desc", deepDeals),
			get("/deals?sort=amount&dir=desc&cursor=" + url.QueryEscape(cur))})
	}
	scenarios = append(scenarios,
		scenario{"deals first page (name)", get("/deals")},
		scenario{"search common word (müller)", get("/contacts?q=" + url.QueryEscape("müller"))},
		scenario{"search common word (schmidt)", get("/contacts?q=schmidt")},
		scenario{"search two words (anna müller)", get("/contacts?q=" + url.QueryEscape("anna müller"))},
		scenario{"search rare word (brenneranalytics)", get("/contacts?q=brenneranalytics")},
		scenario{"search phone digits (1711)", get("/contacts?q=1711")},
		scenario{"inline save", inlineSave(base, cs)},
	)
	fmt.Printf("%d clients, %d requests per scenario, against %s\n\n", clients, requests, base)
	fmt.Printf("| scenario | p50 | p95 | p99 | req/s | errors |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, sc := range scenarios {
		if only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		res := measure(cs, sc, requests)
		fmt.Printf("| %s | %s | %s | %s | %.0f | %d |\n", sc.name, ms(res.p(50)), ms(res.p(95)), ms(res.p(99)), res.rate, res.errors)
	}
	return nil
}

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
				if resp.StatusCode != 200 {
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

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
