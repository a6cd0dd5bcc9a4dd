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

// oddText are the values no text field may keep: a NUL byte (a 500 on
// SQLite once), other control characters, and bytes that are not UTF-8.
var oddText = map[string]string{
	"NUL":           "a\x00b",
	"escape":        "a\x1bb",
	"DEL":           "a\x7fb",
	"C1 control":    "a\u009bb",
	"invalid UTF-8": "a\xffb",
}

func wantsTextRefusal(t *testing.T, r *response, what string) {
	t.Helper()
	expectStatus(t, r, http.StatusUnprocessableEntity)
	text := r.doc(t).Text()
	if !strings.Contains(text, "can't contain control characters") && !strings.Contains(text, "not valid text (UTF-8)") {
		t.Errorf("%s: no message about the characters:\n%s", what, text)
	}
}

func TestControlCharactersAreRefusedOnEveryForm(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		teamID := a.user(ownerEmail).TeamID
		contactID := a.addContact(owner, "Ann Archer", "ann@example.com")
		cid := strconv.FormatInt(contactID, 10)
		dealID := a.addDeal(owner, contactID, "name", "Rollout")
		did := strconv.FormatInt(dealID, 10)
		loner, lonerEmail := a.signup("Lou")

		for kind, bad := range oddText {
			cases := []struct {
				what string
				c    *client
				path string
				form []string
			}{
				{"signup name", a.client(), "/signup", []string{"name", bad, "email", uniqueEmail("x"), "password", testPassword}},
				{"signup email", a.client(), "/signup", []string{"name", "X", "email", bad + "@example.com", "password", testPassword}},
				{"login email", a.client(), "/login", []string{"email", bad + "@example.com", "password", testPassword}},
				{"profile name", owner, "/profile", []string{"name", bad}},
				{"team name", loner, "/team", []string{"name", bad}},
				{"invite email", owner, "/team/invites", []string{"email", bad + "@example.com"}},
				{"contact name", owner, "/contacts", []string{"name", bad, "email", "new@example.com"}},
				{"contact email", owner, "/contacts", []string{"name", "New", "email", bad + "@example.com"}},
				{"contact phone", owner, "/contacts", []string{"name", "New", "email", "new@example.com", "phone", "123 " + bad}},
				{"contact company", owner, "/contacts", []string{"name", "New", "email", "new@example.com", "company", bad}},
				{"contact edit", owner, "/contacts/" + cid, []string{"name", bad, "email", "ann@example.com", "version", "1"}},
				{"deal name", owner, "/deals", []string{"name", bad, "contact_id", cid}},
				{"deal company", owner, "/deals", []string{"name", "New", "contact_id", cid, "company", bad}},
				{"deal edit", owner, "/deals/" + did, []string{"name", bad, "contact_id", cid, "version", "1"}},
				{"note", owner, "/contacts/" + cid + "/notes", []string{"body", "line one\n" + bad}},
			}
			for _, tc := range cases {
				r := tc.c.post(tc.path, form(tc.form...))
				if r.StatusCode != http.StatusUnprocessableEntity {
					t.Logf("%s in %s: %d", kind, tc.what, r.StatusCode)
				}
				wantsTextRefusal(t, r, kind+" in "+tc.what)
			}
		}

		// Nothing changed.
		if u := a.user(ownerEmail); u.Name != "Olga" {
			t.Errorf("owner renamed to %q", u.Name)
		}
		if u := a.user(lonerEmail); u.TeamID != 0 {
			t.Errorf("a team was created: %d", u.TeamID)
		}
		if page, err := a.store.ListContacts(ctx, teamID, store.ContactQuery{}); err != nil || len(page.Rows) != 1 {
			t.Errorf("contacts: %d (%v)", len(page.Rows), err)
		}
		if c, err := a.store.ContactByID(ctx, teamID, contactID); err != nil || c.Name != "Ann Archer" || c.Version != 1 {
			t.Errorf("contact %+v (%v)", c, err)
		}
		if d, err := a.store.DealByID(ctx, teamID, dealID); err != nil || d.Name != "Rollout" || d.Version != 1 {
			t.Errorf("deal %+v (%v)", d, err)
		}
		if page, err := a.store.ListDeals(ctx, teamID, store.DealQuery{}); err != nil || len(page.Rows) != 1 {
			t.Errorf("deals: %d (%v)", len(page.Rows), err)
		}
		if notes, err := a.store.ListNotes(ctx, teamID, contactID); err != nil || len(notes) != 0 {
			t.Errorf("notes: %d (%v)", len(notes), err)
		}
		if inv, err := a.store.PendingInvitations(ctx, teamID); err != nil || len(inv) != 0 {
			t.Errorf("invitations: %d (%v)", len(inv), err)
		}

		// Tabs and newlines stay allowed in a note's body.
		r := owner.post("/contacts/"+cid+"/notes", form("body", "one\ttwo\r\nthree"))
		expectStatus(t, r, http.StatusSeeOther)
		// Search boxes drop the odd bytes instead of refusing.
		for kind, bad := range oddText {
			for _, path := range []string{"/contacts?q=", "/deals?q=", "/deals/contact-options?contact_q="} {
				r := owner.get(path + url.QueryEscape("Ann"+strings.Trim(bad, "ab")))
				expectStatus(t, r, http.StatusOK)
				if path == "/contacts?q=" && !strings.Contains(r.body, "Ann Archer") {
					t.Errorf("%s: search for Ann with %s lost the contact", path, kind)
				}
			}
		}
	})
}

