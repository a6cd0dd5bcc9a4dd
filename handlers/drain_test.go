package handlers_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestReadinessSaysDrainingWhileRequestsGoOn: once the instance drains
// (SIGTERM, see main.go), /readyz answers 503 so a load balancer takes it
// out, while pages are still served to whoever is still sent here.
func TestReadinessSaysDrainingWhileRequestsGoOn(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	var draining atomic.Bool
	cfg := testConfig()
	cfg.Draining = draining.Load
	a := newApp(t, st, nil, cfg)
	c, _ := a.signup("Dra")
	expectStatus(t, c.get("/readyz"), http.StatusOK)
	draining.Store(true)
	r := c.get("/readyz")
	expectStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("draining 503 without Retry-After")
	}
	expectStatus(t, c.get("/healthz"), http.StatusOK)
	expectStatus(t, c.get("/profile"), http.StatusOK)
}
