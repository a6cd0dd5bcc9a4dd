package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"golang.org/x/oauth2"

	"sherpa/google"
	"sherpa/store"
)

const (
	// oauthStateValidity is how long a started connection can be finished.
	oauthStateValidity = 10 * time.Minute
	// googleRevokeTimeout bounds telling Google about a disconnect; the local
	// copy is deleted whatever Google answers.
	googleRevokeTimeout = 5 * time.Second
	// tokenSaveTimeout bounds storing a refreshed token, which happens inside
	// a Google call and may outlive the request.
	tokenSaveTimeout = 5 * time.Second
	maxReturnTo      = 500 // the size of oauth_states.return_to
)

// SandboxGooglePath is where the sandbox's stand-in for Google is mounted
// (Config.GoogleSandbox); its endpoints live under PublicURL + this path.
const SandboxGooglePath = "/sandbox/google"

// errGoogleRefused marks a failure on Google's side while connecting (a
// refused code, an unreadable address), as opposed to one of Sherpa's own.
var errGoogleRefused = errors.New("google refused")

// googleRoutes mounts connecting a Google account and the contact page's
// Emails, Tasks and Meetings tabs.
func (s *Server) googleRoutes(app *fiber.App) {
	if s.cfg.GoogleSandbox != nil {
		// The sandbox's consent form posts to itself: same origin, so the
		// cross-site check and CSP form-action 'self' let it through.
		app.Use(SandboxGooglePath, adaptor.HTTPHandler(http.StripPrefix(SandboxGooglePath, s.cfg.GoogleSandbox)))
	}
	app.Get("/google/connect", s.requireUser, s.googleConnect)
	app.Get("/google/callback", s.requireUser, s.googleCallback)
	app.Post("/google/disconnect", s.requireUser, s.googleDisconnect)

	// The contact page's Google tabs (google_tabs.go). Each handler loads
	// the contact through the team first, so another team's id is a 404.
	app.Get("/contacts/:id/emails", s.requireTeam, s.emailsTab)
	app.Post("/contacts/:id/emails", s.requireTeam, s.sendEmail)
	app.Post("/contacts/:id/emails/:thread/reply", s.requireTeam, s.replyEmail)
	app.Get("/contacts/:id/tasks", s.requireTeam, s.tasksTab)
	app.Post("/contacts/:id/tasks", s.requireTeam, s.addTask)
	app.Post("/contacts/:id/tasks/:task/complete", s.requireTeam, s.completeTask)
	app.Get("/contacts/:id/meetings", s.requireTeam, s.meetingsTab)
	app.Post("/contacts/:id/meetings", s.requireTeam, s.scheduleMeeting)
}

// googleConfigured reports whether users can connect Google here: a real
// OAuth client is configured, or the sandbox is on.
func (s *Server) googleConfigured() bool { return s.cfg.Google.ClientID != "" }

// googleKey is the key Google tokens (and PKCE verifiers) are sealed with.
func (s *Server) googleKey() ([]byte, error) {
	key, err := google.DeriveKey(s.cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("google token key from the secret key: %w", err)
	}
	return key, nil
}

// googleReturn is where to send the user after connecting or disconnecting:
// a local path (such as a contact's tab), the profile page otherwise.
func googleReturn(path string) string {
	next := safeNext(path)
	if next == "/" || len(next) > maxReturnTo || strings.HasPrefix(next, "/google/") {
		return "/profile"
	}
	return next
}

