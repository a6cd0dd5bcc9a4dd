// Package sandbox is an in-process stand-in for the Google endpoints Sherpa
// uses: OAuth 2.0 (consent page, token, revoke, userinfo), Gmail v1, Tasks v1 and
// Calendar v3. The real client libraries talk to it over HTTP, so tests exercise
// the same code that talks to Google.
//
// Tests use it, and so does the app's sandbox mode; it therefore must not import
// "testing", and it imports no Sherpa package. State lives in memory, per Google
// account (the address typed on the consent page), and is safe for concurrent
// use. Failures can be switched on (Fail, FailPath) and every request is recorded
// (Requests) so tests can assert what the client sent.
//
// Routes, relative to the server's root:
//
//	GET, POST /o/oauth2/auth                    consent page (browser)
//	POST      /token                            code exchange and refresh
//	POST      /revoke                           revocation
//	GET       /oauth2/v2/userinfo               the account's address
//	          /gmail/v1/users/{me}/…            profile, messages.send, messages.list, messages.get, threads.list, threads.get
//	          /tasks/v1/…                       task lists get/list/insert/delete, tasks list/get/insert/patch/update/delete/clear
//	          /calendar/v3/calendars/{id}/events events list/get/insert/delete
//
// # Sandbox
//
// The browser must reach the consent page, so the app mounts Handler inside
// itself (any prefix, with http.StripPrefix) and points its Google
// configuration at that prefix; handlers.StartGoogleSandbox is the one place
// that wiring is done, for the app's sandbox mode and for its tests.
//
// If the app cannot call its own public URL, also Start the fake (loopback) and
// take TokenURL, RevokeURL and APIBaseURL from Endpoints(""): both routes share
// one state. State is per process: a sandbox runs as a single instance.
package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/calendar/v3"
)

// Options configure a Server. Zero values get the defaults noted.
type Options struct {
	ClientID     string   // default "sandbox-client-id"
	ClientSecret string   // default "sandbox-client-secret"
	RedirectURLs []string // allowed redirect_uri values; empty allows any http(s) URL
	AppName      string   // shown on the consent page; default "Sherpa"
	DefaultEmail string   // prefilled on the consent page; default "sandbox.user@example.com"

	// TokenLifetime is how long issued access tokens live; default one hour.
	// The oauth2 package refreshes tokens 10s before they expire, so a lifetime
	// under 10s makes every call refresh first.
	TokenLifetime time.Duration
	// SlowDelay is how long the Slow failure mode stalls; default 30s.
	SlowDelay time.Duration
	// RecordLimit is how many requests Requests keeps (the latest); default 10000,
	// so a long-running sandbox does not grow without bound.
	RecordLimit int
}

// Default client credentials, for a sandbox that needs no configuration.
const (
	DefaultClientID     = "sandbox-client-id"
	DefaultClientSecret = "sandbox-client-secret"
	DefaultEmail        = "sandbox.user@example.com"
)

// Mode is a switchable failure.
type Mode string

// Failure modes. Unless a mode says otherwise it applies to API calls (userinfo,
// Gmail, Tasks, Calendar) only; the consent page and revocation never fail.
const (
	None Mode = "none"
	// InvalidGrant: the token endpoint answers 400 {"error":"invalid_grant"} and
	// API calls answer 401, as after the user revoked access.
	InvalidGrant Mode = "invalid_grant"
	// Forbidden: API calls answer 403 insufficientPermissions.
	Forbidden Mode = "forbidden"
	// RateLimit: API calls answer 429 rateLimitExceeded.
	RateLimit Mode = "rate_limit"
	// ServerError: API calls and the token endpoint answer 500.
	ServerError Mode = "server_error"
	// Slow: API calls and the token endpoint stall for SlowDelay, then answer
	// normally (unless the client gave up first).
	Slow Mode = "slow"
	// Late: API writes (POST, PUT, PATCH, DELETE) are carried out at once,
	// but the answer is held back SlowDelay, so a client that gives up first
	// does not learn that the write went through. Reads answer at once.
	Late Mode = "late"
)

// Modes lists every failure mode, None first.
func Modes() []Mode { return []Mode{None, InvalidGrant, Forbidden, RateLimit, ServerError, Slow, Late} }

// ParseMode reads a mode name ("" is None).
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return None, nil
	}
	for _, m := range Modes() {
		if string(m) == s {
			return m, nil
		}
	}
	return None, fmt.Errorf("sandbox: unknown failure mode %q", s)
}

