package google

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"sherpa/google/sandbox"
)

func TestAuthCodeURLAsksForOfflineConsentWithPKCE(t *testing.T) {
	cfg := Config{ClientID: "cid", RedirectURL: testRedirect}
	verifier := NewVerifier()
	u, err := url.Parse(cfg.AuthCodeURL("the-state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != GoogleAuthURL {
		t.Errorf("auth URL %s, want Google's %s", got, GoogleAuthURL)
	}
	sum := sha256.Sum256([]byte(verifier))
	want := map[string]string{
		"client_id":             "cid",
		"redirect_uri":          testRedirect,
		"response_type":         "code",
		"state":                 "the-state",
		"access_type":           "offline",
		"prompt":                "consent",
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
	}
	q := u.Query()
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, sc := range []string{
		"https://www.googleapis.com/auth/gmail.send",
		"https://www.googleapis.com/auth/gmail.readonly",
		"https://www.googleapis.com/auth/tasks",
		"https://www.googleapis.com/auth/calendar.events",
		"openid",
		"https://www.googleapis.com/auth/userinfo.email",
	} {
		if !contains(scopes, sc) {
			t.Errorf("scope %s missing from %v", sc, scopes)
		}
	}
	if q.Get("code_verifier") != "" || strings.Contains(u.String(), verifier) {
		t.Error("the verifier itself must never be in the auth URL")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestConnectAnswersRefreshableTokenForTheChosenAccount(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok := e.connect(t, userEmail)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(30*time.Minute)) {
		t.Fatalf("token %+v: want access, refresh and an expiry about an hour away", tok)
	}
	form, err := e.onlyRequest(t, "POST", "/token").Form()
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("grant_type") != "authorization_code" || form.Get("code_verifier") == "" {
		t.Errorf("token request %v: want the code grant with a code_verifier", form)
	}
	cl, err := e.cfg.NewClient(context.Background(), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.UserEmail(context.Background())
	if err != nil || got != userEmail {
		t.Fatalf("UserEmail = %q, %v; want %q", got, err, userEmail)
	}
}

func TestExchangeWithWrongVerifierIsRefused(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	code := e.authorize(t, userEmail, "s", NewVerifier())
	_, err := e.cfg.Exchange(context.Background(), code, NewVerifier())
	if !errors.Is(err, ErrReauth) {
		t.Fatalf("exchange with another verifier: %v, want ErrReauth", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("want the token endpoint's invalid_grant inside, got %v", err)
	}
}

func TestAuthorizationCodeWorksOnce(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	verifier := NewVerifier()
	code := e.authorize(t, userEmail, "s", verifier)
	if _, err := e.cfg.Exchange(context.Background(), code, verifier); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cfg.Exchange(context.Background(), code, verifier); !errors.Is(err, ErrReauth) {
		t.Fatalf("second exchange of one code: %v, want ErrReauth", err)
	}
}

func TestExpiredTokenIsRefreshedAndHandedToTheCaller(t *testing.T) {
	// Tokens living 5s are inside oauth2's 10s expiry margin: every call refreshes.
	e := newEnv(t, sandbox.Options{TokenLifetime: 5 * time.Second})
	tok := e.connect(t, userEmail)

	var mu sync.Mutex
	var refreshed []*oauth2.Token
	cl, err := e.cfg.NewClient(context.Background(), tok, func(t *oauth2.Token) {
		mu.Lock()
		defer mu.Unlock()
		refreshed = append(refreshed, t)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UserEmail(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(refreshed) != 1 {
		t.Fatalf("OnTokenRefresh called %d times, want 1", len(refreshed))
	}
	got := refreshed[0]
	if got.AccessToken == tok.AccessToken || got.AccessToken == "" {
		t.Errorf("refreshed access token %q, want a new one", got.AccessToken)
	}
	if got.RefreshToken != tok.RefreshToken {
		t.Errorf("refreshed token lost its refresh token: %q", got.RefreshToken)
	}
	reqs := e.fake.RequestsTo("POST", "/token")
	if len(reqs) != 2 {
		t.Fatalf("%d token requests, want the exchange and one refresh", len(reqs))
	}
	form, _ := reqs[1].Form()
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != tok.RefreshToken {
		t.Errorf("refresh request %v", form)
	}

	// What the caller stored works for the next request.
	again, err := e.cfg.NewClient(context.Background(), got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if email, err := again.UserEmail(context.Background()); err != nil || email != userEmail {
		t.Fatalf("with the stored token: %q, %v", email, err)
	}
}

func TestValidTokenIsNotRefreshed(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	calls := 0
	cl, err := e.cfg.NewClient(context.Background(), e.connect(t, userEmail), func(*oauth2.Token) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := cl.UserEmail(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 0 || len(e.fake.RequestsTo("POST", "/token")) != 1 {
		t.Fatalf("OnTokenRefresh called %d times, %d token requests; want 0 and 1",
			calls, len(e.fake.RequestsTo("POST", "/token")))
	}
}

func TestRevokeEndsTheGrant(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok := e.connect(t, userEmail)
	cl, err := e.cfg.NewClient(context.Background(), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cfg.Revoke(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	form, _ := e.onlyRequest(t, "POST", "/revoke").Form()
	if form.Get("token") != tok.RefreshToken {
		t.Errorf("revoked %q, want the refresh token", form.Get("token"))
	}
	if _, err := cl.UserEmail(context.Background()); !errors.Is(err, ErrReauth) {
		t.Errorf("call after revoke: %v, want ErrReauth", err)
	}
	// Refreshing is refused too.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Hour)
	cl2, _ := e.cfg.NewClient(context.Background(), &expired, nil)
	if _, err := cl2.UserEmail(context.Background()); !errors.Is(err, ErrReauth) {
		t.Errorf("refresh after revoke: %v, want ErrReauth", err)
	}
	// Revoking what Google no longer knows is not an error.
	if err := e.cfg.Revoke(context.Background(), tok); err != nil {
		t.Errorf("second revoke: %v", err)
	}
}

func TestNoTokenIsNotConnected(t *testing.T) {
	_, err := Config{}.NewClient(context.Background(), nil, nil)
	if !errors.Is(err, ErrNotConnected) {
		t.Fatalf("NewClient(nil token): %v, want ErrNotConnected", err)
	}
	if err := (Config{}).Revoke(context.Background(), nil); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Revoke(nil): %v, want ErrNotConnected", err)
	}
}

func TestFakeMountedUnderAPrefixServesTheWholeFlow(t *testing.T) {
	// The sandbox mounts the fake inside the app, so the browser reaches the
	// consent page at the app's own address.
	fake := sandbox.New(sandbox.Options{RedirectURLs: []string{testRedirect}})
	defer fake.Close()
	mux := http.NewServeMux()
	mux.Handle("/sandbox/google/", http.StripPrefix("/sandbox/google", fake.Handler()))
	app := httptest.NewServer(mux)
	defer app.Close()

	ep := fake.Endpoints(app.URL + "/sandbox/google")
	e := &env{fake: fake, cfg: Config{
		ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		RedirectURL: testRedirect, AuthURL: ep.AuthURL, TokenURL: ep.TokenURL,
		RevokeURL: ep.RevokeURL, APIBaseURL: ep.APIBaseURL,
	}}
	cl := e.client(t, "sandbox.user@example.com")
	if got, err := cl.UserEmail(context.Background()); err != nil || got != "sandbox.user@example.com" {
		t.Fatalf("UserEmail = %q, %v", got, err)
	}
	if _, err := cl.CreateMeeting(context.Background(), MeetingInput{Title: "m", Start: time.Now(),
		End: time.Now().Add(time.Hour), Attendee: contactEmail}); err != nil {
		t.Fatalf("calendar through the mount: %v", err)
	}
	if n := len(fake.RequestsTo("POST", "/calendar/v3/calendars/primary/events")); n != 1 {
		t.Fatalf("%d calendar requests seen by the fake, want 1", n)
	}
}