// googleConnect starts the OAuth flow: it keeps the state's hash and the
// sealed PKCE verifier in the database (any instance can finish the flow)
// and sends the browser to Google's consent page.
func (s *Server) googleConnect(c *fiber.Ctx) error {
	back := googleReturn(c.Query("return"))
	if !s.googleConfigured() {
		s.flash(c, "error", "Google is not configured on this server. An administrator sets SHERPA_GOOGLE_CLIENT_ID and SHERPA_GOOGLE_CLIENT_SECRET (a Google Cloud OAuth client), or SHERPA_GOOGLE_SANDBOX=true to try Sherpa with a simulated Google.")
		return s.redirect(c, back)
	}
	key, err := s.googleKey()
	if err != nil {
		return err
	}
	state, verifier := google.NewState(), google.NewVerifier()
	// The verifier travels in a token's access-token field only to reuse the
	// tested sealing; it never leaves the server.
	sealed, err := google.SealToken(key, &oauth2.Token{AccessToken: verifier})
	if err != nil {
		return fmt.Errorf("seal PKCE verifier: %w", err)
	}
	st := &store.OAuthState{StateHash: hashToken(state), UserID: currentUser(c).ID, VerifierSealed: sealed, ReturnTo: back}
	if err := s.store.CreateOAuthState(c.UserContext(), st, oauthStateValidity); err != nil {
		return err
	}
	return s.redirect(c, s.cfg.Google.AuthCodeURL(state, verifier))
}

// googleCallback finishes the OAuth flow for the logged-in user who started
// it: the state must be theirs, unused and fresh; the code is exchanged with
// the verifier, and the token is sealed and saved.
func (s *Server) googleCallback(c *fiber.Ctx) error {
	ctx, me := c.UserContext(), currentUser(c)
	st, err := s.store.TakeOAuthState(ctx, hashToken(c.Query("state")), me.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.flash(c, "error", "This Google connection link is not valid: it was already used or was started in another session. Please connect again.")
		return s.redirect(c, "/profile")
	case errors.Is(err, store.ErrExpired):
		s.flash(c, "error", "Connecting Google took longer than 10 minutes. Please connect again.")
		return s.redirect(c, googleReturn(st.ReturnTo))
	case err != nil:
		return err
	}
	back := googleReturn(st.ReturnTo)
	if problem := c.Query("error"); problem != "" || c.Query("code") == "" {
		if problem == "access_denied" {
			s.flash(c, "info", "Google connection cancelled.")
		} else {
			s.log.Warn().Str("request_id", requestID(c)).Str("oauth_error", problem[:min(len(problem), 100)]).Msg("Google refused the connection")
			s.flash(c, "error", "Google did not connect the account. Please try again.")
		}
		return s.redirect(c, back)
	}
	email, err := s.finishGoogleConnect(ctx, me.ID, c.Query("code"), st.VerifierSealed)
	if err != nil {
		return s.googleConnectFailed(c, err, back)
	}
	s.flash(c, "success", "Connected Google account "+email+".")
	return s.redirect(c, back)
}

// googleConnectFailed tells the user when Google is why connecting failed;
// Sherpa's own failures go to the error handler.
func (s *Server) googleConnectFailed(c *fiber.Ctx, err error, back string) error {
	switch {
	case errors.Is(err, google.ErrUnavailable):
		s.flash(c, "error", "Google did not answer in time, so the account was not connected. Please try again later.")
	case errors.Is(err, errGoogleRefused):
		s.flash(c, "error", "Google did not accept the connection. Please connect again.")
	default:
		return err
	}
	s.log.Warn().Err(err).Str("request_id", requestID(c)).Msg("connect Google")
	return s.redirect(c, back)
}

// finishGoogleConnect trades the code for a token, learns the account's
// address, and stores the sealed token; it answers the address.
func (s *Server) finishGoogleConnect(ctx context.Context, userID int64, code string, verifierSealed []byte) (string, error) {
	key, err := s.googleKey()
	if err != nil {
		return "", err
	}
	v, err := google.OpenToken(key, verifierSealed)
	if err != nil {
		return "", fmt.Errorf("open PKCE verifier: %w", err)
	}
	tok, err := s.cfg.Google.Exchange(ctx, code, v.AccessToken)
	if err != nil {
		return "", fmt.Errorf("%w: exchange code: %w", errGoogleRefused, err)
	}
	// Reading the address may already refresh a short-lived token; keep the
	// newest.
	cl, err := s.cfg.Google.NewClient(ctx, tok, func(t *oauth2.Token) { tok = t })
	if err != nil {
		return "", fmt.Errorf("google client: %w", err)
	}
	email, err := cl.UserEmail(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: read the account's address: %w", errGoogleRefused, err)
	}
	sealed, err := google.SealToken(key, tok)
	if err != nil {
		return "", fmt.Errorf("seal token: %w", err)
	}
	if err := s.store.SaveGoogleAccount(ctx, userID, email, sealed); err != nil {
		return "", err
	}
	return email, nil
}

