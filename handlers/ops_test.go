package handlers_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sherpa/mail"
	"sherpa/mail/mailtest"
	"sherpa/store"
	"sherpa/store/storetest"
)

func TestInvitationEmailArrivesAndItsLinkWorks(t *testing.T) {
	smtp, err := mailtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	sender, err := mail.New(smtp.URL(), "Sherpa <sherpa@sherpa.test>")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, storetest.Open(t, store.SQLite), sender, testConfig())
	owner, _ := a.owner("Olga Ölund", "Äcme")
	guestEmail := uniqueEmail("guest")
	expectRedirect(t, owner.post("/team/invites", form("email", guestEmail)), "/team#invite")
	page := owner.get("/team")
	if got := page.text(t, "[data-testid=flash]"); !strings.Contains(got, "Invitation sent to "+guestEmail) {
		t.Errorf("flash %q", got)
	}
	if page.doc(t).Find("[data-testid=invite-link]").Length() != 0 {
		t.Errorf("link shown although the email was sent")
	}
	msgs := smtp.Wait(1, 5*time.Second)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != guestEmail {
		t.Fatalf("messages: %+v", msgs)
	}
	m, err := msgs[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "Olga Ölund invited you to Äcme on Sherpa" {
		t.Errorf("subject %q", subject)
	}
	body := decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
	link := inviteLinkRe.FindString(body)
	if link == "" {
		t.Fatalf("no link in body:\n%s", body)
	}
	guest := a.client()
	expectRedirect(t, guest.post("/signup", form("name", "Gus", "email", guestEmail, "password", testPassword)), "/")
	path := strings.TrimPrefix(link, "http://sherpa.test")
	r := guest.get(path)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text(t, "h1"), "Äcme") {
		t.Errorf("invite page heading %q", r.text(t, "h1"))
	}
	expectRedirect(t, guest.post(path, nil), "/team")
	if a.user(guestEmail).Role != store.RoleMember {
		t.Errorf("guest did not join")
	}
}

func TestInviteShowsLinkWhenSendingFails(t *testing.T) {
	sender, _ := mail.New("smtp+insecure://127.0.0.1:1", "sherpa@sherpa.test") // nothing listens there
	a := newApp(t, storetest.Open(t, store.SQLite), sender, testConfig())
	owner, _ := a.owner("Olga", "Acme")
	expectRedirect(t, owner.post("/team/invites", form("email", "x@example.com")), "/team#invite")
	page := owner.get("/team")
	if !strings.Contains(page.text(t, "[data-testid=flash]"), "could not be sent") {
		t.Errorf("no failure message")
	}
	if v, _ := page.doc(t).Find("[data-testid=invite-link]").Attr("value"); !inviteLinkRe.MatchString(v) {
		t.Errorf("fallback link missing")
	}
}

func TestTwoInstancesShareSessions(t *testing.T) {
	dbURL := storetest.URL(t, store.MySQL)
	open := func() *store.Store {
		s, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := newApp(t, open(), nil, testConfig())
	two := newApp(t, open(), nil, testConfig())
	c, email := one.signup("Dual")
	onTwo := two.client()
	onTwo.cookies = c.cookies
	r := onTwo.get("/profile")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, email) {
		t.Errorf("instance two does not know the user")
	}
	// A flash set on one instance shows on the other.
	expectRedirect(t, onTwo.post("/profile", form("name", "Dual Two")), "/profile")
	c.cookies = onTwo.cookies
	if got := c.get("/profile").text(t, "[data-testid=flash]"); !strings.Contains(got, "name was saved") {
		t.Errorf("flash across instances: %q", got)
	}
	// Logging out on one ends the session on the other.
	expectRedirect(t, c.post("/logout", nil), "/login")
	if r := onTwo.get("/profile"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("session alive on instance two after logout on one: %d", r.StatusCode)
	}
}

// proxy is a TCP relay in front of MariaDB that a test can cut and restore,
// freeze (bytes stop flowing, connections stay open: a server stopped with
// SIGSTOP) and thaw, or close (nothing listens: connection refused) and
// reopen on the same port, to play a database outage without touching the
// real server.
type proxy struct {
	ln     net.Listener
	addr   string
	target string
	mu     sync.Mutex
	thawed *sync.Cond
	down   bool
	frozen bool
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, addr: ln.Addr().String(), target: target}
	p.thawed = sync.NewCond(&p.mu)
	t.Cleanup(func() { p.thaw(); p.close(); p.cut() })
	go p.serve(ln)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { p.pipe(up, c); up.Close() }()
		go func() { p.pipe(c, up); c.Close() }()
	}
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.frozen {
				p.thawed.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every connection and refuses new ones (the server was killed).
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *proxy) freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

func (p *proxy) thaw() {
	p.mu.Lock()
	p.frozen = false
	p.thawed.Broadcast()
	p.mu.Unlock()
}

// close stops listening, so connecting is refused by the operating system.
func (p *proxy) close() { p.ln.Close() }

