package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

// addDeal adds a deal through the form and returns its id.
func (a *testApp) addDeal(c *client, contactID int64, kv ...string) int64 {
	a.t.Helper()
	f := form(append([]string{"contact_id", strconv.FormatInt(contactID, 10)}, kv...)...)
	r := c.post("/deals", f)
	if r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("add deal: %d\n%s", r.StatusCode, r.body)
	}
	list := c.get("/deals?sort=created&dir=desc")
	m := regexp.MustCompile(`id="deal-(\d+)"`).FindStringSubmatch(list.body)
	if m == nil {
		a.t.Fatalf("no deal row")
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func TestDealsFormsStagesAndIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga", "Acme")
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com", "company", "Dina Corp")
		teamID := a.user(ownerEmail).TeamID

		// Validation: the form says what is wrong and keeps what was typed.
		r := owner.post("/deals", form("name", "", "contact_id", "", "goal", "-5", "close_date", "31/12/2026"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		for _, field := range []string{"name", "contact_id", "goal", "close_date"} {
			if r.text(t, "[data-testid=error-"+field+"]") == "" {
				t.Errorf("no %s error:\n%s", field, r.text(t, ".add-form"))
			}
		}
		r = owner.post("/deals", form("name", "Won at once", "contact_id", strconv.FormatInt(contactID, 10), "stage", "Closed Won"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.text(t, "[data-testid=error-amount]"), "amount above zero") || r.text(t, "[data-testid=error-close_date]") != "" {
			t.Errorf("Closed Won without amount and date: %q / %q (a won deal closes today: no close date needed)", r.text(t, "[data-testid=error-amount]"), r.text(t, "[data-testid=error-close_date]"))
		}

		id := a.addDeal(owner, contactID, "name", "Dina rollout", "goal", "1,234.50")
		d, err := a.store.DealByID(context.Background(), teamID, id)
		if err != nil || d.Goal != 123450 || d.Company != "Dina Corp" || d.Stage != store.StageCreated {
			t.Fatalf("created deal %+v (%v)", d, err)
		}
		path := "/deals/" + strconv.FormatInt(id, 10)
		// The edit row offers only allowed stages.
		r = owner.get(path+"/edit", "HX-Request", "true")
		stages := r.doc(t).Find("[data-testid=stage-select] option").Map(func(_ int, s *goquerySelection) string { return s.Text() })
		if strings.Join(stages, ",") != strings.Join(store.NextStages(store.StageCreated), ",") {
			t.Errorf("stage options %v", stages)
		}
		save := func(kv ...string) *response {
			d, _ := a.store.DealByID(context.Background(), teamID, id)
			f := form(append([]string{"version", strconv.Itoa(d.Version), "name", d.Name, "contact_id", strconv.FormatInt(contactID, 10)}, kv...)...)
			return owner.do("PUT", path, f, "HX-Request", "true")
		}
		expectStatus(t, save("stage", "Contract Sent", "goal", "1234.50"), http.StatusOK)
		r = save("stage", "Qualified To Buy", "goal", "1234.50")
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if r.text(t, "[data-testid=error-stage]") == "" {
			t.Errorf("moving back was not refused")
		}
		r = save("stage", "Closed Won", "amount", "€1,100", "close_date", time.Now().Format("2006-01-02"))
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "€1,100.00") || !strings.Contains(r.body, "Closed Won") {
			t.Errorf("closed row: %s", r.body)
		}
		log, _ := a.store.DealStageLog(context.Background(), teamID, id)
		var moves []string
		for _, l := range log {
			moves = append(moves, l.FromStage+">"+l.ToStage)
		}
		if strings.Join(moves, ",") != ">Created,Created>Contract Sent,Contract Sent>Closed Won" {
			t.Errorf("stage log %v", moves)
		}
		// The deal's page shows its stage history.
		page := owner.get(path)
		expectStatus(t, page, http.StatusOK)
		entries := page.doc(t).Find("[data-testid=stage-entry] .badge").Map(func(_ int, s *goquerySelection) string { return s.Text() })
		if strings.Join(entries, ",") != "Created,Contract Sent,Closed Won" {
			t.Errorf("stage history on the deal page: %v", entries)
		}
		// Closed deals are read-only.
		expectStatus(t, owner.get(path+"/edit", "HX-Request", "true"), http.StatusConflict)
		r = save("stage", "Closed Won", "amount", "5", "close_date", time.Now().Format("2006-01-02"))
		expectStatus(t, r, http.StatusUnprocessableEntity)

		// The contact picker offers only the team's contacts.
		stranger, _ := a.owner("Sid", "Rivals")
		a.addContact(stranger, "Dina Doppelganger", "dina2@example.com")
		opts := owner.get("/deals/contact-options?contact_q=dina", "HX-Request", "true")
		if !strings.Contains(opts.body, "Dina Deal") || strings.Contains(opts.body, "Doppelganger") {
			t.Errorf("picker options: %s", opts.body)
		}
		// Another team's deal is a 404 everywhere.
		for _, req := range []struct{ method, path string }{
			{"GET", path}, {"GET", path + "/edit"}, {"GET", path + "/row"}, {"PUT", path}, {"POST", path},
			{"DELETE", path}, {"POST", path + "/delete"},
		} {
			if r := stranger.do(req.method, req.path, form("name", "x", "version", "1")); r.StatusCode != http.StatusNotFound {
				t.Errorf("stranger %s %s: %d", req.method, req.path, r.StatusCode)
			}
		}
		// A deal for another team's contact is refused.
		r = stranger.post("/deals", form("name", "Steal", "contact_id", strconv.FormatInt(contactID, 10)))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		// Delete.
		r = owner.do("DELETE", path, nil, "HX-Request", "true")
		if r.Header.Get("HX-Redirect") != "/deals" {
			t.Errorf("delete: %d %v", r.StatusCode, r.Header)
		}
		expectStatus(t, owner.get(path+"/row", "HX-Request", "true"), http.StatusNotFound)
	})
}
