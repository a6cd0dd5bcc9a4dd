package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestListPrefsCacheFollowsWrites: with the page cache off, instance two
// keeps a user's column choice and saved-view tabs per list version
// (versionCache); a column choice and a saved view made through instance
// one show on instance two's next page, and a change behind the store's
// back (which moves no version) shows only once a write of the team does.
func TestListPrefsCacheFollowsWrites(t *testing.T) {
	cfg := testConfig()
	cfg.ListCacheBytes = -1
	twoInstances(t, cfg, func(t *testing.T, one, two *testApp) {
		owner, _ := one.owner("Olga", "Acme")
		one.addContact(owner, "Ann Archer", "ann@example.com", "company", "Acme")
		watcher := two.client()
		watcher.cookies = owner.cookies
		headers := func() string {
			return strings.Join(tableHeaders(t, getList(watcher, "/contacts", "true"), "contacts"), "|")
		}
		for range 2 { // the second from the cache
			if h := headers(); !strings.Contains(h, "Phone") {
				t.Fatalf("default headers on instance two: %q", h)
			}
		}
		expectStatus(t, owner.post("/contacts/columns", form("col", "email", "col", "name"), "HX-Request", "true"), http.StatusOK)
		if h := headers(); h != "Name|Email|Actions" {
			t.Errorf("instance two after choosing on instance one: %q", h)
		}
		tabs := func() string { return getList(watcher, "/contacts", "").body }
		if strings.Contains(tabs(), "Acme people") {
			t.Fatal("a tab before any view was saved")
		}
		expectStatus(t, owner.post("/views", form("list", "contacts", "name", "Acme people", "query", "company=Acme")), http.StatusSeeOther)
		if !strings.Contains(tabs(), "Acme people") {
			t.Errorf("instance two misses the view saved on instance one")
		}
		// Behind the store's back: no version moves, so the cached choice
		// stays (the cache is used) until a write of the team.
		if _, err := one.store.DB.NewRaw("UPDATE list_columns SET columns = 'phone' WHERE list = 'contacts'").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if h := headers(); h != "Name|Email|Actions" {
			t.Errorf("the cached choice was not used: %q", h)
		}
		one.addContact(owner, "Bea Baker", "bea@example.com")
		if h := headers(); h != "Name|Phone|Actions" {
			t.Errorf("after a write of the team: %q", h)
		}
	})
}
