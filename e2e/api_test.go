package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// TestAPIKeysAndWebhooksPages: the owner makes an API key on the profile
// page (shown once), and sees an endpoint's delivery log with Redeliver on
// the team page, at desktop and phone widths.
func TestAPIKeysAndWebhooksPages(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	olga := b.tab()
	olga.do(signUpOwnerSteps(srv.URL)...)
	olga.do(
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/profile"),
		chromedp.WaitVisible(css("[data-testid=api-key-form]")),
		chromedp.SendKeys(css("#api-key-name"), "Zapier"),
		chromedp.Click(css(`input[name=scope][value=write]`)),
		chromedp.Click(css("[data-testid=create-api-key]")),
		chromedp.WaitVisible(css("[data-testid=new-api-key]")),
	)
	olga.shot("api-01-new-key")
	token, err := chromedp.Run(olga.ctx, chromedp.Value(css("[data-testid=new-api-key]")))
	if err != nil || !strings.HasPrefix(token, "sherpa_") {
		t.Fatalf("token %q: %v", token, err)
	}
	olga.do(chromedp.Navigate(srv.URL+"/profile"), chromedp.WaitVisible(css(`[data-testid="api-key-Zapier"]`)))
	if strings.Contains(olga.text("[data-testid=api-keys]"), token) {
		t.Fatal("the token is shown again")
	}
	olga.do(chromedp.EmulateViewport(390, 844))
	olga.shot("api-02-keys-phone")

	// An endpoint with a delivery in its log (added through the store: the
	// page refuses this machine's own addresses).
	ctx := context.Background()
	u := userByEmail(t, srv.St, "olga@example.com")
	if _, err := srv.St.CreateWebhookEndpoint(ctx, u.TeamID, u, "https://hooks.example.com/sherpa/incoming", store.WebhookEvents); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.St.CreateContact(ctx, u.TeamID, u, store.ContactInput{Name: "Ada", Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	olga.do(
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL+"/team#webhooks"),
		chromedp.WaitVisible(css("[data-testid=webhook-deliveries]")),
		chromedp.ScrollIntoView(css("#webhooks")),
	)
	olga.shot("api-03-webhooks")
	// The flash is on the page the redirect lands on only.
	olga.do(chromedp.Click(css("[data-testid=redeliver]")), chromedp.WaitVisible(css("[data-testid=flash]")))
	if n := strings.Count(olga.text("[data-testid=webhook-deliveries]"), "contact.created"); n != 2 {
		t.Fatalf("%d deliveries after Redeliver, want 2", n)
	}
	olga.do(chromedp.EmulateViewport(390, 844), chromedp.ScrollIntoView(css("#webhooks")))
	olga.shot("api-04-webhooks-phone")
}
