package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// axe-core from the npm registry (npm pack axe-core, version 4.14.1, MPL
// 2.0, see testdata/axe-LICENSE.txt), injected into each page by the test;
// the app itself never serves it.
const axeFile = "testdata/axe-4.14.1.min.js"

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
		Fail   string `json:"failureSummary"`
	} `json:"nodes"`
}

// axeCheck runs axe-core on the page as it is now and fails the test for
// each violation, naming the page, the rule and the elements.
func axeCheck(t *testing.T, tb *tab, page string) {
	t.Helper()
	src, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src)+";undefined")); err != nil {
		t.Fatalf("%s: inject axe: %v", page, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe: %v", page, err)
	}
	tb.shot("axe-" + strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(page))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe result %s: %v", page, out, err)
	}
	for _, v := range vs {
		var nodes []string
		for i, n := range v.Nodes {
			if i == 4 {
				nodes = append(nodes, fmt.Sprintf("… %d more", len(v.Nodes)-4))
				break
			}
			nodes = append(nodes, fmt.Sprintf("%v %.160s (%s)", n.Target, n.HTML, strings.ReplaceAll(n.Fail, "\n", " ")))
		}
		t.Errorf("%s: axe %s (%s): %s\n    %s", page, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n    "))
	}
}

// TestAxeOnEveryMainPage: no axe-core violations on the login and signup
// pages, the dashboard, the tables (with an edit row open), a contact's
// page on each tab and with its edit open, a deal's page, the board, the
// team, the profile, the importer and the search, at 1280 and 390 px.
func TestAxeOnEveryMainPage(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()

	tb.do(chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(css("form")))
	axeCheck(t, tb, "login")
	tb.do(chromedp.Navigate(srv.URL+"/signup"), chromedp.WaitVisible(css("form")))
	axeCheck(t, tb, "signup")

	tb.do(signUpOwnerSteps(srv.URL)...)
	ctx := context.Background()
	owner := userByEmail(t, srv.St, "olga@example.com")
	ann, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{Name: "Ann Archer", Email: "ann@example.com", Company: "Archery Ltd", OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	deal, err := srv.St.CreateDeal(ctx, owner.TeamID, owner, store.DealInput{Name: "Archery pilot", Goal: "1,000", ContactID: ann.ID, OwnerID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.St.CreateDeal(ctx, owner.TeamID, owner, store.DealInput{Name: "Archery won", Amount: "500", Stage: "Closed Won", ContactID: ann.ID}); err != nil {
		t.Fatal(err)
	}
	contactURL := fmt.Sprintf("%s/contacts/%d", srv.URL, ann.ID)
	dealURL := fmt.Sprintf("%s/deals/%d", srv.URL, deal.ID)

	for _, width := range []int64{1280, 390} {
		w := fmt.Sprintf(" at %d px", width)
		tb.do(chromedp.EmulateViewport(width, 900))
		tb.do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(css("main")), chromedp.Sleep(300*time.Millisecond))
		axeCheck(t, tb, "dashboard"+w)
		tb.do(chromedp.Navigate(srv.URL+"/contacts"), chromedp.WaitVisible(css("[data-testid=contacts]")))
		axeCheck(t, tb, "contacts"+w)
		tb.do(
			chromedp.Click(css("[data-testid=add-contact] summary")),
			chromedp.Click(css("[data-testid=contact-row] [data-testid=edit]")),
			chromedp.WaitVisible(css("[data-testid=contact-edit-row]")),
		)
		if width > 720 {
			tb.do(chromedp.Click(css("[data-testid=column-chooser] summary")))
		}
		axeCheck(t, tb, "contacts with the add form, an edit row and the column chooser open"+w)
		tb.do(chromedp.Navigate(srv.URL+"/deals"), chromedp.WaitVisible(css("[data-testid=deals]")))
		axeCheck(t, tb, "deals"+w)
		tb.do(
			chromedp.Click(css("[data-testid=add-deal] summary")),
			chromedp.Click(css("[data-testid=deal-row] [data-testid=edit]")),
			chromedp.WaitVisible(css("[data-testid=deal-edit-row]")),
			chromedp.SetValue(css("[data-testid=deal-edit-row] [data-testid=stage-select]"), "Closed Lost"),
		)
		axeCheck(t, tb, "deals with the add form and an edit row (closing fields) open"+w)
		tb.do(chromedp.Navigate(contactURL), chromedp.WaitVisible(css("[data-testid=activity-list]")))
		axeCheck(t, tb, "contact page, activity"+w)
		for _, tab := range []string{"notes", "emails", "tasks", "meetings"} {
			tb.do(chromedp.Click(css("[data-testid=tab-"+tab+"]")), waitURL(tb, "tab="+tab), chromedp.WaitNotPresent(css("#tab-panel [aria-busy=true]")), chromedp.Sleep(200*time.Millisecond))
			axeCheck(t, tb, "contact page, "+tab+w)
		}
		tb.do(chromedp.Click(css("[data-testid=edit-details]")), chromedp.WaitVisible(css("[data-testid=contact-details-edit]")))
		axeCheck(t, tb, "contact page, editing"+w)
		tb.do(chromedp.Navigate(dealURL), chromedp.WaitVisible(css("[data-testid=deal-facts]")))
		axeCheck(t, tb, "deal page"+w)
		tb.do(chromedp.Click(css("[data-testid=edit-details]")), chromedp.WaitVisible(css("[data-testid=deal-details-edit]")))
		axeCheck(t, tb, "deal page, editing"+w)
		tb.do(chromedp.Navigate(srv.URL+"/deals/board"), chromedp.WaitVisible(css("main")), chromedp.Sleep(300*time.Millisecond))
		axeCheck(t, tb, "board"+w)
		tb.do(chromedp.Navigate(srv.URL+"/team"), chromedp.WaitVisible(css("[data-testid=members]")))
		axeCheck(t, tb, "team"+w)
		tb.do(chromedp.Navigate(srv.URL+"/profile"), chromedp.WaitVisible(css("main form")))
		axeCheck(t, tb, "profile"+w)
		tb.do(chromedp.Navigate(srv.URL+"/imports/new?kind=contacts"), chromedp.WaitVisible(css("main form")))
		axeCheck(t, tb, "import"+w)
		tb.do(chromedp.Navigate(srv.URL+"/search?q=archery"), chromedp.WaitVisible(css("[data-testid=search-deals]")))
		axeCheck(t, tb, "search page"+w)
		tb.do(
			chromedp.Navigate(srv.URL+"/deals"),
			chromedp.WaitVisible(css("[data-testid=deals]")),
			chromedp.SendKeys(css("#global-search-q"), "arch"),
			chromedp.WaitVisible(css("[data-testid=gs-deal]")),
		)
		axeCheck(t, tb, "top bar search results"+w)
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
}
