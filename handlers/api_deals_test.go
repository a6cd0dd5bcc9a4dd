package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sherpa/store"
)

func TestAPIDeals(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Deals")
		k := tm.ownerKey
		contact := k.call("POST", "/contacts", map[string]any{"name": "Buyer", "email": "buyer@example.com", "company": "Buyer Ltd"}).
			expect(http.StatusCreated).id("id")
		r := k.call("POST", "/deals", map[string]any{"name": "Big one", "contact_id": contact, "goal": "1,234.50", "amount": 99.5,
			"close_date": "2026-06-30"}).expect(http.StatusCreated)
		id := r.id("id")
		if r.str("goal") != "1234.50" || r.id("goal_minor") != 123450 || r.id("amount_minor") != 9950 || r.str("company") != "Buyer Ltd" ||
			r.str("stage") != store.StageCreated || r.str("currency") != "EUR" || r.str("close_date") != "2026-06-30" {
			t.Fatalf("created: %s", r.body)
		}
		bad := k.call("POST", "/deals", map[string]any{"name": "", "contact_id": 0, "goal": "12abc", "close_date": "30/06/2026", "stage": "Done"}).
			expect(http.StatusUnprocessableEntity)
		for _, f := range []string{"name", "contact_id", "goal", "close_date", "stage"} {
			if bad.fieldError(f) == "" {
				t.Fatalf("no message for %s: %s", f, bad.body)
			}
		}
		// Lists as the deals table.
		if rows := k.get("/deals?q=big&sort=amount&dir=desc").expect(http.StatusOK).data(); len(rows) != 1 {
			t.Fatalf("search: %v", rows)
		}
		if rows := k.get(fmt.Sprintf("/contacts/%d/deals", contact)).expect(http.StatusOK).data(); len(rows) != 1 {
			t.Fatalf("contact's deals: %v", rows)
		}

		// Stage moves follow the table's rules.
		up := k.call("PATCH", fmt.Sprintf("/deals/%d", id), map[string]any{"stage": store.StageContractSent, "version": 1}).expect(http.StatusOK)
		if up.str("stage") != store.StageContractSent || up.str("goal") != "1234.50" || up.str("close_date") != "2026-06-30" {
			t.Fatalf("moved: %s", up.body)
		}
		back := k.call("PATCH", fmt.Sprintf("/deals/%d", id), map[string]any{"stage": store.StageQualified, "version": 2}).expect(http.StatusUnprocessableEntity)
		if !strings.Contains(back.fieldError("stage"), "deals only move forward") {
			t.Fatalf("backwards: %s", back.body)
		}
		k.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{"stage": store.StageCreated}).expect(http.StatusUnprocessableEntity)
		k.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{}).expect(http.StatusUnprocessableEntity)
		lost := k.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{"stage": store.StageLost}).expect(http.StatusUnprocessableEntity)
		if lost.fieldError("lost_reason") != "Choose why the deal was lost." {
			t.Fatalf("lost without reason: %s", lost.body)
		}
		reasons := k.get("/lost-reasons").expect(http.StatusOK)
		if !strings.Contains(string(reasons.body), "Price") {
			t.Fatalf("lost reasons: %s", reasons.body)
		}
		k.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{"stage": store.StageLost, "lost_reason": "Because"}).expect(http.StatusUnprocessableEntity)
		// A member may not move someone else's deal.
		tm.memberKey.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{"stage": store.StageAppointment}).expect(http.StatusForbidden)
		won := k.call("POST", fmt.Sprintf("/deals/%d/move", id), map[string]any{"stage": store.StageWon, "amount": "5000", "closed_on": "2026-03-02"}).
			expect(http.StatusOK)
		if won.str("stage") != store.StageWon || won.id("amount_minor") != 500000 || won.str("close_date") != "2026-03-02" {
			t.Fatalf("won: %s", won.body)
		}
		// Closed deals are read-only; owners and admins reopen them.
		closed := k.call("PATCH", fmt.Sprintf("/deals/%d", id), map[string]any{"name": "Renamed", "version": won.id("version")}).expect(http.StatusConflict)
		if closed.str("code") != "deal_closed" {
			t.Fatalf("closed: %s", closed.body)
		}
		tm.memberKey.call("POST", fmt.Sprintf("/deals/%d/reopen", id), nil).expect(http.StatusForbidden)
		re := tm.adminKey.call("POST", fmt.Sprintf("/deals/%d/reopen", id), nil).expect(http.StatusOK)
		if re.str("stage") != store.StageContractSent || re.str("close_date") != "2026-06-30" {
			t.Fatalf("reopened: %s", re.body)
		}
		k.call("POST", fmt.Sprintf("/deals/%d/reopen", id), nil).expect(http.StatusConflict)
		stages := k.get(fmt.Sprintf("/deals/%d/stages", id)).expect(http.StatusOK).data()
		if len(stages) != 4 || stages[3]["kind"] != store.LogReopen || stages[2]["kind"] != store.LogUndone {
			t.Fatalf("stage log: %v", stages)
		}
		// Closing as won needs an amount above zero.
		zero := k.call("POST", "/deals", map[string]any{"name": "Zero", "contact_id": contact}).expect(http.StatusCreated).id("id")
		k.call("POST", fmt.Sprintf("/deals/%d/move", zero), map[string]any{"stage": store.StageWon}).expect(http.StatusUnprocessableEntity)
		// Versions as for contacts.
		k.call("PATCH", fmt.Sprintf("/deals/%d", id), map[string]any{"name": "Renamed", "version": re.id("version")}).expect(http.StatusOK)
		stale := k.call("PATCH", fmt.Sprintf("/deals/%d", id), map[string]any{"name": "Again", "version": re.id("version")}).expect(http.StatusConflict)
		if stale.obj()["current"].(map[string]any)["name"] != "Renamed" {
			t.Fatalf("stale: %s", stale.body)
		}
		k.call("DELETE", fmt.Sprintf("/deals/%d", id), nil).expect(http.StatusNoContent)
		k.get(fmt.Sprintf("/deals/%d", id)).expect(http.StatusNotFound)
	})
}

func TestAPIMembersAndExports(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Members")
		rows := tm.memberKey.get("/members").expect(http.StatusOK).data()
		if len(rows) != 3 || rows[0]["role"] != store.RoleOwner {
			t.Fatalf("members: %v", rows)
		}
		m := tm.memberKey.get(fmt.Sprintf("/members/%d", a.user(tm.ownerEmail).ID)).expect(http.StatusOK)
		if m.str("email") != tm.ownerEmail {
			t.Fatalf("member: %s", m.body)
		}
		tm.ownerKey.call("POST", "/contacts", map[string]any{"name": "=Formula", "email": "f@example.com"}).expect(http.StatusCreated)
		exp := tm.readKey.get("/contacts/export.csv?sort=name").expect(http.StatusOK)
		if !strings.Contains(string(exp.body), "'=Formula") || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %s", exp.body)
		}
		tm.readKey.get("/deals/export.csv").expect(http.StatusOK)
	})
}
