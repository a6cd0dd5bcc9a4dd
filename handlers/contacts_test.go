package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sherpa/store"
)

// addContact adds a contact through the form and returns its id.
func (a *testApp) addContact(c *client, name, email string, extra ...string) int64 {
	a.t.Helper()
	f := form(append([]string{"name", name, "email", email}, extra...)...)
	r := c.post("/contacts", f)
	if r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("add contact %s: %d\n%s", email, r.StatusCode, r.body)
	}
	list := c.get("/contacts?q=" + url.QueryEscape(email))
	href, ok := list.doc(a.t).Find("[data-testid=contact-row] td a").First().Attr("href")
	if !ok {
		a.t.Fatalf("new contact %s not found by search:\n%s", email, list.body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(href, "/contacts/"), 10, 64)
	return id
}

func TestContactsAddValidateAndDuplicate(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		id := a.addContact(owner, "Ann Archer", "Ann@Example.com", "phone", "+44 (20) 7946-0958", "company", "Archer Ltd")
		r := owner.get("/contacts/" + strconv.FormatInt(id, 10))
		expectStatus(t, r, http.StatusOK)
		facts := r.text(t, "[data-testid=contact-facts]")
		for _, want := range []string{"ann@example.com", "+44 (20) 7946-0958", "Archer Ltd"} {
			if !strings.Contains(facts, want) {
				t.Errorf("contact page lacks %q: %s", want, facts)
			}
		}
		// Duplicate email, any case: refused with a link to the existing contact.
		r = owner.post("/contacts", form("name", "Ann Again", "email", "ANN@example.com"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		href, _ := r.doc(t).Find("[data-testid=duplicate] a").Attr("href")
		if href != "/contacts/"+strconv.FormatInt(id, 10) {
			t.Errorf("duplicate link %q", href)
		}
		if v, _ := r.doc(t).Find("input[name=name]").First().Attr("value"); v != "Ann Again" {
			t.Errorf("form did not keep the name: %q", v)
		}
		cases := map[string][]string{
			"name":    {"name", "", "email", "x@example.com"},
			"email":   {"name", "X", "email", "not an email"},
			"phone":   {"name", "X", "email", "x2@example.com", "phone", "call me maybe"},
			"status":  {"name", "X", "email", "x3@example.com", "status", "Hot"},
			"company": {"name", "X", "email", "x4@example.com", "company", strings.Repeat("c", 101)},
		}
		for field, f := range cases {
			r := owner.post("/contacts", form(f...))
			expectStatus(t, r, http.StatusUnprocessableEntity)
			if r.text(t, "[data-testid=error-"+field+"]") == "" {
				t.Errorf("no %s error", field)
			}
		}
		page, err := a.store.ListContacts(context.Background(), a.user(a.userEmailOf(owner)).TeamID, store.ContactQuery{})
		if err != nil || len(page.Rows) != 1 {
			t.Errorf("contacts after refusals: %d (%v)", len(page.Rows), err)
		}
	})
}

func TestContactsListStateLivesInTheURL(t *testing.T) {
	a := newSQLiteApp(t)
	owner, _ := a.owner("Olga", "Acme")
	for _, n := range []string{"Cleo", "Abe", "Bea"} {
		a.addContact(owner, n, strings.ToLower(n)+"@example.com")
	}
	r := owner.get("/contacts?sort=name&dir=desc")
	names := r.doc(t).Find("[data-testid=contact-row] td:first-child").Map(func(_ int, s *goquerySelection) string { return s.Text() })
	if strings.Join(names, ",") != "Cleo,Bea,Abe" {
		t.Errorf("name desc: %v", names)
	}
	// The header links toggle the direction and keep the search.
	r = owner.get("/contacts?q=e&sort=name&dir=asc")
	href, _ := r.doc(t).Find("[data-testid=sort-name]").Attr("href")
	if href != "/contacts?dir=desc&q=e&sort=name" {
		t.Errorf("sort link %q", href)
	}
	if r.text(t, "th[aria-sort=ascending]") == "" {
		t.Errorf("no arrow on the sorted column")
	}
	// htmx gets the table alone; a full load gets the page.
	frag := owner.get("/contacts?sort=email", "HX-Request", "true")
	if strings.Contains(frag.body, "<html") || !strings.Contains(frag.body, `id="contacts-table"`) {
		t.Errorf("htmx response is not the table fragment")
	}
	hist := owner.get("/contacts?sort=email", "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(hist.body, "<html") {
		t.Errorf("history restore must get the whole page")
	}
	// Junk in the URL is ignored, never a 500.
	for _, q := range []string{"?sort=drop%20table", "?dir=sideways", "?view=everything", "?cursor=%%%", "?cursor=" + strings.Repeat("A", 600), "?q=%27%22%3C%3E%25_%5C"} {
		expectStatus(t, owner.get("/contacts"+q), http.StatusOK)
	}
}

