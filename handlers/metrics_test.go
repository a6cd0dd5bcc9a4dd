package handlers_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

func metricsApp(t *testing.T, token, allow string) *testApp {
	t.Helper()
	cfg := testConfig()
	cfg.MetricsToken = token
	var err error
	if cfg.MetricsAllow, err = handlers.ParseAllowList(allow); err != nil {
		t.Fatal(err)
	}
	cfg.TrustedProxies = []string{"0.0.0.0"} // app.Test's client address, so X-Forwarded-For names the client
	return newApp(t, storetest.Open(t, store.SQLite), nil, cfg)
}

// count reads one sample of a counter or histogram count from /metrics text.
func count(t *testing.T, body, series string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestMetricsAreOffUnlessConfigured(t *testing.T) {
	a := newSQLiteApp(t)
	expectStatus(t, a.client().get("/metrics", "Authorization", "Bearer anything"), http.StatusNotFound)
}

func TestMetricsNeedTheTokenOrAnAllowedAddress(t *testing.T) {
	a := metricsApp(t, "s3cret-token", "10.1.2.0/24, 192.0.2.7")
	c := a.client()
	for _, h := range [][]string{
		nil,
		{"Authorization", "Bearer wrong"},
		{"Authorization", "s3cret-token"},
		{"X-Forwarded-For", "10.1.3.1"},
	} {
		r := c.get("/metrics", h...)
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("headers %v: status %d, want 401", h, r.StatusCode)
		}
	}
	for _, h := range [][]string{
		{"Authorization", "Bearer s3cret-token"},
		{"X-Forwarded-For", "10.1.2.99"},
		{"X-Forwarded-For", "192.0.2.7"},
	} {
		r := c.get("/metrics", h...)
		expectStatus(t, r, http.StatusOK)
		if count(t, r.body, `go_sql_max_open_connections{db_name="sherpa"}`) == 0 {
			t.Errorf("headers %v: no database pool stats in\n%.800s", h, r.body)
		}
	}

	onlyAddress := metricsApp(t, "", "127.0.0.1")
	if r := onlyAddress.client().get("/metrics", "X-Forwarded-For", "10.1.2.99"); r.StatusCode != http.StatusForbidden {
		t.Errorf("address not allowed: %d, want 403", r.StatusCode)
	}
	expectStatus(t, onlyAddress.client().get("/metrics", "X-Forwarded-For", "127.0.0.1"), http.StatusOK)

	if _, err := handlers.ParseAllowList("10.0.0.0/8, not-an-ip"); err == nil {
		t.Errorf("a bad allow list was accepted")
	}
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	a := metricsApp(t, "tok-tok-tok", "")
	auth := []string{"Authorization", "Bearer tok-tok-tok"}
	owner, _ := a.owner("Olga", "Acme")
	series := `sherpa_http_request_duration_seconds_count{method="GET",route="/contacts/:id",status="404"}`
	before := count(t, a.client().get("/metrics", auth...).body, series)
	expectStatus(t, owner.get("/contacts/987654"), http.StatusNotFound)
	expectStatus(t, owner.get("/contacts/987655"), http.StatusNotFound)
	body := a.client().get("/metrics", auth...).body
	if got := count(t, body, series); got != before+2 {
		t.Errorf("%s = %d, want %d", series, got, before+2)
	}
	if regexp.MustCompile(`route="/contacts/98765`).MatchString(body) {
		t.Errorf("a route is labelled with its id, not its pattern")
	}
	if count(t, body, `sherpa_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}`) != 0 {
		t.Errorf("unmatched counted before any unmatched request")
	}
	a.client().get("/no/such/page")
	body = a.client().get("/metrics", auth...).body
	if count(t, body, `sherpa_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}`) != 1 {
		t.Errorf("an unmatched request is not counted as unmatched")
	}
}

func TestMetricsReportTheJobQueue(t *testing.T) {
	a := metricsApp(t, "tok-tok-tok", "")
	body := a.client().get("/metrics", "Authorization", "Bearer tok-tok-tok").body
	for _, series := range []string{`sherpa_jobs{kind="import",state="queued"} 0`, `sherpa_jobs{kind="import",state="running"} 0`} {
		if !strings.Contains(body, series) {
			t.Errorf("no %s in\n%.2000s", series, body)
		}
	}
}
