package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

	"sherpa/store"
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

// TestBoardPollSeesRenamesAndOwners: an open board's poll (304 while
// nothing changed) answers with the new board after a deal is given
// another owner, renamed, its contact renamed, or its owner renames
// themselves: each moves the team's data version.
func TestBoardPollSeesRenamesAndOwners(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		_, memberEmail := a.member(owner, "Mia")
		teamID := a.user(ownerEmail).TeamID
		me, mia := a.user(ownerEmail), a.user(memberEmail)
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		a.addDeal(owner, contactID, "name", "First deal", "amount", "100")
		page := owner.get("/deals/board", "HX-Request", "true")
		expectStatus(t, page, http.StatusOK)
		etag := page.doc(t).Find("#board").AttrOr("data-etag", "")
		poll := func(what, want string) {
			t.Helper()
			r := owner.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, want) {
				t.Errorf("poll after %s: %d, want 200 with %q", what, r.StatusCode, want)
				return
			}
			etag = r.Header.Get("ETag")
			if again := owner.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("poll again after %s: %d, want 304", what, again.StatusCode)
			}
		}
		if r := owner.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
			t.Fatalf("poll with nothing changed: %d", r.StatusCode)
		}
		var deal store.Deal
		if err := a.store.DB.NewSelect().Model(&deal).Where("team_id = ?", teamID).Limit(1).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.AssignDeal(ctx, teamID, me, deal.ID, mia.ID); err != nil {
			t.Fatal(err)
		}
		poll("assigning the deal", "Mia")
		d, _ := a.store.DealByID(ctx, teamID, deal.ID)
		if _, err := a.store.UpdateDeal(ctx, teamID, me, deal.ID, d.Version, store.DealInput{Name: "Renamed deal", ContactID: contactID, Amount: "100", OwnerID: mia.ID}); err != nil {
			t.Fatal(err)
		}
		poll("renaming the deal", "Renamed deal")
		d, _ = a.store.DealByID(ctx, teamID, deal.ID)
		if _, err := a.store.UpdateDeal(ctx, teamID, me, deal.ID, d.Version, store.DealInput{Name: "Renamed deal", ContactID: contactID, Amount: "100", OwnerID: me.ID}); err != nil {
			t.Fatal(err)
		}
		poll("changing the owner in the form", "Olga")
		if err := a.store.UpdateUserName(ctx, me.ID, "Olga Renamed"); err != nil {
			t.Fatal(err)
		}
		poll("the owner renaming themselves", "Olga Renamed")
		c, err := a.store.ContactByID(ctx, teamID, contactID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.UpdateContact(ctx, teamID, me, contactID, c.Version, store.ContactInput{Name: "Dina Newname", Email: c.Email}); err != nil {
			t.Fatal(err)
		}
		poll("renaming the contact", "Dina Newname")
	})
}
