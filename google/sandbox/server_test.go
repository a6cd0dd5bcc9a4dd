package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const redirect = "http://sherpa.test/google/callback"

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authParams(verifier string) url.Values {
	return url.Values{
		"client_id":             {DefaultClientID},
		"redirect_uri":          {redirect},
		"response_type":         {"code"},
		"scope":                 {"openid email https://www.googleapis.com/auth/tasks"},
		"state":                 {"xyz"},
		"code_challenge":        {challenge(verifier)},
		"code_challenge_method": {"S256"},
		"access_type":           {"offline"},
	}
}

// do serves one request on the handler, mounted at the root.
func do(s *Server, method, target string, form url.Values, header http.Header) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

// code runs the consent POST and answers the code from the redirect.
func code(t *testing.T, s *Server, verifier, email string) string {
	t.Helper()
	form := authParams(verifier)
	form.Set("email", email)
	form.Set("decision", "allow")
	w := do(s, "POST", "/o/oauth2/auth", form, nil)
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("consent: %d %q", w.Code, w.Header().Get("Location"))
	}
	return loc.Query().Get("code")
}

func exchange(s *Server, code, verifier string) *httptest.ResponseRecorder {
	return do(s, "POST", "/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {redirect}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
	}, nil)
}

func newAccessToken(t *testing.T, s *Server, scope string) string {
	t.Helper()
	form := authParams("v-0123456789012345678901234567890123456789")
	form.Set("scope", scope)
	form.Set("email", DefaultEmail)
	form.Set("decision", "allow")
	w := do(s, "POST", "/o/oauth2/auth", form, nil)
	loc, _ := url.Parse(w.Header().Get("Location"))
	w = exchange(s, loc.Query().Get("code"), "v-0123456789012345678901234567890123456789")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	return tok.AccessToken
}

func TestConsentPageValidatesTheRequest(t *testing.T) {
	s := New(Options{RedirectURLs: []string{redirect}})
	verifier := "v-0123456789012345678901234567890123456789"

	w := do(s, "GET", "/o/oauth2/auth?"+authParams(verifier).Encode(), nil, nil)
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(page, "Sandbox Google — allow Sherpa to access") ||
		!strings.Contains(page, `value="`+DefaultEmail+`"`) {
		t.Fatalf("consent page %d:\n%s", w.Code, page)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<style") || strings.Contains(page, " style=") || strings.Contains(page, "onclick") {
		t.Error("consent page carries script or inline style")
	}
	for _, want := range []string{`name="code_challenge" value="` + challenge(verifier) + `"`, `name="state" value="xyz"`, `action="auth"`} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}

	refused := map[string]func(url.Values){
		"unknown client":   func(v url.Values) { v.Set("client_id", "other") },
		"foreign redirect": func(v url.Values) { v.Set("redirect_uri", "http://evil.test/cb") },
	}
	for name, change := range refused {
		v := authParams(verifier)
		change(v)
		if w := do(s, "GET", "/o/oauth2/auth?"+v.Encode(), nil, nil); w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Errorf("%s: %d, Location %q; want 400 and no redirect", name, w.Code, w.Header().Get("Location"))
		}
	}
	bounced := map[string]func(url.Values){
		"plain PKCE":    func(v url.Values) { v.Set("code_challenge_method", "plain") },
		"no PKCE":       func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") },
		"token flow":    func(v url.Values) { v.Set("response_type", "token") },
		"no scope":      func(v url.Values) { v.Del("scope") },
		"user declines": func(v url.Values) { v.Set("decision", "deny") },
	}
	for name, change := range bounced {
		v := authParams(verifier)
		change(v)
		w := do(s, "POST", "/o/oauth2/auth", v, nil)
		loc, _ := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusFound || loc == nil || loc.Query().Get("error") == "" || loc.Query().Get("code") != "" ||
			loc.Query().Get("state") != "xyz" {
			t.Errorf("%s: %d %q; want a redirect with an error and the state", name, w.Code, w.Header().Get("Location"))
		}
	}
}

