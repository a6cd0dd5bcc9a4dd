package handlers_test

import (
	"net/http"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// The cross-site check compares scheme and host: with an https public URL, a
// page on http://same-host is another origin.
func TestSameOriginCheckComparesTheScheme(t *testing.T) {
	for _, c := range []struct {
		public, origin string
		refused        bool
	}{
		{"https://sherpa.test", "https://sherpa.test", false},
		{"https://sherpa.test", "http://sherpa.test", true},
		{"https://sherpa.test", "https://evil.test", true},
		{"http://sherpa.test", "http://sherpa.test", false},
		{"http://sherpa.test", "https://sherpa.test", true}, // the request came over http
		{"https://crm.example.com", "http://sherpa.test", true},
		{"https://crm.example.com", "https://crm.example.com", false},
	} {
		cfg := testConfig()
		cfg.PublicURL = mustURL(c.public)
		a := newApp(t, storetest.Open(t, store.SQLite), nil, cfg)
		r := a.client().post("/login", form("email", "x@example.com", "password", "wrong password"), "Sec-Fetch-Site", "", "Origin", c.origin)
		if refused := r.StatusCode == http.StatusForbidden; refused != c.refused {
			t.Errorf("public %s, Origin %s: status %d, refused %v, want refused %v", c.public, c.origin, r.StatusCode, refused, c.refused)
		}
	}
}
