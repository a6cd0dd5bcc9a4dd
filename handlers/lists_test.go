package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"sherpa/store"
)

// TestContactFiltersLiveInTheURL filters the table through the URL: the
// rows are the matching ones, the form shows the filter, every link keeps
// it, and values that make no sense are named and ignored (never a 500).
func TestContactFiltersLiveInTheURL(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga Owner", "Filters")
		for _, c := range []struct{ name, email, company, status string }{
			{"Ann Acme", "ann@acme.test", "Acme", "Open"}, {"Bob Acme", "bob@acme.test", "Acme", "New"},
			{"Cid Beta", "cid@beta.test", "Beta", "Open"},
		} {
			expectStatus(t, owner.post("/contacts", form("name", c.name, "email", c.email, "company", c.company, "status", c.status)), http.StatusSeeOther)
		}
		r := owner.get("/contacts?status=Open&company=acme")
		expectStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		rows := doc.Find(`[data-testid=contact-row]`)
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "Ann Acme") {
			t.Fatalf("rows %q, want Ann Acme alone", rows.Text())
		}
		if got := doc.Find(`[data-testid=filter-count]`).Text(); got != "2" {
			t.Errorf("filter count %q, want 2", got)
		}
		href, _ := doc.Find(`[data-testid=sort-email]`).Attr("href")
		if u, _ := url.Parse(href); u.Query().Get("company") != "acme" || u.Query().Get("status") != "Open" {
			t.Errorf("sort link %q drops the filter", href)
		}
		r = owner.get("/contacts?created_from=yesterday&status=Nope&owner=x")
		expectStatus(t, r, http.StatusOK)
		doc = r.doc(t)
		if doc.Find(`[data-testid=contact-row]`).Length() != 3 {
			t.Errorf("bad filter values must be ignored, got %d rows", doc.Find(`[data-testid=contact-row]`).Length())
		}
		for _, f := range []string{"created_from", "status", "owner"} {
			if doc.Find(`[data-testid=filter-problem-`+f+`]`).Length() != 1 {
				t.Errorf("no message for the bad %s", f)
			}
		}
	})
}

// TestBackBurnerTabAndCount: an owned contact nobody contacted shows on the
// back burner and in the dashboard's count; a note takes it off.
func TestBackBurnerTabAndCount(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, email := a.owner("Olga Owner", "Burner")
		me := a.user(email)
		expectStatus(t, owner.post("/contacts", form("name", "Old Friend", "email", "old@friend.test", "owner_id", idString(me.ID))), http.StatusSeeOther)
		expectStatus(t, owner.post("/contacts", form("name", "Nobody's", "email", "nobody@friend.test", "owner_id", "")), http.StatusSeeOther)
		rows := owner.get("/contacts?view=back_burner").doc(t).Find(`[data-testid=contact-row]`)
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "Old Friend") {
			t.Fatalf("back burner rows %q, want Old Friend alone (owned, never contacted)", rows.Text())
		}
		if got := owner.get("/").text(t, `[data-testid=back-burner-count]`); !strings.HasPrefix(got, "1 contact on the back burner") {
			t.Errorf("dashboard count %q", got)
		}
		page, err := a.store.ListContacts(context.Background(), me.TeamID, store.ContactQuery{Search: "old friend"})
		if err != nil || len(page.Rows) != 1 {
			t.Fatalf("find contact: %v", err)
		}
		expectStatus(t, owner.post("/contacts/"+idString(page.Rows[0].ID)+"/notes", form("body", "Called, all good")), http.StatusSeeOther)
		if n := owner.get("/contacts?view=back_burner").doc(t).Find(`[data-testid=contact-row]`).Length(); n != 0 {
			t.Errorf("%d rows on the back burner after a note", n)
		}
		row := owner.get("/contacts").doc(t).Find(`[data-testid=contact-row]:contains("Old Friend") [data-testid=last-contacted]`)
		if !strings.Contains(row.Text(), "Olga Owner") {
			t.Errorf("last contacted cell %q does not name who", row.Text())
		}
		// The setting is the owner's and admins'.
		expectStatus(t, owner.post("/team/back-burner", form("days", "0")), http.StatusSeeOther)
		if d, _ := a.store.BackBurnerDays(context.Background(), me.TeamID); d != store.DefaultBackBurnerDays {
			t.Errorf("0 days was saved: %d", d)
		}
		expectStatus(t, owner.post("/team/back-burner", form("days", "7")), http.StatusSeeOther)
		if d, _ := a.store.BackBurnerDays(context.Background(), me.TeamID); d != 7 {
			t.Errorf("days %d, want 7", d)
		}
		member, _ := a.member(owner, "Mia Member")
		if r := member.post("/team/back-burner", form("days", "9")); r.StatusCode == http.StatusSeeOther || r.StatusCode == http.StatusOK {
			if d, _ := a.store.BackBurnerDays(context.Background(), me.TeamID); d != 7 {
				t.Errorf("a member changed the setting to %d", d)
			}
		}
	})
}