func TestTokenEndpointVerifiesPKCE(t *testing.T) {
	s := New(Options{RedirectURLs: []string{redirect}})
	verifier := "v-0123456789012345678901234567890123456789"

	w := exchange(s, code(t, s, verifier, "ann@example.com"), "v-wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_grant"`) {
		t.Fatalf("wrong verifier: %d %s", w.Code, w.Body)
	}
	w = exchange(s, code(t, s, verifier, "ann@example.com"), "")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_grant"`) {
		t.Fatalf("no verifier: %d %s", w.Code, w.Body)
	}
	w = exchange(s, code(t, s, verifier, "ann@example.com"), verifier)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); w.Code != http.StatusOK || err != nil ||
		tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("right verifier: %d %s", w.Code, w.Body)
	}
}

func TestAPICallsNeedAValidBearerToken(t *testing.T) {
	s := New(Options{RedirectURLs: []string{redirect}, TokenLifetime: time.Second})
	w := do(s, "GET", "/oauth2/v2/userinfo", nil, nil)
	var body struct {
		Error struct {
			Code   int    `json:"code"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusUnauthorized || err != nil ||
		body.Error.Code != 401 || body.Error.Status != "UNAUTHENTICATED" {
		t.Fatalf("no token: %d %s", w.Code, w.Body)
	}
	tok := newAccessToken(t, s, "openid email")
	auth := http.Header{"Authorization": {"Bearer " + tok}}
	if w := do(s, "GET", "/oauth2/v2/userinfo", nil, auth); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), DefaultEmail) {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	if w := do(s, "GET", "/tasks/v1/users/@me/lists", nil, auth); w.Code != http.StatusForbidden {
		t.Errorf("tasks without the tasks scope: %d, want 403", w.Code)
	}
	time.Sleep(1100 * time.Millisecond)
	if w := do(s, "GET", "/oauth2/v2/userinfo", nil, auth); w.Code != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", w.Code)
	}
}

func TestGmailThreadsOnlyWithReferencesAndSameSubject(t *testing.T) {
	s := New(Options{RedirectURLs: []string{redirect}})
	auth := http.Header{"Authorization": {"Bearer " + newAccessToken(t, s, "https://www.googleapis.com/auth/gmail.send")}}
	send := func(raw, threadID string) (id, thread string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"raw": base64.URLEncoding.EncodeToString([]byte(raw)), "threadId": threadID})
		r := httptest.NewRequest("POST", "/gmail/v1/users/me/messages/send", strings.NewReader(string(body)))
		r.Header = auth.Clone()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var out struct{ ID, ThreadID string }
		if err := json.Unmarshal(w.Body.Bytes(), &out); w.Code != http.StatusOK || err != nil {
			t.Fatalf("send: %d %s", w.Code, w.Body)
		}
		return out.ID, out.ThreadID
	}
	_, thread := send("To: bob@example.com\r\nSubject: Offer\r\nMessage-ID: <one@x>\r\n\r\nhi", "")
	if _, got := send("To: bob@example.com\r\nSubject: Re: Offer\r\nIn-Reply-To: <one@x>\r\nReferences: <one@x>\r\n\r\nmore", thread); got != thread {
		t.Errorf("a proper reply started thread %s, want %s", got, thread)
	}
	if _, got := send("To: bob@example.com\r\nSubject: Re: Offer\r\n\r\nno references", thread); got == thread {
		t.Error("a message without In-Reply-To/References joined the thread")
	}
	if _, got := send("To: bob@example.com\r\nSubject: Something else\r\nIn-Reply-To: <one@x>\r\n\r\nx", thread); got == thread {
		t.Error("a message with another subject joined the thread")
	}
	raw, err := s.RequestsTo("POST", "/messages/send")[0].GmailRaw()
	if err != nil || !strings.HasPrefix(string(raw), "To: bob@example.com") {
		t.Errorf("recorded raw %q, %v", raw, err)
	}
}

func TestMeetCodeIsStableAndShaped(t *testing.T) {
	a, b := MeetCode("req-1"), MeetCode("req-1")
	if a != b || a == MeetCode("req-2") {
		t.Fatalf("MeetCode not a function of the request id: %s %s %s", a, b, MeetCode("req-2"))
	}
	parts := strings.Split(a, "-")
	if len(parts) != 3 || len(parts[0]) != 3 || len(parts[1]) != 4 || len(parts[2]) != 3 {
		t.Fatalf("MeetCode %q, want xxx-yyyy-zzz", a)
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes() {
		if got, err := ParseMode(string(m)); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("explode"); err == nil {
		t.Error("unknown mode accepted")
	}
}
