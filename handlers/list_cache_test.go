package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// twoInstances runs fn with two app instances (each with its own list
// cache) on one database, on each database.
func twoInstances(t *testing.T, cfg handlers.Config, fn func(t *testing.T, one, two *testApp)) {
	for _, d := range []store.Dialect{store.SQLite, store.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			dbURL := storetest.URL(t, d)
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
			fn(t, newApp(t, open(), nil, cfg), newApp(t, open(), nil, cfg))
		})
	}
}

// listPages are the list URLs a browser and htmx ask for, full page and
// fragment.
var listPages = []struct{ path, hx string }{
	{"/contacts", ""}, {"/contacts", "true"}, {"/contacts?sort=company&dir=desc", "true"},
	{"/deals", ""}, {"/deals", "true"}, {"/deals?sort=amount&dir=desc", "true"},
}

func getList(c *client, path, hx string) *response {
	if hx != "" {
		return c.get(path, "HX-Request", "true")
	}
	return c.get(path)
}

// TestListCacheAcrossInstances: pages cached by instance two never show
// rows older than a write made through instance one.
func TestListCacheAcrossInstances(t *testing.T) {
	twoInstances(t, testConfig(), func(t *testing.T, one, two *testApp) {
		owner, _ := one.owner("Olga", "Acme")
		id := one.addContact(owner, "Ann Archer", "ann@example.com", "company", "First Co")
		one.addDeal(owner, id, "name", "Big Deal", "goal", "100")
		watcher := two.client()
		watcher.cookies = owner.cookies
		for _, p := range listPages {
			for range 2 { // the second one from the cache
				r := getList(watcher, p.path, p.hx)
				expectStatus(t, r, http.StatusOK)
				if !strings.Contains(r.body, "First Co") && strings.HasPrefix(p.path, "/contacts") {
					t.Fatalf("%s: no company on instance two", p.path)
				}
			}
		}
		// An edit through instance one: only the company changes.
		c, err := one.store.ContactByID(context.Background(), one.user(one.userEmailOf(owner)).TeamID, id)
		if err != nil {
			t.Fatal(err)
		}
		r := owner.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), form("version", strconv.Itoa(c.Version), "name", "Ann Archer",
			"email", "ann@example.com", "company", "Second Co", "status", c.Status), "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		for _, p := range listPages {
			if !strings.HasPrefix(p.path, "/contacts") {
				continue
			}
			r := getList(watcher, p.path, p.hx)
			if strings.Contains(r.body, "First Co") || !strings.Contains(r.body, "Second Co") {
				t.Errorf("%s (hx %q) on instance two after an edit on instance one still shows the old company", p.path, p.hx)
			}
		}
		// A deal renamed on instance one reaches instance two's deals pages.
		one.addDeal(owner, id, "name", "Second Deal", "goal", "5")
		for _, p := range listPages {
			if strings.HasPrefix(p.path, "/deals") && !strings.Contains(getList(watcher, p.path, p.hx).body, "Second Deal") {
				t.Errorf("%s (hx %q) on instance two misses the deal added on instance one", p.path, p.hx)
			}
		}
	})
}

