package e2e

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"sherpa/handlers"
	"sherpa/money"
	"sherpa/store"
)

const demoPassword = "demo password 123"

// login logs a tab in and waits for the dashboard.
func (tb *tab) login(base, email string) {
	tb.t.Helper()
	tb.do(
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("[data-testid=login-submit]")),
		chromedp.WaitVisible(css("[data-testid=dashboard]")),
	)
}

// statuses records the HTTP statuses of the dashboard's polls in a tab.
type statuses struct {
	mu   sync.Mutex
	seen []int64
}

func (s *statuses) listen(tb *tab) {
	if err := chromedp.Listen(tb.ctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok && strings.Contains(e.Response.URL, "/dashboard/charts") {
			s.mu.Lock()
			s.seen = append(s.seen, e.Response.Status)
			s.mu.Unlock()
		}
	}); err != nil {
		tb.t.Fatal(err)
	}
}

func (s *statuses) count(status int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.seen {
		if st == status {
			n++
		}
	}
	return n
}

// TestLiveDashboard: with demo data the dashboard shows four charts; a deal
// closed by a teammate in another browser shows up on it within seconds,
// without a reload, while the polls before it were answered 304.
func TestLiveDashboard(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	res, err := srv.St.Seed(ctx, store.SeedOptions{
		OwnerEmail:   "demo@example.com",
		PasswordHash: handlers.HashPassword(handlers.PasswordParams{Memory: 1024, Time: 1, Threads: 1}, demoPassword),
		Contacts:     600, Deals: 300, Activities: 1500,
		Rand: rand.New(rand.NewPCG(7, 7)),
	})
	if err != nil {
		t.Fatal(err)
	}
	// One open deal gets a name the teammate can find it by.
	owner, err := srv.St.UserByEmail(ctx, res.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	page, err := srv.St.ListDeals(ctx, res.TeamID, store.DealQuery{Sort: "stage", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var target *store.Deal
	for i := range page.Rows {
		if !store.IsClosed(page.Rows[i].Stage) {
			target = &page.Rows[i]
		}
	}
	if target == nil {
		t.Fatal("the demo data has no open deal")
	}
	// It is the teammate's, since members move only their own deals.
	mateUser, err := srv.St.UserByEmail(ctx, res.MemberEmails[1])
	if err != nil {
		t.Fatal(err)
	}
	_, err = srv.St.UpdateDeal(ctx, res.TeamID, owner, target.ID, target.Version, store.DealInput{
		Name: "Live dashboard rollout", Goal: money.FormatPlain(target.Goal, "EUR"), Amount: money.FormatPlain(target.Amount, "EUR"),
		ContactID: target.ContactID, Company: target.Company, OwnerID: mateUser.ID,
	})
	if err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	manager := b.tab()
	polls := &statuses{}
	polls.listen(manager)
	manager.login(srv.URL, res.OwnerEmail)
	manager.do(chromedp.WaitVisible(css("[data-testid=chart-team-activity] svg")))
	n, err := chromedp.Run(manager.ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=dashboard] .chart-card svg[role=img]').length`))
	if err != nil || n != 4 {
		t.Fatalf("%d charts on the dashboard (%v)", n, err)
	}
	for _, id := range []string{"chart-closed-vs-goal", "chart-forecast", "chart-funnel", "chart-team-activity"} {
		if txt := manager.text("[data-testid=" + id + "] svg desc"); strings.Contains(txt, "No ") {
			t.Errorf("%s is empty with demo data: %s", id, txt)
		}
	}
	// Remember what the forecast says and mark the page, to tell a swap
	// from a reload.
	before, err := chromedp.Run(manager.ctx, chromedp.Evaluate[string](`window.sherpaMark = "still here"; document.querySelector('#chart-forecast-desc').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing changed yet: the polls are answered 304 and the page stays.
	deadline := time.Now().Add(8 * time.Second)
	for polls.count(304) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if polls.count(304) == 0 || polls.count(200) != 0 {
		t.Fatalf("polls before any change: %v, want 304s only", polls.seen)
	}
	manager.shot("30-dashboard")

	// A teammate closes the deal in another browser.
	mate := b.tab()
	mate.login(srv.URL, res.MemberEmails[1])
	today := time.Now().UTC().Format(time.DateOnly)
	mate.do(
		chromedp.Navigate(srv.URL+"/deals?q=Live+dashboard+rollout"),
		chromedp.Click(css("[data-testid=deal-row] [data-testid=edit]")),
		chromedp.WaitVisible(css("[data-testid=deal-edit-row]")),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=stage-select]"), "Closed Won"),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=amount]"), "98,765.00"),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=close-date]"), today),
		chromedp.Click(css("[data-testid=deal-edit-row] [data-testid=save]")),
		chromedp.WaitNotPresent(css("[data-testid=deal-edit-row]")),
	)
	if got := mate.text("[data-testid=deal-row]"); !strings.Contains(got, "Closed Won") {
		t.Fatalf("deal row after closing: %q", got)
	}

	// The manager's dashboard shows it within seconds, without a reload.
	wait, cancel := context.WithTimeout(manager.ctx, 8*time.Second)
	defer cancel()
	after, err := chromedp.Run(wait, chromedp.PollFunction[string](
		`(before) => { const d = document.querySelector('#chart-forecast-desc'); return d && d.textContent !== before ? d.textContent : null; }`,
		chromedp.WithPollingArgs(before), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		manager.shot("failure")
		t.Fatalf("the closed deal did not reach the open dashboard within 8 s (polls %v): %v", polls.seen, err)
	}
	if !strings.Contains(after, "Closed Won") {
		t.Errorf("forecast after closing: %s", after)
	}
	mark, err := chromedp.Run(manager.ctx, chromedp.Evaluate[string](`window.sherpaMark || ""`))
	if err != nil || mark != "still here" {
		t.Errorf("the page was reloaded (mark %q, %v)", mark, err)
	}
	if polls.count(200) == 0 {
		t.Errorf("no poll answered 200 after the change: %v", polls.seen)
	}
	manager.do(chromedp.WaitVisible(css("[data-testid=chart-team-activity] svg")))
	manager.shot("30-dashboard")

	// On a phone the cards stack.
	manager.do(chromedp.EmulateViewport(390, 844), chromedp.Sleep(300*time.Millisecond))
	manager.shot("32-dashboard-phone")

	// A new team's dashboard: four charts, each saying it has nothing yet.
	newbie := b.tab()
	newbie.do(
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.SendKeys(css("#name"), "Nina New"),
		chromedp.SendKeys(css("#email"), "nina@example.com"),
		chromedp.SendKeys(css("#password"), demoPassword),
		chromedp.Click(css("[data-testid=signup-submit]")),
		chromedp.WaitVisible(css("[data-testid=create-team-link]")),
		chromedp.Navigate(srv.URL+"/team/new"),
		chromedp.SendKeys(css("#name"), "Fresh Start"),
		chromedp.Click(css("[data-testid=create-team-submit]")),
		chromedp.WaitVisible(css("[data-testid=members]")),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css("[data-testid=dashboard-empty]")),
	)
	n, err = chromedp.Run(newbie.ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=dashboard] .chart-card svg[role=img]').length`))
	if err != nil || n != 4 {
		t.Errorf("%d charts on the empty dashboard (%v)", n, err)
	}
	newbie.shot("31-dashboard-empty")
}
