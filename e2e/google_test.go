package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"sherpa/google/sandbox"
	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// sandboxServer is a running Sherpa in sandbox mode: Google is the
// in-process stand-in, wired the way main.go wires it.
type sandboxServer struct {
	URL  string
	St   *store.Store
	Fake *sandbox.Server
}

func startSandboxServer(t *testing.T) *sandboxServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	st := storetest.Open(t, store.SQLite)
	public, _ := url.Parse(base)
	cfg := handlers.DefaultConfig(public)
	cfg.Password = handlers.PasswordParams{Memory: 1024, Time: 1, Threads: 1}
	cfg.SecretKey = []byte("an e2e secret key, long enough..")
	fake, err := handlers.StartGoogleSandbox(&cfg, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	app := handlers.New(cfg, st, nil, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return &sandboxServer{URL: base, St: st, Fake: fake}
}

// scrollTop scrolls back up, so a full-page screenshot shows the sticky top
// bar at the top.
func scrollTop() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.scrollTo(0, 0); true"))
		return err
	})
}

// inTimeZone makes the page's clock run in a zone, as a browser abroad would.
func inTimeZone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// TestGoogleJourneyInSandbox: connect Google from the Emails tab, send an
// email and see it, read the contact's answer and reply, add a task and
// complete it, schedule a meeting and see its Join link, then find all of it
// on the Activity tab.
func TestGoogleJourneyInSandbox(t *testing.T) {
	srv := startSandboxServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(append([]chromedp.Action[chromedp.Void]{inTimeZone("America/New_York")}, signUpOwnerSteps(srv.URL)...)...)
	ctx := context.Background()
	owner := userByEmail(t, srv.St, "olga@example.com")
	contact, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{Name: "Zoë Zimmer", Email: "zoe@zimmer.example", Company: "Zimmer GmbH"})
	if err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/contacts/%d", srv.URL, contact.ID)

	// Not connected: the Emails tab offers Connect, which comes back here.
	tb.do(
		chromedp.Navigate(page+"?tab=emails"),
		chromedp.WaitVisible(css("[data-testid=emails-tab] [data-testid=google-connect]")),
	)
	tb.shot("19-emails-connect")
	tb.do(
		chromedp.Click(css("[data-testid=google-connect]")),
		chromedp.WaitVisible(css("[data-testid=consent-email]")),
		chromedp.SetValue(css("#email"), "olga.sales@example.com"),
		chromedp.Click(css(`button[value=allow]`)),
		chromedp.WaitVisible(css("[data-testid=compose]")),
	)
	if loc := tb.location(); !strings.HasSuffix(loc, fmt.Sprintf("/contacts/%d?tab=emails", contact.ID)) {
		t.Errorf("after connecting: %s, want the Emails tab", loc)
	}
	if got := tb.text("[data-testid=flash]"); !strings.Contains(got, "olga.sales@example.com") {
		t.Errorf("flash after connecting %q", got)
	}

	// Send an email; it shows in the thread list.
	tb.do(
		chromedp.SendKeys(css("[data-testid=email-subject]"), "Pilot proposal"),
		chromedp.SendKeys(css("[data-testid=email-body]"), "Hi Zoë,\n\nhere is the proposal for the pilot.\n\nBest, Olga"),
		chromedp.Click(css("[data-testid=send-email]")),
		chromedp.WaitVisible(css("[data-testid=google-notice]")),
		chromedp.WaitVisible(css("[data-testid=thread]")),
	)
	if got := tb.text("[data-testid=thread-subject]"); got != "Pilot proposal" {
		t.Errorf("thread subject %q", got)
	}
	threadID, err := chromedp.Run(tb.ctx, chromedp.AttributeValue(css("[data-testid=thread]"), "data-thread"))
	if err != nil || !threadID.Exists {
		t.Fatalf("thread id: %v", err)
	}
	// Zoë answers (in the sandbox's Gmail); the tab shows it, and Olga replies.
	if _, err := srv.Fake.DeliverReply("olga.sales@example.com", threadID.Value, "Zoë Zimmer <zoe@zimmer.example>", "Thanks Olga!\nCan we start in March?"); err != nil {
		t.Fatal(err)
	}
	tb.do(
		chromedp.Click(css("[data-testid=tab-notes]")),
		chromedp.WaitVisible(css("[data-testid=note-body]")),
		chromedp.Click(css("[data-testid=tab-emails]")),
		chromedp.WaitVisible(css("[data-testid=thread] summary")),
		chromedp.Click(css("[data-testid=thread] summary")),
		chromedp.WaitVisible(css("[data-testid=reply-body]")),
		chromedp.SendKeys(css("[data-testid=reply-body]"), "March works. I'll send the plan."),
		chromedp.Click(css("[data-testid=send-reply]")),
		chromedp.WaitVisible(css("[data-testid=thread] [data-testid=message]:nth-of-type(3)")),
	)
	if got := tb.text("[data-testid=google-notice]"); got != "Reply sent to zoe@zimmer.example." {
		t.Errorf("reply notice %q", got)
	}
	// A viewport as tall as the page, so the sticky top bar stays on top of
	// the full-page screenshot.
	tb.do(scrollTop(), chromedp.EmulateViewport(1280, 1700))
	tb.shot("20-emails")
	tb.do(chromedp.EmulateViewport(1280, 900))

	// Tasks: one due tomorrow, one overdue; complete the overdue one.
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	lastWeek := time.Now().AddDate(0, 0, -7).Format("2006-01-02")
	tb.do(
		chromedp.Click(css("[data-testid=tab-tasks]")),
		chromedp.WaitVisible(css("[data-testid=task-title]")),
		chromedp.SendKeys(css("[data-testid=task-title]"), "Send the pilot plan"),
		chromedp.SetValue(css("[data-testid=task-due]"), tomorrow),
		chromedp.Click(css("[data-testid=add-task]")),
		chromedp.WaitVisible(css("[data-testid=tasks-upcoming] [data-testid=task]")),
		chromedp.SendKeys(css("[data-testid=task-title]"), "Call about the invoice"),
		chromedp.SetValue(css("[data-testid=task-due]"), lastWeek),
		chromedp.Click(css("[data-testid=add-task]")),
		chromedp.WaitVisible(css("[data-testid=tasks-overdue] [data-testid=task]")),
		chromedp.SendKeys(css("[data-testid=task-title]"), "Ask for a referral"),
		chromedp.Click(css("[data-testid=add-task]")),
		chromedp.WaitVisible(css("[data-testid=tasks-upcoming] [data-testid=task]:nth-child(2)")),
		chromedp.Click(css("[data-testid=tasks-overdue] [data-testid=complete-task]")),
		chromedp.WaitVisible(css("[data-testid=tasks-completed] [data-testid=task]")),
	)
	if got := tb.text("[data-testid=tasks-completed]"); !strings.Contains(got, "Call about the invoice") {
		t.Errorf("completed section %q", got)
	}
	tb.do(scrollTop())
	tb.shot("21-tasks")

	// The same tab at phone width.
	tb.do(chromedp.EmulateViewport(390, 844), scrollTop())
	tb.shot("21-tasks-phone")
	tb.do(chromedp.EmulateViewport(1280, 900))

	// Meetings: the browser's zone is filled in; schedule one and join it.
	tb.do(
		chromedp.Click(css("[data-testid=tab-meetings]")),
		chromedp.WaitVisible(css("[data-testid=meeting-title]")),
	)
	tz, err := chromedp.Run(tb.ctx, chromedp.Value(css("[data-testid=schedule-form] input[name=tz]")))
	if err != nil || tz != "America/New_York" {
		t.Errorf("tz field %q (%v), want the browser's zone", tz, err)
	}
	day := time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	tb.do(
		chromedp.SendKeys(css("[data-testid=meeting-title]"), "Pilot kickoff"),
		chromedp.SetValue(css("[data-testid=meeting-start]"), day+"T10:00"),
		chromedp.SetValue(css("[data-testid=meeting-end]"), day+"T10:45"),
		chromedp.SendKeys(css("[data-testid=meeting-description]"), "Scope, dates and who does what."),
		chromedp.Click(css("[data-testid=schedule-meeting]")),
		chromedp.WaitVisible(css("[data-testid=meetings-upcoming] [data-testid=join-link]")),
	)
	join, err := chromedp.Run(tb.ctx, chromedp.AttributeValue(css("[data-testid=join-link]"), "href"))
	if err != nil || !strings.HasPrefix(join.Value, "https://meet.google.com/") {
		t.Errorf("Join link %q (%v)", join.Value, err)
	}
	events := srv.Fake.RequestsTo("POST", "/events")
	if len(events) != 1 {
		t.Fatalf("%d events created, want 1", len(events))
	}
	var ev struct {
		Start struct{ DateTime, TimeZone string }
	}
	events[0].DecodeJSON(&ev)
	if ev.Start.TimeZone != "America/New_York" || !strings.HasPrefix(ev.Start.DateTime, day+"T10:00:00-0") {
		t.Errorf("event start %+v, want 10:00 in the browser's zone", ev.Start)
	}
	tb.do(scrollTop())
	tb.shot("22-meetings")

	// Everything is on the Activity tab.
	tb.do(
		chromedp.Click(css("[data-testid=tab-activity]")),
		chromedp.WaitVisible(css("[data-testid=activity]")),
	)
	log := tb.text("[data-testid=activity-list]")
	for _, want := range []string{"Email sent: Pilot proposal", "Email reply sent: Pilot proposal", "Task: Send the pilot plan",
		"Task: Call about the invoice", "Task completed: Call about the invoice", "Meeting: Pilot kickoff"} {
		if !strings.Contains(log, want) {
			t.Errorf("activity tab lacks %q:\n%s", want, log)
		}
	}
	tb.do(scrollTop())
	tb.shot("23-google-activity")

	// Google down: the tab says so, and the typed email stays.
	srv.Fake.Fail(sandbox.ServerError)
	tb.do(
		chromedp.Click(css("[data-testid=tab-emails]")),
		chromedp.WaitVisible(css("[data-testid=google-problem]")),
	)
	srv.Fake.Fail(sandbox.None)
	tb.do(
		chromedp.Click(css("[data-testid=google-retry]")),
		chromedp.WaitVisible(css("[data-testid=compose]")),
		chromedp.WaitVisible(css("[data-testid=thread]")),
	)
	srv.Fake.Fail(sandbox.RateLimit)
	tb.do(
		chromedp.SendKeys(css("[data-testid=email-subject]"), "Follow-up"),
		chromedp.SendKeys(css("[data-testid=email-body]"), "Any news?"),
		chromedp.Click(css("[data-testid=send-email]")),
		chromedp.WaitVisible(css("[data-testid=google-problem]")),
	)
	if got := tb.text("[data-testid=google-problem]"); !strings.Contains(got, "nothing was sent") {
		t.Errorf("problem %q", got)
	}
	tb.do(scrollTop())
	tb.shot("24-emails-google-down")
	srv.Fake.Fail(sandbox.None)
}