// Endpoints are the URLs to put in the app's Google configuration.
type Endpoints struct {
	AuthURL    string
	TokenURL   string
	RevokeURL  string
	APIBaseURL string // ends with "/"
}

// Request is one recorded HTTP request.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	User   string // the account of the request's bearer token, if it was valid
	Time   time.Time
}

// DecodeJSON decodes the body into v.
func (r Request) DecodeJSON(v any) error { return json.Unmarshal(r.Body, v) }

// Form parses a form-encoded body (token and revoke requests).
func (r Request) Form() (url.Values, error) { return url.ParseQuery(string(r.Body)) }

// GmailRaw is the decoded RFC 822 message of a messages.send request.
func (r Request) GmailRaw() ([]byte, error) {
	var m struct {
		Raw string `json:"raw"`
	}
	if err := r.DecodeJSON(&m); err != nil {
		return nil, err
	}
	return decodeBase64URL(m.Raw)
}

// Server is the fake. Create it with New; serve it with Start (own loopback
// listener) and/or mount Handler in another server.
type Server struct {
	opts Options
	mux  *http.ServeMux

	mu         sync.Mutex
	accounts   map[string]*account
	codes      map[string]*authCode
	access     map[string]*accessToken
	grants     map[string]*grant // by refresh token
	requests   []Request
	failMode   Mode
	failPrefix string

	done      chan struct{}
	closeOnce sync.Once
	srv       *http.Server
	url       string
}

// New returns a Server that is not listening yet.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.AppName == "" {
		opts.AppName = "Sherpa"
	}
	if opts.DefaultEmail == "" {
		opts.DefaultEmail = DefaultEmail
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.SlowDelay <= 0 {
		opts.SlowDelay = 30 * time.Second
	}
	if opts.RecordLimit <= 0 {
		opts.RecordLimit = 10000
	}
	s := &Server{
		opts:     opts,
		mux:      http.NewServeMux(),
		accounts: map[string]*account{},
		codes:    map[string]*authCode{},
		access:   map[string]*accessToken{},
		grants:   map[string]*grant{},
		failMode: None,
		done:     make(chan struct{}),
	}
	s.routes()
	return s
}

// Options answers the options in effect (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// Start serves on a random port of 127.0.0.1; URL answers where.
func (s *Server) Start() error { return s.Listen("127.0.0.1:0") }

// Listen serves on addr.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen: %w", err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the root of the listening server, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Endpoints answers the Google URLs of a server rooted at base (no trailing
// slash needed); an empty base means URL().
func (s *Server) Endpoints(base string) Endpoints {
	if base == "" {
		base = s.url
	}
	base = strings.TrimRight(base, "/")
	return Endpoints{
		AuthURL:    base + "/o/oauth2/auth",
		TokenURL:   base + "/token",
		RevokeURL:  base + "/revoke",
		APIBaseURL: base + "/",
	}
}

// Close stops the listener, ends stalled Slow requests and drops connections.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.srv != nil {
			_ = s.srv.Close()
		}
	})
}

// Handler serves every route at the root; mount it under a prefix with
// http.StripPrefix.
func (s *Server) Handler() http.Handler { return s }

// Fail switches a failure mode on for every route it applies to (None: off).
func (s *Server) Fail(m Mode) { s.FailPath("", m) }

// FailPath switches a failure mode on for paths starting with prefix only, e.g.
// "/gmail/" or "/token".
func (s *Server) FailPath(prefix string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMode, s.failPrefix = m, prefix
}

// Failure answers the mode in effect and its path prefix.
func (s *Server) Failure() (Mode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failMode, s.failPrefix
}

