package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var inviteLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/invites/[A-Za-z0-9_-]+`)

// TestTeamInvitationJourney: two people sign up, one creates a team and
// invites the other by email, the other accepts through the emailed link, and
// both appear on the team page.
func TestTeamInvitationJourney(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)

	olga := b.tab()
	olga.do(
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.SendKeys(css("#name"), "Olga Owner"),
		chromedp.SendKeys(css("#email"), "olga@example.com"),
		chromedp.SendKeys(css("#password"), "a long enough password"),
	)
	olga.shot("01-signup")
	olga.do(
		chromedp.Click(css("[data-testid=signup-submit]")),
		chromedp.WaitVisible(css("[data-testid=create-team-link]")),
	)
	olga.shot("02-no-team-home")
	olga.do(
		chromedp.Click(css("[data-testid=create-team-link]")),
		chromedp.WaitVisible(css("#name")),
		chromedp.SendKeys(css("#name"), "Acme Sales"),
		chromedp.Click(css("[data-testid=create-team-submit]")),
		chromedp.WaitVisible(css("[data-testid=members]")),
		chromedp.SendKeys(css("#invite-email"), "bob@example.com"),
		chromedp.Click(css("[data-testid=invite-submit]")),
		chromedp.WaitVisible(css("[data-testid=invitation-bob\\@example\\.com]")),
	)
	if got := olga.text("[data-testid=flash]"); !strings.Contains(got, "Invitation sent to bob@example.com") {
		t.Errorf("flash after invite: %q", got)
	}
	olga.shot("03-team-with-pending-invite")

	msgs := srv.SMTP.Wait(1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d emails arrived", len(msgs))
	}
	link := inviteLink.FindString(strings.ReplaceAll(msgs[0].Data, "=\r\n", ""))
	if link == "" {
		t.Fatalf("no invitation link in the email:\n%s", msgs[0].Data)
	}

	bob := b.tab()
	bob.do(
		chromedp.Navigate(link),
		chromedp.WaitVisible(css("[data-testid=invite-signup]")),
	)
	bob.shot("04-invite-logged-out")
	bob.do(
		chromedp.Click(css("[data-testid=invite-signup]")),
		chromedp.WaitVisible(css("#name")),
	)
	if email, _ := chromedp.Run(bob.ctx, chromedp.Value(css("#email"))); email != "bob@example.com" {
		t.Errorf("signup email prefilled with %q", email)
	}
	bob.do(
		chromedp.SendKeys(css("#name"), "Bob Buyer"),
		chromedp.SendKeys(css("#password"), "another long password"),
		chromedp.Click(css("[data-testid=signup-submit]")),
		chromedp.WaitVisible(css("[data-testid=invite-accept]")),
	)
	bob.shot("05-invite-logged-in")
	bob.do(
		chromedp.Click(css("[data-testid=invite-accept]")),
		chromedp.WaitVisible(css("[data-testid=members]")),
	)
	members := bob.text("[data-testid=members]")
	for _, want := range []string{"Olga Owner", "olga@example.com", "Owner", "Bob Buyer", "bob@example.com", "Member"} {
		if !strings.Contains(members, want) {
			t.Errorf("Bob's team page lacks %q:\n%s", want, members)
		}
	}
	bob.shot("06-team-page-member")

	olga.do(chromedp.Navigate(srv.URL+"/team"), chromedp.WaitVisible(css("[data-testid=member-bob\\@example\\.com]")))
	if olga.text("[data-testid=no-invitations]") != "None." {
		t.Errorf("the accepted invitation is still pending")
	}
	olga.shot("07-team-page-owner")
	if loc := olga.location(); !strings.HasSuffix(loc, "/team") {
		t.Errorf("owner at %s", loc)
	}
}
