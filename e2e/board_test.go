package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// center is the middle of the first element matching sel, in CSS pixels of
// the viewport (scrolled into view first).
func center(sel string) chromedp.Action[[]float64] {
	return chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.scrollIntoView({block: "center", inline: "center"}); const r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 30)]; })()`, sel))
}

// drag presses the mouse on the card, moves it in small steps to the target
// and releases it there: real mouse events, which SortableJS's fallback
// (forceFallback) follows like a person's drag.
func drag(fromSel, toSel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		// Both lists must be SortableJS lists already: a board swapped in
		// by the last move gets them when its swap settles.
		ready := fmt.Sprintf(`() => { const c = document.querySelector(%q), l = document.querySelector(%q); const from = c && c.closest(".board-cards"); return from && from.dataset.sortable && l && l.dataset.sortable ? true : null; }`, fromSel, toSel)
		if _, err := chromedp.PollFunction[bool](ready, chromedp.WithPollingInterval(20*time.Millisecond))(ctx, t); err != nil {
			return fmt.Errorf("drag from %s to %s: the board never became draggable: %w", fromSel, toSel, err)
		}
		from, err := center(fromSel)(ctx, t)
		if err != nil {
			return err
		}
		pressed := func(p *input.DispatchMouseEventParams) {
			p.Button = input.MouseButtonLeft
			p.Buttons = 1
			p.ClickCount = 1
		}
		if _, err := chromedp.MouseEvent(chromedp.MouseMoved, from[0], from[1])(ctx, t); err != nil {
			return err
		}
		if _, err := chromedp.MouseEvent(chromedp.MousePressed, from[0], from[1], pressed)(ctx, t); err != nil {
			return err
		}
		// The target is measured after the press: nothing scrolls meanwhile.
		to, err := chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 60)]; })()`, toSel))(ctx, t)
		if err != nil {
			return err
		}
		const steps = 20
		for i := 1; i <= steps; i++ {
			x := from[0] + (to[0]-from[0])*float64(i)/steps
			y := from[1] + (to[1]-from[1])*float64(i)/steps
			if _, err := chromedp.MouseEvent(chromedp.MouseMoved, x, y, pressed)(ctx, t); err != nil {
				return err
			}
			time.Sleep(15 * time.Millisecond)
		}
		// Linger over the target, as a hand does, until SortableJS shows the
		// card in the target list (it throttles its hit tests, and a busy
		// machine delays them): a person releases once they see it there.
		inTarget := fmt.Sprintf(`(() => { const l = document.querySelector(%q); return !!(l && l.querySelector(".sortable-chosen")); })()`, toSel)
		there := false
		for i := 0; i < 250 && !there; i++ { // up to 10 s on a machine this busy
			// Measured again each time: the page may have scrolled or the
			// columns grown since the press.
			if now, err := chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left + r.width / 2, r.top + Math.min(r.height / 2, 60)]; })()`, toSel))(ctx, t); err == nil {
				to = now
			}
			if _, err := chromedp.MouseEvent(chromedp.MouseMoved, to[0]+float64(i%2), to[1]+float64(i%3), pressed)(ctx, t); err != nil {
				return err
			}
			time.Sleep(40 * time.Millisecond)
			if ok, err := chromedp.Evaluate[bool](inTarget)(ctx, t); err == nil && ok && i >= 3 {
				there = true
			}
		}
		if !there {
			return fmt.Errorf("drag to %s: the card never showed in the target list", toSel)
		}
		_, err = chromedp.MouseEvent(chromedp.MouseReleased, to[0], to[1], pressed)(ctx, t)
		return err
	})
}

// waitText waits until the element's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.PollFunction[bool](fmt.Sprintf(`() => { const el = document.querySelector(%q); return el && el.textContent.includes(%q) ? true : null; }`, sel, want),
			chromedp.WithPollingInterval(100*time.Millisecond))(ctx, t)
		return err
	})
}

func colSel(stage string) string {
	return "[data-testid=col-" + strings.ToLower(strings.ReplaceAll(stage, " ", "-")) + "]"
}

// TestPipelineBoard drags cards across columns, closes one as won and one
// as lost through the dialog, sees the column totals change and a refused
// move snap back, and sees a move made in a second browser appear live.
func TestPipelineBoard(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	b := startBrowser(t)
	olga := b.tab()
	olga.do(signUpOwnerSteps(srv.URL)...)
	owner := userByEmail(t, srv.St, "olga@example.com")
	c, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{Name: "Dina Deal", Email: "dina@example.com", Company: "Dina Corp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ name, amount, date string }{
		{"Alpha rollout", "100", "2026-12-20"}, {"Beta licence", "200", "2026-12-21"}, {"Gamma pilot", "300", "2026-12-22"}, {"Delta upgrade", "400", "2026-12-23"},
	} {
		if _, err := srv.St.CreateDeal(ctx, owner.TeamID, owner, store.DealInput{Name: d.name, Amount: d.amount, CloseDate: d.date, ContactID: c.ID, OwnerID: owner.ID}); err != nil {
			t.Fatal(err)
		}
	}
	card := func(name string) string { return fmt.Sprintf(`[data-testid=board-card][data-name=%q]`, name) }

	olga.do(
		chromedp.Navigate(srv.URL+"/deals"),
		chromedp.Click(css("[data-testid=switch-board]")),
		chromedp.WaitVisible(css("[data-testid=board]")),
		waitText(colSel(store.StageCreated)+" [data-testid=col-count]", "4"),
	)
	if got := olga.text(colSel(store.StageCreated) + " [data-testid=col-total]"); !strings.Contains(got, "1,000.00") {
		t.Errorf("Created total %q", got)
	}
	olga.shot("40-board")

	// Drag Alpha across two columns: Created → Contract Sent.
	olga.do(
		drag(card("Alpha rollout"), colSel(store.StageContractSent)+" .board-cards"),
		waitText(colSel(store.StageContractSent)+" [data-testid=col-count]", "1"),
		waitText(colSel(store.StageContractSent), "Alpha rollout"),
		waitText(colSel(store.StageCreated)+" [data-testid=col-count]", "3"),
	)
	if got := olga.text(colSel(store.StageContractSent) + " [data-testid=col-weighted]"); !strings.Contains(got, "40.00") {
		t.Errorf("Contract Sent weighted %q, want 40 %% of 100", got)
	}
	// Drop Beta on Closed Won: the dialog asks for the amount and the day.
	olga.do(
		drag(card("Beta licence"), colSel(store.StageWon)+" .board-cards"),
		chromedp.WaitVisible(css("#close-dialog [data-testid=dialog-amount]")),
	)
	olga.shot("41-board-won-dialog")
	olga.do(
		chromedp.SetValue(css("#close-dialog [data-testid=dialog-amount]"), "250"),
		chromedp.Click(css("#close-dialog [data-testid=dialog-submit]")),
		waitText(colSel(store.StageWon)+" [data-testid=col-count]", "1"),
		waitText(colSel(store.StageWon)+" [data-testid=col-total]", "250.00"),
		chromedp.WaitNotVisible(css("#close-dialog")),
	)
	// Drop Delta on Closed Lost: the dialog asks for the reason.
	olga.do(
		drag(card("Delta upgrade"), colSel(store.StageLost)+" .board-cards"),
		chromedp.WaitVisible(css("#close-dialog [data-testid=lost-reason]")),
		chromedp.Click(css("#close-dialog [data-testid=dialog-submit]")),
		waitText("#close-error", "why the deal was lost"),
		chromedp.SetValue(css("#close-dialog [data-testid=lost-reason]"), "Price"),
		chromedp.SetValue(css("#close-dialog [data-testid=dialog-note]"), "Cheaper offer"),
		chromedp.Click(css("#close-dialog [data-testid=dialog-submit]")),
		waitText(colSel(store.StageLost)+" [data-testid=col-count]", "1"),
		waitText(colSel(store.StageLost), "Price"),
		waitText(colSel(store.StageCreated)+" [data-testid=col-count]", "1"),
		waitText(colSel(store.StageCreated)+" [data-testid=col-total]", "300.00"),
	)
	// A refused move snaps back with the message: Alpha back to Created.
	olga.do(
		drag(card("Alpha rollout"), colSel(store.StageCreated)+" .board-cards"),
		waitText("[data-testid=board-message]", "only move forward"),
		waitText(colSel(store.StageContractSent), "Alpha rollout"),
	)
	if got := olga.text(colSel(store.StageCreated)); strings.Contains(got, "Alpha rollout") {
		t.Errorf("the refused card stayed in Created")
	}
	olga.shot("42-board-refused")

	// A second browser moves Gamma with the keyboard path; Olga's board
	// shows it within 5 s, without a reload.
	if _, err := chromedp.Run(olga.ctx, chromedp.Evaluate[bool](`window.sherpaMark = "still here"; true`)); err != nil {
		t.Fatal(err)
	}
	second := b.tab()
	second.do(
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(css("#email"), "olga@example.com"),
		chromedp.SendKeys(css("#password"), "a long enough password"),
		chromedp.Click(css("[data-testid=login-submit]")),
		chromedp.WaitVisible(css("[data-testid=logout]")), // logged in (the login page has a nav too)
		chromedp.Navigate(srv.URL+"/deals/board"),
		chromedp.WaitVisible(css(card("Gamma pilot"))),
		chromedp.SetValue(css(card("Gamma pilot")+" [data-testid=move-to]"), store.StageAppointment),
		chromedp.Click(css(card("Gamma pilot")+" [data-testid=move-submit]")),
		waitText(colSel(store.StageAppointment), "Gamma pilot"),
	)
	live, cancel := context.WithTimeout(olga.ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(live, waitText(colSel(store.StageAppointment), "Gamma pilot")); err != nil {
		olga.shot("failure")
		t.Fatalf("the second browser's move did not show within 5 s: %v", err)
	}
	if mark, _ := chromedp.Run(olga.ctx, chromedp.Evaluate[string](`window.sherpaMark || ""`)); mark != "still here" {
		t.Errorf("the board was reloaded, not updated")
	}
	olga.do(waitText(colSel(store.StageCreated)+" [data-testid=col-count]", "0"))
	olga.shot("43-board-live")

	// The deal page shows the loss's reason.
	olga.do(
		chromedp.Click(css(card("Delta upgrade")+" [data-testid=card-name]")),
		chromedp.WaitVisible(css("[data-testid=lost-reason-fact]")),
		waitText("[data-testid=stage-history]", "Cheaper offer"),
	)

	// At phone width one column shows at a time, chosen with the stage picker.
	olga.do(
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(srv.URL+"/deals/board"),
		chromedp.WaitVisible(css(colSel(store.StageCreated))),
		chromedp.WaitNotVisible(css(colSel(store.StageContractSent))),
	)
	olga.shot("44-board-phone")
	olga.do(
		chromedp.SetValue(css("[data-testid=stage-picker]"), store.StageContractSent),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('[data-testid=stage-picker]').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, t)
			return err
		}),
		chromedp.WaitVisible(css(colSel(store.StageContractSent)+" "+card("Alpha rollout"))),
		chromedp.WaitNotVisible(css(colSel(store.StageCreated))),
	)
	olga.shot("45-board-phone-picked")
}