// Requests answers a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo answers the recorded requests with the method ("" for any) whose
// path contains pathPart.
func (s *Server) RequestsTo(method, pathPart string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, pathPart) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// ServeHTTP records the request, applies the failure mode, and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		Time:   time.Now(),
	}
	if at := s.validAccess(r); at != nil {
		rec.User = at.grant.email
	}
	if len(s.requests) >= s.opts.RecordLimit {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-s.opts.RecordLimit+1:]...)
	}
	s.requests = append(s.requests, rec)
	mode, prefix := s.failMode, s.failPrefix
	s.mu.Unlock()

	if mode != None && strings.HasPrefix(r.URL.Path, prefix) {
		if mode == Late && routeKind(r.URL.Path) == "api" && r.Method != http.MethodGet {
			s.answerLate(w, r)
			return
		}
		if s.injectFailure(w, r, mode) {
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// answerLate carries the request out now and answers it after SlowDelay,
// unless the client gave up first (Late).
func (s *Server) answerLate(w http.ResponseWriter, r *http.Request) {
	held := &heldResponse{header: http.Header{}, status: http.StatusOK}
	s.mux.ServeHTTP(held, r)
	select {
	case <-time.After(s.opts.SlowDelay):
	case <-r.Context().Done():
		return
	case <-s.done:
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.WriteHeader(held.status)
	_, _ = w.Write(held.body.Bytes())
}

// heldResponse keeps an answer to send later.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if !h.wrote {
		h.status, h.wrote = status, true
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.wrote = true
	return h.body.Write(b)
}

// injectFailure answers for the mode, or reports false to serve normally.
func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request, m Mode) bool {
	kind := routeKind(r.URL.Path)
	switch {
	case m == Slow && (kind == "api" || kind == "token"):
		select {
		case <-time.After(s.opts.SlowDelay):
			return false
		case <-r.Context().Done():
			return true
		case <-s.done:
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return true
		}
	case m == InvalidGrant && kind == "token":
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_grant", "error_description": "Token has been expired or revoked.",
		})
		return true
	case m == InvalidGrant && kind == "api":
		unauthorized(w)
		return true
	case m == Forbidden && kind == "api":
		insufficientScope(w)
		return true
	case m == RateLimit && kind == "api":
		apiError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Rate Limit Exceeded")
		return true
	case m == ServerError && kind == "token":
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal_failure"})
		return true
	case m == ServerError && kind == "api":
		apiError(w, http.StatusInternalServerError, "INTERNAL", "backendError", "Backend Error")
		return true
	}
	return false
}

func routeKind(path string) string {
	switch path {
	case "/o/oauth2/auth":
		return "authorize"
	case "/token":
		return "token"
	case "/revoke":
		return "revoke"
	}
	return "api"
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /o/oauth2/auth", s.authorize)
	m.HandleFunc("POST /o/oauth2/auth", s.authorize)
	m.HandleFunc("POST /token", s.token)
	m.HandleFunc("POST /revoke", s.revoke)
	m.HandleFunc("GET /revoke", s.revoke)

	emailScopes := []string{scopeUserinfoEmail}
	m.HandleFunc("GET /oauth2/v2/userinfo", s.api(emailScopes, s.userinfo))
	m.HandleFunc("GET /userinfo/v2/me", s.api(emailScopes, s.userinfo))

	gmailRead := []string{scopeGmailReadonly, scopeGmailModify, scopeMail}
	gmailSend := []string{scopeGmailSend, scopeGmailCompose, scopeGmailModify, scopeMail}
	gmailAny := append(append([]string{}, gmailRead...), gmailSend...)
	m.HandleFunc("GET /gmail/v1/users/{userId}/profile", s.api(gmailAny, s.gmailProfile))
	m.HandleFunc("POST /gmail/v1/users/{userId}/messages/send", s.api(gmailSend, s.gmailSend))
	m.HandleFunc("GET /gmail/v1/users/{userId}/messages", s.api(gmailRead, s.gmailMessages))
	m.HandleFunc("GET /gmail/v1/users/{userId}/messages/{id}", s.api(gmailRead, s.gmailMessage))
	m.HandleFunc("GET /gmail/v1/users/{userId}/threads", s.api(gmailRead, s.gmailThreads))
	m.HandleFunc("GET /gmail/v1/users/{userId}/threads/{id}", s.api(gmailRead, s.gmailThread))

	tasksRead := []string{scopeTasks, scopeTasksReadonly}
	tasksWrite := []string{scopeTasks}
	m.HandleFunc("GET /tasks/v1/users/@me/lists", s.api(tasksRead, s.taskListsList))
	m.HandleFunc("POST /tasks/v1/users/@me/lists", s.api(tasksWrite, s.taskListsInsert))
	m.HandleFunc("GET /tasks/v1/users/@me/lists/{tasklist}", s.api(tasksRead, s.taskListsGet))
	m.HandleFunc("DELETE /tasks/v1/users/@me/lists/{tasklist}", s.api(tasksWrite, s.taskListsDelete))
	m.HandleFunc("GET /tasks/v1/lists/{tasklist}/tasks", s.api(tasksRead, s.tasksList))
	m.HandleFunc("POST /tasks/v1/lists/{tasklist}/tasks", s.api(tasksWrite, s.tasksInsert))
	m.HandleFunc("GET /tasks/v1/lists/{tasklist}/tasks/{task}", s.api(tasksRead, s.tasksGet))
	m.HandleFunc("PATCH /tasks/v1/lists/{tasklist}/tasks/{task}", s.api(tasksWrite, s.tasksPatch))
	m.HandleFunc("PUT /tasks/v1/lists/{tasklist}/tasks/{task}", s.api(tasksWrite, s.tasksUpdate))
	m.HandleFunc("DELETE /tasks/v1/lists/{tasklist}/tasks/{task}", s.api(tasksWrite, s.tasksDelete))
	m.HandleFunc("POST /tasks/v1/lists/{tasklist}/clear", s.api(tasksWrite, s.tasksClear))

	calRead := []string{scopeCalendarEvents, scopeCalendar, scopeCalendarEventsReadonly, scopeCalendarReadonly}
	calWrite := []string{scopeCalendarEvents, scopeCalendar}
	m.HandleFunc("GET /calendar/v3/calendars/{calendarId}/events", s.api(calRead, s.eventsList))
	m.HandleFunc("POST /calendar/v3/calendars/{calendarId}/events", s.api(calWrite, s.eventsInsert))
	m.HandleFunc("GET /calendar/v3/calendars/{calendarId}/events/{eventId}", s.api(calRead, s.eventsGet))
	m.HandleFunc("DELETE /calendar/v3/calendars/{calendarId}/events/{eventId}", s.api(calWrite, s.eventsDelete))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Not Found")
	})
}

