package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// TestImportJourney: upload a generated CSV from the contacts table, map a
// column the importer did not recognise, preview the dry run, import with
// the progress bar, fetch the rejected-rows report and undo the import.
func TestImportJourney(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(signUpOwnerSteps(srv.URL)...)
	owner := userByEmail(t, srv.St, "olga@example.com")

	const rows, bad = 8000, 3
	var f strings.Builder
	f.WriteString("Full Name;E-mail;Handy;Firma\n") // semicolons, and a phone header it does not know
	for i := 0; i < rows; i++ {
		email := fmt.Sprintf("kunde%d@example.de", i)
		if i < bad {
			email = "kaputt-" + fmt.Sprint(i)
		}
		fmt.Fprintf(&f, "Kunde %d;%s;+49 30 %06d;Firma %d\n", i, email, i, i%50)
	}
	path := filepath.Join(t.TempDir(), "kunden.csv")
	if err := os.WriteFile(path, []byte(f.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	tb.do(
		chromedp.Navigate(srv.URL+"/contacts"),
		chromedp.Click(css("[data-testid=import-contacts]")),
		chromedp.WaitVisible(css("[data-testid=import-file]")),
		chromedp.SetUploadFiles(css("[data-testid=import-file]"), []string{path}),
		chromedp.Click(css("[data-testid=import-upload]")),
		chromedp.WaitVisible(css("[data-testid=mapping-form]")),
	)
	if got := tb.text("[data-testid=import-detected]"); !strings.Contains(got, "separated by semicolons") || !strings.Contains(got, "UTF-8") {
		t.Fatalf("detected: %q", got)
	}
	tb.shot("import-mapping")
	tb.do(
		chromedp.SetValue(css("[data-testid=map-col2]"), "phone"),
		chromedp.Click(css("[data-testid=import-preview]")),
		chromedp.WaitVisible(css("[data-testid=import-preview-result]")),
	)
	if got := tb.text("[data-testid=preview-create]"); got != "7,997" {
		t.Fatalf("preview create %q", got)
	}
	if got := tb.text("[data-testid=preview-reject]"); got != "3" {
		t.Fatalf("preview reject %q", got)
	}
	tb.shot("import-preview")
	n, _ := srv.St.DB.NewSelect().Model((*store.Contact)(nil)).Where("team_id = ?", owner.TeamID).Count(context.Background())
	if n != 0 {
		t.Fatalf("the dry run wrote %d contacts", n)
	}
	tb.do(
		chromedp.Click(css("[data-testid=import-start]")),
		chromedp.WaitVisible(css("[data-testid=import-bar]")),
	)
	tb.shot("import-progress")
	tb.do(chromedp.WaitVisible(css("[data-testid=import-result]")))
	if got := tb.text("[data-testid=result-created]"); got != "7,997" {
		t.Fatalf("created %q", got)
	}
	tb.shot("import-result")
	page, _ := srv.St.ListContacts(context.Background(), owner.TeamID, store.ContactQuery{Search: "kunde 4711"})
	if len(page.Rows) != 1 || page.Rows[0].Phone != "+49 30 004711" {
		t.Fatalf("imported contact not found by search: %+v", page.Rows)
	}

	// The report, as the download link fetches it.
	report, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector("[data-testid=rejects-report]").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(report), "\n")
	if len(lines) != bad+1 || !strings.HasSuffix(lines[0], ",Reason") || !strings.HasPrefix(lines[1], "Kunde 0,kaputt-0,") {
		t.Fatalf("report:\n%s", report)
	}

	tb.do(
		chromedp.Click(css("[data-testid=import-undo]")),
		chromedp.WaitVisible(css("[data-testid=undo-done]")),
	)
	tb.shot("import-undone")
	n, _ = srv.St.DB.NewSelect().Model((*store.Contact)(nil)).Where("team_id = ?", owner.TeamID).Count(context.Background())
	if n != 0 {
		t.Fatalf("%d contacts left after undo", n)
	}
}