func TestOnlyCanonicalIDsResolve(t *testing.T) {
	a := newSQLiteApp(t)
	owner, _ := a.owner("Olga", "Acme")
	contactID := a.addContact(owner, "Ann Archer", "ann@example.com")
	dealID := a.addDeal(owner, contactID, "name", "Rollout")
	cid, did := strconv.FormatInt(contactID, 10), strconv.FormatInt(dealID, 10)
	for _, path := range []string{"/contacts/" + cid, "/deals/" + did, "/contacts/" + cid + "/notes"} {
		expectStatus(t, owner.get(path), http.StatusOK)
	}
	for _, path := range []string{
		"/contacts/+" + cid, "/contacts/0" + cid, "/contacts/" + cid + ".0", "/contacts/%2B" + cid, "/contacts/-0",
		"/deals/+" + did, "/deals/00" + did, "/contacts/0" + cid + "/notes", "/contacts/+" + cid + "/edit",
	} {
		expectStatus(t, owner.get(path), http.StatusNotFound)
	}
	r := owner.post("/contacts/"+cid+"/notes", form("body", "hello"))
	expectStatus(t, r, http.StatusSeeOther)
	notes, _ := a.store.ListNotes(context.Background(), a.user(a.userEmailOf(owner)).TeamID, contactID)
	if len(notes) != 1 {
		t.Fatalf("notes: %d", len(notes))
	}
	nid := strconv.FormatInt(notes[0].ID, 10)
	expectStatus(t, owner.post("/contacts/"+cid+"/notes/0"+nid+"/delete", nil), http.StatusNotFound)
	expectStatus(t, owner.post("/contacts/"+cid+"/notes/+"+nid+"/delete", nil), http.StatusNotFound)
	expectStatus(t, owner.post("/contacts/"+cid+"/notes/"+nid+"/delete", nil), http.StatusSeeOther)
}

func TestAnotherTeamsContactIsNotFoundBeforeValidation(t *testing.T) {
	a := newSQLiteApp(t)
	owner, ownerEmail := a.owner("Olga", "Acme")
	contactID := a.addContact(owner, "Ann Archer", "ann@example.com")
	other, _ := a.owner("Eve", "Evil Corp")
	path := "/contacts/" + strconv.FormatInt(contactID, 10)
	// An invalid form (no name, no version) for another team's contact: 404,
	// the same answer as for a valid one.
	expectStatus(t, other.post(path, form("name", "")), http.StatusNotFound)
	expectStatus(t, other.post(path, form("name", "Eve's", "email", "ann@example.com", "version", "1")), http.StatusNotFound)
	c, err := a.store.ContactByID(context.Background(), a.user(ownerEmail).TeamID, contactID)
	if err != nil || c.Name != "Ann Archer" {
		t.Errorf("contact %+v (%v)", c, err)
	}
	// The owner still gets the messages.
	expectStatus(t, owner.post(path, form("name", "", "email", "ann@example.com", "version", "1")), http.StatusUnprocessableEntity)
}