// api checks the bearer token and its scopes (any of scopes), then runs h with
// the account locked.
func (s *Server) api(scopes []string, h func(http.ResponseWriter, *http.Request, *account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		at := s.validAccess(r)
		if at == nil {
			unauthorized(w)
			return
		}
		if !at.grant.hasAny(scopes) {
			insufficientScope(w)
			return
		}
		h(w, r, s.account(at.grant.email))
	}
}

// account is one Google account's data. Guarded by Server.mu.
type account struct {
	email string

	threads   map[string]*mailThread
	messages  map[string]*mailMessage
	historyID uint64

	lists     map[string]*taskList
	listOrder []string

	events      []*calendar.Event
	conferences map[string]*calendar.ConferenceData // by conference requestId
}

func newAccount(email string) *account {
	return &account{
		email:       strings.ToLower(email),
		threads:     map[string]*mailThread{},
		messages:    map[string]*mailMessage{},
		historyID:   1000,
		lists:       map[string]*taskList{},
		conferences: map[string]*calendar.ConferenceData{},
	}
}

// account answers the account for email, creating it on first use. s.mu held.
func (s *Server) account(email string) *account {
	key := strings.ToLower(email)
	a := s.accounts[key]
	if a == nil {
		a = newAccount(email)
		s.accounts[key] = a
	}
	return a
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError answers Google's JSON error shape, which googleapi.Error parses.
func apiError(w http.ResponseWriter, code int, status, reason, message string) {
	writeJSON(w, code, map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": message,
			"errors":  []map[string]string{{"message": message, "domain": "global", "reason": reason}},
			"status":  status,
		},
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authError",
		"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
}

func insufficientScope(w http.ResponseWriter) {
	apiError(w, http.StatusForbidden, "PERMISSION_DENIED", "insufficientPermissions",
		"Request had insufficient authentication scopes.")
}

func badRequest(w http.ResponseWriter, message string) {
	apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", message)
}

func notFound(w http.ResponseWriter) {
	apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Requested entity was not found.")
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeBase64URL accepts base64url or standard base64, padded or not.
func decodeBase64URL(s string) ([]byte, error) {
	s = strings.NewReplacer("+", "-", "/", "_", "\n", "", "\r", "", " ", "").Replace(s)
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// page cuts items[offset:offset+size] by an opaque offset token.
func page(total int, token string, size int) (start, end int, next string, err error) {
	if token != "" {
		start, err = strconv.Atoi(token)
		if err != nil || start < 0 || start > total {
			return 0, 0, "", errors.New("Invalid page token")
		}
	}
	end = min(start+size, total)
	if end < total {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

// intParam reads a positive integer query parameter, def if absent, capped at max.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("Invalid value for %s: %s", name, v)
	}
	return min(n, max), nil
}

// boolParam reads a true/false query parameter, def if absent.
func boolParam(r *http.Request, name string, def bool) bool {
	switch r.URL.Query().Get(name) {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}
