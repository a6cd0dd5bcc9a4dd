package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sherpa/store"
)

// active describes the focused element: its data-testid, name, id and the
// id of the row or card it is in.
func active(tb *tab) string {
	tb.t.Helper()
	var s string
	evalJSON(tb, `(() => { const a = document.activeElement; if (!a) return ""; const r = a.closest("[id^=contact-], [id^=deal-]");
		return [a.dataset.testid || "", a.name || "", a.id || "", r ? r.id : ""].join("|"); })()`, &s)
	return s
}

// waitActive waits until the focused element's description contains part.
func waitActive(tb *tab, part string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		var last string
		for {
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement; if (!a) return ""; const r = a.closest("[id^=contact-], [id^=deal-]");
				return [a.dataset.testid || "", a.name || "", a.id || "", r ? r.id : ""].join("|"); })()`))
			if err != nil {
				return err
			}
			if strings.Contains(s, part) {
				return nil
			}
			last = s
			select {
			case <-ctx.Done():
				return fmt.Errorf("focus never on %q (last %q)", part, last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// slash presses "/" as a keyboard does: one keyDown carrying the text, so
// a page that handles the key (preventDefault) keeps the character out of
// the field it focuses. (chromedp's KeyEvent sends the character as a
// separate event no handler can stop.)
func slash() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "/", Code: "Slash", Text: "/", UnmodifiedText: "/", WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "/", Code: "Slash", WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
		return err
	})
}

func focus(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).focus()`, sel))
}

