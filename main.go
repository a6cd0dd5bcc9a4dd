// Command sherpa is a fast, self-hosted CRM for small sales teams: one binary
// that serves server-rendered pages and htmx fragments on SQLite (default) or
// MySQL/MariaDB.
//
//	sherpa [flags]            serve (the default)
//	sherpa migrate [flags]    apply database migrations and exit
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/mail"
	"sherpa/store"
)

// Config is every setting of Sherpa. Each has an environment variable
// SHERPA_* and a flag of the same meaning; flags win.
type Config struct {
	Addr           string
	DatabaseURL    string
	Secret         string
	PublicURL      string
	SMTPURL        string
	SMTPFrom       string
	GoogleClientID string
	GoogleSecret   string
	GoogleSandbox  bool
	TrustedProxies string
	LogLevel       string
	LogFormat      string
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sherpa:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	cfg, err := parseConfig(cmd, args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		st, err := openStore(ctx, cfg, log)
		if err != nil {
			return err
		}
		return st.Close()
	default:
		return fmt.Errorf("unknown command %q (commands: serve, migrate)", cmd)
	}
}

func parseConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet("sherpa "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("SHERPA_ADDR", ":8080"), "listen address (SHERPA_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("SHERPA_DATABASE_URL", "sqlite:sherpa.db"), "database: sqlite:FILE or mysql://user:pass@host:3306/db (SHERPA_DATABASE_URL)")
	fs.StringVar(&c.Secret, "secret", env("SHERPA_SECRET", ""), "secret key for encrypting tokens; generated and kept in the database if empty (SHERPA_SECRET)")
	fs.StringVar(&c.PublicURL, "public-url", env("SHERPA_PUBLIC_URL", "http://localhost:8080"), "URL users reach Sherpa at, for links in emails (SHERPA_PUBLIC_URL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("SHERPA_SMTP_URL", ""), "SMTP server: smtp://user:pass@host:587 (STARTTLS), smtps://…:465, smtp+insecure://host:25; empty = show invitation links instead (SHERPA_SMTP_URL)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("SHERPA_SMTP_FROM", ""), "sender of emails; default sherpa@ the public URL's host (SHERPA_SMTP_FROM)")
	fs.StringVar(&c.GoogleClientID, "google-client-id", env("SHERPA_GOOGLE_CLIENT_ID", ""), "Google OAuth client id (SHERPA_GOOGLE_CLIENT_ID)")
	fs.StringVar(&c.GoogleSecret, "google-client-secret", env("SHERPA_GOOGLE_CLIENT_SECRET", ""), "Google OAuth client secret (SHERPA_GOOGLE_CLIENT_SECRET)")
	fs.BoolVar(&c.GoogleSandbox, "google-sandbox", env("SHERPA_GOOGLE_SANDBOX", "") == "true" || env("SHERPA_GOOGLE_SANDBOX", "") == "1", "simulate Google in-process (SHERPA_GOOGLE_SANDBOX=true)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("SHERPA_TRUSTED_PROXIES", ""), "comma-separated IPs/CIDRs of load balancers whose X-Forwarded-For is trusted (SHERPA_TRUSTED_PROXIES)")
	fs.StringVar(&c.LogLevel, "log-level", env("SHERPA_LOG_LEVEL", "info"), "debug, info, warn or error (SHERPA_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("SHERPA_LOG_FORMAT", "console"), "console (readable) or json (SHERPA_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	pu, err := url.Parse(c.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return c, fmt.Errorf("public URL %q must be like https://crm.example.com", c.PublicURL)
	}
	if c.SMTPFrom == "" {
		c.SMTPFrom = "Sherpa <sherpa@" + pu.Hostname() + ">"
	}
	return c, nil
}

func newLogger(cfg Config, out io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	var w io.Writer = out
	switch cfg.LogFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05"}
	default:
		return zerolog.Logger{}, fmt.Errorf("log format %q: use console or json", cfg.LogFormat)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

func openStore(ctx context.Context, cfg Config, log zerolog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	n, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info().Str("database", string(st.Dialect)).Int("migrations_applied", n).Msg("database ready")
	return st, nil
}

func serve(ctx context.Context, cfg Config, log zerolog.Logger, stdout io.Writer) error {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := cfg.Secret
	if secret == "" {
		// Kept in the database so every instance on it shares the key.
		if secret, err = st.EnsureSetting(ctx, "secret_key", randomSecret); err != nil {
			return err
		}
	}
	_ = secret // encrypts Google tokens (see the google package)

	public, _ := url.Parse(cfg.PublicURL)
	hc := handlers.DefaultConfig(public)
	hc.Sandbox = cfg.GoogleSandbox
	hc.TrustedProxies = splitList(cfg.TrustedProxies)
	var mailer handlers.Mailer
	if cfg.SMTPURL != "" {
		m, err := mail.New(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			return err
		}
		mailer = m
	}
	app := handlers.New(hc, st, mailer, log)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	fmt.Fprintf(stdout, "Sherpa is listening on %s (open %s)\n", ln.Addr(), cfg.PublicURL)
	go cleanSessions(ctx, st, log)

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: finishing requests in flight")
	if err := app.ShutdownWithTimeout(20 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		log.Warn().Err(err).Msg("listener stopped")
	}
	log.Info().Msg("stopped")
	return nil
}

// cleanSessions deletes expired sessions every hour.
func cleanSessions(ctx context.Context, st *store.Store, log zerolog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.Sessions().DeleteExpired(ctx); err != nil {
				log.Warn().Err(err).Msg("delete expired sessions")
			} else if n > 0 {
				log.Info().Int64("deleted", n).Msg("expired sessions deleted")
			}
		}
	}
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
