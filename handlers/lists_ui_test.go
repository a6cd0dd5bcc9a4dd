package handlers_test

import (
	"net/http"

	"github.com/PuerkitoBio/goquery"
	"strconv"
	"strings"
	"testing"
)

var htmx = []string{"HX-Request", "true"}

// headers of the table as the user sees it (the column labels).
func tableHeaders(t *testing.T, r *response, table string) []string {
	t.Helper()
	var out []string
	r.doc(t).Find("[data-testid=" + table + "] thead th").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(s.Text()), " "))
	})
	return out
}

func TestColumnChooserIsRememberedPerUser(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		member, _ := a.member(owner, "Mia")
		a.addContact(owner, "Ann Archer", "ann@example.com", "phone", "+1 555 0100")

		// Defaults: phone shown, Created only on wide screens.
		r := owner.get("/contacts")
		if h := strings.Join(tableHeaders(t, r, "contacts"), "|"); !strings.Contains(h, "Phone") || !strings.Contains(h, "Created") {
			t.Fatalf("default headers %q", h)
		}
		if r.doc(t).Find(`thead th.col-wide:contains("Created")`).Length() != 1 {
			t.Errorf("Created is not marked wide-screen only")
		}
		// Olga keeps email and status only; an unknown key is dropped, the
		// name cannot be switched off.
		saved := owner.post("/contacts/columns?sort=name&dir=desc", form("col", "email", "col", "status", "col", "bogus", "col", "name"), htmx...)
		expectStatus(t, saved, http.StatusOK)
		if h := strings.Join(tableHeaders(t, saved, "contacts"), "|"); h != "Name ↓|Email|Status|Actions" {
			t.Errorf("after choosing: %q", h)
		}
		if saved.doc(t).Find("th[aria-sort=descending]").Length() != 1 {
			t.Errorf("the redrawn table lost the sort")
		}
		if h := strings.Join(tableHeaders(t, owner.get("/contacts"), "contacts"), "|"); h != "Name|Email|Status|Actions" {
			t.Errorf("reloaded: %q", h)
		}
		if saved.doc(t).Find("thead th.col-wide").Length() != 0 {
			t.Errorf("a chosen column is wide-screen only")
		}
		// The rows drawn alone (after an edit) have the same columns.
		id := strconv.FormatInt(a.addContact(owner, "Bea Baker", "bea@example.com"), 10)
		row := owner.get("/contacts/"+id+"/row", htmx...)
		if n := row.doc(t).Find("td").Length(); n != 4 {
			t.Errorf("row alone has %d cells, want 4:\n%s", n, row.body)
		}
		edit := owner.get("/contacts/"+id+"/edit", htmx...)
		if span, _ := edit.doc(t).Find("td[colspan]").Attr("colspan"); span != "4" {
			t.Errorf("edit row spans %q, want 4", span)
		}
		// Mia still has the defaults.
		if h := strings.Join(tableHeaders(t, member.get("/contacts"), "contacts"), "|"); !strings.Contains(h, "Phone") {
			t.Errorf("Mia sees Olga's choice: %q", h)
		}
		// Without JavaScript the form posts and comes back to the list.
		expectRedirect(t, owner.post("/contacts/columns?q=ann", form("col", "phone")), "/contacts?q=ann")
		// Default columns again.
		expectStatus(t, owner.post("/contacts/columns", form("reset", "1"), htmx...), http.StatusOK)
		if h := strings.Join(tableHeaders(t, owner.get("/contacts"), "contacts"), "|"); !strings.Contains(h, "Company") {
			t.Errorf("after reset: %q", h)
		}
		// Deals have their own choice.
		expectStatus(t, owner.post("/deals/columns", form("col", "amount"), htmx...), http.StatusOK)
		if h := strings.Join(tableHeaders(t, owner.get("/deals"), "deals"), "|"); h != "Deal|Amount|Actions" {
			t.Errorf("deals after choosing: %q", h)
		}
	})
}

