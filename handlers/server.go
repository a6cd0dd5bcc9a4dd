// Package handlers is Sherpa's HTTP layer on Fiber: middleware, routes and the
// handlers behind them. A handler parses and validates input, calls store,
// google and charts, and renders exactly one views component: the full
// page, or the fragment when htmx asks for it.
package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// Config is the part of Sherpa's configuration the HTTP layer needs.
type Config struct {
	// PublicURL is where users reach Sherpa; invitation links are built on
	// it, and cookies are Secure when it is https.
	PublicURL *url.URL
	// TrustedProxies are the addresses (IPs or CIDRs) of load balancers whose
	// X-Forwarded-For header names the real client.
	TrustedProxies []string
	// Sandbox shows the sandbox banner (Google is simulated).
	Sandbox bool
	// Password hashing cost; tests lower it.
	Password PasswordParams
	// HashSlots is how many password hashes run at once (default: the
	// number of cores); HashWait is how long a login, sign-up or password
	// change waits for a slot before it is refused with 503 (default 2 s).
	HashSlots int
	HashWait  time.Duration
	// OnPasswordCheck, when set, is called for every password checked
	// (tests and metrics count them).
	OnPasswordCheck func()
	// Login throttling per email and per client address.
	ThrottleEmail store.ThrottlePolicy
	ThrottleIP    store.ThrottlePolicy
	// SessionLifetime is how long a login lasts.
	SessionLifetime time.Duration
	// Google is where Google's OAuth and APIs live (the real ones, or the
	// sandbox fake); an empty ClientID means Google is not configured.
	Google google.Config
	// SecretKey is the app's secret; Google tokens are sealed with a key
	// derived from it.
	SecretKey []byte
	// GoogleSandbox, when not nil, is the sandbox's stand-in for Google
	// (google/sandbox), served at /sandbox/google so the browser reaches its
	// consent page.
	GoogleSandbox http.Handler
	// DBTimeout is the deadline of each request's database work: a database
	// that does not answer within it gives a 503 instead of a hung request.
	// Routes that also call Google get googleRouteExtra on top.
	DBTimeout time.Duration
	// Draining, when set and true, makes /readyz answer 503 "draining": the
	// instance got SIGTERM and a load balancer should stop sending it
	// requests while it finishes those it has (see main.go's serve).
	Draining func() bool
	// MetricsToken and MetricsAllow open /metrics (Prometheus): to a client
	// presenting "Authorization: Bearer <token>", or from an address in the
	// list. With neither, there is no /metrics.
	MetricsToken string
	MetricsAllow []netip.Prefix
	// ImportMaxBytes is the largest CSV file an import accepts
	// (DefaultImportMaxBytes when 0).
	ImportMaxBytes int64
	// APIRate is the API's rate limit per key (DefaultAPIRate when zero).
	APIRate store.RatePolicy
	// Webhooks configures the webhook sender; see WebhookConfig.
	Webhooks WebhookConfig
	// ImportPoll is how often an idle instance looks for import jobs whose
	// instance died (half the job lease when 0).
	ImportPoll time.Duration
	// ImportInlineCheck is the largest file whose dry run runs in the
	// request (DefaultImportInlineCheck when 0); larger ones run as a job.
	ImportInlineCheck int64
	// ListCacheBytes bounds the memory of the rendered list pages kept per
	// team list version (list_cache.go): 0 is the default (64 MiB), a
	// negative number turns the cache off.
	ListCacheBytes int
}

// DefaultDBTimeout is the default deadline of a request's database work.
const DefaultDBTimeout = 5 * time.Second

// DefaultConfig returns production settings for the given public URL.
func DefaultConfig(public *url.URL) Config {
	return Config{
		PublicURL:       public,
		Password:        DefaultPasswordParams,
		HashSlots:       runtime.NumCPU(),
		HashWait:        2 * time.Second,
		ThrottleEmail:   store.ThrottlePolicy{Limit: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute},
		ThrottleIP:      store.ThrottlePolicy{Limit: 30, Window: 15 * time.Minute, Lock: 15 * time.Minute},
		SessionLifetime: 14 * 24 * time.Hour,
		DBTimeout:       DefaultDBTimeout,
	}
}

// Mail is an email to send.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends a plain-text email; nil in Server means no SMTP server is
// configured. Package mail implements it over SMTP.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// Server holds what every handler needs. It is built once in main.
type Server struct {
	cfg      Config
	store    *store.Store
	sessions *scs.SessionManager
	mailer   Mailer
	log      zerolog.Logger
	// dummyHash is checked against when a login names no account, so both
	// cases take the same time.
	dummyHash string
	// hasher runs every password hash and check under a bounded pool.
	hasher *hasher
	// dashCache holds each team's charts drawn at its current data version.
	dashCache *dashboardCache
	// boardCache holds boards drawn at the team's current data version.
	boardCache *boardCache
	// polls lets a board poll with nothing new skip the session (board_poll.go).
	polls pollGrants
	// outage rate-limits the log lines about an unavailable database.
	outage *outageLog
	// metrics is nil unless /metrics is configured.
	metrics *metrics
	// imports runs CSV import jobs in this process.
	imports *importWorker
	// lists keeps the tables' next steps moving and runs bulk changes.
	lists *listsState
	// rateReserve holds API rate-limit tokens this instance reserved.
	rateReserve *rateReserve
	// listCache holds rendered list pages per team list version; nil when
	// turned off.
	listCache *listCache
	// members holds each team's member list per list version; columns
	// and savedViews each user's column choice and saved views.
	members    *versionCache[int64, []store.User]
	columns    *versionCache[prefsKey, views.ColumnChoice]
	savedViews *versionCache[prefsKey, []store.SavedView]
	// handler is the app's request handler, for the list cache's
	// background redraws (revalidate).
	handler fasthttp.RequestHandler
}

