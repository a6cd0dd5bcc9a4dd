package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Scope URLs the fake knows.
const (
	scopeUserinfoEmail          = "https://www.googleapis.com/auth/userinfo.email"
	scopeUserinfoProfile        = "https://www.googleapis.com/auth/userinfo.profile"
	scopeGmailSend              = "https://www.googleapis.com/auth/gmail.send"
	scopeGmailReadonly          = "https://www.googleapis.com/auth/gmail.readonly"
	scopeGmailCompose           = "https://www.googleapis.com/auth/gmail.compose"
	scopeGmailModify            = "https://www.googleapis.com/auth/gmail.modify"
	scopeMail                   = "https://mail.google.com/"
	scopeTasks                  = "https://www.googleapis.com/auth/tasks"
	scopeTasksReadonly          = "https://www.googleapis.com/auth/tasks.readonly"
	scopeCalendar               = "https://www.googleapis.com/auth/calendar"
	scopeCalendarReadonly       = "https://www.googleapis.com/auth/calendar.readonly"
	scopeCalendarEvents         = "https://www.googleapis.com/auth/calendar.events"
	scopeCalendarEventsReadonly = "https://www.googleapis.com/auth/calendar.events.readonly"
)

var scopeText = map[string]string{
	"openid":              "Associate you with your personal info on Google",
	scopeUserinfoEmail:    "See your primary Google Account email address",
	scopeUserinfoProfile:  "See your personal info",
	scopeGmailSend:        "Send email on your behalf",
	scopeGmailReadonly:    "View your email messages and settings",
	scopeTasks:            "Create, edit, organize, and delete all your tasks",
	scopeCalendarEvents:   "View and edit events on all your calendars",
	scopeCalendar:         "See, edit, share, and permanently delete all the calendars you can access",
	scopeGmailModify:      "Read, compose, and send emails from your Gmail account",
	scopeMail:             "Read, compose, send, and permanently delete all your email from Gmail",
	scopeTasksReadonly:    "View your tasks",
	scopeCalendarReadonly: "See and download any calendar you can access",
}

// How long an authorization code stays valid.
const codeLifetime = 10 * time.Minute

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	email       string
	scopes      map[string]bool
	expiry      time.Time
}

// grant is one consent: a refresh token and the access tokens issued from it.
type grant struct {
	refresh  string
	clientID string
	email    string
	scopes   map[string]bool
	revoked  bool
}

func (g *grant) hasAny(scopes []string) bool {
	for _, sc := range scopes {
		if g.scopes[sc] {
			return true
		}
	}
	return false
}

func (g *grant) scopeString() string {
	var out []string
	for sc := range g.scopes {
		out = append(out, sc)
	}
	return strings.Join(sortedStrings(out), " ")
}

type accessToken struct {
	grant  *grant
	expiry time.Time
}

// normalizeScopes maps Google's short scope names to the URLs it grants.
func normalizeScopes(scope string) map[string]bool {
	out := map[string]bool{}
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "email":
			sc = scopeUserinfoEmail
		case "profile":
			sc = scopeUserinfoProfile
		}
		out[sc] = true
	}
	return out
}

// validAccess answers the live access token of r's Authorization header. s.mu held.
func (s *Server) validAccess(r *http.Request) *accessToken {
	auth := r.Header.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
		return nil
	}
	at := s.access[strings.TrimSpace(auth[7:])]
	if at == nil || at.grant.revoked || time.Now().After(at.expiry) {
		return nil
	}
	return at
}

func (s *Server) redirectAllowed(u string) bool {
	if len(s.opts.RedirectURLs) == 0 {
		p, err := url.Parse(u)
		return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
	}
	for _, allowed := range s.opts.RedirectURLs {
		if u == allowed {
			return true
		}
	}
	return false
}