// TestListCacheFollowsSessionsAndRoles: a logout, a role change and a
// removal from the team take effect on the next list request, however
// often the page was served from the cache before; another team never
// sees the first team's cached pages.
func TestListCacheFollowsSessionsAndRoles(t *testing.T) {
	twoInstances(t, testConfig(), func(t *testing.T, one, two *testApp) {
		owner, _ := one.owner("Olga", "Acme")
		one.addContact(owner, "Ann Archer", "ann@example.com")
		member, memberEmail := one.member(owner, "Max")
		memberID := one.user(memberEmail).ID
		onTwo := func(c *client) *client {
			w := two.client()
			w.cookies = map[string]string{}
			for k, v := range c.cookies {
				w.cookies[k] = v
			}
			return w
		}
		mTwo := onTwo(member)
		// Warm both instances' caches with the member's pages.
		before := map[string]string{}
		for _, p := range listPages {
			for _, c := range []*client{member, mTwo} {
				getList(c, p.path, p.hx)
				r := getList(c, p.path, p.hx)
				expectStatus(t, r, http.StatusOK)
				before[p.path+p.hx] = r.body
			}
		}
		// The owner makes the member an admin: the full pages (whose bulk
		// bar offers an admin the owner select) are drawn for an admin at
		// once, on both instances.
		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(memberID, 10)+"/role", form("role", "admin")), "/team")
		for _, p := range listPages {
			if p.hx != "" {
				continue
			}
			for _, c := range []*client{member, mTwo} {
				if r := getList(c, p.path, p.hx); r.body == before[p.path+p.hx] {
					t.Errorf("%s (hx %q): the same page after the member became an admin", p.path, p.hx)
				}
			}
		}
		// Another team's owner asks for the same URLs: their own (empty)
		// lists, never the cached ones.
		other, _ := two.owner("Otto", "Other")
		for _, p := range listPages {
			if r := getList(other, p.path, p.hx); strings.Contains(r.body, "Ann Archer") {
				t.Errorf("%s (hx %q): another team sees the first team's contact", p.path, p.hx)
			}
		}
		// Removed from the team: the next request is sent home, on both
		// instances.
		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(memberID, 10)+"/remove", nil), "/team")
		for _, c := range []*client{member, mTwo} {
			if r := c.get("/contacts"); r.StatusCode != http.StatusSeeOther || strings.Contains(r.body, "Ann Archer") {
				t.Errorf("a removed member's /contacts: %d", r.StatusCode)
			}
		}
		// Logged out on instance one: the same cookie on instance two goes
		// to the login page.
		oTwo := onTwo(owner)
		expectStatus(t, oTwo.get("/contacts", "HX-Request", "true"), http.StatusOK)
		expectStatus(t, oTwo.get("/contacts", "HX-Request", "true"), http.StatusOK)
		owner.post("/logout", nil)
		if r := oTwo.get("/contacts", "HX-Request", "true"); r.StatusCode == http.StatusOK || strings.Contains(r.body, "Ann Archer") {
			t.Errorf("after logout, the old session's /contacts on instance two: %d", r.StatusCode)
		}
	})
}

// TestListCacheSwitch: with the cache, a change made behind the store's
// back (no write method, so no version move) is not seen until the team's
// next write, which shows the cache is used; with the cache off it is seen
// at once.
func TestListCacheSwitch(t *testing.T) {
	off := testConfig()
	off.ListCacheBytes = -1
	for _, tc := range []struct {
		name   string
		cfg    handlers.Config
		cached bool
	}{{"on", testConfig(), true}, {"off", off, false}} {
		t.Run(tc.name, func(t *testing.T) {
			twoInstances(t, tc.cfg, func(t *testing.T, one, _ *testApp) {
				owner, _ := one.owner("Olga", "Acme")
				id := one.addContact(owner, "Ann Archer", "ann@example.com")
				getList(owner, "/contacts", "true")
				if _, err := one.store.DB.NewRaw("UPDATE contacts SET company = 'Behind The Back' WHERE id = ?", id).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
				seen := strings.Contains(getList(owner, "/contacts", "true").body, "Behind The Back")
				if seen == tc.cached {
					t.Errorf("cache %s: the change behind the store's back seen: %v", tc.name, seen)
				}
				// Cache-Control: no-cache (a hard reload) draws the page afresh,
				// and does not keep it: the next plain request is still the
				// cached one.
				if r := owner.get("/contacts", "HX-Request", "true", "Cache-Control", "no-cache"); !strings.Contains(r.body, "Behind The Back") {
					t.Errorf("cache %s: a no-cache request did not see the change", tc.name)
				}
				if again := strings.Contains(getList(owner, "/contacts", "true").body, "Behind The Back"); again != seen {
					t.Errorf("cache %s: after a no-cache request the plain one sees the change: %v (before %v)", tc.name, again, seen)
				}
				// Any write of the team moves the version: now it shows.
				one.addContact(owner, "Bea Baker", "bea@example.com")
				if r := getList(owner, "/contacts", "true"); !strings.Contains(r.body, "Behind The Back") {
					t.Errorf("cache %s: a write of the team did not refresh the list", tc.name)
				}
			})
		})
	}
}