// New builds the Fiber app with every route and middleware.
func New(cfg Config, st *store.Store, mailer Mailer, log zerolog.Logger) *fiber.App {
	s := &Server{cfg: cfg, store: st, mailer: mailer, log: log, dummyHash: hashPassword(cfg.Password, "not a real password"),
		dashCache: newDashboardCache(), boardCache: newBoardCache(), rateReserve: newRateReserve(), outage: newOutageLog(), imports: newImportWorker(st, log),
		lists:  newListsState(st, log),
		hasher: newHasher(cfg.Password, cfg.HashSlots, cfg.HashWait, cfg.OnPasswordCheck)}
	switch {
	case cfg.ListCacheBytes == 0:
		s.listCache = newListCache(defaultListCacheBytes)
	case cfg.ListCacheBytes > 0:
		s.listCache = newListCache(cfg.ListCacheBytes)
	}
	if s.listCache != nil {
		// The store's clock: tests travel past importStale with it.
		s.listCache.now = st.Now
	}
	s.members = newVersionCache[int64, []store.User](memberCacheTeams)
	s.columns = newVersionCache[prefsKey, views.ColumnChoice](prefsCacheEntries)
	s.savedViews = newVersionCache[prefsKey, []store.SavedView](prefsCacheEntries)
	if cfg.MetricsToken != "" || len(cfg.MetricsAllow) > 0 {
		s.metrics = newMetrics(st)
	}
	s.sessions = newSessionManager(cfg, st)
	app := fiber.New(fiber.Config{
		AppName:                 "Sherpa",
		ErrorHandler:            s.handleError,
		DisableStartupMessage:   true,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		BodyLimit:               1 << 20,
		EnableTrustedProxyCheck: len(cfg.TrustedProxies) > 0,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg),
	})
	streamUploads(app)
	s.routes(app)
	// Resume import jobs an earlier run of this instance (or a dead one)
	// left, and keep looking for abandoned ones.
	s.imports.start(app, cfg.ImportPoll)
	s.handler = app.Handler()
	return app
}

func proxyHeader(cfg Config) string {
	if len(cfg.TrustedProxies) > 0 {
		return fiber.HeaderXForwardedFor
	}
	return ""
}

func (s *Server) routes(app *fiber.App) {
	app.Use(s.accessLog) // request id, recover, one log line per request
	app.Use(s.dbDeadline)
	app.Use(s.securityHeaders)
	app.Use(s.limitBodies)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if s.metrics != nil {
		app.Get("/metrics", s.metricsEndpoint())
	}
	app.Use("/static", staticFiles())
	// The API authenticates by key, not cookie: before the session and the
	// cross-site check (see api.go).
	s.apiRoutes(app)
	app.Get("/deals/board/poll", s.boardPollQuick) // before the session: see board_poll.go
	app.Use(s.crossSiteCheck)
	app.Use(s.loadSession)
	app.Use(s.loadUser)

	app.Get("/signup", s.signupPage)
	app.Post("/signup", s.signup)
	app.Get("/login", s.loginPage)
	app.Post("/login", s.login)
	app.Post("/logout", s.logout)
	app.Get("/invites/:token", s.invitePage)
	app.Post("/invites/:token", s.requireUser, s.acceptInvite)

	app.Get("/", s.requireUser, s.home)
	app.Get("/dashboard/charts", s.requireTeam, s.dashboardPoll)
	app.Get("/profile", s.requireUser, s.profilePage)
	app.Post("/profile", s.requireUser, s.updateProfile)
	app.Post("/profile/sessions/end", s.requireUser, s.endOtherSessions)
	app.Get("/team/new", s.requireUser, s.teamNewPage)
	app.Post("/team", s.requireUser, s.createTeam)
	app.Get("/team", s.requireTeam, s.teamPage)
	app.Post("/team/leave", s.requireTeam, s.leaveTeam)
	app.Post("/team/settings", s.requireTeam, s.requireOwner, s.updateTeamSettings)
	app.Post("/team/invites", s.requireTeam, s.requireManager, s.invite)
	app.Post("/team/invites/:id/revoke", s.requireTeam, s.requireManager, s.revokeInvite)
	app.Post("/team/members/:id/role", s.requireTeam, s.requireOwner, s.setRole)
	app.Post("/team/members/:id/owner", s.requireTeam, s.requireOwner, s.handOver)
	app.Post("/team/members/:id/remove", s.requireTeam, s.requireManager, s.removeMember)

	s.apiKeyRoutes(app)
	s.webhookRoutes(app)
	s.exportRoutes(app)
	s.importRoutes(app)
	s.contactsRoutes(app)
	s.listsRoutes(app)
	s.dealsRoutes(app)
	s.searchRoutes(app)

	s.googleRoutes(app)

	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