func TestContactPageEdit(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		other, _ := a.owner("Eve", "Other")
		id := strconv.FormatInt(a.addContact(owner, "Ann Archer", "ann@example.com"), 10)
		path := "/contacts/" + id

		page := owner.get(path)
		if page.doc(t).Find("#contact-details [data-edit-button]").Length() != 1 {
			t.Fatalf("no Edit on the contact page")
		}
		form1 := owner.get(path+"/details/edit", htmx...)
		expectStatus(t, form1, http.StatusOK)
		version, _ := form1.doc(t).Find("input[name=version]").Attr("value")
		if form1.doc(t).Find("#contact-details.editing input[name=name]").Length() != 1 {
			t.Fatalf("edit form: %s", form1.body)
		}
		// Every control has a name: each sits in its label.
		for _, sel := range []string{"input[name=name]", "input[name=email]", "select[name=status]", "select[name=owner_id]"} {
			if form1.doc(t).Find("label "+sel).Length() != 1 {
				t.Errorf("%s is not inside its label", sel)
			}
		}

		saved := owner.do("PUT", path+"/details", form("version", version, "name", "Ann Archer-Smith", "email", "ann@example.com", "status", "Connected"), htmx...)
		expectStatus(t, saved, http.StatusOK)
		if got := saved.text(t, "#contact-head h1"); got != "Ann Archer-Smith" {
			t.Errorf("title block after save %q", got)
		}
		if v, _ := saved.doc(t).Find("#contact-head").Attr("hx-swap-oob"); v != "true" {
			t.Errorf("title block is not swapped out of band")
		}
		if !strings.Contains(saved.text(t, "#contact-details"), "Connected") {
			t.Errorf("details after save: %s", saved.body)
		}
		// The old version again: refused, their values shown.
		conflict := owner.do("PUT", path+"/details", form("version", version, "name", "Stale", "email", "ann@example.com"), htmx...)
		expectStatus(t, conflict, http.StatusConflict)
		if v, _ := conflict.doc(t).Find("input[name=name]").Attr("value"); v != "Ann Archer-Smith" || conflict.doc(t).Find("[data-testid=conflict]").Length() != 1 {
			t.Errorf("conflict form shows %q:\n%s", v, conflict.body)
		}
		// Refused input: 422 with the message, in the page's form.
		bad := owner.do("PUT", path+"/details", form("version", strconv.Itoa(mustAtoi(version)+1), "name", "", "email", "ann@example.com"), htmx...)
		expectStatus(t, bad, http.StatusUnprocessableEntity)
		if bad.doc(t).Find("#contact-details [data-testid=error-name]").Length() != 1 {
			t.Errorf("no name message: %s", bad.body)
		}
		// Without JavaScript: ?edit=1 shows the form in the page, the save
		// redirects back to it.
		if owner.get(path+"?edit=1").doc(t).Find("#contact-details.editing form[method=post]").Length() != 1 {
			t.Errorf("?edit=1 has no form")
		}
		expectRedirect(t, owner.post(path+"/details", form("version", strconv.Itoa(mustAtoi(version)+1), "name", "Ann A.", "email", "ann@example.com")), path)
		// Another team: 404 for every one of these.
		expectStatus(t, other.get(path+"/details/edit", htmx...), http.StatusNotFound)
		expectStatus(t, other.get(path+"/details", htmx...), http.StatusNotFound)
		expectStatus(t, other.do("PUT", path+"/details", form("version", "9", "name", "Eve", "email", "e@example.com"), htmx...), http.StatusNotFound)
	})
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestDealPageEdit(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		other, _ := a.owner("Eve", "Other")
		cid := a.addContact(owner, "Ann Archer", "ann@example.com")
		id := strconv.FormatInt(a.addDeal(owner, cid, "name", "Pilot", "goal", "1,000"), 10)
		path := "/deals/" + id

		f := owner.get(path+"/details/edit", htmx...)
		expectStatus(t, f, http.StatusOK)
		version, _ := f.doc(t).Find("input[name=version]").Attr("value")
		for _, sel := range []string{"select[name=stage]", "select[name=contact_id]", "select[name=owner_id]"} {
			sid, _ := f.doc(t).Find(sel).Attr("id")
			inLabel := f.doc(t).Find("label "+sel).Length() == 1
			if !inLabel && (sid == "" || f.doc(t).Find("label[for="+sid+"]").Length() != 1) {
				t.Errorf("%s has no label", sel)
			}
		}
		// Closed Won without an amount is refused as in the table.
		refused := owner.do("PUT", path+"/details", form("version", version, "name", "Pilot", "contact_id", strconv.FormatInt(cid, 10), "stage", "Closed Won"), htmx...)
		expectStatus(t, refused, http.StatusUnprocessableEntity)
		if refused.doc(t).Find("#deal-details [data-testid=error-amount]").Length() != 1 {
			t.Errorf("no amount message:\n%s", refused.body)
		}
		saved := owner.do("PUT", path+"/details", form("version", version, "name", "Pilot", "contact_id", strconv.FormatInt(cid, 10),
			"stage", "Qualified To Buy", "goal", "2,000"), htmx...)
		expectStatus(t, saved, http.StatusOK)
		if !strings.Contains(saved.text(t, "#deal-head"), "Qualified To Buy") || saved.doc(t).Find("#deal-history [data-testid=stage-entry]").Length() != 2 {
			t.Errorf("head and history after save:\n%s", saved.body)
		}
		if !strings.Contains(saved.text(t, "#deal-details"), "2,000") {
			t.Errorf("details after save: %s", saved.text(t, "#deal-details"))
		}
		conflict := owner.do("PUT", path+"/details", form("version", version, "name", "Stale", "contact_id", strconv.FormatInt(cid, 10), "stage", "Qualified To Buy"), htmx...)
		expectStatus(t, conflict, http.StatusConflict)
		expectStatus(t, other.get(path+"/details/edit", htmx...), http.StatusNotFound)
		expectStatus(t, other.do("PUT", path+"/details", form("version", "1", "name", "Eve", "stage", "Qualified To Buy"), htmx...), http.StatusNotFound)

		// A closed deal has no Edit and its form is refused.
		v2, _ := owner.get(path+"/details/edit", htmx...).doc(t).Find("input[name=version]").Attr("value")
		expectStatus(t, owner.do("PUT", path+"/details", form("version", v2, "name", "Pilot", "contact_id", strconv.FormatInt(cid, 10),
			"stage", "Closed Won", "amount", "1,500"), htmx...), http.StatusOK)
		if owner.get(path).doc(t).Find("#deal-details [data-edit-button]").Length() != 0 {
			t.Errorf("a closed deal offers Edit")
		}
		expectStatus(t, owner.get(path+"/details/edit", htmx...), http.StatusConflict)
	})
}

func TestGlobalSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		other, _ := a.owner("Eve", "Other")
		cid := a.addContact(owner, "Zelda Zimmer", "zelda@zimmer.example", "company", "Zimmer GmbH")
		a.addContact(owner, "Bob Brown", "bob@example.com")
		a.addDeal(owner, cid, "name", "Zimmer rollout")
		a.addContact(other, "Zack Zimmer", "zack@other.example")

		r := owner.get("/search?q=zimm", htmx...)
		expectStatus(t, r, http.StatusOK)
		d := r.doc(t)
		if got := strings.TrimSpace(d.Find("[data-testid=gs-contact]").Text()); !strings.Contains(got, "Zelda Zimmer") || d.Find("[data-testid=gs-contact]").Length() != 1 {
			t.Errorf("contacts found %q", got)
		}
		if got := strings.TrimSpace(d.Find("[data-testid=gs-deal]").Text()); !strings.Contains(got, "Zimmer rollout") {
			t.Errorf("deals found %q", got)
		}
		if d.Find("#gs-contacts").Length() != 1 || d.Find("#gs-deals").Length() != 1 {
			t.Errorf("results not grouped: %s", r.body)
		}
		if strings.Contains(r.body, "<html") {
			t.Errorf("htmx got a whole page")
		}
		// The same rules as the table: what the contacts table finds.
		table := owner.get("/contacts?q=zimm")
		if n := table.doc(t).Find("[data-testid=contact-row]").Length(); n != 1 {
			t.Errorf("the table finds %d", n)
		}
		// Every word must match, like the table.
		if owner.get("/search?q=bob+rollout", htmx...).doc(t).Find("[data-result]").Length() != 0 {
			t.Errorf("a search with two words matching different records found something")
		}
		// Nothing typed: nothing listed.
		if strings.TrimSpace(owner.get("/search?q=", htmx...).body) != "" {
			t.Errorf("empty search answered")
		}
		// The full page, and the box in the top bar keeps the words.
		page := owner.get("/search?q=zimm")
		expectStatus(t, page, http.StatusOK)
		if v, _ := page.doc(t).Find("#global-search-q").Attr("value"); v != "zimm" {
			t.Errorf("top bar box holds %q", v)
		}
		if !strings.Contains(page.text(t, "[data-testid=search-contacts]"), "Zelda Zimmer") || !strings.Contains(page.text(t, "[data-testid=search-deals]"), "Zimmer rollout") {
			t.Errorf("search page: %s", page.text(t, "main"))
		}
		// More than five: the dropdown shows five and a link to all.
		for i := 0; i < 6; i++ {
			a.addContact(owner, "Zimmer Twin "+strconv.Itoa(i), "twin"+strconv.Itoa(i)+"@example.com")
		}
		many := owner.get("/search?q=zimmer", htmx...)
		if n := many.doc(t).Find("[data-testid=gs-contact]").Length(); n != 5 || many.doc(t).Find("[data-testid=gs-all]").Length() != 1 {
			t.Errorf("dropdown with 7 matches shows %d and link %d", n, many.doc(t).Find("[data-testid=gs-all]").Length())
		}
		// The five are the first five rows of the table, in its order.
		var shown, first []string
		many.doc(t).Find("[data-testid=gs-contact]").Each(func(_ int, s *goquery.Selection) { shown = append(shown, strings.TrimSpace(s.Text())) })
		owner.get("/contacts?q=zimmer").doc(t).Find("[data-testid=contact-row] td:first-child").Each(func(i int, s *goquery.Selection) {
			if i < 5 {
				first = append(first, strings.TrimSpace(s.Text()))
			}
		})
		if len(first) != 5 || len(shown) != 5 {
			t.Fatalf("dropdown %q, table %q", shown, first)
		}
		for i := range first {
			if !strings.Contains(shown[i], first[i]) {
				t.Errorf("dropdown %q is not the table's first five %q", shown, first)
				break
			}
		}
		// Eve sees only her team's.
		if got := other.get("/search?q=zimmer", htmx...).doc(t).Find("[data-result]").Text(); strings.Contains(got, "Zelda") || !strings.Contains(got, "Zack") {
			t.Errorf("Eve finds %q", got)
		}
		// Odd input is no 500.
		expectStatus(t, owner.get("/search?q="+strings.Repeat("%F0%9F%98%80", 300), htmx...), http.StatusOK)
		// Someone without a team is sent to make one, not shown results.
		loner, _ := a.signup("Lone")
		if r := loner.get("/search?q=zimmer"); r.StatusCode == http.StatusOK && strings.Contains(r.body, "Zelda") {
			t.Errorf("a user without a team searched Olga's team")
		}
	})
}
