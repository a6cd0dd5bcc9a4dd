package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/oauth2"

	"sherpa/google"
	"sherpa/google/sandbox"
	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// The helpers of the Google tests stay here, beside the only tests that use them.

const (
	testSecret   = "a test secret key of 32 bytes.."
	testCallback = "http://sherpa.test/google/callback"
	sandboxAuth  = "http://sherpa.test/sandbox/google/o/oauth2/auth?"
)

// googleApp is the app wired to the in-process Google stand-in the way sandbox
// mode wires it: the consent page mounted in the app at /sandbox/google, the
// app's own calls going to the stand-in's loopback listener.
type googleApp struct {
	*testApp
	fake *sandbox.Server
	cfg  handlers.Config
}

func newGoogleApp(t testing.TB, st *store.Store, opts sandbox.Options) *googleApp {
	t.Helper()
	cfg := testConfig()
	cfg.SecretKey = []byte(testSecret)
	fake, err := handlers.StartGoogleSandbox(&cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	cfg.Google.Timeout = 5 * time.Second
	return &googleApp{testApp: newApp(t, st, nil, cfg), fake: fake, cfg: cfg}
}

// startConnect follows Connect to the sandbox's consent page and answers the
// form it shows, filled in as googleEmail with the decision (allow or deny).
func (g *googleApp) startConnect(c *client, returnTo, googleEmail, decision string) url.Values {
	g.t.Helper()
	r := c.get("/google/connect?return=" + url.QueryEscape(returnTo))
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, sandboxAuth) {
		g.t.Fatalf("connect: %d to %q, want 303 to the consent page", r.StatusCode, loc)
	}
	page := c.get(strings.TrimPrefix(loc, "http://sherpa.test"))
	expectStatus(g.t, page, http.StatusOK)
	f := url.Values{}
	page.doc(g.t).Find(`form[action=auth] input[type=hidden]`).Each(func(_ int, in *goquerySelection) {
		f.Set(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	if f.Get("state") == "" || f.Get("code_challenge") == "" {
		g.t.Fatalf("consent form without state or PKCE challenge:\n%s", page.body)
	}
	f.Set("email", googleEmail)
	f.Set("decision", decision)
	return f
}

// consent submits the consent form (to the sandbox mounted in the app) and
// answers the local callback path Google redirects to, not yet followed.
func (g *googleApp) consent(c *client, f url.Values) string {
	g.t.Helper()
	r := c.post("/sandbox/google/o/oauth2/auth", f)
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, testCallback+"?") {
		g.t.Fatalf("consent: %d to %q, want 302 to the callback\n%s", r.StatusCode, loc, r.body)
	}
	return strings.TrimPrefix(loc, "http://sherpa.test")
}

// connect runs the whole flow for c as googleEmail and checks where it ends.
func (g *googleApp) connect(c *client, googleEmail string) {
	g.t.Helper()
	callback := g.consent(c, g.startConnect(c, "/profile", googleEmail, "allow"))
	expectRedirect(g.t, c.get(callback), "/profile")
}

// storedToken answers the raw sealed bytes of the user's row and the token
// they open to.
func (g *googleApp) storedToken(userID int64) ([]byte, *oauth2.Token) {
	g.t.Helper()
	var sealed []byte
	if err := g.store.DB.NewRaw("SELECT sealed_token FROM google_accounts WHERE user_id = ?", userID).Scan(context.Background(), &sealed); err != nil {
		g.t.Fatalf("read google_accounts row: %v", err)
	}
	key, err := google.DeriveKey([]byte(testSecret))
	if err != nil {
		g.t.Fatal(err)
	}
	tok, err := google.OpenToken(key, sealed)
	if err != nil {
		g.t.Fatalf("stored token does not open: %v", err)
	}
	return sealed, tok
}

func (g *googleApp) hasAccount(userID int64) bool {
	g.t.Helper()
	_, err := g.store.GoogleAccount(context.Background(), userID)
	return err == nil
}

func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB.NewRaw("SELECT COUNT(*) FROM "+table).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConnectGoogleFromTheProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		g := newGoogleApp(t, st, sandbox.Options{})
		c, email := g.signup("Ann")
		me := g.user(email)

		page := c.get("/profile")
		if href, _ := page.doc(t).Find("[data-testid=google-connect]").Attr("href"); href != "/google/connect?return=%2Fprofile" {
			t.Fatalf("Connect link %q", href)
		}
		if page.doc(t).Find("[data-testid=sandbox-banner]").Length() != 1 {
			t.Errorf("no sandbox banner")
		}

		f := g.startConnect(c, "/profile", "Ann.Sales@Example.com", "allow")
		// The database keeps neither the state nor the verifier in clear.
		var stateHash string
		var verifierSealed []byte
		if err := st.DB.NewRaw("SELECT state_hash, verifier_sealed FROM oauth_states").Scan(context.Background(), &stateHash, &verifierSealed); err != nil {
			t.Fatal(err)
		}
		if stateHash == f.Get("state") || len(stateHash) != 64 {
			t.Errorf("state stored as %q", stateHash)
		}
		callback := g.consent(c, f)
		expectRedirect(t, c.get(callback), "/profile")

		// PKCE: the code was exchanged with the verifier behind the challenge.
		tokenReqs := g.fake.RequestsTo("POST", "/token")
		if len(tokenReqs) != 1 {
			t.Fatalf("%d token requests, want 1", len(tokenReqs))
		}
		tf, _ := tokenReqs[0].Form()
		verifier := tf.Get("code_verifier")
		if tf.Get("grant_type") != "authorization_code" || len(verifier) < 43 {
			t.Errorf("token request %v", tf)
		}
		if bytes.Contains(verifierSealed, []byte(verifier)) {
			t.Errorf("the PKCE verifier is stored in clear")
		}
		if countRows(t, st, "oauth_states") != 0 {
			t.Errorf("the used state is still stored")
		}

		page = c.get("/profile")
		if got := page.text(t, "[data-testid=flash] p"); got != "Connected Google account ann.sales@example.com." {
			t.Errorf("flash %q", got)
		}
		if got := page.text(t, "[data-testid=google-email]"); got != "ann.sales@example.com" {
			t.Errorf("profile shows Google address %q", got)
		}
		if !strings.Contains(page.text(t, "[data-testid=google-status]"), "Connected as ann.sales@example.com") {
			t.Errorf("profile Google status %q", page.text(t, "[data-testid=google-status]"))
		}
		if page.doc(t).Find("[data-testid=google-disconnect]").Length() != 1 || page.doc(t).Find("[data-testid=google-connect]").Length() != 0 {
			t.Errorf("profile buttons wrong when connected")
		}

		// The stored token is sealed: neither token string is in the raw row.
		sealed, tok := g.storedToken(me.ID)
		if tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("stored token lacks access or refresh token: %+v", tok)
		}
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken, "ya29.", "1//sandbox-"} {
			if bytes.Contains(sealed, []byte(secret)) {
				t.Errorf("raw google_accounts row contains %q", secret)
			}
		}
		// The address came from userinfo, asked with the exchanged token.
		info := g.fake.RequestsTo("GET", "/oauth2/v2/userinfo")
		if len(info) != 1 || info[0].Header.Get("Authorization") != "Bearer "+tok.AccessToken {
			t.Errorf("userinfo requests: %d", len(info))
		}
	})
}

