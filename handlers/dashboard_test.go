package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// chartIDs are the dashboard's four cards, in order.
var chartIDs = []string{"chart-closed-vs-goal", "chart-forecast", "chart-funnel", "chart-team-activity"}

// dashboardCharts reads the dashboard's ETag and each card's SVG from a page
// or a poll answer.
func dashboardCharts(t *testing.T, r *response) (etag string, svgs map[string]string) {
	t.Helper()
	doc := r.doc(t)
	dash := doc.Find("[data-testid=dashboard]")
	if dash.Length() != 1 {
		t.Fatalf("no dashboard in the answer:\n%.2000s", r.body)
	}
	etag, _ = dash.Attr("data-etag")
	svgs = map[string]string{}
	for _, id := range chartIDs {
		card := dash.Find("[data-testid=" + id + "]")
		svg := card.Find(`svg[role=img]`)
		if svg.Length() != 1 {
			t.Errorf("card %s has %d charts", id, svg.Length())
			continue
		}
		if _, ok := svg.Attr("viewBox"); !ok || svg.Find("title").Length() != 1 || svg.Find("desc").Length() != 1 {
			t.Errorf("chart %s lacks viewBox, title or desc", id)
		}
		h, _ := svg.Html()
		svgs[id] = h
	}
	return etag, svgs
}

// poll asks for the charts as the open dashboard does.
func poll(c *client, etag string) *response {
	return c.get("/dashboard/charts", "HX-Request", "true", "If-None-Match", etag)
}

// addDealForm saves a deal through the deals form.
func (a *testApp) addDealForm(c *client, contactID int64, kv ...string) {
	a.t.Helper()
	f := form(append([]string{"contact_id", itoa64(contactID)}, kv...)...)
	if r := c.post("/deals", f); r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("add deal %v: %d\n%.2000s", kv, r.StatusCode, r.body)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestDashboardShowsFourCharts(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		// An empty team: four charts, each with its empty state, and a hint.
		r := owner.get("/")
		expectStatus(t, r, http.StatusOK)
		_, svgs := dashboardCharts(t, r)
		if !strings.Contains(svgs["chart-forecast"], "No deals expected to close this month") {
			t.Errorf("empty forecast: %.500s", svgs["chart-forecast"])
		}
		if r.doc(t).Find("[data-testid=dashboard-empty]").Length() != 1 {
			t.Errorf("no hint on an empty dashboard")
		}
		if got := r.text(t, "[data-testid=dashboard-settings]"); !strings.Contains(got, "UTC") || !strings.Contains(got, "EUR") {
			t.Errorf("settings line %q", got)
		}

		id := a.addContact(owner, "Ann Archer", "ann@example.com", "company", "Archer Ltd")
		today := time.Now().UTC().Format(time.DateOnly)
		a.addDealForm(owner, id, "name", "Big one", "stage", "Closed Won", "goal", "1,000", "amount", "1,234.50", "close_date", today)
		a.addDealForm(owner, id, "name", "Maybe", "stage", "Contract Sent", "goal", "500", "amount", "400", "close_date", today)
		r = owner.get("/")
		expectStatus(t, r, http.StatusOK)
		_, svgs = dashboardCharts(t, r)
		if !strings.Contains(svgs["chart-forecast"], "€1,634.50") {
			t.Errorf("forecast lacks the total €1,634.50: %.800s", svgs["chart-forecast"])
		}
		if !strings.Contains(svgs["chart-closed-vs-goal"], "€1,234.50 closed of €1,500.00 goal") {
			t.Errorf("closed vs goal lacks this month's numbers: %.800s", svgs["chart-closed-vs-goal"])
		}
		if r.doc(t).Find("[data-testid=dashboard-empty]").Length() != 0 {
			t.Errorf("empty hint on a dashboard with data")
		}
		// The same URL answers the fragment to htmx.
		frag := owner.get("/", "HX-Request", "true")
		expectStatus(t, frag, http.StatusOK)
		if strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `data-testid="dashboard"`) {
			t.Errorf("htmx answer is not the fragment: %.300s", frag.body)
		}
	})
}

