package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sherpa/store"
)

// seedLists fills Olga's team with contacts and deals whose values are
// long enough to need cutting at 1280 px.
func seedLists(t *testing.T, srv *server) *store.User {
	t.Helper()
	ctx := context.Background()
	owner := userByEmail(t, srv.St, "olga@example.com")
	var first *store.Contact
	for i := 0; i < 12; i++ {
		c, err := srv.St.CreateContact(ctx, owner.TeamID, owner, store.ContactInput{
			Name:    fmt.Sprintf("Maximiliane Wolkenstein-Rabenhorst %02d", i),
			Email:   fmt.Sprintf("maximiliane.wolkenstein-rabenhorst.%02d@very-long-company-domain.example", i),
			Company: "Internationale Handelsgesellschaft für Bergbauausrüstung mbH", Phone: fmt.Sprintf("+49 30 1234 56%02d", i),
			OwnerID: owner.ID,
		})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c
		}
	}
	for i := 0; i < 6; i++ {
		if _, err := srv.St.CreateDeal(ctx, owner.TeamID, owner, store.DealInput{
			Name: fmt.Sprintf("Framework agreement for the northern region mines %d", i), Goal: "123,456,789.00",
			Amount: "98,765,432.10", CloseDate: "2026-12-20", ContactID: first.ID, OwnerID: owner.ID,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return owner
}

// fitReport measures the table sel: sideways scrolling, cells or controls
// outside it, cut text without its full value in a title, and at phone width
// values without their label. An empty list means it all fits.
func fitReport(tb *tab, sel string) []string {
	tb.t.Helper()
	js := fmt.Sprintf(`(() => {
  const t = document.querySelector(%q);
  if (!t) return ["no table " + %q];
  const out = [];
  const wrap = t.closest(".table-scroll");
  if (t.scrollWidth !== t.clientWidth) out.push("table scrollWidth " + t.scrollWidth + " != clientWidth " + t.clientWidth);
  if (wrap && wrap.scrollWidth !== wrap.clientWidth) out.push("scroll box scrollWidth " + wrap.scrollWidth + " != clientWidth " + wrap.clientWidth);
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth) out.push("page scrolls sideways: " + de.scrollWidth + " > " + de.clientWidth);
  const tr = t.getBoundingClientRect();
  // Rows do not overlap, and nothing in a row spills below it.
  const rows = [...t.querySelectorAll("tbody tr")].filter(r => r.getClientRects().length > 0);
  rows.forEach((r, i) => {
    const rb = r.getBoundingClientRect();
    if (i + 1 < rows.length && rb.bottom > rows[i + 1].getBoundingClientRect().top + 0.5) out.push("row " + i + " overlaps the next");
    r.querySelectorAll("form, input, select, button, a").forEach(el => {
      const e = el.getBoundingClientRect();
      if (e.height > 0 && e.bottom > rb.bottom + 0.5) out.push("spills out of row " + i + ": " + el.outerHTML.slice(0, 80));
    });
  });
  const phone = window.innerWidth < 720;
  t.querySelectorAll("thead th, tbody td").forEach(td => {
    if (td.getClientRects().length === 0) return;
    const b = td.getBoundingClientRect();
    const what = (td.textContent || "").trim().slice(0, 40);
    if (b.left < tr.left - 0.5 || b.right > tr.right + 0.5) out.push("cell outside the table: " + what);
    td.querySelectorAll("a, button, select, input").forEach(el => {
      const e = el.getBoundingClientRect();
      if (e.width === 0 || el.closest("td.col-actions") === null) return;
      if (e.right > b.right + 0.5 || e.left < b.left - 0.5) out.push("control cut: " + (el.textContent || "").trim());
    });
    [td, ...td.querySelectorAll("*")].forEach(el => {
      if (el.closest(".visually-hidden")) return;
      if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1) return;
      const text = (el.textContent || "").trim();
      const titled = [el, ...el.querySelectorAll("[title]")].some(x => x.title === text) || (el.closest("[title]") && el.closest("[title]").title === text);
      if (!titled) out.push("cut without its full value: " + el.outerHTML.slice(0, 300) + " " + el.scrollWidth + ">" + el.clientWidth);
    });
    if (phone && td.tagName === "TD" && !td.classList.contains("col-actions") && !td.closest("tr.editing")) {
      const label = getComputedStyle(td, "::before").content;
      if (!label || label === "none" || label === '""') out.push("value without a label: " + what);
    }
  });
  return out;
})()`, sel, sel)
	ctx, cancel := context.WithTimeout(tb.ctx, 10e9)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		tb.t.Fatalf("measure %s: %v", sel, err)
	}
	return out
}

// viewShot saves what the screen shows (the viewport, not the whole page).
func viewShot(tb *tab, name string) {
	tb.t.Helper()
	os.MkdirAll("screenshots", 0o755)
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join("screenshots", name+".png"), png, 0o644)
}