func TestConnectGoogleReturnsToWhereItStarted(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, _ := g.signup("Tab")
	cases := map[string]string{
		"/contacts/12?tab=emails":      "/contacts/12?tab=emails",
		"":                             "/profile",
		"//evil.example/x":             "/profile",
		"https://evil.example/":        "/profile",
		"/\\evil.example":              "/profile",
		"/google/connect":              "/profile",
		"/" + strings.Repeat("x", 600): "/profile",
	}
	for from, want := range cases {
		callback := g.consent(c, g.startConnect(c, from, "tab@example.com", "allow"))
		expectRedirect(t, c.get(callback), want)
	}
}

func TestGoogleStateWorksOnce(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, email := g.signup("Once")
	callback := g.consent(c, g.startConnect(c, "/contacts/3?tab=tasks", "once@example.com", "allow"))
	expectRedirect(t, c.get(callback), "/contacts/3?tab=tasks")
	if err := g.store.DeleteGoogleAccount(context.Background(), g.user(email).ID); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, c.get(callback), "/profile")
	if got := c.get("/profile").text(t, "[data-testid=flash] p"); !strings.Contains(got, "not valid") {
		t.Errorf("flash after replay %q", got)
	}
	if g.hasAccount(g.user(email).ID) {
		t.Errorf("a replayed callback connected the account")
	}
	if n := len(g.fake.RequestsTo("POST", "/token")); n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
	// A callback without any state is refused the same way.
	expectRedirect(t, c.get("/google/callback?code=abc"), "/profile")
	if g.hasAccount(g.user(email).ID) {
		t.Errorf("a callback without state connected the account")
	}
}