// TestSavedViewsRules: a member's views are private to them; sharing takes
// an owner or admin; a shared view shows as a teammate's tab and opens with
// its filter; others' private views are 404.
func TestSavedViewsRules(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga Owner", "Views")
		member, _ := a.member(owner, "Mia Member")
		expectStatus(t, owner.post("/contacts", form("name", "Ann Acme", "email", "ann@acme.test", "company", "Acme")), http.StatusSeeOther)
		expectStatus(t, owner.post("/contacts", form("name", "Cid Beta", "email", "cid@beta.test", "company", "Beta")), http.StatusSeeOther)

		// A member cannot share.
		r := member.post("/views", form("list", "contacts", "name", "Mine only", "query", "company=Beta", "shared", "on"))
		expectStatus(t, r, http.StatusSeeOther)
		if vs := savedViews(t, a, "Mia Member"); len(vs) != 0 {
			t.Fatalf("a member shared a view: %+v", vs)
		}
		r = member.post("/views", form("list", "contacts", "name", "Mine only", "query", "company=Beta"))
		expectRedirectPrefix(t, r, "/contacts?company=Beta&saved=")
		private := savedViews(t, a, "Mia Member")[0]

		r = owner.post("/views", form("list", "contacts", "name", "Acme people", "query", "company=Acme&sort=name&dir=desc&cursor=xyz", "shared", "on"))
		expectStatus(t, r, http.StatusSeeOther)
		shared := savedViews(t, a, "Olga Owner")[0]
		if !shared.Shared || strings.Contains(shared.Query, "cursor") {
			t.Fatalf("saved %+v", shared)
		}
		// The teammate sees the shared tab (and their own), the owner not
		// the member's private one.
		doc := member.get("/contacts").doc(t)
		if doc.Find(`[data-testid=saved-`+idString(shared.ID)+`]`).Length() != 1 || doc.Find(`[data-testid=saved-`+idString(private.ID)+`]`).Length() != 1 {
			t.Errorf("member's tabs: %q", doc.Find(`[data-testid=saved-tabs]`).Text())
		}
		if owner.get("/contacts").doc(t).Find(`[data-testid=saved-`+idString(private.ID)+`]`).Length() != 0 {
			t.Error("the owner sees a member's private view")
		}
		href, _ := doc.Find(`[data-testid=saved-` + idString(shared.ID) + `]`).Attr("href")
		rows := member.get(href).doc(t).Find(`[data-testid=contact-row]`)
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "Ann Acme") {
			t.Errorf("shared view rows %q", rows.Text())
		}
		// The member may not rename, delete or unshare the shared view, nor
		// touch another's private one.
		expectStatus(t, member.post("/views/"+idString(shared.ID)+"/rename", form("name", "Hijacked")), http.StatusSeeOther)
		expectStatus(t, member.post("/views/"+idString(shared.ID)+"/delete", nil), http.StatusSeeOther)
		if v := savedViews(t, a, "Olga Owner"); len(v) != 1 || v[0].Name != "Acme people" {
			t.Errorf("member changed the shared view: %+v", v)
		}
		expectStatus(t, owner.post("/views/"+idString(private.ID)+"/delete", nil), http.StatusNotFound)
		// Renaming, moving and deleting one's own views.
		expectStatus(t, member.post("/views/"+idString(private.ID)+"/rename", form("name", "Beta folks")), http.StatusSeeOther)
		expectStatus(t, member.post("/views/"+idString(private.ID)+"/move", form("dir", "left")), http.StatusSeeOther)
		doc = member.get("/contacts").doc(t)
		tabs := doc.Find(`[data-testid=saved-tabs] a`)
		if tabs.Length() != 2 || !strings.Contains(tabs.First().Text(), "Beta folks") {
			t.Errorf("tabs after rename and move: %q", tabs.Text())
		}
		expectStatus(t, member.post("/views/"+idString(private.ID)+"/delete", nil), http.StatusSeeOther)
		if len(savedViews(t, a, "Mia Member")) != 0 {
			t.Error("view not deleted")
		}
		expectStatus(t, member.post("/views/999999/rename", form("name", "x")), http.StatusNotFound)
	})
}

// savedViews lists the views created by the named user.
func savedViews(t *testing.T, a *testApp, creator string) []store.SavedView {
	t.Helper()
	var out []store.SavedView
	if err := a.store.DB.NewSelect().Model(&out).Join("JOIN users AS u ON u.id = sv.user_id").Where("u.name = ?", creator).
		OrderExpr("sv.id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

func expectRedirectPrefix(t *testing.T, r *response, prefix string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), prefix) {
		t.Fatalf("status %d to %q, want a redirect to %s…", r.StatusCode, r.Header.Get("Location"), prefix)
	}
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
