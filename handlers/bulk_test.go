package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

// waitBulk waits until the job's page says it finished (the worker runs in
// the app); it fails after a minute.
func waitBulk(t *testing.T, c *client, path string) *response {
	t.Helper()
	for range 600 {
		r := c.get(path)
		st, _ := r.doc(t).Find(`[data-testid=bulk-job]`).Attr("data-status")
		if st != store.BulkQueued && st != store.BulkRunning && st != store.BulkUndoing {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("bulk job %s did not finish", path)
	return nil
}

// TestBulkRolesRefusalsAndUndo: members may not assign (403) nor undo an
// assignment; an admin's "all matching" assignment runs as a job and is
// undone; a member's stage change lists the deals the rules refuse; a bulk
// delete is confirmed with what goes with it; other teams' jobs are 404.
func TestBulkRolesRefusalsAndUndo(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga Owner", "Bulk")
		member, memberEmail := a.member(owner, "Mia Member")
		me, mia := a.user(ownerEmail), a.user(memberEmail)
		ctx := context.Background()
		for _, n := range []string{"Ann Acme", "Bob Acme", "Cid Beta"} {
			company := strings.Fields(n)[1]
			expectStatus(t, owner.post("/contacts", form("name", n, "email", strings.ToLower(strings.Fields(n)[0])+"@x.test", "company", company)), http.StatusSeeOther)
		}
		page, _ := a.store.ListContacts(ctx, me.TeamID, store.ContactQuery{})
		ids := map[string]string{}
		for _, c := range page.Rows {
			ids[c.Name] = idString(c.ID)
		}

		r := member.post("/bulk", form("list", "contacts", "action", "assign", "value_assign", idString(mia.ID), "ids", ids["Ann Acme"]))
		expectStatus(t, r, http.StatusForbidden)
		if n := jobCount(t, a); n != 0 {
			t.Fatalf("%d jobs after a refused assign", n)
		}
		// The page offers members no "Assign owner".
		if member.get("/contacts").doc(t).Find(`[data-testid=bulk-action] option[value=assign]`).Length() != 0 {
			t.Error("members are offered bulk assign")
		}

		// All matching company=Acme, assigned to the member.
		r = owner.get("/bulk/count?list=contacts&query=company%3DAcme")
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, `[data-testid=bulk-all-count]`); got != "2" {
			t.Errorf("all matching count %q, want 2", got)
		}
		r = owner.post("/bulk", form("list", "contacts", "action", "assign", "value_assign", idString(mia.ID), "all", "1", "query", "company=Acme"))
		expectStatus(t, r, http.StatusSeeOther)
		jobPath := r.Header.Get("Location")
		r = waitBulk(t, owner, jobPath)
		if got := r.text(t, `[data-testid=bulk-job-counts]`); !strings.HasPrefix(got, "2 changed") {
			t.Errorf("counts %q", got)
		}
		for _, c := range mustContacts(t, a, me.TeamID) {
			if want := strings.HasSuffix(c.Name, "Acme"); (c.OwnerID == mia.ID) != want {
				t.Errorf("%s owner %d", c.Name, c.OwnerID)
			}
		}
		expectStatus(t, member.post(jobPath+"/undo", nil), http.StatusForbidden)
		expectStatus(t, owner.post(jobPath+"/undo", nil), http.StatusSeeOther)
		r = waitBulk(t, owner, jobPath)
		if r.doc(t).Find(`[data-testid=bulk-undone]`).Length() != 1 {
			t.Errorf("no undone note:\n%s", r.text(t, `[data-testid=bulk-job]`))
		}
		for _, c := range mustContacts(t, a, me.TeamID) {
			if c.OwnerID == mia.ID {
				t.Errorf("%s still the member's after undo", c.Name)
			}
		}

		// Stage: the member moves their own deal; the owner's is refused.
		contact, _ := a.store.ContactByID(ctx, me.TeamID, page.Rows[0].ID)
		own, err := a.store.CreateDeal(ctx, me.TeamID, mia, store.DealInput{Name: "Mine", ContactID: contact.ID, Stage: store.StageCreated})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := a.store.CreateDeal(ctx, me.TeamID, me, store.DealInput{Name: "Hers", ContactID: contact.ID, Stage: store.StageCreated, OwnerID: me.ID})
		if err != nil {
			t.Fatal(err)
		}
		r = member.post("/bulk", form("list", "deals", "action", "stage", "value_stage", store.StageQualified, "ids", idString(own.ID), "ids", idString(theirs.ID)))
		expectStatus(t, r, http.StatusSeeOther)
		r = waitBulk(t, member, r.Header.Get("Location"))
		refused := r.doc(t).Find(`[data-testid=bulk-refused] li`)
		if refused.Length() != 1 || !strings.Contains(refused.Text(), "Hers") {
			t.Errorf("refused %q", refused.Text())
		}
		if r.doc(t).Find(`[data-testid=bulk-undo]`).Length() != 0 {
			t.Error("a stage change offers undo")
		}

		// Delete: confirmation with counts, then the job.
		r = member.post("/bulk", form("list", "contacts", "action", "delete", "ids", idString(contact.ID)))
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, `[data-testid=bulk-delete-deals]`); got != "2 deals" {
			t.Errorf("delete confirmation counts %q", got)
		}
		if _, err := a.store.ContactByID(ctx, me.TeamID, contact.ID); err != nil {
			t.Fatal("deleted before the confirmation")
		}
		r = member.post("/bulk", form("list", "contacts", "action", "delete", "confirm", "1", "ids", idString(contact.ID)))
		expectStatus(t, r, http.StatusSeeOther)
		waitBulk(t, member, r.Header.Get("Location"))
		if _, err := a.store.ContactByID(ctx, me.TeamID, contact.ID); err == nil {
			t.Error("contact not deleted")
		}

		// Nothing selected, bad values, other teams.
		expectStatus(t, owner.post("/bulk", form("list", "contacts", "action", "status", "value_status", "Open")), http.StatusSeeOther)
		expectStatus(t, owner.post("/bulk", form("list", "contacts", "action", "status", "value_status", "Nope", "ids", ids["Cid Beta"])), http.StatusSeeOther)
		expectStatus(t, owner.post("/bulk", form("list", "contacts", "action", "status", "value_status", "Open", "ids", "abc")), http.StatusSeeOther)
		expectStatus(t, owner.post("/bulk", form("list", "nope", "action", "status")), http.StatusNotFound)
		other, _ := a.owner("Otto Other", "Other team")
		expectStatus(t, other.get(jobPath), http.StatusNotFound)
		expectStatus(t, other.post(jobPath+"/undo", nil), http.StatusNotFound)
	})
}

func jobCount(t *testing.T, a *testApp) int {
	t.Helper()
	n, err := a.store.DB.NewSelect().TableExpr("bulk_jobs").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func mustContacts(t *testing.T, a *testApp, teamID int64) []store.Contact {
	t.Helper()
	p, err := a.store.ListContacts(context.Background(), teamID, store.ContactQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Rows
}