func TestGoogleStateOfAnotherUserIsRefused(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	ann, annEmail := g.signup("Ann")
	eve, eveEmail := g.signup("Eve")
	callback := g.consent(ann, g.startConnect(ann, "/profile", "ann@example.com", "allow"))

	expectRedirect(t, eve.get(callback), "/profile")
	page := eve.get("/profile")
	if got := page.text(t, "[data-testid=flash] p"); !strings.Contains(got, "not valid") {
		t.Errorf("Eve's flash %q", got)
	}
	if g.hasAccount(g.user(eveEmail).ID) || strings.Contains(page.body, "ann@example.com") {
		t.Errorf("Eve got Ann's Google account")
	}
	if n := len(g.fake.RequestsTo("POST", "/token")); n != 0 {
		t.Errorf("Eve's attempt exchanged the code (%d requests)", n)
	}
	// Ann's own flow is untouched by Eve's attempt.
	expectRedirect(t, ann.get(callback), "/profile")
	if !g.hasAccount(g.user(annEmail).ID) {
		t.Errorf("Ann could not finish after Eve's attempt")
	}
	if strings.Contains(eve.get("/profile").body, "ann@example.com") {
		t.Errorf("Eve's profile shows Ann's Google address")
	}
}

func TestExpiredGoogleStateIsRefused(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	g := newGoogleApp(t, st, sandbox.Options{})
	c, email := g.signup("Slow")
	callback := g.consent(c, g.startConnect(c, "/contacts/5?tab=meetings", "slow@example.com", "allow"))
	later := time.Now().UTC().Add(11 * time.Minute)
	st.SetClock(func() time.Time { return later })
	expectRedirect(t, c.get(callback), "/contacts/5?tab=meetings")
	if got := c.get("/profile").text(t, "[data-testid=flash] p"); !strings.Contains(got, "longer than 10 minutes") {
		t.Errorf("flash %q", got)
	}
	if g.hasAccount(g.user(email).ID) {
		t.Errorf("an expired state connected the account")
	}
	if n := len(g.fake.RequestsTo("POST", "/token")); n != 0 {
		t.Errorf("an expired state exchanged the code (%d requests)", n)
	}
}

func TestCancelledGoogleConsent(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, email := g.signup("Cancel")
	callback := g.consent(c, g.startConnect(c, "/contacts/7?tab=emails", "cancel@example.com", "deny"))
	if !strings.Contains(callback, "error=access_denied") {
		t.Fatalf("callback %q", callback)
	}
	expectRedirect(t, c.get(callback), "/contacts/7?tab=emails")
	page := c.get("/profile")
	if got := page.text(t, "[data-testid=flash] p"); got != "Google connection cancelled." {
		t.Errorf("flash %q", got)
	}
	if g.hasAccount(g.user(email).ID) || page.doc(t).Find("[data-testid=google-connect]").Length() != 1 {
		t.Errorf("cancelled consent connected the account")
	}
	if n := len(g.fake.RequestsTo("POST", "/token")); n != 0 {
		t.Errorf("%d token requests after cancelling", n)
	}
}

func TestGoogleFailingDuringConnectIsReported(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, email := g.signup("Down")
	callback := g.consent(c, g.startConnect(c, "/profile", "down@example.com", "allow"))
	g.fake.FailPath("/oauth2/", sandbox.ServerError)
	expectRedirect(t, c.get(callback), "/profile")
	if got := c.get("/profile").text(t, "[data-testid=flash] p"); !strings.Contains(got, "try again later") {
		t.Errorf("flash %q", got)
	}
	if g.hasAccount(g.user(email).ID) {
		t.Errorf("account connected although its address could not be read")
	}
}

