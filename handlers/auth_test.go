package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestAnonymousVisitorsAreSentToLogin(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.client()
	for _, path := range []string{"/", "/profile", "/team", "/team/new", "/contacts", "/deals", "/contacts?view=mine&q=a%20b"} {
		r := c.get(path)
		want := "/login?next=" + strings.ReplaceAll(strings.ReplaceAll(path, "?", "%3F"), "/", "%2F")
		if path == "/" {
			want = "/login"
		}
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("GET %s: %d to %q, want 303 to login", path, r.StatusCode, r.Header.Get("Location"))
		}
		if path != "/contacts?view=mine&q=a%20b" && r.Header.Get("Location") != want {
			t.Errorf("GET %s: redirect to %q, want %q", path, r.Header.Get("Location"), want)
		}
	}
	for _, path := range []string{"/profile", "/team", "/team/leave", "/team/invites", "/team/invites/1/revoke",
		"/team/members/1/role", "/team/members/1/owner", "/team/members/1/remove", "/invites/abc"} {
		if r := c.post(path, form("name", "x")); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Errorf("POST %s: %d to %q, want 303 to /login", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// htmx requests get HX-Redirect instead of a redirect htmx would follow.
	r := c.get("/team", "HX-Request", "true")
	if r.StatusCode != http.StatusNoContent || !strings.HasPrefix(r.Header.Get("HX-Redirect"), "/login") {
		t.Errorf("htmx GET /team: %d HX-Redirect %q", r.StatusCode, r.Header.Get("HX-Redirect"))
	}
}

func TestSignupValidation(t *testing.T) {
	a := newSQLiteApp(t)
	_, taken := a.signup("Taken")
	cases := []struct {
		name, email, password string
		field, message        string
	}{
		{"", "a@example.com", testPassword, "name", "Name is required."},
		{strings.Repeat("n", 101), "a@example.com", testPassword, "name", "at most 100"},
		{"Ann", "", testPassword, "email", "Email is required."},
		{"Ann", "not-an-email", testPassword, "email", "like name@company.com"},
		{"Ann", "Ann <a@example.com>", testPassword, "email", "like name@company.com"},
		{"Ann", "a@example.com", "short", "password", "at least 10"},
		{"Ann", "a@example.com", strings.Repeat("p", 257), "password", "at most 256"},
		{"Ann", strings.ToUpper(taken), testPassword, "email", "already exists"},
	}
	for _, tc := range cases {
		c := a.client()
		r := c.post("/signup", form("name", tc.name, "email", tc.email, "password", tc.password))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if got := r.text(t, "[data-testid=error-"+tc.field+"]"); !strings.Contains(got, tc.message) {
			t.Errorf("signup %q/%q/%d chars: %s error %q, want %q", tc.name, tc.email, len(tc.password), tc.field, got, tc.message)
		}
		d := r.doc(t)
		if v, _ := d.Find("#password").Attr("value"); v != "" {
			t.Errorf("password was echoed back into the form")
		}
		if v, _ := d.Find("#name").Attr("value"); v != strings.Join(strings.Fields(tc.name), " ") {
			t.Errorf("name not kept: %q", v)
		}
		if _, ok := c.cookies["sherpa_session"]; ok && tc.field != "" {
			if r := c.get("/profile"); r.StatusCode == http.StatusOK {
				t.Errorf("failed signup logged in")
			}
		}
	}
	var n int
	a.store.DB.NewRaw("SELECT COUNT(*) FROM users").Scan(t.Context(), &n)
	if n != 1 {
		t.Errorf("%d users after refused signups, want 1", n)
	}
}

func TestLoginRenewsSessionAndLogoutEndsItOnTheServer(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		_, email := a.signup("Lou")
		c := a.client()
		c.get("/login")                                                                 // an anonymous session may exist before login
		c.post("/login", form("email", "wrong@example.com", "password", "whatever123")) // creates throttle rows, maybe a session
		before := c.cookies["sherpa_session"]
		r := c.post("/login", form("email", strings.ToUpper(email), "password", testPassword, "next", "/profile"))
		expectRedirect(t, r, "/profile")
		after := c.cookies["sherpa_session"]
		if after == "" || after == before {
			t.Fatalf("session id not renewed at login: before %q after %q", before, after)
		}
		if r := c.get("/profile"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, email) {
			t.Fatalf("profile after login: %d", r.StatusCode)
		}
		stolen := a.client()
		stolen.cookies["sherpa_session"] = after
		expectRedirect(t, c.post("/logout", nil), "/login")
		if _, ok := c.cookies["sherpa_session"]; ok {
			t.Errorf("logout did not expire the cookie")
		}
		// The old cookie is dead on the server too.
		if r := stolen.get("/profile"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("old session cookie still works after logout: %d", r.StatusCode)
		}
	})
}

func TestLoginErrorsAndNextStaysLocal(t *testing.T) {
	a := newSQLiteApp(t)
	_, email := a.signup("Nat")
	c := a.client()
	r := c.post("/login", form("email", email, "password", "wrong password"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if got := r.text(t, "[data-testid=form-error]"); got != "Email or password is incorrect." {
		t.Errorf("wrong password message %q", got)
	}
	if v, _ := r.doc(t).Find("#email").Attr("value"); v != email {
		t.Errorf("email not kept: %q", v)
	}
	r = c.post("/login", form("email", "", "password", ""))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.text(t, "[data-testid=error-email]") == "" || r.text(t, "[data-testid=error-password]") == "" {
		t.Errorf("empty login: no field errors")
	}
	for next, want := range map[string]string{
		"//evil.example/x": "/", "https://evil.example": "/", "/\\evil.example": "/", "/team": "/team", "": "/",
	} {
		c := a.client()
		r := c.post("/login", form("email", email, "password", testPassword, "next", next))
		expectRedirect(t, r, want)
	}
}

func TestLoginThrottling(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		_, email := a.signup("Tess")
		c := a.client()
		for i := 0; i < 5; i++ {
			expectStatus(t, c.post("/login", form("email", email, "password", "wrong password")), http.StatusUnprocessableEntity)
		}
		// Locked now, even with the right password.
		r := c.post("/login", form("email", email, "password", testPassword))
		expectStatus(t, r, http.StatusTooManyRequests)
		if msg := r.text(t, "[data-testid=form-error]"); !strings.Contains(msg, "Too many failed attempts") || !strings.Contains(msg, "15 minutes") {
			t.Errorf("lockout message %q", msg)
		}
		if r := c.get("/profile"); r.StatusCode == http.StatusOK {
			t.Errorf("locked-out login succeeded")
		}
		// Another account from another address is not affected.
		_, other := a.signup("Other")
		expectRedirect(t, a.client().post("/login", form("email", other, "password", testPassword), "X-Forwarded-For", "10.0.0.2"), "/")
		// The counters live in the database.
		var n int
		a.store.DB.NewRaw("SELECT COUNT(*) FROM login_throttle WHERE locked_until IS NOT NULL").Scan(t.Context(), &n)
		if n != 1 {
			t.Errorf("%d locked throttle rows, want 1", n)
		}
	})
}

func TestLoginThrottlingPerAddress(t *testing.T) {
	cfg := testConfig()
	cfg.ThrottleIP.Limit = 3
	a := newApp(t, newSQLiteApp(t).store, nil, cfg)
	_, email := a.signup("Ivy")
	c := a.client()
	for i := 0; i < 3; i++ {
		c.post("/login", form("email", uniqueEmail("nobody"), "password", "wrong password"))
	}
	r := c.post("/login", form("email", email, "password", testPassword))
	expectStatus(t, r, http.StatusTooManyRequests)
}
