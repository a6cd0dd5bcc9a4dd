package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// TestBoardCacheFollowsEveryChange: a board is kept drawn per data version,
// so a change made through another instance, a settings change and the
// viewer's role all show on the next first load.
func TestBoardCacheFollowsEveryChange(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		teamID := a.user(ownerEmail).TeamID
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		a.addDeal(owner, contactID, "name", "First deal", "amount", "100")

		// A second instance over the same database, with the same session.
		b := newApp(t, a.store, nil, testConfig())
		there := b.client()
		there.cookies, there.headers = maps.Clone(owner.cookies), maps.Clone(owner.headers)
		column := func(c *client, field string) string {
			t.Helper()
			page := c.get("/deals/board")
			expectStatus(t, page, http.StatusOK)
			return strings.TrimSpace(page.doc(t).Find("[data-testid=col-created] [data-testid=" + field + "]").Text())
		}
		if got := column(there, "col-count"); got != "1" {
			t.Fatalf("count %q", got)
		}
		if got := column(there, "col-count"); got != "1" {
			t.Fatalf("count again %q", got)
		}
		a.addDeal(owner, contactID, "name", "Second deal", "amount", "100")
		if got := column(there, "col-count"); got != "2" {
			t.Errorf("the other instance's board after a new deal: count %q", got)
		}
		frag := there.get("/deals/board", "HX-Request", "true")
		if !strings.Contains(frag.body, "Second deal") || strings.Contains(frag.body, "<html") {
			t.Errorf("fragment: %.300s", frag.body)
		}

		before, err := a.store.TeamVersion(ctx, teamID)
		if err != nil {
			t.Fatal(err)
		}
		if got := column(there, "col-weighted"); !strings.Contains(got, "20.00") {
			t.Errorf("weighted at the default 10 %%: %q", got)
		}
		settings := form("lost_reasons", "Too expensive\nBad timing", "win_created", "50", "stale_created", "7",
			"win_qualified-to-buy", "20", "stale_qualified-to-buy", "14", "win_contract-sent", "40", "stale_contract-sent", "14",
			"win_appointment-scheduled", "60", "stale_appointment-scheduled", "14")
		expectRedirect(t, owner.post("/team/board", settings), "/team#board-settings")
		after, err := a.store.TeamVersion(ctx, teamID)
		if err != nil {
			t.Fatal(err)
		}
		if after.All <= before.All {
			t.Errorf("settings did not count as a change: %d then %d", before.All, after.All)
		}
		if got := column(there, "col-weighted"); !strings.Contains(got, "100.00") {
			t.Errorf("weighted after the win percentage changed: %q", got)
		}
		if page := there.get("/deals/board"); !strings.Contains(page.body, "Bad timing") {
			t.Errorf("the close dialog misses the new lost reason")
		}
	})
}