// importThrough runs a create import of csv through c's app to its end.
func importThrough(t *testing.T, a *testApp, c *client, teamID int64, csv string) {
	t.Helper()
	path := uploaded(t, c.upload("contacts", "more.csv", []byte(csv)))
	m := mappingOf(t, c.get(path))
	m.Set("mode", store.ModeCreate)
	expectRedirect(t, c.post(path+"/mapping", m), path)
	expectRedirect(t, c.post(path+"/start", nil), path)
	if im := waitImport(t, a, teamID, path); im.Status != store.ImportDone || im.Created == 0 {
		t.Fatalf("import %s, %d created", im.Status, im.Created)
	}
}

// TestListCacheDuringAnImport: an import job's batches leave the list
// pages cached (on every instance) for at most a second (importStale)
// after a request last found them current: the import's rows show that
// late, redrawn in the background from half a
// second on (importRefresh) or by the request after the second; a user's
// write during the import, through either instance, is seen by the next
// request at once.
func TestListCacheDuringAnImport(t *testing.T) {
	twoInstances(t, testConfig(), func(t *testing.T, one, two *testApp) {
		clock := &testClock{now: time.Now()}
		t.Cleanup(one.store.SetClock(clock.get))
		t.Cleanup(two.store.SetClock(clock.get))
		owner, email := one.owner("Olga", "Acme")
		teamID := one.user(email).TeamID
		id := one.addContact(owner, "Ann Archer", "ann@example.com", "company", "First Co")
		watcher := two.client()
		watcher.cookies = owner.cookies
		shows := func(c *client, what string) bool {
			t.Helper()
			r := c.get("/contacts")
			expectStatus(t, r, http.StatusOK)
			return strings.Contains(r.body, what)
		}
		for _, c := range []*client{owner, watcher} {
			if !shows(c, "Ann Archer") || !shows(c, "Ann Archer") {
				t.Fatal("the contact is not listed")
			}
		}

		// The pages stay current for a while: requests confirm it.
		clock.advance(5 * time.Second)
		for _, c := range []*client{owner, watcher} {
			if !shows(c, "Ann Archer") {
				t.Fatal("the contact is not listed")
			}
		}
		// An import's batch: both instances keep serving the page drawn
		// before it (drawn 5 s ago, known current 0 s ago).
		importThrough(t, one, owner, teamID, "Email,Name\nimp1@example.com,Imp One\n")
		if shows(owner, "Imp One") || shows(watcher, "Imp One") {
			t.Fatal("an import batch made the next request draw the page afresh (want: the cached page, within the bound)")
		}
		// Half a second on: still served, and redrawn in the background.
		clock.advance(600 * time.Millisecond)
		for name, c := range map[string]*client{"one": owner, "two": watcher} {
			if shows(c, "Imp One") {
				t.Fatalf("instance %s: the first request from importRefresh on is not served the cached page", name)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !shows(c, "Imp One") {
				if time.Now().After(deadline) {
					t.Fatalf("instance %s: the page was not redrawn in the background", name)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}

		// Another batch, and past the bound with no request in between:
		// the next request draws afresh.
		importThrough(t, one, owner, teamID, "Email,Name\nimp2@example.com,Imp Two\n")
		if shows(watcher, "Imp Two") {
			t.Fatal("an import batch made instance two draw afresh")
		}
		clock.advance(1100 * time.Millisecond)
		if !shows(watcher, "Imp Two") || !shows(owner, "Imp Two") {
			t.Fatal("a page older than importStale served after an import batch")
		}

		// A third batch, then a user's edit through instance one: every
		// instance draws afresh at once.
		importThrough(t, one, owner, teamID, "Email,Name\nimp3@example.com,Imp Three\n")
		if shows(watcher, "Imp Three") {
			t.Fatal("an import batch made instance two draw afresh")
		}
		c, err := one.store.ContactByID(context.Background(), teamID, id)
		if err != nil {
			t.Fatal(err)
		}
		r := owner.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), form("version", strconv.Itoa(c.Version), "name", "Ann Archer",
			"email", "ann@example.com", "company", "Second Co", "status", c.Status), "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		for name, c := range map[string]*client{"one": owner, "two": watcher} {
			if !shows(c, "Second Co") {
				t.Errorf("instance %s: a user's edit during an import not shown by the next request", name)
			}
		}
		// And a teammate's write through instance two, seen on one.
		two.addContact(watcher, "Bea Bold", "bea@example.com")
		if !shows(owner, "Bea Bold") {
			t.Error("instance one: a contact added through instance two during an import not shown at once")
		}
	})
}