func TestDashboardPollAnswers304UntilADealIsSaved(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		mate, _ := a.member(owner, "Mia")
		id := a.addContact(owner, "Ann Archer", "ann@example.com")
		today := time.Now().UTC().Format(time.DateOnly)
		a.addDealForm(owner, id, "name", "First", "goal", "100", "amount", "100", "close_date", today)

		etag, before := dashboardCharts(t, mate.get("/"))
		if etag == "" || !strings.HasPrefix(etag, `"`) {
			t.Fatalf("ETag %q", etag)
		}
		for range 2 {
			r := poll(mate, etag)
			expectStatus(t, r, http.StatusNotModified)
			if r.Header.Get("ETag") != etag || r.body != "" {
				t.Errorf("304 with ETag %q and body %q, want %q and nothing", r.Header.Get("ETag"), r.body, etag)
			}
		}
		if cc := poll(mate, etag).Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
			t.Errorf("poll Cache-Control %q", cc)
		}
		// A poll without the ETag gets the charts.
		expectStatus(t, mate.get("/dashboard/charts", "HX-Request", "true"), http.StatusOK)

		// A teammate saves a deal: the next poll answers the new charts.
		a.addDealForm(owner, id, "name", "Second", "goal", "2,000", "amount", "1,500", "close_date", today)
		r := poll(mate, etag)
		expectStatus(t, r, http.StatusOK)
		newTag, after := dashboardCharts(t, r)
		if newTag == etag || r.Header.Get("ETag") != newTag {
			t.Errorf("ETag after a change: header %q, fragment %q, old %q", r.Header.Get("ETag"), newTag, etag)
		}
		if after["chart-forecast"] == before["chart-forecast"] || !strings.Contains(after["chart-forecast"], "€1,600.00") {
			t.Errorf("forecast did not change to €1,600.00: %.600s", after["chart-forecast"])
		}
		expectStatus(t, poll(mate, newTag), http.StatusNotModified)
		// A weak or listed ETag matches too.
		expectStatus(t, poll(mate, `"x", W/`+newTag), http.StatusNotModified)

		// Changing the time zone changes what the charts mean: a new ETag.
		expectRedirect(t, owner.post("/team/settings", form("time_zone", "Asia/Tokyo", "currency", "EUR")), "/team#settings")
		expectStatus(t, poll(mate, newTag), http.StatusOK)
	})
}

func TestOnlyTheOwnerChangesTeamSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga", "Acme")
		admin, adminEmail := a.member(owner, "Adam")
		member, _ := a.member(owner, "Mia")
		expectRedirect(t, owner.post("/team/members/"+itoa64(a.user(adminEmail).ID)+"/role", form("role", "admin")), "/team")
		teamID := a.user(ownerEmail).TeamID
		team := func() *store.Team {
			tm, err := a.store.TeamByID(context.Background(), teamID)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}

		// The owner sees the form with the current values.
		page := owner.get("/team")
		if v, _ := page.doc(t).Find("[data-testid=time-zone] option[selected]").Attr("value"); v != "UTC" {
			t.Errorf("selected zone %q", v)
		}
		if member.get("/team").doc(t).Find("[data-testid=time-zone]").Length() != 0 {
			t.Errorf("a member sees the settings form")
		}

		expectRedirect(t, owner.post("/team/settings", form("time_zone", "Europe/Berlin", "currency", "USD")), "/team#settings")
		if tm := team(); tm.TimeZone != "Europe/Berlin" || tm.Currency != "USD" {
			t.Fatalf("settings not saved: %s %s", tm.TimeZone, tm.Currency)
		}
		if got := member.get("/").text(t, "[data-testid=dashboard-settings]"); !strings.Contains(got, "Europe/Berlin") || !strings.Contains(got, "USD") {
			t.Errorf("dashboard settings line %q", got)
		}

		for who, c := range map[string]*client{"admin": admin, "member": member} {
			r := c.post("/team/settings", form("time_zone", "Asia/Tokyo", "currency", "EUR"))
			expectStatus(t, r, http.StatusForbidden)
			if tm := team(); tm.TimeZone != "Europe/Berlin" {
				t.Errorf("%s changed the zone to %s", who, tm.TimeZone)
			}
		}

		for _, bad := range [][]string{
			{"time_zone", "Mars/Olympus", "currency", "EUR"},
			{"time_zone", "Local", "currency", "EUR"},
			{"time_zone", "../../etc/passwd", "currency", "EUR"},
			{"time_zone", "UTC", "currency", "DOGE"},
		} {
			r := owner.post("/team/settings", form(bad...))
			expectStatus(t, r, http.StatusUnprocessableEntity)
			field := bad[0]
			if bad[3] == "DOGE" {
				field = "currency"
			}
			if msg := r.text(t, "[data-testid=error-"+field+"]"); msg == "" {
				t.Errorf("%v: no message for %s", bad, field)
			}
			if tm := team(); tm.TimeZone != "Europe/Berlin" || tm.Currency != "USD" {
				t.Errorf("%v changed the team to %s %s", bad, tm.TimeZone, tm.Currency)
			}
		}
	})
}

