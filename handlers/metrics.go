package handlers

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uptrace/bun"

	"sherpa/store"
)

// metrics are the Prometheus collectors behind /metrics. They exist only when
// the endpoint is configured (Config.MetricsToken or MetricsAllow); a nil
// *metrics observes nothing. Each Server has its own registry, so tests (and
// two apps in one process) never share counters.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.HistogramVec
	queryErrors   *prometheus.CounterVec
	loginRefusals *prometheus.CounterVec
	googleCalls   *prometheus.CounterVec
}

func newMetrics(st *store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sherpa_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status, with their latency.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		queryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sherpa_db_query_errors_total",
			Help: "Database statements that failed (a missing row is no error), by statement kind and whether the database was unavailable.",
		}, []string{"operation", "unavailable"}),
		loginRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sherpa_login_refusals_total",
			Help: "Logins refused by the throttle, by reason.",
		}, []string{"reason"}),
		googleCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sherpa_google_calls_total",
			Help: "Calls to Google by action and outcome.",
		}, []string{"action", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.queryErrors, m.loginRefusals, m.googleCalls, jobQueue{st},
		collectors.NewDBStatsCollector(st.DB.DB, "sherpa"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st.DB.AddQueryHook(queryErrorHook{m.queryErrors})
	return m
}

// jobQueue reports the background job queue (CSV imports) at each scrape.
type jobQueue struct{ st *store.Store }

var jobQueueDesc = prometheus.NewDesc("sherpa_jobs", "Background jobs (CSV imports) of every team, by state.", []string{"kind", "state"}, nil)

func (q jobQueue) Describe(ch chan<- *prometheus.Desc) { ch <- jobQueueDesc }

func (q jobQueue) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	queued, running, err := q.st.ImportQueueDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobQueueDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(jobQueueDesc, prometheus.GaugeValue, float64(queued), "import", "queued")
	ch <- prometheus.MustNewConstMetric(jobQueueDesc, prometheus.GaugeValue, float64(running), "import", "running")
}

// queryErrorHook counts failed statements.
type queryErrorHook struct{ errors *prometheus.CounterVec }

func (queryErrorHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h queryErrorHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if e.Err == nil || errors.Is(e.Err, sql.ErrNoRows) {
		return
	}
	h.errors.WithLabelValues(e.Operation(), strconv.FormatBool(store.IsUnavailable(e.Err))).Inc()
}

// observeRequest records one finished request under its route pattern
// ("/contacts/:id", not the id), so the series stay few.
func (s *Server) observeRequest(c *fiber.Ctx, status int, took time.Duration) {
	if s.metrics == nil {
		return
	}
	pattern := c.Route().Path
	if pattern == "/" && c.Path() != "/" {
		// Only middleware mounted at the root matches another path as "/":
		// the 404 catch-all, or a refusal before any route was reached.
		pattern = "unmatched"
	}
	s.metrics.requests.WithLabelValues(pattern, c.Method(), strconv.Itoa(status)).Observe(took.Seconds())
}

// observeLoginRefusal counts a login the throttle refused; reason is a short
// fixed word such as "locked" or "busy".
func (s *Server) observeLoginRefusal(reason string) {
	if s.metrics != nil {
		s.metrics.loginRefusals.WithLabelValues(reason).Inc()
	}
}

// observeGoogleCall counts one call to Google; action and outcome are short
// fixed words ("send_email", "ok" / "timeout" / "reconnect" / "error").
func (s *Server) observeGoogleCall(action, outcome string) {
	if s.metrics != nil {
		s.metrics.googleCalls.WithLabelValues(action, outcome).Inc()
	}
}

// metricsEndpoint serves /metrics to the configured addresses, or to anyone
// presenting the bearer token.
func (s *Server) metricsEndpoint() fiber.Handler {
	serve := adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		if s.metricsAllowed(c) {
			return serve(c)
		}
		if s.cfg.MetricsToken != "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sherpa metrics"`)
			return fiber.NewError(fiber.StatusUnauthorized, "Metrics need the bearer token.")
		}
		return fiber.NewError(fiber.StatusForbidden, "Metrics are not served to this address.")
	}
}

func (s *Server) metricsAllowed(c *fiber.Ctx) bool {
	if tok := s.cfg.MetricsToken; tok != "" {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) == 1 {
			return true
		}
	}
	ip, err := netip.ParseAddr(c.IP())
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.cfg.MetricsAllow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseAllowList parses a comma-separated list of IPs and CIDRs
// ("127.0.0.1, 10.0.0.0/8") into prefixes.
func ParseAllowList(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR", part)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