// consentParams are the authorization request parameters the consent form
// carries through to its POST.
var consentParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state",
	"code_challenge", "code_challenge_method", "access_type", "prompt",
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox Google — sign in</title>
</head>
<body>
<main>
<p><strong>Sandbox Google</strong>: a stand-in for Google that runs inside {{.App}}. No real Google account is used and nothing leaves this server.</p>
<h1>Sandbox Google — allow {{.App}} to access <span data-testid="consent-email">{{.Email}}</span>?</h1>
{{if .Error}}<p role="alert" data-testid="consent-error">{{.Error}}</p>{{end}}
<form method="post" action="auth">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p>
<label for="email">Sandbox Google account</label>
<input id="email" name="email" type="email" value="{{.Email}}" required autocomplete="email">
</p>
<p>{{.App}} will be able to:</p>
<ul>
{{range .Scopes}}<li>{{.}}</li>
{{end}}</ul>
<p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>
</p>
</form>
</main>
</body>
</html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sandbox Google — error</title></head>
<body><main>
<h1>Sandbox Google — access blocked</h1>
<p>Error: <code data-testid="oauth-error">{{.Code}}</code></p>
<p>{{.Message}}</p>
</main></body>
</html>
`))

type hiddenField struct{ Name, Value string }

// authorize serves the consent page (GET) and its answer (POST).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.authError(w, "invalid_request", "The request could not be parsed.")
		return
	}
	p := r.Form
	if p.Get("client_id") != s.opts.ClientID {
		s.authError(w, "invalid_client", "The OAuth client was not found.")
		return
	}
	redirect := p.Get("redirect_uri")
	if !s.redirectAllowed(redirect) {
		s.authError(w, "redirect_uri_mismatch", "The redirect URI in the request does not match the ones authorized for the OAuth client.")
		return
	}
	back := func(v url.Values) {
		v.Set("state", p.Get("state"))
		u, _ := url.Parse(redirect) // checked by redirectAllowed
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	deny := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	switch {
	case p.Get("response_type") != "code":
		deny("unsupported_response_type", "response_type must be code")
		return
	case p.Get("code_challenge_method") != "S256":
		deny("invalid_request", "code_challenge_method must be S256")
		return
	case len(p.Get("code_challenge")) < 43 || len(p.Get("code_challenge")) > 128:
		deny("invalid_request", "code_challenge is missing or malformed")
		return
	case strings.TrimSpace(p.Get("scope")) == "":
		deny("invalid_scope", "Missing required parameter: scope")
		return
	}

	email := s.opts.DefaultEmail
	if r.Method == http.MethodPost {
		if p.Get("decision") != "allow" {
			deny("access_denied", "The user denied access.")
			return
		}
		a, err := mail.ParseAddress(strings.TrimSpace(p.Get("email")))
		if err == nil {
			code := "4/sandbox-" + randomToken(24)
			s.mu.Lock()
			s.codes[code] = &authCode{
				clientID:    p.Get("client_id"),
				redirectURI: redirect,
				challenge:   p.Get("code_challenge"),
				email:       strings.ToLower(a.Address),
				scopes:      normalizeScopes(p.Get("scope")),
				expiry:      time.Now().Add(codeLifetime),
			}
			s.mu.Unlock()
			back(url.Values{"code": {code}, "scope": {p.Get("scope")}})
			return
		}
		email = p.Get("email")
		w.WriteHeader(http.StatusBadRequest)
		s.renderConsent(w, p, email, "Enter an email address such as "+s.opts.DefaultEmail+".")
		return
	}
	s.renderConsent(w, p, email, "")
}

func (s *Server) renderConsent(w http.ResponseWriter, p url.Values, email, problem string) {
	data := struct {
		App, Email, Error string
		Hidden            []hiddenField
		Scopes            []string
	}{App: s.opts.AppName, Email: email, Error: problem}
	for _, name := range consentParams {
		if v := p.Get(name); v != "" {
			data.Hidden = append(data.Hidden, hiddenField{name, v})
		}
	}
	for _, sc := range strings.Fields(p.Get("scope")) {
		if t, ok := scopeText[sc]; ok {
			data.Scopes = append(data.Scopes, t)
		} else {
			data.Scopes = append(data.Scopes, sc)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = consentPage.Execute(w, data)
}

func (s *Server) authError(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, struct{ Code, Message string }{code, message})
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token serves the authorization_code and refresh_token grants.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "Could not parse the request.")
		return
	}
	f := r.PostForm
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != s.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "authorization_code":
		code := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // single use, whatever happens next
		switch {
		case code == nil || time.Now().After(code.expiry) || code.clientID != id:
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
			return
		case f.Get("redirect_uri") != code.redirectURI:
			tokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
			return
		case f.Get("code_verifier") == "":
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Missing code verifier.")
			return
		case !verifierMatches(f.Get("code_verifier"), code.challenge):
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
			return
		}
		g := &grant{
			refresh:  "1//sandbox-" + randomToken(32),
			clientID: id,
			email:    code.email,
			scopes:   code.scopes,
		}
		s.grants[g.refresh] = g
		s.account(g.email)
		access, expiresIn := s.issueAccess(g)
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token":  access,
			"expires_in":    expiresIn,
			"refresh_token": g.refresh,
			"scope":         g.scopeString(),
			"token_type":    "Bearer",
		})
	case "refresh_token":
		g := s.grants[f.Get("refresh_token")]
		if g == nil || g.revoked || g.clientID != id {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		access, expiresIn := s.issueAccess(g)
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": access,
			"expires_in":   expiresIn,
			"scope":        g.scopeString(),
			"token_type":   "Bearer",
		})
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+f.Get("grant_type"))
	}
}

// verifierMatches checks PKCE S256: BASE64URL(SHA256(verifier)) == challenge.
func verifierMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// issueAccess mints an access token for g. s.mu held.
func (s *Server) issueAccess(g *grant) (string, int) {
	now := time.Now()
	for old, at := range s.access {
		if now.After(at.expiry) {
			delete(s.access, old)
		}
	}
	for old, c := range s.codes {
		if now.After(c.expiry) {
			delete(s.codes, old)
		}
	}
	tok := "ya29.sandbox-" + randomToken(32)
	s.access[tok] = &accessToken{grant: g, expiry: now.Add(s.opts.TokenLifetime)}
	return tok, int(s.opts.TokenLifetime.Round(time.Second) / time.Second)
}

// revoke ends the grant behind a refresh or access token, as Google does.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tok := r.Form.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	if found := s.grants[tok]; found != nil {
		g = found
	} else if at := s.access[tok]; at != nil {
		g = at.grant
	}
	if g == nil || g.revoked {
		tokenError(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked")
		return
	}
	g.revoked = true
	writeJSON(w, http.StatusOK, map[string]any{})
}

// RevokeUser revokes every grant of the account, as if its owner removed the
// app's access in their Google account settings.
func (s *Server) RevokeUser(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		if strings.EqualFold(g.email, email) {
			g.revoked = true
		}
	}
}

// userinfo answers the token's account (userinfo v2).
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request, a *account) {
	sum := sha256.Sum256([]byte(a.email))
	id := ""
	for _, b := range sum[:10] {
		id += string(rune('0' + b%10))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":             "1" + id,
		"email":          a.email,
		"verified_email": true,
		"picture":        "",
	})
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