func evalJSON(tb *tab, js string, v any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10e9)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("JSON.stringify("+js+")"))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		tb.t.Fatalf("decode %s: %v", s, err)
	}
}

// TestListsFitTheScreen: at 1280 px both tables are exactly as wide as
// their box with long values cut (full value in the title), the edit row
// included; at 390 px every value carries its label, the search box is wide
// enough to use and the sort is a select.
func TestListsFitTheScreen(t *testing.T) {
	srv := startServer(t)
	b := startBrowser(t)
	tb := b.tab()
	tb.do(signUpOwnerSteps(srv.URL)...)
	seedLists(t, srv)

	for _, list := range []string{"contacts", "deals"} {
		tb.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/"+list), chromedp.WaitVisible(css("[data-testid="+list+"]")))
		if p := fitReport(tb, "[data-testid="+list+"]"); len(p) > 0 {
			t.Errorf("%s at 1280 px: %s", list, strings.Join(p, "; "))
		}
		var sortShown bool
		evalJSON(tb, `getComputedStyle(document.querySelector("[data-testid=sort-select]")).display !== "none" && document.querySelector("[data-testid=sort-select]").offsetParent !== null`, &sortShown)
		if sortShown {
			t.Errorf("%s at 1280 px: the sort select shows beside the sortable headers", list)
		}
		tb.shot("40-" + list + "-1280")
		if list == "contacts" {
			// The column chooser: Email off, kept after a reload, then the
			// defaults again.
			tb.do(
				chromedp.Click(css("[data-testid=column-chooser] summary")),
				chromedp.WaitVisible(css("[data-testid=col-email]")),
			)
			tb.shot("40-contacts-1280-columns")
			tb.do(
				chromedp.Click(css("[data-testid=col-email]")),
				chromedp.WaitNotPresent(css("[data-testid=contacts] [data-testid=sort-email]")),
				chromedp.Navigate(srv.URL+"/contacts"),
				chromedp.WaitVisible(css("[data-testid=contacts]")),
			)
			var emails int
			evalJSON(tb, `document.querySelectorAll("[data-testid=sort-email]").length`, &emails)
			if emails != 0 {
				t.Errorf("Email came back after a reload")
			}
			tb.do(
				chromedp.Click(css("[data-testid=column-chooser] summary")),
				chromedp.Click(css("[data-testid=columns-reset]")),
				chromedp.WaitVisible(css("[data-testid=contacts] [data-testid=sort-email]")),
				// htmx binds the new table's buttons when the swap settles
				// (20 ms later): a click before that does nothing.
				chromedp.WaitNotPresent(css(".htmx-settling")),
			)
			// Next step shows at 1280 px by default.
			var nextStep bool
			evalJSON(tb, `document.querySelector("[data-testid=contacts] [data-testid=sort-next_step]")?.offsetParent != null`, &nextStep)
			if !nextStep {
				t.Errorf("no Next step column at 1280 px")
			}
		}
		// The edit row fits as well.
		tb.do(
			chromedp.Click(css("[data-testid="+list+"] tbody tr:first-child [data-testid=edit]")),
			chromedp.WaitVisible(css("tr.editing input[name=name]")),
		)
		if p := fitReport(tb, "[data-testid="+list+"]"); len(p) > 0 {
			t.Errorf("%s edit row at 1280 px: %s", list, strings.Join(p, "; "))
		}
		var editGap float64
		evalJSON(tb, `document.querySelector("[data-testid=`+list+`]").getBoundingClientRect().right - Math.max(...[...document.querySelectorAll("tr.editing td")].filter(td => td.getClientRects().length > 0).map(td => td.getBoundingClientRect().right))`, &editGap)
		if editGap > 1 {
			t.Errorf("%s edit row at 1280 px ends %.0f px before the table's edge", list, editGap)
		}
		tb.shot("41-" + list + "-1280-edit")

		// Wider screens show more columns (Created or Updated), still fitting.
		tb.do(chromedp.EmulateViewport(1700, 900), chromedp.Navigate(srv.URL+"/"+list), chromedp.WaitVisible(css("[data-testid="+list+"]")))
		var wide, narrow int
		evalJSON(tb, `[...document.querySelectorAll("[data-testid=`+list+`] thead th")].filter(th => th.getClientRects().length > 0).length`, &wide)
		if p := fitReport(tb, "[data-testid="+list+"]"); len(p) > 0 {
			t.Errorf("%s at 1700 px: %s", list, strings.Join(p, "; "))
		}
		tb.do(
			chromedp.Click(css("[data-testid="+list+"] tbody tr:first-child [data-testid=edit]")),
			chromedp.WaitVisible(css("tr.editing input[name=name]")),
		)
		evalJSON(tb, `document.querySelector("[data-testid=`+list+`]").getBoundingClientRect().right - Math.max(...[...document.querySelectorAll("tr.editing td")].filter(td => td.getClientRects().length > 0).map(td => td.getBoundingClientRect().right))`, &editGap)
		if editGap > 1 {
			t.Errorf("%s edit row at 1700 px ends %.0f px before the table's edge", list, editGap)
		}
		tb.do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/"+list), chromedp.WaitVisible(css("[data-testid="+list+"]")))
		evalJSON(tb, `[...document.querySelectorAll("[data-testid=`+list+`] thead th")].filter(th => th.getClientRects().length > 0).length`, &narrow)
		if wide <= narrow {
			t.Errorf("%s: %d columns at 1700 px, %d at 1280 px", list, wide, narrow)
		}

		tb.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/"+list), chromedp.WaitVisible(css("[data-testid="+list+"]")))
		if p := fitReport(tb, "[data-testid="+list+"]"); len(p) > 0 {
			t.Errorf("%s at 390 px: %s", list, strings.Join(p, "; "))
		}
		var phone struct {
			Labels      []string
			SearchWidth float64
			SortVisible bool
		}
		evalJSON(tb, `({
			Labels: [...document.querySelectorAll("tbody tr:first-child td")].filter(td => getComputedStyle(td).display !== "none").map(td => getComputedStyle(td, "::before").content.replace(/^"|"$/g, "")),
			SearchWidth: document.querySelector("[data-testid=search]").getBoundingClientRect().width,
			SortVisible: document.querySelector("[data-testid=sort-select]").offsetParent !== null,
		})`, &phone)
		want := map[string][]string{"contacts": {"Name", "Email", "Company", "Status", "Owner"}, "deals": {"Deal", "Contact", "Stage", "Goal", "Amount", "Owner"}}[list]
		for _, w := range want {
			if !strings.Contains(strings.Join(phone.Labels, "|"), w) {
				t.Errorf("%s at 390 px: no %q label among %q", list, w, phone.Labels)
			}
		}
		if phone.SearchWidth < 300 {
			t.Errorf("%s at 390 px: search box only %.0f px wide", list, phone.SearchWidth)
		}
		if !phone.SortVisible {
			t.Errorf("%s at 390 px: no sort select", list)
		}
		tb.shot("42-" + list + "-390")
		viewShot(tb, "42-"+list+"-390-screen")
		tb.do(
			chromedp.Click(css("[data-testid="+list+"] tbody tr:first-child [data-testid=edit]")),
			chromedp.WaitVisible(css("tr.editing input[name=name]")),
		)
		if p := fitReport(tb, "[data-testid="+list+"]"); len(p) > 0 {
			t.Errorf("%s edit row at 390 px: %s", list, strings.Join(p, "; "))
		}
		tb.shot("42-" + list + "-390-edit")
		tb.do(chromedp.Navigate(srv.URL+"/"+list), chromedp.WaitVisible(css("[data-testid="+list+"]")))
		// Sorting with the select: by name, descending.
		// (SetValue fires input and change, as a person choosing does.)
		tb.do(
			chromedp.SetValue(css("[data-testid=sort-select]"), "name"),
			waitURL(tb, "sort=name&dir=asc"),
			chromedp.WaitReady(css(`[data-testid=sort-select] option[value=name][selected]`)),
			chromedp.SetValue(css("[data-testid=sort-dir]"), "desc"),
			waitURL(tb, "sort=name&dir=desc"),
		)
	}
	tb.do(chromedp.EmulateViewport(1280, 900))
}
