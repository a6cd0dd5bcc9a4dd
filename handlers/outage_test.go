package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// outageApp is the app on MariaDB behind a proxy the test can break, with a
// one-second database deadline.
func outageApp(t *testing.T) (*testApp, *proxy) {
	t.Helper()
	u, _ := url.Parse(storetest.URL(t, store.MySQL))
	p := startProxy(t, u.Host)
	u.Host = p.addr
	u.RawQuery = "timeout=1s" // the driver's read timeout stays at its default (minutes)
	st, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.DBTimeout = time.Second
	return newApp(t, st, nil, cfg), p
}

// answered runs a request and returns its response, failing the test if it
// is still waiting after a minute: with the database frozen and no deadline
// it would wait until the database came back, which in these tests is never
// before the request returns.
func answered(t *testing.T, do func() *response) *response {
	t.Helper()
	done := make(chan *response, 1)
	go func() { done <- do() }()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatal("no answer while the database is frozen: the request has no deadline")
		return nil
	}
}

// expectOutage checks the answer users get while the database is away.
func expectOutage(t *testing.T, what string, r *response) {
	t.Helper()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d, want 503\n%.1500s", what, r.StatusCode, r.body)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("%s: 503 with Location %q", what, loc)
	}
	msg := r.text(t, "[data-testid=error-page]")
	if !strings.Contains(msg, "database") || !strings.Contains(msg, "nothing was saved") {
		t.Errorf("%s: message %q", what, msg)
	}
}

// writer adds contacts one after another until stopped and remembers the
// ones it was told were saved.
type writer struct {
	mu       sync.Mutex
	acked    []string
	statuses map[int]int
	stop     chan struct{}
	done     chan struct{}
}

func startWriter(c *client) *writer {
	w := &writer{statuses: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			name := fmt.Sprintf("Acked %d", i)
			r := c.post("/contacts", form("name", name, "email", fmt.Sprintf("acked%d@example.com", i)))
			w.mu.Lock()
			w.statuses[r.StatusCode]++
			if r.StatusCode == http.StatusSeeOther {
				w.acked = append(w.acked, name)
			}
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

// waitForAck waits until the writer has had one more contact saved.
func (w *writer) waitForAck(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	n := len(w.acked)
	w.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		more := len(w.acked) > n
		w.mu.Unlock()
		if more {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no contact was saved after the database came back")
}

func (w *writer) finish() {
	close(w.stop)
	<-w.done
}

// The database freezes, is killed and restarted, and refuses connections,
// while a user keeps adding contacts: every request answers 503 within the
// deadline with the outage message (the login too, without a redirect),
// /readyz reports it, the log has a line per burst rather than per request,
// the app recovers by itself, and every contact acknowledged is there.
func TestDatabaseOutagesAnswer503AndLoseNoAcknowledgedWrite(t *testing.T) {
	a, p := outageApp(t)
	owner, email := a.owner("Olga", "Acme")
	reader, _ := a.member(owner, "Rudi")
	team := a.user(email).TeamID
	w := startWriter(owner)

	outage := func(name string, breakIt, heal func()) {
		t.Run(name, func(t *testing.T) {
			breakIt()
			expectOutage(t, "list", answered(t, func() *response { return reader.get("/contacts") }))
			r := answered(t, func() *response { return reader.get("/contacts", "HX-Request", "true") })
			expectOutage(t, "htmx list", r)
			if strings.Contains(r.body, "<html") {
				t.Errorf("htmx outage answer is a whole page")
			}
			expectOutage(t, "add contact", answered(t, func() *response {
				return reader.post("/contacts", form("name", "Never", "email", "never@example.com"))
			}))
			expectOutage(t, "login", answered(t, func() *response {
				return a.client().post("/login", form("email", email, "password", testPassword))
			}))
			expectStatus(t, answered(t, func() *response { return reader.get("/readyz") }), http.StatusServiceUnavailable)
			// A burst of parallel requests is logged once, not once each.
			before := strings.Count(a.logs.String(), "database unavailable")
			var wg sync.WaitGroup
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reader.get("/contacts")
				}()
			}
			wg.Wait()
			if n := strings.Count(a.logs.String(), "database unavailable") - before; n > 2 {
				t.Errorf("%d log lines for a burst of 12 failed requests", n)
			}
			heal()
			waitReady(t, reader)
			expectStatus(t, reader.get("/contacts"), http.StatusOK)
			w.waitForAck(t)
		})
	}
	outage("frozen", p.freeze, p.thaw)
	outage("killed and restarted", p.cut, p.restore)
	outage("refusing connections", func() { p.close(); p.cut() }, func() { p.restore(); p.reopen(t) })

	w.finish()
	if logHas(a.logs.String(), func(m map[string]any) bool { return m["message"] == "request failed" }) {
		t.Errorf("an outage was logged as a server error")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("contact adds during the outages: %v (status: count)", w.statuses)
	for status := range w.statuses {
		if status != http.StatusSeeOther && status != http.StatusServiceUnavailable {
			t.Errorf("a contact add answered %d", status)
		}
	}
	if w.statuses[http.StatusServiceUnavailable] == 0 || len(w.acked) == 0 {
		t.Errorf("the writer saw no outage or no success: %v", w.statuses)
	}
	for _, name := range w.acked {
		page, err := a.store.ListContacts(context.Background(), team, store.ContactQuery{Search: name, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range page.Rows {
			found = found || c.Name == name
		}
		if !found {
			t.Errorf("contact %q was acknowledged but is missing", name)
		}
	}
}

// A full SQLite disk is an outage too: the same 503 and message, and a login
// whose session cannot be saved is no redirect. The database may not grow;
// writes go on into the free room of their tables' pages until one needs a
// new page.
func TestFullSQLiteDiskAnswers503(t *testing.T) {
	a := newSQLiteApp(t)
	owner, email := a.owner("Olga", "Acme")
	storetest.FillSQLite(t, a.store)
	untilFull := func(what string, do func(i int) *response, ok func(r *response) bool) {
		t.Helper()
		for i := range 500 {
			r := do(i)
			if r.StatusCode == http.StatusServiceUnavailable {
				expectOutage(t, what, r)
				return
			}
			if !ok(r) {
				t.Fatalf("%s on a filling disk: status %d, Location %q", what, r.StatusCode, r.Header.Get("Location"))
			}
		}
		t.Fatalf("%s: the disk never filled up", what)
	}
	untilFull("add contact", func(i int) *response {
		return owner.post("/contacts", form("name", fmt.Sprintf("Fiona Full %d", i), "email", fmt.Sprintf("full%d@example.com", i), "company", "Full Disk Ltd"))
	}, func(r *response) bool { return r.StatusCode == http.StatusSeeOther })
	untilFull("login", func(int) *response {
		return a.client().post("/login", form("email", email, "password", testPassword))
	}, func(r *response) bool { return r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/" })
}
