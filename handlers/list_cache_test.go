package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

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
