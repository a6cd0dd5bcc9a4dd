package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"sherpa/store"
)

func TestBoardMovesAndRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		ctx := context.Background()
		owner, ownerEmail := a.owner("Olga", "Acme")
		member, memberEmail := a.member(owner, "Mia")
		teamID := a.user(ownerEmail).TeamID
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		olgas := a.addDeal(owner, contactID, "name", "Olga's deal", "amount", "100", "owner_id", strconv.FormatInt(a.user(ownerEmail).ID, 10))
		mias := a.addDeal(member, contactID, "name", "Mia's deal", "amount", "50")
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		hx := []string{"HX-Request", "true"}

		page := owner.get("/deals/board")
		expectStatus(t, page, http.StatusOK)
		doc := page.doc(t)
		if n := doc.Find("[data-testid^=col-]").Filter("section").Length(); n != len(store.Stages) {
			t.Errorf("%d columns", n)
		}
		if got := doc.Find("[data-testid=col-created] [data-testid=col-count]").Text(); got != "2" {
			t.Errorf("Created count %q", got)
		}
		if got := doc.Find("[data-testid=col-created] [data-testid=col-total]").Text(); !strings.Contains(got, "150.00") {
			t.Errorf("Created total %q", got)
		}
		if got := doc.Find("[data-testid=col-created] [data-testid=col-weighted]").Text(); !strings.Contains(got, "15.00") {
			t.Errorf("Created weighted %q", got)
		}
		if !strings.Contains(page.body, "sortable-1.15.7.min.js") || !strings.Contains(page.body, "board.js") {
			t.Errorf("board scripts missing")
		}
		// A member sees no move control on someone else's deal.
		mdoc := member.get("/deals/board").doc(t)
		if mdoc.Find("#card-"+id(olgas)+" [data-testid=move-form]").Length() != 0 || mdoc.Find("#card-"+id(mias)+" [data-testid=move-form]").Length() != 1 {
			t.Errorf("member's move controls wrong")
		}

		move := func(c *client, deal int64, kv ...string) *response {
			return c.do("POST", "/deals/"+id(deal)+"/move", form(kv...), hx...)
		}
		refused := func(r *response, status int, msg string) {
			t.Helper()
			expectStatus(t, r, status)
			if r.Header.Get("HX-Retarget") != "#board-message" || !strings.Contains(r.body, msg) {
				t.Errorf("refusal: %v %s", r.Header, r.body)
			}
		}
		// Forward works and returns the board with new totals.
		r := move(owner, olgas, "to", store.StageContractSent)
		expectStatus(t, r, http.StatusOK)
		if got := r.doc(t).Find("[data-testid=col-contract-sent] [data-testid=col-count]").Text(); got != "1" {
			t.Errorf("after the move Contract Sent count %q", got)
		}
		refused(move(owner, olgas, "to", store.StageQualified), http.StatusUnprocessableEntity, "only move forward")
		refused(move(member, olgas, "to", store.StageAppointment), http.StatusForbidden, "their own deals")
		refused(move(owner, olgas, "to", store.StageWon, "amount", "0"), http.StatusUnprocessableEntity, "amount above zero")
		refused(move(owner, olgas, "to", store.StageLost), http.StatusUnprocessableEntity, "why the deal was lost")
		// The dialog's refusals go into the dialog.
		r = owner.do("POST", "/deals/board/move", form("deal", id(olgas), "to", store.StageLost), hx...)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if r.Header.Get("HX-Retarget") != "#close-error" {
			t.Errorf("dialog refusal target %q", r.Header.Get("HX-Retarget"))
		}
		// A member moves their own deal; closes it as lost with a reason.
		expectStatus(t, move(member, mias, "to", store.StageLost, "lost_reason", "Timing", "lost_note", "Next year"), http.StatusOK)
		refused(move(member, mias, "to", store.StageWon, "amount", "5"), http.StatusConflict, "closed")
		d, _ := a.store.DealByID(ctx, teamID, mias)
		if d.Stage != store.StageLost || d.LostReason != "Timing" {
			t.Errorf("lost deal %+v", d)
		}
		dealPage := owner.get("/deals/" + id(mias))
		if got := dealPage.text(t, "[data-testid=lost-reason-fact]"); got != "Timing" {
			t.Errorf("deal page reason %q", got)
		}
		if got := dealPage.text(t, "[data-testid=log-reason]"); !strings.Contains(got, "Timing") || !strings.Contains(got, "Next year") {
			t.Errorf("stage history reason %q", got)
		}
		// Without JavaScript, moving to a closed stage asks for what it needs.
		r = owner.post("/deals/"+id(olgas)+"/move", form("to", store.StageWon, "amount", ""))
		if olgaDeal, _ := a.store.DealByID(ctx, teamID, olgas); olgaDeal.Amount > 0 {
			// the deal has an amount, so this closes it
			expectStatus(t, r, http.StatusSeeOther)
		}
		// Another team's deal is a 404 for every board route.
		stranger, _ := a.owner("Sid", "Rivals")
		for _, p := range []string{"/deals/" + id(olgas) + "/move", "/deals/" + id(olgas) + "/reopen"} {
			if r := stranger.post(p, form("to", store.StageAppointment)); r.StatusCode != http.StatusNotFound {
				t.Errorf("stranger %s: %d", p, r.StatusCode)
			}
		}
		if r := stranger.do("POST", "/deals/board/move", form("deal", id(olgas), "to", store.StageAppointment), hx...); r.StatusCode != http.StatusNotFound {
			t.Errorf("stranger dialog move: %d", r.StatusCode)
		}
		// Reopen: owners and admins only.
		expectStatus(t, member.post("/deals/"+id(mias)+"/reopen", nil), http.StatusForbidden)
		if member.get("/deals/"+id(mias)).doc(t).Find("[data-testid=reopen]").Length() != 0 {
			t.Errorf("a member is offered Reopen")
		}
		if dealPage.doc(t).Find("[data-testid=reopen]").Length() != 1 {
			t.Errorf("the owner is not offered Reopen")
		}
		expectRedirect(t, owner.post("/deals/"+id(mias)+"/reopen", nil), "/deals/"+id(mias))
		if d, _ := a.store.DealByID(ctx, teamID, mias); d.Stage != store.StageCreated {
			t.Errorf("reopened to %s", d.Stage)
		}
		expectStatus(t, owner.post("/deals/"+id(mias)+"/reopen", nil), http.StatusConflict)
		_ = memberEmail
	})
}