// reopen listens again on the same port.
func (p *proxy) reopen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.ln = ln
	go p.serve(ln)
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	dbURL := storetest.URL(t, store.MySQL)
	u, _ := url.Parse(dbURL)
	p := startProxy(t, u.Host)
	u.Host = p.addr
	u.RawQuery = "timeout=1s" // no short readTimeout: under load it cut the migrations; requests have their deadline
	st, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := newApp(t, st, nil, testConfig())
	c, _ := a.signup("Rea")
	expectStatus(t, c.get("/readyz"), http.StatusOK)

	p.cut()
	r := c.get("/readyz")
	expectStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("readyz 503 without Retry-After")
	}
	expectStatus(t, c.get("/healthz"), http.StatusOK)
	expectStatus(t, c.get("/profile"), http.StatusServiceUnavailable)

	p.restore()
	waitReady(t, c)
	expectStatus(t, c.get("/profile"), http.StatusOK)
}

// waitReady polls /readyz until the database answers again.
func waitReady(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.get("/readyz").StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServerErrorsShowOnlyAnID(t *testing.T) {
	a := newSQLiteApp(t)
	c, _ := a.signup("Err")
	a.store.Close() // "database is closed" is a bug of ours, not an outage
	r := c.get("/profile")
	expectStatus(t, r, http.StatusInternalServerError)
	id := r.text(t, "[data-testid=request-id]")
	if id == "" || id != r.Header.Get("X-Request-Id") {
		t.Errorf("500 page request id %q, header %q", id, r.Header.Get("X-Request-Id"))
	}
	for _, leak := range []string{"sqlite", "sql:", "driver", "closed", "database"} {
		if strings.Contains(strings.ToLower(r.text(t, "[data-testid=error-page]")), leak) {
			t.Errorf("500 page leaks %q", leak)
		}
	}
	// The log has the error with the same request id.
	if !logHas(a.logs.String(), func(m map[string]any) bool {
		return m["request_id"] == id && m["message"] == "request failed" && m["error"] != nil
	}) {
		t.Errorf("no error log line for request %s", id)
	}
}

func TestNotFoundIsFriendly(t *testing.T) {
	a := newSQLiteApp(t)
	for _, path := range []string{"/nope", "/invites", "/team/members/1", "/static/../main.go"} {
		r := a.client().get(path)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.StatusCode)
			continue
		}
		if r.text(t, "[data-testid=error-page] h1") != "Page not found" || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: not the friendly page", path)
		}
	}
	// htmx gets the panel alone.
	r := a.client().get("/nope", "HX-Request", "true")
	if strings.Contains(r.body, "<html") || !strings.Contains(r.body, "error-page") {
		t.Errorf("htmx 404 should be a fragment")
	}
}

func TestAccessLogLine(t *testing.T) {
	a := newSQLiteApp(t)
	c, email := a.signup("Logan")
	userID := a.user(email).ID
	r := c.get("/profile")
	id := r.Header.Get("X-Request-Id")
	if !logHas(a.logs.String(), func(m map[string]any) bool {
		return m["message"] == "request" && m["request_id"] == id && m["method"] == "GET" && m["path"] == "/profile" &&
			m["status"] == float64(200) && m["latency"] != nil && m["user_id"] == float64(userID)
	}) {
		t.Errorf("no access log line for %s in:\n%s", id, a.logs.String())
	}
}

func logHas(logs string, match func(map[string]any) bool) bool {
	for _, line := range strings.Split(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && match(m) {
			return true
		}
	}
	return false
}

func TestProfile(t *testing.T) {
	a := newSQLiteApp(t)
	c, email := a.signup("Pat")
	r := c.get("/profile")
	facts := r.text(t, "[data-testid=profile-facts]")
	for _, want := range []string{"Pat", email, "No team yet", "Not connected"} {
		if !strings.Contains(facts, want) {
			t.Errorf("profile lacks %q", want)
		}
	}
	r = c.post("/profile", form("name", ""))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.text(t, "[data-testid=error-name]") != "Name is required." {
		t.Errorf("blank name")
	}
	expectRedirect(t, c.post("/profile", form("name", "Patricia")), "/profile")
	if a.user(email).Name != "Patricia" {
		t.Errorf("name not saved")
	}
	r = c.post("/profile", form("current_password", "wrong one!!", "new_password", "a brand new password"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.text(t, "[data-testid=error-current_password]") == "" {
		t.Errorf("wrong current password accepted")
	}
	r = c.post("/profile", form("current_password", testPassword, "new_password", "short"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(t, "[data-testid=error-new_password]"), "at least 10") {
		t.Errorf("short new password")
	}
	expectRedirect(t, c.post("/profile", form("current_password", testPassword, "new_password", "a brand new password")), "/profile")
	expectStatus(t, a.client().post("/login", form("email", email, "password", testPassword)), http.StatusUnprocessableEntity)
	expectRedirect(t, a.client().post("/login", form("email", email, "password", "a brand new password")), "/")
}
