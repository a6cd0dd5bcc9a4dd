package handlers

import (
	"fmt"
	"strings"

	"sherpa/google"
	"sherpa/google/sandbox"
)

// StartGoogleSandbox starts the in-process stand-in for Google and points cfg
// at it, the way sandbox mode runs: the consent page is mounted in the app at
// SandboxGooglePath under cfg.PublicURL (the browser must reach it), and the
// app's own calls (token, revoke, APIs) go to the stand-in's loopback
// listener, which shares its state and works even when the public URL does
// not reach this process. It is the one place the sandbox's google.Config is
// assembled (main, the browser tests and the handler tests use it; package
// sandbox cannot build it because package google's tests import sandbox).
// The caller closes the returned server.
func StartGoogleSandbox(cfg *Config, opts sandbox.Options) (*sandbox.Server, error) {
	public := strings.TrimRight(cfg.PublicURL.String(), "/")
	redirect := public + "/google/callback"
	opts.RedirectURLs = []string{redirect}
	fake := sandbox.New(opts)
	if err := fake.Start(); err != nil {
		return nil, fmt.Errorf("google sandbox: %w", err)
	}
	opts = fake.Options()
	browser, direct := fake.Endpoints(public+SandboxGooglePath), fake.Endpoints("")
	cfg.Sandbox = true
	cfg.GoogleSandbox = fake.Handler()
	cfg.Google = google.Config{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		RedirectURL:  redirect,
		AuthURL:      browser.AuthURL,
		TokenURL:     direct.TokenURL,
		RevokeURL:    direct.RevokeURL,
		APIBaseURL:   direct.APIBaseURL,
	}.WithDefaults()
	return fake, nil
}