// TestDashboardOnTwoInstances: a deal saved through one app instance reaches
// a dashboard served by another on the same MariaDB, through the version
// both read from the database (each instance has its own chart cache).
func TestDashboardOnTwoInstances(t *testing.T) {
	dbURL := storetest.URL(t, store.MySQL)
	open := func() *store.Store {
		s, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	one := newApp(t, open(), nil, testConfig())
	two := newApp(t, open(), nil, testConfig())
	owner, _ := one.owner("Olga", "Acme")
	id := one.addContact(owner, "Ann Archer", "ann@example.com")
	watcher := two.client()
	watcher.cookies = owner.cookies

	etag, before := dashboardCharts(t, watcher.get("/"))
	expectStatus(t, poll(watcher, etag), http.StatusNotModified)

	today := time.Now().UTC().Format(time.DateOnly)
	one.addDealForm(owner, id, "name", "Across", "stage", "Closed Won", "goal", "900", "amount", "750", "close_date", today)

	r := poll(watcher, etag)
	expectStatus(t, r, http.StatusOK)
	newTag, after := dashboardCharts(t, r)
	if newTag == etag {
		t.Errorf("ETag did not change")
	}
	for _, id := range []string{"chart-closed-vs-goal", "chart-forecast"} {
		if after[id] == before[id] {
			t.Errorf("%s did not change on instance two", id)
		}
	}
	if !strings.Contains(after["chart-forecast"], "€750.00") {
		t.Errorf("forecast on instance two: %.600s", after["chart-forecast"])
	}
}

// TestDashboardLastMonthChartsFollowLateChanges: last month's charts are
// kept until a month already over can have changed; an activity dated last
// month, or a member's new name, must still reach them.
func TestDashboardLastMonthChartsFollowLateChanges(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		mate, mateEmail := a.member(owner, "Mia")
		id := a.addContact(owner, "Ann Archer", "ann@example.com")
		teamID := a.user(ownerEmail).TeamID
		etag, before := dashboardCharts(t, owner.get("/"))

		// An activity logged now is this month's: last month's chart stays.
		if _, err := a.store.LogActivity(ctx, teamID, id, a.user(mateEmail).ID, store.ActivityEmail, "now"); err != nil {
			t.Fatal(err)
		}
		r := poll(owner, etag)
		expectStatus(t, r, http.StatusOK)
		etag, after := dashboardCharts(t, r)
		if after["chart-team-activity"] != before["chart-team-activity"] {
			t.Errorf("an activity of this month changed last month's chart")
		}

		// One dated in the middle of last month shows up.
		lastMonth := store.MonthStart(time.Now(), time.UTC).AddDate(0, -1, 14)
		restore := a.store.SetClock(func() time.Time { return lastMonth })
		_, err := a.store.LogActivity(ctx, teamID, id, a.user(mateEmail).ID, store.ActivityMeeting, "late entry")
		restore()
		if err != nil {
			t.Fatal(err)
		}
		r = poll(owner, etag)
		expectStatus(t, r, http.StatusOK)
		etag, after = dashboardCharts(t, r)
		if !strings.Contains(after["chart-team-activity"], "Mia: 1 activity (1 meeting)") {
			t.Errorf("team activity after a late entry: %.600s", after["chart-team-activity"])
		}

		// A member's new name reaches the chart.
		expectRedirect(t, mate.post("/profile", form("name", "Mia Moss")), "/profile")
		r = poll(owner, etag)
		expectStatus(t, r, http.StatusOK)
		if _, after = dashboardCharts(t, r); !strings.Contains(after["chart-team-activity"], "Mia Moss") {
			t.Errorf("team activity after a rename: %.600s", after["chart-team-activity"])
		}
	})
}