// googleDisconnect revokes the grant at Google and deletes the stored token.
// The token is deleted even when Google cannot be reached; the message says so.
func (s *Server) googleDisconnect(c *fiber.Ctx) error {
	ctx, me := c.UserContext(), currentUser(c)
	back := googleReturn(c.FormValue("return"))
	acct, err := s.store.GoogleAccount(ctx, me.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.flash(c, "info", "No Google account is connected.")
		return s.redirect(c, back)
	}
	if err != nil {
		return err
	}
	revokeErr := s.revokeGoogle(ctx, acct)
	if err := s.store.DeleteGoogleAccount(ctx, me.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if revokeErr != nil {
		s.log.Warn().Err(revokeErr).Str("request_id", requestID(c)).Int64("user_id", me.ID).Msg("revoke Google access")
		s.flash(c, "info", "Disconnected "+acct.GoogleEmail+" from Sherpa, but Google could not be told to revoke access. To be sure, remove Sherpa under Third-party apps at myaccount.google.com/permissions.")
	} else {
		s.flash(c, "success", "Disconnected Google account "+acct.GoogleEmail+".")
	}
	return s.redirect(c, back)
}

func (s *Server) revokeGoogle(ctx context.Context, acct *store.GoogleAccount) error {
	key, err := s.googleKey()
	if err != nil {
		return err
	}
	tok, err := google.OpenToken(key, acct.SealedToken)
	if err != nil {
		return fmt.Errorf("open stored token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, googleRevokeTimeout)
	defer cancel()
	return s.cfg.Google.Revoke(ctx, tok)
}

// connectedGoogleEmail answers the address of the user's connected Google
// account, or "" when none is connected.
func (s *Server) connectedGoogleEmail(ctx context.Context, userID int64) (string, error) {
	acct, err := s.store.GoogleAccount(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return acct.GoogleEmail, nil
}

// googleClient is the current user's Google client, for the contact page's
// tabs. It answers google.ErrNotConnected when no account is connected and
// google.ErrReauth when the stored token cannot be opened (the secret key
// changed). A token refreshed during its calls is sealed and saved.
func (s *Server) googleClient(c *fiber.Ctx) (*google.Client, error) {
	ctx, me := c.UserContext(), currentUser(c)
	acct, err := s.store.GoogleAccount(ctx, me.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, google.ErrNotConnected
	}
	if err != nil {
		return nil, err
	}
	key, err := s.googleKey()
	if err != nil {
		return nil, err
	}
	tok, err := google.OpenToken(key, acct.SealedToken)
	if err != nil {
		s.log.Warn().Err(err).Int64("user_id", me.ID).Msg("stored Google token does not open")
		return nil, fmt.Errorf("%w: %w", google.ErrReauth, err)
	}
	return s.cfg.Google.NewClient(ctx, tok, s.saveRefreshedToken(ctx, key, me.ID, acct.GoogleEmail))
}

// saveRefreshedToken is the onRefresh callback of a user's client. It runs
// inside a Google call, possibly after the request is done, so it holds no
// Fiber context and has its own deadline.
func (s *Server) saveRefreshedToken(ctx context.Context, key []byte, userID int64, googleEmail string) func(*oauth2.Token) {
	ctx = context.WithoutCancel(ctx)
	return func(tok *oauth2.Token) {
		sealed, err := google.SealToken(key, tok)
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, tokenSaveTimeout)
			err = s.store.UpdateGoogleToken(sctx, userID, googleEmail, sealed)
			cancel()
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn().Err(err).Int64("user_id", userID).Msg("save refreshed Google token")
		}
	}
}