func TestSearchLinksKeepPlusAndAmpersand(t *testing.T) {
	a := newSQLiteApp(t)
	owner, _ := a.owner("Olga", "Acme")
	contactID := a.addContact(owner, "Ann Archer", "ann+sales@example.com")
	a.addContact(owner, "Ann Other", "ann@example.com")
	dealID := a.addDeal(owner, contactID, "name", "R&D + QA")
	a.addDeal(owner, contactID, "name", "R")

	page := owner.get("/contacts/" + strconv.FormatInt(contactID, 10))
	href, ok := page.doc(t).Find(`a:contains("Show in the table")`).Attr("href")
	if !ok || href != "/contacts?q="+url.QueryEscape("ann+sales@example.com") {
		t.Fatalf("contact table link %q", href)
	}
	list := owner.get(href)
	if rows := list.doc(t).Find("[data-testid=contact-row]"); rows.Length() != 1 || !strings.Contains(rows.Text(), "ann+sales@example.com") {
		t.Errorf("the link finds %d rows: %s", rows.Length(), rows.Text())
	}

	page = owner.get("/deals/" + strconv.FormatInt(dealID, 10))
	href, ok = page.doc(t).Find(`a:contains("Show in the table")`).Attr("href")
	if !ok || href != "/deals?q="+url.QueryEscape("R&D + QA") {
		t.Fatalf("deal table link %q", href)
	}
	list = owner.get(href)
	if !strings.Contains(list.body, `id="deal-`+strconv.FormatInt(dealID, 10)+`"`) {
		t.Errorf("the link does not find the deal")
	}
	if v, _ := list.doc(t).Find("[data-testid=search]").Attr("value"); v != "R&D + QA" {
		t.Errorf("search box shows %q", v)
	}
}

func TestJPYTeamAmountsRoundTrip(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		teamID := a.user(ownerEmail).TeamID
		r := owner.post("/team/settings", form("time_zone", "Asia/Tokyo", "currency", "JPY"))
		expectStatus(t, r, http.StatusSeeOther)
		contactID := a.addContact(owner, "Kenji", "kenji@example.com")

		id := a.addDeal(owner, contactID, "name", "Tokyo office", "goal", "¥1,500,000", "amount", "1,234")
		d, err := a.store.DealByID(ctx, teamID, id)
		if err != nil || d.Goal != 1500000 || d.Amount != 1234 {
			t.Fatalf("stored %+v (%v), want goal 1500000 and amount 1234 yen", d, err)
		}
		row := owner.get("/deals/"+strconv.FormatInt(id, 10)+"/row", "HX-Request", "true")
		if !strings.Contains(row.body, "¥1,234<") || !strings.Contains(row.body, "¥1,500,000<") {
			t.Errorf("row does not show whole yen:\n%s", row.body)
		}
		edit := owner.get("/deals/"+strconv.FormatInt(id, 10)+"/edit", "HX-Request", "true")
		amount, _ := edit.doc(t).Find("input[name=amount]").Attr("value")
		goal, _ := edit.doc(t).Find("input[name=goal]").Attr("value")
		if amount != "1,234" || goal != "1,500,000" {
			t.Fatalf("edit form shows goal %q and amount %q", goal, amount)
		}
		// Saving the form as shown keeps the amounts.
		r = owner.post("/deals/"+strconv.FormatInt(id, 10), form("name", "Tokyo office", "contact_id", strconv.FormatInt(contactID, 10),
			"goal", goal, "amount", amount, "version", strconv.Itoa(d.Version)), "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		if d, _ := a.store.DealByID(ctx, teamID, id); d.Goal != 1500000 || d.Amount != 1234 {
			t.Errorf("after saving the form as shown: goal %d, amount %d", d.Goal, d.Amount)
		}
		// Yen have no decimals.
		r = owner.post("/deals", form("name", "Cents", "contact_id", strconv.FormatInt(contactID, 10), "amount", "12.50"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if msg := r.text(t, "[data-testid=error-amount]"); !strings.Contains(msg, "no decimals in JPY") {
			t.Errorf("amount message %q", msg)
		}
	})
}
