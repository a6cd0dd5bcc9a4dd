package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sherpa/handlers"
	"sherpa/store"
)

// addTeammate makes an account in the owner's team, straight through the
// store, and returns its email (password "a long enough password").
func addTeammate(t *testing.T, st *store.Store, owner *store.User, name, email string) *store.User {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, name, email, handlers.HashPassword(handlers.PasswordParams{Memory: 1024, Time: 1, Threads: 1}, "a long enough password"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := st.CreateInvitation(ctx, owner.TeamID, owner.ID, email, "hash-"+email, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcceptInvitation(ctx, inv.TokenHash, u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func logInSteps(base, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/login"),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), "a long enough password"),
		chromedp.Click(css("[data-testid=login-submit]")),
		chromedp.WaitVisible(css("[data-testid=dashboard]")),
	}
}

// seedCustomers adds n contacts to the owner's team, a third at each of
// Globex, Initech and Umbrella.
func seedCustomers(t *testing.T, st *store.Store, owner *store.User, n int) {
	t.Helper()
	for i := range n {
		if _, err := st.CreateContact(context.Background(), owner.TeamID, owner, store.ContactInput{
			Name: fmt.Sprintf("Customer %02d", i), Email: fmt.Sprintf("customer%02d@example.com", i),
			Company: []string{"Globex", "Initech", "Umbrella"}[i%3],
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSharedViewJourney: the owner filters the contacts with the filter
// form, saves the filter as a view shared with the team; a teammate logs in,
// finds it as a tab beside All / Mine / Unassigned and opens it.
func TestSharedViewJourney(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	olga := b.tab()
	olga.do(signUpOwnerSteps(srv.URL)...)
	owner := userByEmail(t, srv.St, "olga@example.com")
	seedCustomers(t, srv.St, owner, 30)
	addTeammate(t, srv.St, owner, "Bob Buyer", "bob@example.com")

	olga.do(
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.WaitVisible(css("[data-testid=contacts]")),
		chromedp.Click(css("[data-testid=filters] summary")),
		chromedp.SendKeys(css("[data-testid=filter-form] input[name=company]"), "Initech"),
		chromedp.Click(css("[data-testid=filter-apply]")),
		waitURL(olga, "company=Initech"),
		chromedp.WaitVisible(css("[data-testid=filter-count]")),
	)
	if got := olga.text("[data-testid=contacts] tbody"); strings.Contains(got, "Globex") || !strings.Contains(got, "Initech") {
		t.Fatalf("filtered rows:\n%s", got)
	}
	olga.shot("20-contacts-filtered")
	olga.do(
		chromedp.Click(css("[data-testid=save-view] summary")),
		chromedp.SendKeys(css("[data-testid=save-view-name]"), "Initech accounts"),
		chromedp.Click(css("[data-testid=save-view-shared]")),
		chromedp.Click(css("[data-testid=save-view-submit]")),
		waitURL(olga, "saved="),
		chromedp.WaitVisible(css("[data-testid=saved-tabs] a[aria-current=page]")),
	)
	olga.shot("21-view-saved")

	bob := b.tab()
	bob.do(logInSteps(srv.URL, "bob@example.com")...)
	bob.do(
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.WaitVisible(css("[data-testid=saved-tabs] a")),
	)
	if got := bob.text("[data-testid=saved-tabs]"); !strings.Contains(got, "Initech accounts") {
		t.Fatalf("Bob's saved tabs: %q", got)
	}
	bob.do(
		chromedp.Click(css("[data-testid=saved-tabs] a")),
		waitURL(bob, "saved="),
		chromedp.WaitVisible(css("[data-testid=saved-tabs] a[aria-current=page]")),
	)
	rows := bob.text("[data-testid=contacts] tbody")
	if strings.Contains(rows, "Globex") || strings.Count(rows, "Initech") != 10 {
		t.Errorf("the shared view shows Bob:\n%s", rows)
	}
	if !strings.Contains(bob.location(), "company=Initech") {
		t.Errorf("Bob's URL %s lacks the filter", bob.location())
	}
	// Bob may not edit the owner's shared view.
	if n, _ := chromedp.Run(bob.ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=edit-view]").length`)); n != 0 {
		t.Error("a member is offered to edit a shared view")
	}
	bob.shot("22-teammate-opens-shared-view")
}

// TestBulkAssignWithUndo: the owner ticks a row, shift-clicks a range,
// assigns them to a teammate, watches the job finish and undoes it; then
// selects all rows matching a filter and assigns those.
func TestBulkAssignWithUndo(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(signUpOwnerSteps(srv.URL)...)
	owner := userByEmail(t, srv.St, "olga@example.com")
	seedCustomers(t, srv.St, owner, 30)
	bob := addTeammate(t, srv.St, owner, "Bob Buyer", "bob@example.com")
	ctx := context.Background()

	shiftClick := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			nodes, err := chromedp.Run(ctx, chromedp.Nodes(css(sel)))
			if err != nil || len(nodes) == 0 {
				return fmt.Errorf("no %s: %v", sel, err)
			}
			_, err = chromedp.Run(ctx, chromedp.MouseClickNode(nodes[0], chromedp.ButtonModifiers(chromedp.ModifierShift)))
			return err
		})
	}
	row := func(i int) string {
		return fmt.Sprintf("[data-testid=contacts] tbody tr:nth-child(%d) [data-testid=bulk-row]", i)
	}
	tb.do(
		chromedp.Navigate(srv.URL+"/contacts?sort=name"),
		chromedp.WaitVisible(css("[data-testid=bulk-bar]")),
		chromedp.Click(css(row(2))),
		shiftClick(row(5)),
	)
	tb.shot("29-bulk-range")
	if got := tb.text("[data-testid=bulk-count]"); got != "4 rows selected" {
		t.Fatalf("after a shift-click range: %q", got)
	}
	tb.do(
		chromedp.SetValue(css("[data-testid=bulk-action]"), "assign"),
		chromedp.SetValue(css("[data-testid=bulk-owner]"), fmt.Sprint(bob.ID)),
	)
	tb.shot("30-bulk-selected")
	tb.do(
		chromedp.Click(css("[data-testid=bulk-apply]")),
		chromedp.WaitVisible(css("[data-testid=bulk-job][data-status=done]")),
	)
	if got := tb.text("[data-testid=bulk-job-counts]"); !strings.HasPrefix(got, "4 changed") {
		t.Errorf("job counts %q", got)
	}
	assigned := func() []string {
		p, err := srv.St.ListContacts(ctx, owner.TeamID, store.ContactQuery{View: store.ViewMine, UserID: bob.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range p.Rows {
			names = append(names, c.Name)
		}
		return names
	}
	if got := strings.Join(assigned(), ","); got != "Customer 01,Customer 02,Customer 03,Customer 04" {
		t.Errorf("Bob's contacts: %s", got)
	}
	tb.shot("31-bulk-done")
	tb.do(
		chromedp.Click(css("[data-testid=bulk-undo]")),
		chromedp.WaitVisible(css("[data-testid=bulk-undone]")),
	)
	if got := assigned(); len(got) != 0 {
		t.Errorf("after undo Bob still has %v", got)
	}
	tb.shot("32-bulk-undone")

	// All matching a filter.
	tb.do(
		chromedp.Navigate(srv.URL+"/contacts?company=Umbrella"),
		chromedp.WaitVisible(css("[data-testid=bulk-bar]")),
		chromedp.Click(css("[data-testid=bulk-select-all]")),
		chromedp.WaitVisible(css("[data-testid=bulk-all-count]")),
	)
	if got := tb.text("[data-testid=bulk-all-count]"); got != "10" {
		t.Errorf("all matching: %q", got)
	}
	tb.do(
		chromedp.SetValue(css("[data-testid=bulk-action]"), "assign"),
		chromedp.SetValue(css("[data-testid=bulk-owner]"), fmt.Sprint(bob.ID)),
		chromedp.Click(css("[data-testid=bulk-apply]")),
		chromedp.WaitVisible(css("[data-testid=bulk-job][data-status=done]")),
	)
	if got := assigned(); len(got) != 10 {
		t.Errorf("Bob has %d contacts after assigning all Umbrella ones", len(got))
	}
}
