package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// testApp is the real Fiber app on a real database.
type testApp struct {
	t     testing.TB
	app   *fiber.App
	store *store.Store
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is production configuration with cheap password hashing.
func testConfig() handlers.Config {
	u, _ := url.Parse("http://sherpa.test")
	cfg := handlers.DefaultConfig(u)
	cfg.Password = handlers.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	// Tests send bursts of API requests; TestAPIRateLimitPerKey sets its own.
	cfg.APIRate = store.RatePolicy{Rate: 1_000_000, Burst: 1_000_000}
	return cfg
}

func newApp(t testing.TB, st *store.Store, mailer handlers.Mailer, cfg handlers.Config) *testApp {
	t.Helper()
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	return &testApp{t: t, app: handlers.New(cfg, st, mailer, log), store: st, logs: logs}
}

// newSQLiteApp is the app on a fresh SQLite database.
func newSQLiteApp(t *testing.T) *testApp {
	return newApp(t, storetest.Open(t, store.SQLite), nil, testConfig())
}

// eachDB runs fn with an app on each database.
func eachDB(t *testing.T, fn func(t *testing.T, a *testApp)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		fn(t, newApp(t, s, nil, testConfig()))
	})
}

// client is one browser: it keeps cookies and sends same-origin headers.
type client struct {
	a       *testApp
	cookies map[string]string
	headers map[string]string
}

func (a *testApp) client() *client {
	return &client{a: a, cookies: map[string]string{}, headers: map[string]string{}}
}

type response struct {
	*http.Response
	body string
}

func (r *response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	body := r.body
	if strings.HasPrefix(body, "<tr") {
		// A table row alone is dropped by the HTML parser outside a table.
		body = "<table><tbody>" + body + "</tbody></table>"
	}
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// text returns the trimmed text of the first element matching a selector.
func (r *response) text(t testing.TB, sel string) string {
	return strings.TrimSpace(r.doc(t).Find(sel).First().Text())
}

func (c *client) do(method, path string, form url.Values, headers ...string) *response {
	c.a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://sherpa.test"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", "http://sherpa.test")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		req.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	resp, err := c.a.app.Test(req, -1)
	if err != nil {
		c.a.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return &response{Response: resp, body: string(b)}
}

func (c *client) get(path string, headers ...string) *response {
	return c.do("GET", path, nil, headers...)
}
func (c *client) post(path string, form url.Values, headers ...string) *response {
	if form == nil {
		form = url.Values{}
	}
	return c.do("POST", path, form, headers...)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

const testPassword = "correct horse battery"

var seq = struct {
	sync.Mutex
	n int
}{}

func uniqueEmail(name string) string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, strings.ToLower(name)) + "." + time.Now().Format("150405") + "." + strconv.Itoa(seq.n) + "@example.com"
}

// signup makes an account and returns a logged-in client and its email.
func (a *testApp) signup(name string) (*client, string) {
	a.t.Helper()
	c := a.client()
	email := uniqueEmail(name)
	r := c.post("/signup", form("name", name, "email", email, "password", testPassword))
	if r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("signup %s: status %d\n%s", email, r.StatusCode, r.body)
	}
	return c, email
}

// owner signs up someone who creates a team.
func (a *testApp) owner(name, team string) (*client, string) {
	a.t.Helper()
	c, email := a.signup(name)
	if r := c.post("/team", form("name", team)); r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("create team: %d\n%s", r.StatusCode, r.body)
	}
	return c, email
}

var inviteLinkRe = regexp.MustCompile(`http://sherpa\.test/invites/[A-Za-z0-9_-]+`)

// invite has c invite email and returns the path of the invitation link,
// read from the team page (no SMTP configured).
func (a *testApp) invite(c *client, email string) string {
	a.t.Helper()
	r := c.post("/team/invites", form("email", email))
	if r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("invite %s: %d\n%s", email, r.StatusCode, r.body)
	}
	page := c.get("/team")
	link, ok := page.doc(a.t).Find(`[data-testid=invite-link]`).Attr("value")
	if !ok || !inviteLinkRe.MatchString(link) {
		a.t.Fatalf("no invitation link on the team page:\n%s", page.body)
	}
	return strings.TrimPrefix(link, "http://sherpa.test")
}

// member signs someone up and joins them to c's team; returns their client.
func (a *testApp) member(owner *client, name string) (*client, string) {
	a.t.Helper()
	m, email := a.signup(name)
	path := a.invite(owner, email)
	if r := m.post(path, nil); r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("accept invitation: %d\n%s", r.StatusCode, r.body)
	}
	return m, email
}

func (a *testApp) user(email string) *store.User {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

func expectStatus(t testing.TB, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		body := r.body
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, body)
	}
}

func expectRedirect(t testing.TB, r *response, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != to {
		t.Fatalf("%s %s: status %d to %q, want 303 to %q", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), to)
	}
}

type goquerySelection = goquery.Selection

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

type mimeDecoder = mime.WordDecoder

func decodeBody(t *testing.T, encoding string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