func TestBoardNoJSMovePageAndPoll(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		deal := a.addDeal(owner, contactID, "name", "No amount")
		path := "/deals/" + strconv.FormatInt(deal, 10) + "/move"
		r := owner.post(path, form("to", store.StageWon))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, "amount above zero") || r.doc(t).Find("input[name=amount]").Length() != 1 {
			t.Errorf("no-JS won page: %s", r.body)
		}
		r = owner.post(path, form("to", store.StageLost))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if r.doc(t).Find("select[name=lost_reason] option").Length() != len(store.DefaultLostReasons)+1 {
			t.Errorf("no-JS lost page offers no reasons")
		}
		expectRedirect(t, owner.post(path, form("to", store.StageLost, "lost_reason", "Other")), "/deals/board")

		// The poll: 304 while nothing changed, the board after a change.
		page := owner.get("/deals/board")
		etag, _ := page.doc(t).Find("#board").Attr("data-etag")
		if etag == "" {
			t.Fatal("no ETag on the board")
		}
		expectStatus(t, owner.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag), http.StatusNotModified)
		a.addDeal(owner, contactID, "name", "Another")
		r = owner.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag)
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "Another") || r.Header.Get("ETag") == etag {
			t.Errorf("poll after a change: %s", r.Header.Get("ETag"))
		}
		// A filtered board has its own ETag.
		f := owner.get("/deals/board/poll?q=another", "HX-Request", "true", "If-None-Match", r.Header.Get("ETag"))
		expectStatus(t, f, http.StatusOK)
	})
}

func TestBoardSettingsOnTheTeamPage(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga", "Acme")
		member, _ := a.member(owner, "Mia")
		teamID := a.user(ownerEmail).TeamID
		valid := form("lost_reasons", "Too expensive\nBad fit", "win_created", "5", "stale_created", "7",
			"win_qualified-to-buy", "20", "stale_qualified-to-buy", "14", "win_contract-sent", "40", "stale_contract-sent", "14",
			"win_appointment-scheduled", "60", "stale_appointment-scheduled", "14")
		expectStatus(t, member.post("/team/board", valid), http.StatusForbidden)
		bad := form("lost_reasons", "", "win_created", "500", "stale_created", "0")
		r := owner.post("/team/board", bad)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		for _, f := range []string{"lost_reasons", "win_Created", "stale_Created"} {
			if r.text(t, "[data-testid=error-"+f+"]") == "" {
				t.Errorf("no error for %s", f)
			}
		}
		expectRedirect(t, owner.post("/team/board", valid), "/team#board-settings")
		reasons, _ := a.store.LostReasons(context.Background(), teamID)
		stages, _ := a.store.StageSettings(context.Background(), teamID)
		if strings.Join(reasons, "|") != "Too expensive|Bad fit" || stages[0].WinPercent != 5 || stages[0].StaleDays != 7 {
			t.Errorf("saved %v %+v", reasons, stages)
		}
		if got := owner.get("/team").text(t, "[data-testid=lost-reasons]"); !strings.Contains(got, "Bad fit") {
			t.Errorf("team page reasons %q", got)
		}
	})
}
