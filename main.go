// Command sherpa is a fast, self-hosted CRM for small sales teams: one binary
// that serves server-rendered pages and htmx fragments on SQLite (default) or
// MySQL/MariaDB.
//
//	sherpa [flags]            serve (the default)
//	sherpa migrate [flags]    apply database migrations and exit
//	sherpa seed [flags]       create a demo team with realistic data
//	sherpa reconcile [-fix]   recount the dashboard totals, report (and fix) drift
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"sherpa/google"
	"sherpa/google/sandbox"
	"sherpa/handlers"
	"sherpa/mail"
	"sherpa/store"
	"sherpa/webhook"
)

// Config is every setting of Sherpa. Each has an environment variable
// SHERPA_* and a flag of the same meaning; flags win.
type Config struct {
	Addr        string
	DatabaseURL string
	Secret      string
	PublicURL   string
	// PublicURLSet is false when PublicURL was derived from the listen
	// address (no SHERPA_PUBLIC_URL / -public-url).
	PublicURLSet   bool
	SMTPURL        string
	SMTPFrom       string
	GoogleClientID string
	GoogleSecret   string
	GoogleSandbox  bool
	TrustedProxies string
	LogLevel       string
	LogFormat      string
	DBTimeout      time.Duration
	MetricsToken   string
	MetricsAllow   string
	ImportMaxBytes int64
	Seed           SeedConfig
	// Fix: reconcile repairs the drift it finds.
	Fix bool
	// Pool sizes the MySQL connection pool (store.Pool).
	Pool store.Pool
	// DrainDelay is how long serve keeps answering after SIGTERM with
	// /readyz at 503, before it stops taking connections and finishes the
	// requests in flight.
	DrainDelay time.Duration
	// The API's rate limit per key and whether webhooks may reach private
	// addresses.
	APIRate             int
	APIBurst            int
	WebhookAllowPrivate bool
	// ListCacheMB bounds the rendered list pages kept in memory; 0 turns
	// the cache off (handlers/list_cache.go).
	ListCacheMB int
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on its own
	// listener, for profiling a running instance; keep it on loopback.
	PprofAddr string
}

// SeedConfig is what the seed command creates.
type SeedConfig struct {
	Contacts int
	Deals    int
	Email    string
	Password string
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sherpa:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	cfg, err := parseConfig(cmd, args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "seed":
		return seed(ctx, cfg, log, stdout, cfg.PublicURL)
	case "reconcile":
		return reconcile(ctx, cfg, log, stdout)
	case "migrate":
		st, err := openStore(ctx, cfg, log)
		if err != nil {
			return err
		}
		return st.Close()
	default:
		return fmt.Errorf("unknown command %q (commands: serve, migrate, seed, reconcile)", cmd)
	}
}

func parseConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	var err error
	fs := flag.NewFlagSet("sherpa "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("SHERPA_ADDR", ":8080"), "listen address (SHERPA_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("SHERPA_DATABASE_URL", "sqlite:sherpa.db"), "database: sqlite:FILE or mysql://user:pass@host:3306/db (SHERPA_DATABASE_URL)")
	fs.StringVar(&c.Secret, "secret", env("SHERPA_SECRET", ""), "secret key for encrypting tokens; generated and kept in the database if empty (SHERPA_SECRET)")
	fs.StringVar(&c.PublicURL, "public-url", env("SHERPA_PUBLIC_URL", ""), "URL users reach Sherpa at, for links in emails; default http:// and the listen address (SHERPA_PUBLIC_URL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("SHERPA_SMTP_URL", ""), "SMTP server: smtp://user:pass@host:587 (STARTTLS), smtps://…:465, smtp+insecure://host:25; empty = show invitation links instead (SHERPA_SMTP_URL)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("SHERPA_SMTP_FROM", ""), "sender of emails; default sherpa@ the public URL's host (SHERPA_SMTP_FROM)")
	fs.StringVar(&c.GoogleClientID, "google-client-id", env("SHERPA_GOOGLE_CLIENT_ID", ""), "Google OAuth client id (SHERPA_GOOGLE_CLIENT_ID)")
	fs.StringVar(&c.GoogleSecret, "google-client-secret", env("SHERPA_GOOGLE_CLIENT_SECRET", ""), "Google OAuth client secret (SHERPA_GOOGLE_CLIENT_SECRET)")
	fs.BoolVar(&c.GoogleSandbox, "google-sandbox", env("SHERPA_GOOGLE_SANDBOX", "") == "true" || env("SHERPA_GOOGLE_SANDBOX", "") == "1", "simulate Google in-process (SHERPA_GOOGLE_SANDBOX=true)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("SHERPA_TRUSTED_PROXIES", ""), "comma-separated IPs/CIDRs of load balancers whose X-Forwarded-For is trusted (SHERPA_TRUSTED_PROXIES)")
	fs.StringVar(&c.LogLevel, "log-level", env("SHERPA_LOG_LEVEL", "info"), "debug, info, warn or error (SHERPA_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("SHERPA_LOG_FORMAT", "auto"), "console (readable), json, or auto: console on a terminal, else json (SHERPA_LOG_FORMAT)")
	dbTimeout := env("SHERPA_DB_TIMEOUT", handlers.DefaultDBTimeout.String())
	fs.StringVar(&dbTimeout, "db-timeout", dbTimeout, "deadline of each request's database work, e.g. 5s (SHERPA_DB_TIMEOUT)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("SHERPA_METRICS_TOKEN", ""), "bearer token that opens /metrics; with -metrics-allow empty too, there is no /metrics (SHERPA_METRICS_TOKEN)")
	fs.StringVar(&c.MetricsAllow, "metrics-allow", env("SHERPA_METRICS_ALLOW", ""), "comma-separated IPs/CIDRs that may read /metrics without the token (SHERPA_METRICS_ALLOW)")
	dbMaxOpen, _ := strconv.Atoi(env("SHERPA_DB_MAX_OPEN", strconv.Itoa(store.DefaultPool.MaxOpen)))
	fs.IntVar(&c.Pool.MaxOpen, "db-max-open", dbMaxOpen, "MySQL: most connections this instance opens; instances × this must stay below the server's max_connections (SHERPA_DB_MAX_OPEN)")
	dbMaxIdle, _ := strconv.Atoi(env("SHERPA_DB_MAX_IDLE", strconv.Itoa(store.DefaultPool.MaxIdle)))
	fs.IntVar(&c.Pool.MaxIdle, "db-max-idle", dbMaxIdle, "MySQL: idle connections kept open (SHERPA_DB_MAX_IDLE)")
	dbLifetime := env("SHERPA_DB_CONN_LIFETIME", store.DefaultPool.Lifetime.String())
	fs.StringVar(&dbLifetime, "db-conn-lifetime", dbLifetime, "MySQL: a connection is closed and replaced after this long, e.g. 10m (SHERPA_DB_CONN_LIFETIME)")
	drainDelay := env("SHERPA_DRAIN_DELAY", "5s")
	fs.StringVar(&drainDelay, "drain-delay", drainDelay, "after SIGTERM: how long /readyz answers 503 while requests are still served, so a load balancer takes the instance out first; 0 to stop at once (SHERPA_DRAIN_DELAY)")
	importMax, _ := strconv.ParseInt(env("SHERPA_IMPORT_MAX_BYTES", strconv.Itoa(handlers.DefaultImportMaxBytes)), 10, 64)
	fs.Int64Var(&c.ImportMaxBytes, "import-max-bytes", importMax, "largest CSV file an import accepts, in bytes (SHERPA_IMPORT_MAX_BYTES)")
	apiRate, _ := strconv.Atoi(env("SHERPA_API_RATE", strconv.Itoa(handlers.DefaultAPIRate.Rate)))
	fs.IntVar(&c.APIRate, "api-rate", apiRate, "API requests per second per key, on average (SHERPA_API_RATE)")
	apiBurst, _ := strconv.Atoi(env("SHERPA_API_BURST", strconv.Itoa(handlers.DefaultAPIRate.Burst)))
	fs.IntVar(&c.APIBurst, "api-burst", apiBurst, "API requests per key at once after a quiet spell (SHERPA_API_BURST)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", env("SHERPA_WEBHOOK_ALLOW_PRIVATE", "") == "true" || env("SHERPA_WEBHOOK_ALLOW_PRIVATE", "") == "1",
		"let webhooks reach loopback and private addresses, for receivers on your own network (SHERPA_WEBHOOK_ALLOW_PRIVATE=true)")
	listCache := env("SHERPA_LIST_CACHE", "64")
	if listCache == "off" || listCache == "false" {
		listCache = "0"
	}
	listCacheMB, err := strconv.Atoi(listCache)
	if err != nil || listCacheMB < 0 {
		return c, fmt.Errorf("SHERPA_LIST_CACHE %q: use megabytes (64) or off", listCache)
	}
	fs.StringVar(&c.PprofAddr, "pprof-addr", env("SHERPA_PPROF_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; empty: off (SHERPA_PPROF_ADDR)")
	fs.IntVar(&c.ListCacheMB, "list-cache", listCacheMB, "megabytes of rendered list pages kept per team data version; 0 or off: no cache (SHERPA_LIST_CACHE)")
	if cmd == "seed" {
		fs.IntVar(&c.Seed.Contacts, "contacts", 2000, "demo contacts in the demo team")
		fs.IntVar(&c.Seed.Deals, "deals", -1, "demo deals (default: a fifth of the contacts)")
		fs.StringVar(&c.Seed.Email, "email", "demo@sherpa.test", "the demo owner's login email")
		fs.StringVar(&c.Seed.Password, "password", "sherpa-demo-password", "the demo users' password")
	}
	if cmd == "reconcile" {
		fs.BoolVar(&c.Fix, "fix", false, "replace the totals that differ by the recount")
	}
	if err = fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.Pool.Lifetime, err = time.ParseDuration(dbLifetime); err != nil || c.Pool.Lifetime <= 0 {
		return c, fmt.Errorf("connection lifetime %q: use a duration such as 10m", dbLifetime)
	}
	if c.Pool.MaxOpen <= 0 || c.Pool.MaxIdle < 0 {
		return c, fmt.Errorf("connection pool: -db-max-open must be above 0 and -db-max-idle at least 0")
	}
	if c.DrainDelay, err = time.ParseDuration(drainDelay); err != nil || c.DrainDelay < 0 {
		return c, fmt.Errorf("drain delay %q: use a duration such as 5s", drainDelay)
	}
	if c.DBTimeout, err = time.ParseDuration(dbTimeout); err != nil || c.DBTimeout <= 0 {
		return c, fmt.Errorf("database timeout %q: use a duration such as 5s", dbTimeout)
	}
	if _, err := handlers.ParseAllowList(c.MetricsAllow); err != nil {
		return c, fmt.Errorf("metrics allow list: %w", err)
	}
	c.PublicURLSet = c.PublicURL != ""
	if !c.PublicURLSet {
		c.PublicURL = urlOfAddr(c.Addr)
	}
	pu, err := url.Parse(c.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return c, fmt.Errorf("public URL %q must be like https://crm.example.com", c.PublicURL)
	}
	if c.SMTPFrom == "" {
		c.SMTPFrom = "Sherpa <sherpa@" + pu.Hostname() + ">"
	}
	return c, nil
}

func newLogger(cfg Config, out io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	var w io.Writer = out
	tty := isTerminal(out)
	switch cfg.LogFormat {
	case "json":
	case "auto", "console":
		// Colour codes only on a terminal: in a file they are noise (54 MB
		// of access log for 250k requests) and cost CPU.
		if cfg.LogFormat == "console" || tty {
			w = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05", NoColor: !tty}
		}
	default:
		return zerolog.Logger{}, fmt.Errorf("log format %q: use auto, console or json", cfg.LogFormat)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func openStore(ctx context.Context, cfg Config, log zerolog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	st.SetPool(cfg.Pool)
	n, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info().Str("database", string(st.Dialect)).Int("migrations_applied", n).Msg("database ready")
	return st, nil
}

func serve(ctx context.Context, cfg Config, log zerolog.Logger, stdout io.Writer) error {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// Listen first: without a public URL, links are built on the address
	// really listened on (the port of -addr :0 is known only now).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if !cfg.PublicURLSet {
		cfg.PublicURL = urlOfAddr(ln.Addr().String())
	}
	secret := cfg.Secret
	if secret == "" {
		// Kept in the database so every instance on it shares the key.
		if secret, err = st.EnsureSetting(ctx, "secret_key", randomSecret); err != nil {
			return err
		}
	}
	public, _ := url.Parse(cfg.PublicURL)
	hc := handlers.DefaultConfig(public)
	hc.Sandbox = cfg.GoogleSandbox
	hc.TrustedProxies = splitList(cfg.TrustedProxies)
	hc.DBTimeout = cfg.DBTimeout
	hc.MetricsToken = cfg.MetricsToken
	hc.MetricsAllow, _ = handlers.ParseAllowList(cfg.MetricsAllow) // checked in parseConfig
	hc.SecretKey = []byte(secret)                                  // Google tokens are sealed with a key derived from it
	hc.ImportMaxBytes = cfg.ImportMaxBytes
	hc.APIRate = store.RatePolicy{Rate: cfg.APIRate, Burst: cfg.APIBurst}
	hc.Webhooks.AllowPrivate = cfg.WebhookAllowPrivate
	hc.ListCacheBytes = cfg.ListCacheMB << 20
	if cfg.ListCacheMB == 0 {
		hc.ListCacheBytes = -1
	}
	var draining atomic.Bool
	hc.Draining = draining.Load
	hc.SecretKey = []byte(secret) // Google tokens are sealed with a key derived from it
	if _, err := google.DeriveKey(hc.SecretKey); err != nil {
		return fmt.Errorf("secret key (SHERPA_SECRET) must be at least 16 characters: %w", err)
	}
	closeGoogle, err := googleConfig(&hc, cfg, log)
	if err != nil {
		return err
	}
	defer closeGoogle()
	var mailer handlers.Mailer
	if cfg.SMTPURL != "" {
		m, err := mail.New(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return err
		}
		mailer = m
	}
	app := handlers.New(hc, st, mailer, log)
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}

	fmt.Fprintln(stdout, startupLine(cfg, ln.Addr().String()))
	go cleanSessions(ctx, st, log)
	hooks := webhook.NewWorker(st, webhook.Config{AllowPrivate: cfg.WebhookAllowPrivate}, log)
	hooksCtx, stopHooks := context.WithCancel(ctx)
	hooksDone := make(chan struct{})
	go func() { hooks.Run(hooksCtx); close(hooksDone) }()
	defer func() { stopHooks(); <-hooksDone }()

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Draining: /readyz says 503 so the load balancer stops sending new
	// requests, while those that still come are served; then the listener
	// closes and the requests in flight finish.
	draining.Store(true)
	if cfg.DrainDelay > 0 {
		log.Info().Dur("drain_delay", cfg.DrainDelay).Msg("draining: /readyz answers 503 before shutdown")
		select {
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-time.After(cfg.DrainDelay):
		}
	}
	log.Info().Msg("shutting down: finishing requests in flight")
	if err := app.ShutdownWithTimeout(20 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		log.Warn().Err(err).Msg("listener stopped")
	}
	log.Info().Msg("stopped")
	return nil
}

// googleConfig points the app at Google: the real one when an OAuth client
// is configured, or in sandbox mode at an in-process stand-in. The stand-in's
// consent page is mounted in the app (the browser must reach it); the app's
// own calls (token, revoke, APIs) go to its loopback listener, which shares
// the state and works even when the public URL does not reach this process.
// The returned func stops the stand-in.
func googleConfig(hc *handlers.Config, cfg Config, log zerolog.Logger) (func(), error) {
	public := strings.TrimRight(cfg.PublicURL, "/")
	redirect := public + "/google/callback"
	if !cfg.GoogleSandbox {
		if cfg.GoogleClientID != "" {
			hc.Google = google.Config{ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleSecret, RedirectURL: redirect}.WithDefaults()
		}
		return func() {}, nil
	}
	fake, err := handlers.StartGoogleSandbox(hc, sandbox.Options{})
	if err != nil {
		return nil, err
	}
	log.Warn().Str("consent_page", hc.Google.AuthURL).Str("api", fake.URL()).
		Msg("Google sandbox mode: Google is simulated in this process; no real email, task or meeting leaves it")
	return fake.Close, nil
}

// cleanSessions deletes expired sessions every hour.
func cleanSessions(ctx context.Context, st *store.Store, log zerolog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.Sessions(nil).DeleteExpired(ctx); err != nil {
				log.Warn().Err(err).Msg("delete expired sessions")
			} else if n > 0 {
				log.Info().Int64("deleted", n).Msg("expired sessions deleted")
			}
			if _, err := st.DeleteExpiredAPIState(ctx); err != nil {
				log.Warn().Err(err).Msg("delete expired idempotency keys")
			}
			if _, err := st.DeleteOldWebhookLog(ctx); err != nil {
				log.Warn().Err(err).Msg("delete old webhook deliveries")
			}
		}
	}
}

// urlOfAddr is the http URL of a listen address; an address on all
// interfaces (":8080", "0.0.0.0:8080", "[::]:8080") is reached as localhost.
func urlOfAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// startupLine says where Sherpa really listens and, when the public URL was
// set to something else, where users reach it.
func startupLine(cfg Config, listened string) string {
	local := urlOfAddr(listened)
	if !cfg.PublicURLSet || strings.TrimRight(cfg.PublicURL, "/") == local {
		return fmt.Sprintf("Sherpa is listening on %s (open %s)", listened, local)
	}
	return fmt.Sprintf("Sherpa is listening on %s (open %s); links in emails and Google's redirect use the public URL %s", listened, local, cfg.PublicURL)
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// servePprof serves the profiler on its own listener (never on the app's).
func servePprof(addr string, log zerolog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Warn().Str("addr", addr).Msg("profiler listening")
	if err := srv.ListenAndServe(); err != nil {
		log.Warn().Err(err).Msg("profiler stopped")
	}
}
