package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// TestContactsAndDealsJourney: add a contact, edit it inline, sort and flip
// the order, search, page forward and come back with the browser's back
// button, add a deal, try to close it as won without an amount, close it
// properly, and add and remove a note.
func TestContactsAndDealsJourney(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(signUpOwnerSteps(srv.URL)...)
	// Thirty contacts already there, so the table has a second page.
	ctx := context.Background()
	owner := userByEmail(t, srv.St, "olga@example.com")
	for i := 0; i < 30; i++ {
		_, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{
			Name: fmt.Sprintf("Customer %02d", i), Email: fmt.Sprintf("customer%02d@example.com", i),
			Company: []string{"Globex", "Initech", "Umbrella"}[i%3], Phone: fmt.Sprintf("+1 555 01%02d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Add a contact.
	tb.do(
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.WaitVisible(css("[data-testid=contacts]")),
		chromedp.Click(css("[data-testid=add-contact] summary")),
		chromedp.SendKeys(css(".add-form input[name=name]"), "Zoë Zimmer"),
		chromedp.SendKeys(css(".add-form input[name=email]"), "zoe@zimmer.example"),
		chromedp.SendKeys(css(".add-form input[name=phone]"), "+49 30 1234567"),
		chromedp.SendKeys(css(".add-form input[name=company]"), "Zimmer GmbH"),
		chromedp.Click(css("[data-testid=add-contact-submit]")),
		chromedp.WaitVisible(css("[data-testid=flash]")),
	)
	if got := tb.text("[data-testid=contacts] tbody tr:first-child td:first-child"); got != "Zoë Zimmer" {
		t.Errorf("newest contact first: got %q", got)
	}
	// Edit it inline.
	tb.do(
		chromedp.Click(css("[data-testid=contacts] tbody tr:first-child [data-testid=edit]")),
		chromedp.WaitVisible(css("[data-testid=contact-edit-row] input[name=company]")),
	)
	tb.shot("10-contact-inline-edit")
	tb.do(
		chromedp.SetValue(css("[data-testid=contact-edit-row] input[name=company]"), "Zimmer & Söhne GmbH"),
		chromedp.Click(css("[data-testid=contact-edit-row] [data-testid=save]")),
		chromedp.WaitNotPresent(css("[data-testid=contact-edit-row]")),
	)
	if got := tb.text("[data-testid=contacts] tbody tr:first-child"); !strings.Contains(got, "Zimmer & Söhne GmbH") {
		t.Errorf("row after save: %q", got)
	}
	// Sort by name, then flip it.
	tb.do(chromedp.Click(css("[data-testid=sort-name]")), waitURL(tb, "sort=name"), chromedp.WaitVisible(css("th[aria-sort=ascending]")))
	if got := tb.text("[data-testid=contacts] tbody tr:first-child td:first-child"); got != "Customer 00" {
		t.Errorf("name ascending first row %q", got)
	}
	tb.do(chromedp.Click(css("[data-testid=sort-name]")), chromedp.WaitVisible(css("th[aria-sort=descending]")))
	if got := tb.text("[data-testid=contacts] tbody tr:first-child td:first-child"); got != "Zoë Zimmer" {
		t.Errorf("name descending first row %q", got)
	}
	if !strings.Contains(tb.location(), "dir=desc") {
		t.Errorf("sort not in the URL: %s", tb.location())
	}
	tb.shot("11-contacts-sorted-desc")
	// Next page, then the browser's back button.
	tb.do(chromedp.Click(css("[data-testid=page-next]")), waitURL(tb, "cursor="))
	page2 := tb.text("[data-testid=contacts] tbody tr:first-child td:first-child")
	if page2 == "Zoë Zimmer" || page2 == "" {
		t.Errorf("page 2 starts with %q", page2)
	}
	tb.do(chromedp.NavigateBack(), chromedp.Sleep(300*time.Millisecond), chromedp.WaitVisible(css("[data-testid=contacts]")))
	if got := tb.text("[data-testid=contacts] tbody tr:first-child td:first-child"); got != "Zoë Zimmer" {
		t.Errorf("after back: first row %q, location %s", got, tb.location())
	}
	// Search as you type.
	tb.do(
		chromedp.SendKeys(css("[data-testid=search]"), "zimmer"),
		waitURL(tb, "q=zimmer"),
		chromedp.WaitNotPresent(css("[data-testid=contacts] tbody tr:nth-child(2)")),
	)
	if got := tb.text("[data-testid=contacts] tbody"); !strings.Contains(got, "Zoë Zimmer") {
		t.Errorf("search result %q", got)
	}
	tb.shot("12-contacts-search")

	// Add a deal for her from the deals page.
	tb.do(
		chromedp.Navigate(srv.URL+"/deals"),
		chromedp.Click(css("[data-testid=add-deal] summary")),
		chromedp.SendKeys(css(".add-form input[name=name]"), "Zimmer rollout"),
		chromedp.SendKeys(css(".add-form [data-testid=contact-search]"), "zoe"),
		chromedp.WaitReady(css(`.add-form [data-testid=contact-select] option[value]:not([value=""])`)),
		chromedp.SendKeys(css(".add-form input[name=goal]"), "12,500.00"),
		chromedp.Click(css("[data-testid=add-deal-submit]")),
		chromedp.WaitVisible(css("[data-testid=deal-row]")),
	)
	// Closed Won without an amount is refused with a message.
	tb.do(
		chromedp.Click(css("[data-testid=deal-row] [data-testid=edit]")),
		chromedp.WaitVisible(css("[data-testid=deal-edit-row]")),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=stage-select]"), "Closed Won"),
		chromedp.Click(css("[data-testid=deal-edit-row] [data-testid=save]")),
		chromedp.WaitVisible(css("[data-testid=deal-edit-row] [data-testid=error-amount]")),
	)
	if got := tb.text("[data-testid=error-amount]"); !strings.Contains(got, "amount above zero") {
		t.Errorf("amount message %q", got)
	}
	tb.shot("13-deal-closed-won-refused")
	tb.do(
		chromedp.SendKeys(css("[data-testid=deal-edit-row] [data-testid=amount]"), "11,900.50"),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=stage-select]"), "Closed Won"),
		chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=close-date]"), time.Now().Format("2006-01-02")),
		chromedp.Click(css("[data-testid=deal-edit-row] [data-testid=save]")),
		chromedp.WaitNotPresent(css("[data-testid=deal-edit-row]")),
	)
	if got := tb.text("[data-testid=deal-row]"); !strings.Contains(got, "Closed Won") || !strings.Contains(got, "€11,900.50") {
		t.Errorf("closed deal row %q", got)
	}
	tb.shot("14-deals-table")

	// Notes on her page.
	tb.do(
		chromedp.Navigate(srv.URL+"/contacts?q=zimmer"),
		chromedp.Click(css("[data-testid=contact-row] td a")),
		chromedp.WaitVisible(css("[data-testid=contact-name]")),
		chromedp.Click(css("[data-testid=tab-notes]")),
		chromedp.WaitVisible(css("[data-testid=note-body]")),
		chromedp.SendKeys(css("[data-testid=note-body]"), "Met at the trade fair; wants a pilot in March."),
		chromedp.Click(css("[data-testid=add-note]")),
		chromedp.WaitVisible(css("[data-testid=note]")),
	)
	tb.shot("15-contact-page-notes")
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("window.confirm = function () { return true; }; true")); err != nil {
		t.Fatal(err)
	}
	tb.do(
		chromedp.Click(css("[data-testid=remove-note]")),
		chromedp.WaitVisible(css("[data-testid=no-notes]")),
		chromedp.Click(css("[data-testid=tab-activity]")),
		chromedp.WaitVisible(css("[data-testid=activity]")),
	)
	if got := tb.text("[data-testid=activity-list]"); !strings.Contains(got, "Note") {
		t.Errorf("activity tab %q", got)
	}
	tb.shot("16-contact-page-activity")
}

// waitURL waits until the address bar contains part (htmx pushes it).
func waitURL(tb *tab, part string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				return err
			}
			if strings.Contains(loc, part) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("URL never contained %q (last %s)", part, loc)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}
