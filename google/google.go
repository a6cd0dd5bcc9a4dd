// Package google connects a Sherpa user's Google account: OAuth 2.0 (authorization
// code with state and PKCE), Gmail v1, Tasks v1 and Calendar v3, wrapped in small
// Go types that HTTP handlers call.
//
// It knows nothing of Fiber or the database and imports no other Sherpa package:
// storing tokens is the caller's job (SealToken/OpenToken encrypt them for that),
// and every failure comes back wrapped in one of the sentinel errors in errors.go
// so a handler can tell "connect", "reconnect" and "try again later" apart.
//
// All endpoints come from Config, so the same code talks to Google or to the
// in-process stand-in in google/sandbox (tests and the sandbox).
package google

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/gmail/v1"
	oauth2api "google.golang.org/api/oauth2/v2"
	"google.golang.org/api/option"
	"google.golang.org/api/tasks/v1"
)

// Google's real OAuth endpoints, used when a Config leaves them empty.
const (
	GoogleAuthURL   = "https://accounts.google.com/o/oauth2/auth"
	GoogleTokenURL  = "https://oauth2.googleapis.com/token"
	GoogleRevokeURL = "https://oauth2.googleapis.com/revoke"
)

// DefaultTimeout bounds every call to Google when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Scopes are the permissions Sherpa asks for: send and read mail, manage tasks and
// calendar events, and learn the account's address.
var Scopes = []string{
	gmail.GmailSendScope,
	gmail.GmailReadonlyScope,
	tasks.TasksScope,
	calendar.CalendarEventsScope,
	oauth2api.OpenIDScope,
	oauth2api.UserinfoEmailScope,
}

// Config says which OAuth client to use and where Google (or its stand-in) lives.
// The zero value of each URL means Google's real endpoint.
type Config struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string // Sherpa's OAuth callback, e.g. https://crm.example.com/google/callback

	AuthURL   string // browser-facing consent page
	TokenURL  string // code exchange and refresh
	RevokeURL string // token revocation

	// APIBaseURL is the root under which the fake serves gmail/v1/…, tasks/v1/…,
	// calendar/v3/… and oauth2/v2/userinfo, e.g. "http://127.0.0.1:8081/".
	// Empty means each Google library's own default endpoint.
	APIBaseURL string

	// Timeout bounds each call (including a token refresh); DefaultTimeout if zero.
	Timeout time.Duration

	// Transport is the base HTTP transport; http.DefaultTransport if nil.
	Transport http.RoundTripper
}

// WithDefaults returns c with Google's real OAuth endpoints and the default timeout
// filled in where c leaves them empty.
func (c Config) WithDefaults() Config {
	if c.AuthURL == "" {
		c.AuthURL = GoogleAuthURL
	}
	if c.TokenURL == "" {
		c.TokenURL = GoogleTokenURL
	}
	if c.RevokeURL == "" {
		c.RevokeURL = GoogleRevokeURL
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.APIBaseURL != "" && !strings.HasSuffix(c.APIBaseURL, "/") {
		c.APIBaseURL += "/"
	}
	return c
}

func (c Config) oauth() *oauth2.Config {
	c = c.WithDefaults()
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Scopes:       Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.AuthURL,
			TokenURL:  c.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams, // what Google expects
		},
	}
}

// httpClient is the plain client for OAuth endpoints; its Timeout also bounds
// token refreshes, which the oauth2 transport performs without the call's context.
func (c Config) httpClient() *http.Client {
	c = c.WithDefaults()
	tr := c.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	return &http.Client{Transport: tr, Timeout: c.Timeout}
}

func (c Config) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
}

// Client calls Gmail, Tasks, Calendar and userinfo for one connected user.
// Build one per request with Config.NewClient; it is safe for concurrent use.
type Client struct {
	timeout  time.Duration
	gmail    *gmail.Service
	tasks    *tasks.Service
	calendar *calendar.Service
	userinfo *oauth2api.Service
}

// NewClient returns a Client acting with tok. When the token is refreshed,
// onRefresh (if not nil) receives the new token so the caller can store it; it
// keeps the refresh token. A nil token answers ErrNotConnected.
func (c Config) NewClient(ctx context.Context, tok *oauth2.Token, onRefresh func(*oauth2.Token)) (*Client, error) {
	if tok == nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return nil, ErrNotConnected
	}
	c = c.WithDefaults()
	// The token source outlives the request that built the client's first call,
	// so it must not inherit its cancellation; the HTTP client's Timeout bounds it.
	refreshCtx := c.oauthContext(context.WithoutCancel(ctx))
	src := &notifyingSource{
		src:       c.oauth().TokenSource(refreshCtx, tok),
		last:      tok.AccessToken,
		onRefresh: onRefresh,
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{Transport: &oauth2.Transport{Source: src, Base: base}}

	opts := func(endpoint string) []option.ClientOption {
		o := []option.ClientOption{option.WithHTTPClient(hc)}
		if c.APIBaseURL != "" {
			o = append(o, option.WithEndpoint(c.APIBaseURL+endpoint))
		}
		return o
	}
	cl := &Client{timeout: c.Timeout}
	var err error
	if cl.gmail, err = gmail.NewService(ctx, opts("")...); err != nil {
		return nil, fmt.Errorf("google: gmail client: %w", err)
	}
	if cl.tasks, err = tasks.NewService(ctx, opts("")...); err != nil {
		return nil, fmt.Errorf("google: tasks client: %w", err)
	}
	// Calendar's generated paths are relative to ".../calendar/v3/".
	if cl.calendar, err = calendar.NewService(ctx, opts("calendar/v3/")...); err != nil {
		return nil, fmt.Errorf("google: calendar client: %w", err)
	}
	if cl.userinfo, err = oauth2api.NewService(ctx, opts("")...); err != nil {
		return nil, fmt.Errorf("google: userinfo client: %w", err)
	}
	return cl, nil
}

// call bounds one public method's work by the configured timeout.
func (cl *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, cl.timeout)
}

// UserEmail answers the connected account's email address (userinfo v2).
func (cl *Client) UserEmail(ctx context.Context) (string, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	info, err := cl.userinfo.Userinfo.Get().Context(ctx).Do()
	if err != nil {
		return "", classify(err)
	}
	return info.Email, nil
}

// notifyingSource reports each new access token: the wrapped ReuseTokenSource
// hands out the cached token until it expires, so a changed access token means a
// refresh happened.
type notifyingSource struct {
	src       oauth2.TokenSource
	onRefresh func(*oauth2.Token)

	mu   sync.Mutex
	last string
}

func (s *notifyingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := s.src.Token()
	if err != nil {
		return nil, err
	}
	if tok.AccessToken != s.last {
		s.last = tok.AccessToken
		if s.onRefresh != nil {
			s.onRefresh(tok)
		}
	}
	return tok, nil
}

// randomID returns n random bytes, base64url-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