func TestDisconnectGoogleRevokesAndDeletes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		g := newGoogleApp(t, st, sandbox.Options{})
		c, email := g.signup("Dana")
		me := g.user(email)
		g.connect(c, "dana@example.com")
		_, tok := g.storedToken(me.ID)

		expectRedirect(t, c.post("/google/disconnect", form("return", "/profile")), "/profile")
		revokes := g.fake.RequestsTo("POST", "/revoke")
		if len(revokes) != 1 {
			t.Fatalf("%d revoke requests, want 1", len(revokes))
		}
		if f, _ := revokes[0].Form(); f.Get("token") != tok.RefreshToken {
			t.Errorf("revoked %q, want the refresh token", f.Get("token"))
		}
		if g.hasAccount(me.ID) || countRows(t, st, "google_accounts") != 0 {
			t.Errorf("the token row is still stored")
		}
		page := c.get("/profile")
		if got := page.text(t, "[data-testid=flash] p"); got != "Disconnected Google account dana@example.com." {
			t.Errorf("flash %q", got)
		}
		if page.doc(t).Find("[data-testid=google-connect]").Length() != 1 || page.doc(t).Find("[data-testid=google-email]").Length() != 0 {
			t.Errorf("profile still shows the account")
		}
		// Google no longer honours the grant.
		cl, err := g.cfg.Google.NewClient(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}, nil)
		if err == nil {
			_, err = cl.UserEmail(context.Background())
		}
		if !errors.Is(err, google.ErrReauth) {
			t.Errorf("the revoked grant: %v, want ErrReauth", err)
		}
		// googleClient now says: not connected.
		err = handlers.CallGoogleAs(g.cfg, st, zerolog.New(g.logs), me.ID, func(context.Context, *google.Client) error { return nil })
		if !errors.Is(err, google.ErrNotConnected) {
			t.Errorf("googleClient after disconnect: %v, want ErrNotConnected", err)
		}
	})
}

func TestDisconnectGoogleWhenGoogleIsUnreachable(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	g := newGoogleApp(t, st, sandbox.Options{})
	c, email := g.signup("Offline")
	g.connect(c, "offline@example.com")

	cfg := g.cfg
	cfg.Google.RevokeURL = "http://127.0.0.1:1/revoke" // nothing listens there
	offline := newApp(t, st, nil, cfg)
	c.a = offline
	expectRedirect(t, c.post("/google/disconnect", form("return", "/contacts/4?tab=emails")), "/contacts/4?tab=emails")
	if g.hasAccount(g.user(email).ID) {
		t.Errorf("the token was kept because Google was unreachable")
	}
	if got := c.get("/profile").text(t, "[data-testid=flash] p"); !strings.Contains(got, "could not be told to revoke") {
		t.Errorf("flash %q", got)
	}
	// Disconnecting again says there is nothing to disconnect.
	expectRedirect(t, c.post("/google/disconnect", nil), "/profile")
	if got := c.get("/profile").text(t, "[data-testid=flash] p"); got != "No Google account is connected." {
		t.Errorf("second disconnect flash %q", got)
	}
}

func TestRefreshedGoogleTokenIsSaved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		// Tokens living under 10s are refreshed before every call.
		g := newGoogleApp(t, st, sandbox.Options{TokenLifetime: time.Second})
		c, email := g.signup("Rita")
		me := g.user(email)
		g.connect(c, "rita@example.com")
		before, old := g.storedToken(me.ID)

		var got string
		err := handlers.CallGoogleAs(g.cfg, st, zerolog.New(g.logs), me.ID, func(ctx context.Context, cl *google.Client) error {
			var err error
			got, err = cl.UserEmail(ctx)
			return err
		})
		if err != nil || got != "rita@example.com" {
			t.Fatalf("UserEmail through googleClient = %q, %v", got, err)
		}
		refreshes := 0
		for _, r := range g.fake.RequestsTo("POST", "/token") {
			if f, _ := r.Form(); f.Get("grant_type") == "refresh_token" && f.Get("refresh_token") == old.RefreshToken {
				refreshes++
			}
		}
		if refreshes == 0 {
			t.Fatalf("no refresh happened")
		}
		after, tok := g.storedToken(me.ID)
		if bytes.Equal(before, after) {
			t.Fatalf("the refreshed token was not saved")
		}
		if tok.AccessToken == old.AccessToken || tok.RefreshToken != old.RefreshToken {
			t.Errorf("stored token after refresh: new access %v, refresh kept %v", tok.AccessToken != old.AccessToken, tok.RefreshToken == old.RefreshToken)
		}
		calls := g.fake.RequestsTo("GET", "/oauth2/v2/userinfo")
		if last := calls[len(calls)-1]; last.Header.Get("Authorization") != "Bearer "+tok.AccessToken {
			t.Errorf("the saved access token is not the one the call used")
		}
	})
}