func TestContactInlineEditAndConflict(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		id := a.addContact(owner, "Ed Edit", "ed@example.com")
		path := "/contacts/" + strconv.FormatInt(id, 10)
		r := owner.get(path+"/edit", "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		version, _ := r.doc(t).Find("input[name=version]").Attr("value")
		if version == "" || r.doc(t).Find("[data-testid=contact-edit-row] input[name=name]").Length() != 1 {
			t.Fatalf("edit row: %s", r.body)
		}
		// Validation errors come back inline, nothing saved.
		r = owner.do("PUT", path, form("version", version, "name", "", "email", "ed@example.com"), "HX-Request", "true")
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if r.text(t, "[data-testid=error-name]") != "Name is required." {
			t.Errorf("inline error: %q", r.body)
		}
		// Save returns the row.
		r = owner.do("PUT", path, form("version", version, "name", "Ed Edited", "email", "ed@example.com", "status", "Connected"), "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "Ed Edited") || !strings.Contains(r.body, "Connected") || strings.Contains(r.body, "contact-edit-row") {
			t.Errorf("saved row: %s", r.body)
		}
		// A second save from the same (now stale) version is refused with the fresh values.
		r = owner.do("PUT", path, form("version", version, "name", "Lost Update", "email", "ed@example.com"), "HX-Request", "true")
		expectStatus(t, r, http.StatusConflict)
		if v, _ := r.doc(t).Find("input[name=name]").Attr("value"); v != "Ed Edited" {
			t.Errorf("conflict shows %q, want the fresh value", v)
		}
		if r.text(t, "[data-testid=conflict]") == "" {
			t.Errorf("no conflict message")
		}
		c, _ := a.store.ContactByID(context.Background(), a.user(a.userEmailOf(owner)).TeamID, id)
		if c.Name != "Ed Edited" {
			t.Errorf("lost update: %q", c.Name)
		}
		// Cancel restores the row.
		if r := owner.get(path+"/row", "HX-Request", "true"); !strings.Contains(r.body, "Ed Edited") {
			t.Errorf("cancel row: %s", r.body)
		}
	})
}

func TestOnlyManagersAssignContacts(t *testing.T) {
	a := newSQLiteApp(t)
	owner, _ := a.owner("Olga", "Acme")
	member, memberEmail := a.member(owner, "Mia")
	memberID := a.user(memberEmail).ID
	id := a.addContact(owner, "Cal", "cal@example.com", "owner_id", strconv.FormatInt(memberID, 10))
	teamID := a.user(memberEmail).TeamID
	c, _ := a.store.ContactByID(context.Background(), teamID, id)
	if c.OwnerID != memberID {
		t.Fatalf("owner assigned %d, want %d", c.OwnerID, memberID)
	}
	// The member sees no owner select and cannot change the owner.
	r := member.get("/contacts/"+strconv.FormatInt(id, 10)+"/edit", "HX-Request", "true")
	if r.doc(t).Find("select[name=owner_id]").Length() != 0 {
		t.Errorf("member sees the owner select")
	}
	r = member.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), form("version", strconv.Itoa(c.Version), "name", "Cal", "email", "cal@example.com", "owner_id", ""), "HX-Request", "true")
	expectStatus(t, r, http.StatusOK)
	c, _ = a.store.ContactByID(context.Background(), teamID, id)
	if c.OwnerID != memberID {
		t.Errorf("member unassigned the contact")
	}
	// Owner assigning to a non-member is a field error.
	_, outsider := a.owner("Out", "Other")
	r = owner.do("PUT", "/contacts/"+strconv.FormatInt(id, 10), form("version", strconv.Itoa(c.Version), "name", "Cal", "email", "cal@example.com", "owner_id", strconv.FormatInt(a.user(outsider).ID, 10)), "HX-Request", "true")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.text(t, "[data-testid=error-owner_id]") == "" {
		t.Errorf("no owner error")
	}
	// When the member leaves, their contact becomes unassigned.
	expectRedirect(t, member.post("/team/leave", form("confirm", "yes")), "/")
	c, _ = a.store.ContactByID(context.Background(), teamID, id)
	if c.OwnerID != 0 {
		t.Errorf("contact still owned by a member who left")
	}
	if r := owner.get("/contacts?view=unassigned"); !strings.Contains(r.text(t, "[data-testid=contacts]"), "Cal") {
		t.Errorf("unassigned view lacks the contact")
	}
}

func TestContactNotesDeleteAndTenantIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		member, _ := a.member(owner, "Mia")
		id := a.addContact(owner, "Nora Note", "nora@example.com")
		path := "/contacts/" + strconv.FormatInt(id, 10)

		r := owner.post(path+"/notes", form("body", "Called; wants a demo <b>next</b> week"), "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "wants a demo &lt;b&gt;next&lt;/b&gt; week") {
			t.Errorf("note not shown escaped: %s", r.body)
		}
		expectStatus(t, owner.post(path+"/notes", form("body", "   "), "HX-Request", "true"), http.StatusUnprocessableEntity)
		acts := owner.get(path + "/activity")
		if n := acts.doc(t).Find("[data-testid=activity]").Length(); n != 1 {
			t.Errorf("%d activities after one note", n)
		}
		noteHref := regexp.MustCompile(`/contacts/\d+/notes/(\d+)`).FindStringSubmatch(r.body)
		if noteHref == nil {
			t.Fatalf("no remove link")
		}
		// A member may not remove the owner's note.
		expectStatus(t, member.do("DELETE", noteHref[0], nil, "HX-Request", "true"), http.StatusForbidden)

		// Another team sees 404 for everything about this contact.
		stranger, _ := a.owner("Sid", "Rivals")
		for _, req := range []struct{ method, path string }{
			{"GET", path}, {"GET", path + "/edit"}, {"GET", path + "/row"}, {"GET", path + "/activity"},
			{"GET", path + "/notes"}, {"GET", path + "/emails"}, {"GET", path + "/delete"},
			{"PUT", path}, {"POST", path}, {"DELETE", path}, {"POST", path + "/delete"},
			{"POST", path + "/notes"}, {"DELETE", noteHref[0]},
		} {
			r := stranger.do(req.method, req.path, form("name", "Hijack", "email", "h@example.com", "version", "1", "body", "x"))
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("stranger %s %s: %d", req.method, req.path, r.StatusCode)
			}
		}
		if r := owner.get(path + "/notes"); r.doc(t).Find("[data-testid=note]").Length() != 1 {
			t.Errorf("the stranger changed the notes")
		}
		// The owner removes the note, then deletes the contact after confirming.
		expectStatus(t, owner.do("DELETE", noteHref[0], nil, "HX-Request", "true"), http.StatusOK)
		conf := owner.get(path + "/delete")
		if !strings.Contains(conf.text(t, "[data-testid=delete-confirm]"), "activity log") {
			t.Errorf("confirmation does not say what goes: %s", conf.text(t, "[data-testid=delete-confirm]"))
		}
		expectRedirect(t, owner.post(path+"/delete", nil), "/contacts")
		expectStatus(t, owner.get(path), http.StatusNotFound)
		expectStatus(t, owner.get("/contacts/abc"), http.StatusNotFound)
		expectStatus(t, owner.get("/contacts/99999999999999999999"), http.StatusNotFound)
	})
}
