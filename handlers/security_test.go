package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCrossSitePostsAreRefused(t *testing.T) {
	a := newSQLiteApp(t)
	c, email := a.signup("Cara")
	cases := []struct {
		name    string
		headers []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", ""}},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site", "Origin", ""}},
		{"foreign Origin", []string{"Sec-Fetch-Site", "", "Origin", "http://evil.example"}},
		{"Origin null", []string{"Sec-Fetch-Site", "", "Origin", "null"}},
		{"same host, other scheme and port", []string{"Sec-Fetch-Site", "", "Origin", "https://sherpa.test:8443"}},
	}
	for _, tc := range cases {
		r := c.post("/team", form("name", "Evil Corp"), tc.headers...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, r.StatusCode)
		}
		if a.user(email).TeamID != 0 {
			t.Fatalf("%s: the team was created", tc.name)
		}
	}
	// Logout is a POST too: a cross-site page cannot log the user out.
	expectStatus(t, c.post("/logout", nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	expectStatus(t, c.get("/profile"), http.StatusOK)
	// Same-origin requests, and clients that send neither header, pass.
	expectRedirect(t, c.post("/team", form("name", "Real"), "Sec-Fetch-Site", "", "Origin", "http://sherpa.test"), "/team")
}

func TestSecurityHeaders(t *testing.T) {
	a := newSQLiteApp(t)
	r := a.client().get("/login")
	csp := r.Header.Get("Content-Security-Policy")
	var scriptSrc string
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src") {
			scriptSrc = d
		}
	}
	if scriptSrc != "script-src 'self'" {
		t.Errorf("script-src = %q, want only 'self'", scriptSrc)
	}
	if strings.Contains(csp, "default-src *") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("no X-Request-Id")
	}
	// No inline scripts in the page: every <script> has a src under /static.
	r.doc(t).Find("script").Each(func(_ int, s *goquerySelection) {
		src, ok := s.Attr("src")
		if !ok || !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline or foreign script: src=%q", src)
		}
	})
	// The htmx config meta must be valid JSON, or htmx ignores it silently.
	cfg, _ := r.doc(t).Find(`meta[name=htmx-config]`).Attr("content")
	var parsed map[string]any
	if err := json.Unmarshal([]byte(cfg), &parsed); err != nil || parsed["includeIndicatorStyles"] != false {
		t.Errorf("htmx-config %q: %v", cfg, err)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	for _, public := range []string{"http://sherpa.test", "https://sherpa.test"} {
		cfg := testConfig()
		cfg.PublicURL = mustURL(public)
		a := newApp(t, newSQLiteApp(t).store, nil, cfg)
		c := a.client()
		r := c.post("/signup", form("name", "Sam", "email", uniqueEmail("sam"), "password", testPassword), "Origin", public)
		var ck *http.Cookie
		for _, k := range r.Cookies() {
			if k.Name == "sherpa_session" {
				ck = k
			}
		}
		if ck == nil {
			t.Fatalf("%s: no session cookie", public)
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != strings.HasPrefix(public, "https") {
			t.Errorf("%s: cookie HttpOnly=%v SameSite=%v Secure=%v", public, ck.HttpOnly, ck.SameSite, ck.Secure)
		}
	}
}

func TestStaticFilesAreCachedAndVersioned(t *testing.T) {
	a := newSQLiteApp(t)
	page := a.client().get("/login")
	href, _ := page.doc(t).Find(`link[rel=stylesheet][href*="app.css"]`).Attr("href")
	if !strings.Contains(href, "?v=") {
		t.Fatalf("app.css link %q has no version", href)
	}
	r := a.client().get(href)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.Header.Get("Cache-Control"), "max-age=31536000") || !strings.Contains(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("static headers: %v", r.Header)
	}
	expectStatus(t, a.client().get("/static/nope.js"), http.StatusNotFound)
}
