package e2e

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/mail"
	"sherpa/mail/mailtest"
	"sherpa/store"
	"sherpa/store/storetest"
)

// server is a running Sherpa with an SMTP listener behind it.
type server struct {
	URL  string
	SMTP *mailtest.Server
	St   *store.Store
}

func startServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	smtp, err := mailtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	sender, err := mail.New(smtp.URL(), "Sherpa <sherpa@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, store.SQLite)
	public, _ := url.Parse(base)
	cfg := handlers.DefaultConfig(public)
	cfg.Password = handlers.PasswordParams{Memory: 1024, Time: 1, Threads: 1}
	app := handlers.New(cfg, st, sender, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return &server{URL: base, SMTP: smtp, St: st}
}

// browser starts headless Chromium; each call of tab() is a separate
// browser context, like a separate person with their own cookies.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("SHERPA_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: browser tests must run in CI")
		}
		t.Skip("browser test skipped: install Debian's chromium (apt-get install chromium) to run it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// tab opens a new, isolated browser context.
func (b *browser) tab() *tab {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("new browser context: %v", err)
	}
	return &tab{t: b.t, ctx: ctx}
}

type tab struct {
	t   *testing.T
	ctx context.Context
}

// do runs steps with a time limit, failing the test with a screenshot of
// where it stopped.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	paced := make([]chromedp.Action[chromedp.Void], 0, 2*len(steps))
	for _, step := range steps {
		paced = append(paced, settled(), step)
	}
	if err := chromedp.Do(ctx, paced...); err != nil {
		tb.shot("failure")
		loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
		tb.t.Fatalf("browser step failed at %s: %v", loc, err)
	}
}

// settled waits, for at most 2 s, until no htmx swap is settling. htmx
// gives swapped-in HTML its behaviour (its hx- attributes, and htmx:load
// handlers such as the board's SortableJS) only when the swap settles, some
// 20 ms after the HTML is in the page; a click or a press in between reaches
// an element that does nothing yet. A person never acts that fast, and CI
// runs have failed on it, so every step of do waits for it first. An error
// (a page being navigated away) ends the wait: the step then waits for its
// page itself.
func settled() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			busy, err := chromedp.Evaluate[bool](`!!document.querySelector(".htmx-added, .htmx-swapping, .htmx-settling")`)(ctx, t)
			if err != nil || !busy {
				return nil
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	})
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (tb *tab) location() string {
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	return loc
}

// shot saves a full-page screenshot as e2e/screenshots/NAME.png.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	dir := filepath.Join("screenshots")
	os.MkdirAll(dir, 0o755)
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// signUpOwnerSteps signs Olga Owner up and creates the team "Acme Sales",
// ending on the team page.
func signUpOwnerSteps(base string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/signup"),
		chromedp.SendKeys(css("#name"), "Olga Owner"),
		chromedp.SendKeys(css("#email"), "olga@example.com"),
		chromedp.SendKeys(css("#password"), "a long enough password"),
		chromedp.Click(css("[data-testid=signup-submit]")),
		chromedp.WaitVisible(css("[data-testid=create-team-link]")),
		chromedp.Navigate(base + "/team/new"),
		chromedp.SendKeys(css("#name"), "Acme Sales"),
		chromedp.Click(css("[data-testid=create-team-submit]")),
		chromedp.WaitVisible(css("[data-testid=members]")),
	}
}

// userByEmail loads an account straight from the database.
func userByEmail(t *testing.T, st *store.Store, email string) *store.User {
	t.Helper()
	u, err := st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