// TestKeyboardOnly drives the tables' inline edit, the contact tabs, the
// contact and deal pages' own Edit and the top bar's search with the
// keyboard alone.
func TestKeyboardOnly(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(signUpOwnerSteps(srv.URL)...)
	ctx := context.Background()
	owner := userByEmail(t, srv.St, "olga@example.com")
	ann, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{Name: "Ann Archer", Email: "ann@example.com", Company: "Archery Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	deal, err := srv.St.CreateDeal(ctx, owner.TeamID, owner, store.DealInput{Name: "Archery pilot", Goal: "1,000", ContactID: ann.ID})
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf("contact-%d", ann.ID)

	// "/" focuses the table's search.
	tb.do(
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.WaitVisible(css("[data-testid=contacts]")),
		slash(),
		waitActive(tb, "search|q|"),
	)
	// Edit with Enter: focus in the first field; type, Enter saves, focus
	// back on the row's Edit.
	tb.do(
		focus("#"+row+" [data-testid=edit]"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("#"+row+".editing")),
		waitActive(tb, "|name||"+row),
		chromedp.KeyEvent("Ann Archer-Smith"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(css("#"+row+".editing")),
		waitActive(tb, "edit|||"+row),
	)
	if got := tb.text("#" + row); !strings.Contains(got, "Ann Archer-Smith") {
		t.Errorf("row after a keyboard save: %q", got)
	}
	// Escape cancels, focus back on Edit.
	tb.do(
		chromedp.KeyEvent(kb.Enter),
		waitActive(tb, "|name||"+row),
		chromedp.KeyEvent("Not saved"),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(css("#"+row+".editing")),
		waitActive(tb, "edit|||"+row),
	)
	if got := tb.text("#" + row); strings.Contains(got, "Not saved") {
		t.Errorf("Escape saved: %q", got)
	}
	// Enter in a select saves too.
	tb.do(
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("#"+row+".editing select[name=status]")),
		focus("#"+row+" select[name=status]"),
		chromedp.SetValue(css("#"+row+" select[name=status]"), "Connected"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(css("#"+row+".editing")),
		waitActive(tb, "edit|||"+row),
	)
	if got := tb.text("#" + row); !strings.Contains(got, "Connected") {
		t.Errorf("row after Enter in the status select: %q", got)
	}
	// A refused save keeps the form, focus on the refused field.
	tb.do(
		chromedp.KeyEvent(kb.Enter),
		waitActive(tb, "|name||"+row),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("#"+row+" [data-testid=error-name]")),
		waitActive(tb, "|name||"+row),
		chromedp.KeyEvent(kb.Escape),
		waitActive(tb, "edit|||"+row),
	)

	// Deals: the same.
	drow := fmt.Sprintf("deal-%d", deal.ID)
	tb.do(
		chromedp.Navigate(srv.URL+"/deals"),
		chromedp.WaitVisible(css("#"+drow)),
		focus("#"+drow+" [data-testid=edit]"),
		chromedp.KeyEvent(kb.Enter),
		waitActive(tb, "|name||"+drow),
		chromedp.KeyEvent("Archery rollout"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(css("#"+drow+".editing")),
		waitActive(tb, "edit|||"+drow),
	)
	if got := tb.text("#" + drow); !strings.Contains(got, "Archery rollout") {
		t.Errorf("deal row after a keyboard save: %q", got)
	}

	// Contact tabs move with the arrow keys, Home and End.
	tb.do(
		chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", srv.URL, ann.ID)),
		chromedp.WaitVisible(css("[data-testid=activity-list]")),
		focus("[data-testid=tab-activity]"),
		chromedp.KeyEvent(kb.ArrowRight),
		waitActive(tb, "tab-notes"),
		chromedp.WaitVisible(css("[data-testid=note-body]")),
		chromedp.KeyEvent(kb.End),
		waitActive(tb, "tab-meetings"),
		chromedp.KeyEvent(kb.ArrowRight),
		waitActive(tb, "tab-activity"),
		chromedp.WaitVisible(css("[data-testid=activity-list]")),
		chromedp.KeyEvent(kb.ArrowLeft),
		waitActive(tb, "tab-meetings"),
		chromedp.KeyEvent(kb.Home),
		waitActive(tb, "tab-activity"),
	)
	var tabs string
	evalJSON(tb, `[...document.querySelectorAll("[role=tab]")].map(t => t.id + "=" + t.getAttribute("aria-selected") + "/" + t.tabIndex).join(" ") + " panel=" + document.getElementById("tab-panel").getAttribute("aria-labelledby")`, &tabs)
	if !strings.HasPrefix(tabs, "tab-activity=true/0 tab-notes=false/-1") || !strings.HasSuffix(tabs, "panel=tab-activity") {
		t.Errorf("tabs after the keys: %s", tabs)
	}

	// The contact page's own Edit.
	tb.do(
		focus("[data-testid=edit-details]"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("[data-testid=contact-details-edit]")),
		waitActive(tb, "|name||contact-details"),
		chromedp.KeyEvent("Ann Smith"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(css("[data-testid=contact-details-edit]")),
		waitActive(tb, "edit-details|||contact-details"),
	)
	if got := tb.text("[data-testid=contact-name]"); got != "Ann Smith" {
		t.Errorf("page title after the page's edit: %q", got)
	}
	tb.do(
		chromedp.KeyEvent(kb.Enter),
		waitActive(tb, "|name||contact-details"),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(css("[data-testid=contact-details-edit]")),
		waitActive(tb, "edit-details|||contact-details"),
	)
	tb.shot("43-contact-page-after-edit")

	// The deal page's own Edit.
	tb.do(
		chromedp.Navigate(fmt.Sprintf("%s/deals/%d", srv.URL, deal.ID)),
		focus("[data-testid=edit-details]"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("[data-testid=deal-details-edit]")),
		waitActive(tb, "|name||deal-details"),
	)
	tb.shot("44-deal-page-edit")
	tb.do(
		chromedp.KeyEvent("Archery contract"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotPresent(css("[data-testid=deal-details-edit]")),
		waitActive(tb, "edit-details|||deal-details"),
	)
	if got := tb.text("[data-testid=deal-name]"); got != "Archery contract" {
		t.Errorf("deal title after the page's edit: %q", got)
	}

	// The top bar's search: "/" on a page without its own search, type,
	// arrow down into the results, Enter opens.
	tb.do(
		slash(),
		waitActive(tb, "global-search|q|global-search-q"),
		chromedp.KeyEvent("archery"),
		chromedp.WaitVisible(css("[data-testid=gs-deal]")),
	)
	var groups string
	evalJSON(tb, `[...document.querySelectorAll("#global-search-results .gs-head")].map(h => h.textContent).join(",")`, &groups)
	if groups != "Contacts,Deals" {
		t.Errorf("result groups %q", groups)
	}
	tb.shot("45-global-search")
	tb.do(
		chromedp.KeyEvent(kb.ArrowDown),
		waitActive(tb, "gs-contact"),
		chromedp.KeyEvent(kb.ArrowDown),
		waitActive(tb, "gs-deal"),
		chromedp.KeyEvent(kb.ArrowUp),
		waitActive(tb, "gs-contact"),
		chromedp.KeyEvent(kb.Enter),
		waitURL(tb, fmt.Sprintf("/contacts/%d", ann.ID)),
		chromedp.WaitVisible(css("[data-testid=contact-name]")),
	)
	// Escape closes the results.
	tb.do(
		focus("#global-search-q"),
		chromedp.KeyEvent("archery"),
		chromedp.WaitVisible(css("[data-testid=gs-deal]")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(css("#global-search-results")),
	)
	// Enter in the box opens the search page.
	tb.do(
		chromedp.KeyEvent(kb.Enter),
		waitURL(tb, "/search?q=archery"),
		chromedp.WaitVisible(css("[data-testid=search-deals]")),
	)
	tb.shot("46-search-page")
}
