package google

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"sherpa/google/sandbox"
)

const (
	testRedirect = "http://sherpa.test/google/callback"
	userEmail    = "ann@example.com"
	contactEmail = "bob@example.com"
)

// env is a running fake and a Config pointing at it.
type env struct {
	fake *sandbox.Server
	cfg  Config
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	if opts.RedirectURLs == nil {
		opts.RedirectURLs = []string{testRedirect}
	}
	fake := sandbox.New(opts)
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	ep := fake.Endpoints("")
	return &env{fake: fake, cfg: Config{
		ClientID:     fake.Options().ClientID,
		ClientSecret: fake.Options().ClientSecret,
		RedirectURL:  testRedirect,
		AuthURL:      ep.AuthURL,
		TokenURL:     ep.TokenURL,
		RevokeURL:    ep.RevokeURL,
		APIBaseURL:   ep.APIBaseURL,
		Timeout:      5 * time.Second,
	}}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// authorize plays the browser on the consent page: open AuthCodeURL, submit
// the form as email with Allow, and answer the code from the redirect.
func (e *env) authorize(t *testing.T, email, state, verifier string) string {
	t.Helper()
	resp, err := http.Get(e.cfg.AuthCodeURL(state, verifier))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"email": {email}, "decision": {"allow"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	action, _ := url.Parse("auth") // the form's relative action
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(resp.Request.URL.ResolveReference(action).String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("consent answer: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(loc.String(), testRedirect+"?") {
		t.Fatalf("redirected to %s, want %s", loc, testRedirect)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state %q came back as %q", state, got)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

// connect runs the whole OAuth flow for email and answers the token.
func (e *env) connect(t *testing.T, email string) *oauth2.Token {
	t.Helper()
	verifier := NewVerifier()
	code := e.authorize(t, email, NewState(), verifier)
	tok, err := e.cfg.Exchange(context.Background(), code, verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// client connects email and answers a Client for it.
func (e *env) client(t *testing.T, email string) *Client {
	t.Helper()
	cl, err := e.cfg.NewClient(context.Background(), e.connect(t, email), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// onlyRequest answers the single recorded request matching, failing otherwise.
func (e *env) onlyRequest(t *testing.T, method, pathPart string) sandbox.Request {
	t.Helper()
	reqs := e.fake.RequestsTo(method, pathPart)
	if len(reqs) != 1 {
		t.Fatalf("%d requests %s %s, want 1", len(reqs), method, pathPart)
	}
	return reqs[0]
}