func TestGoogleTokenUnderAnotherSecretMeansReconnect(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	g := newGoogleApp(t, st, sandbox.Options{})
	c, email := g.signup("Key")
	g.connect(c, "key@example.com")
	cfg := g.cfg
	cfg.SecretKey = []byte("another secret key, rotated......")
	err := handlers.CallGoogleAs(cfg, st, zerolog.New(g.logs), g.user(email).ID, func(context.Context, *google.Client) error { return nil })
	if !errors.Is(err, google.ErrReauth) {
		t.Errorf("token sealed under another secret: %v, want ErrReauth", err)
	}
}

func TestGoogleRoutesNeedALogin(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c := g.client()
	r := c.get("/google/connect?return=/profile")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous connect: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	r = c.get("/google/callback?code=x&state=y")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
		t.Errorf("anonymous callback: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	expectRedirect(t, c.post("/google/disconnect", nil), "/login")
	if n := countRows(t, g.store, "oauth_states"); n != 0 {
		t.Errorf("anonymous visitors created %d states", n)
	}
}

func TestCrossSiteDisconnectIsRefused(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, email := g.signup("Cross")
	g.connect(c, "cross@example.com")
	expectStatus(t, c.post("/google/disconnect", nil, "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"), http.StatusForbidden)
	expectStatus(t, c.post("/google/disconnect", nil, "Sec-Fetch-Site", "", "Origin", "http://evil.example"), http.StatusForbidden)
	if !g.hasAccount(g.user(email).ID) {
		t.Errorf("a cross-site post disconnected the account")
	}
	if n := len(g.fake.RequestsTo("", "/revoke")); n != 0 {
		t.Errorf("a cross-site post revoked the grant")
	}
}

func TestGoogleNotConfigured(t *testing.T) {
	a := newSQLiteApp(t)
	c, _ := a.signup("Plain")
	page := c.get("/profile")
	if got := page.text(t, "[data-testid=google-not-configured]"); !strings.Contains(got, "SHERPA_GOOGLE_CLIENT_ID") || !strings.Contains(got, "SHERPA_GOOGLE_SANDBOX") {
		t.Errorf("profile note %q", got)
	}
	if page.doc(t).Find("[data-testid=google-connect]").Length() != 0 {
		t.Errorf("Connect shown although Google is not configured")
	}
	expectRedirect(t, c.get("/google/connect?return=/contacts/9?tab=emails"), "/contacts/9?tab=emails")
	got := c.get("/profile").text(t, "[data-testid=flash] p")
	if !strings.Contains(got, "not configured") || !strings.Contains(got, "SHERPA_GOOGLE_CLIENT_ID") || !strings.Contains(got, "SHERPA_GOOGLE_SANDBOX") {
		t.Errorf("flash %q", got)
	}
	if n := countRows(t, a.store, "oauth_states"); n != 0 {
		t.Errorf("%d states stored without Google", n)
	}
}

func TestSandboxConsentPageIsServedSafely(t *testing.T) {
	g := newGoogleApp(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	c, _ := g.signup("Sandy")
	r := c.get("/google/connect?return=/profile")
	page := c.get(strings.TrimPrefix(r.Header.Get("Location"), "http://sherpa.test"))
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.Header.Get("Content-Security-Policy"), "form-action 'self'") {
		t.Errorf("consent page without the app's CSP")
	}
	if page.doc(t).Find("script").Length() != 0 {
		t.Errorf("consent page carries a script")
	}
}
