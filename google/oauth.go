package google

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// NewVerifier returns a fresh PKCE code verifier. Keep it with the state (server
// side) between AuthCodeURL and Exchange.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// NewState returns a fresh unguessable OAuth state value.
func NewState() string { return randomID(32) }

// AuthCodeURL is the consent page to send the browser to: offline access (so
// Google returns a refresh token), the consent prompt (so it does so every time),
// and the S256 PKCE challenge of verifier.
func (c Config) AuthCodeURL(state, verifier string) string {
	return c.oauth().AuthCodeURL(state,
		oauth2.AccessTypeOffline,
		oauth2.ApprovalForce,
		oauth2.S256ChallengeOption(verifier),
	)
}

// Exchange trades the callback's code for a token, proving possession of the
// verifier. A bad, used or expired code (or a wrong verifier) answers ErrReauth.
func (c Config) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, c.WithDefaults().Timeout)
	defer cancel()
	tok, err := c.oauth().Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify(err)
	}
	return tok, nil
}

// Revoke ends the grant behind tok at Google (its refresh token if it has one,
// which revokes the access tokens too). A token Google no longer knows counts as
// revoked. The caller deletes its stored copy whatever this answers.
func (c Config) Revoke(ctx context.Context, tok *oauth2.Token) error {
	if tok == nil {
		return ErrNotConnected
	}
	value := tok.RefreshToken
	if value == "" {
		value = tok.AccessToken
	}
	cfg := c.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	form := url.Values{"token": {value}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.RevokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("google: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cfg.httpClient().Do(req)
	if err != nil {
		return classify(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusBadRequest && strings.Contains(string(body), "invalid_token"):
		return nil
	default:
		return classify(&statusError{op: "revoke", code: resp.StatusCode, body: string(body)})
	}
}
