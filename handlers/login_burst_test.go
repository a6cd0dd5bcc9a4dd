package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/store/storetest"
)

// postLogin sends one login from its own goroutine-safe request.
func postLogin(app *fiber.App, email, password string) (*http.Response, error) {
	body := form("email", email, "password", password).Encode()
	req := httptest.NewRequest("POST", "http://sherpa.test/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "http://sherpa.test")
	resp, err := app.Test(req, -1)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// burst sends n logins at once, email(i) naming the account of the i-th,
// and returns how many got each status.
func burst(t testing.TB, app *fiber.App, n int, email func(i int) string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := postLogin(app, email(i), "wrong password")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[-1]++
				return
			}
			statuses[resp.StatusCode]++
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// The attack of issue 9.1: parallel wrong logins for one email get at most
// the 5 password checks the throttle allows, and the rest a 429.
func TestLoginBurstForOneEmailChecksFivePasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var checks atomic.Int64
		cfg := testConfig()
		cfg.HashWait = time.Minute // no refusal for a busy pool here
		cfg.OnPasswordCheck = func() { checks.Add(1) }
		a := newApp(t, st, nil, cfg)
		_, email := a.signup("Burst")
		got := burst(t, a.app, 50, func(int) string { return email })
		if checks.Load() != 5 {
			t.Errorf("%d passwords checked, want 5", checks.Load())
		}
		if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != 45 {
			t.Errorf("statuses %v, want 5 × 422 and 45 × 429", got)
		}
	})
}

func TestLoginBurstFromOneAddressChecksThirtyPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var checks atomic.Int64
		cfg := testConfig()
		cfg.HashWait = time.Minute
		cfg.OnPasswordCheck = func() { checks.Add(1) }
		a := newApp(t, st, nil, cfg)
		emails := make([]string, 80)
		for i := range emails {
			emails[i] = uniqueEmail("many")
		}
		got := burst(t, a.app, len(emails), func(i int) string { return emails[i] })
		if checks.Load() != 30 {
			t.Errorf("%d passwords checked, want 30", checks.Load())
		}
		if got[http.StatusUnprocessableEntity] != 30 || got[http.StatusTooManyRequests] != 50 {
			t.Errorf("statuses %v, want 30 × 422 and 50 × 429", got)
		}
	})
}

// With every hashing slot taken, a login and a sign-up wait briefly and are
// then refused with 503 and Retry-After; the login's attempt is given back.
func TestBusyHashingPoolRefusesWith503(t *testing.T) {
	entered := make(chan struct{}, 1)
	unblock := make(chan struct{})
	cfg := testConfig()
	cfg.HashSlots = 1
	cfg.HashWait = 50 * time.Millisecond
	var blocking atomic.Bool
	cfg.OnPasswordCheck = func() {
		if blocking.Load() {
			entered <- struct{}{}
			<-unblock
		}
	}
	a := newApp(t, storetest.Open(t, store.SQLite), nil, cfg)
	_, email := a.signup("Pool")
	blocking.Store(true)
	held := make(chan *http.Response)
	go func() {
		resp, _ := postLogin(a.app, email, testPassword)
		held <- resp
	}()
	<-entered // the first login holds the only slot
	blocking.Store(false)

	r := a.client().post("/login", form("email", email, "password", testPassword))
	expectStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After on a busy refusal")
	}
	if msg := r.text(t, "[data-testid=form-error]"); !strings.Contains(msg, "busy") {
		t.Errorf("busy message %q", msg)
	}
	r = a.client().post("/signup", form("name", "Later", "email", uniqueEmail("later"), "password", testPassword))
	expectStatus(t, r, http.StatusServiceUnavailable)

	close(unblock)
	if resp := <-held; resp == nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the login holding the slot did not succeed: %v", resp)
	}
	// The refused login charged nothing: five wrong attempts are still allowed.
	c := a.client()
	for i := 0; i < 5; i++ {
		expectStatus(t, c.post("/login", form("email", email, "password", "wrong password")), http.StatusUnprocessableEntity)
	}
	expectStatus(t, c.post("/login", form("email", email, "password", "wrong password")), http.StatusTooManyRequests)
}
