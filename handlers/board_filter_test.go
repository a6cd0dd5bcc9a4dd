package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestBoardFiltersLiveInTheURL: the board's filter (All / Mine / an owner,
// search, close-date range, stale only, the phone's stage) is read from the
// URL, shown in the filter form, carried by the poll and "Show more" URLs,
// and applied to cards and totals; values that make no sense are dropped,
// never an error.
func TestBoardFiltersLiveInTheURL(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga", "Acme")
		member, memberEmail := a.member(owner, "Mia")
		_ = member
		ownerID, miaID := a.user(ownerEmail).ID, a.user(memberEmail).ID
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		a.addDeal(owner, contactID, "name", "Olga renewal", "amount", "100", "close_date", "2026-05-10", "owner_id", strconv.FormatInt(ownerID, 10))
		a.addDeal(owner, contactID, "name", "Mia pilot", "amount", "40", "close_date", "2026-06-10", "owner_id", strconv.FormatInt(miaID, 10))
		a.addDeal(owner, contactID, "name", "Mia renewal", "amount", "7", "owner_id", strconv.FormatInt(miaID, 10))

		created := func(path string) (count, total string, names []string, r *response) {
			t.Helper()
			r = owner.get(path)
			expectStatus(t, r, http.StatusOK)
			doc := r.doc(t)
			col := doc.Find("[data-testid=col-created]")
			for _, n := range col.Find("[data-testid=card-name]").Nodes {
				names = append(names, strings.TrimSpace(n.FirstChild.Data))
			}
			return strings.TrimSpace(col.Find("[data-testid=col-count]").Text()), strings.TrimSpace(col.Find("[data-testid=col-total]").Text()), names, r
		}
		cases := []struct {
			path  string
			count string
			total string
		}{
			{"/deals/board", "3", "147.00"},
			{"/deals/board?view=mine", "1", "100.00"},
			{"/deals/board?view=owner:" + strconv.FormatInt(miaID, 10), "2", "47.00"},
			{"/deals/board?q=renewal", "2", "107.00"},
			{"/deals/board?close_from=2026-05-01&close_to=2026-05-31", "1", "100.00"},
			{"/deals/board?close_from=2026-06-01", "1", "40.00"},
			{"/deals/board?view=owner:" + strconv.FormatInt(miaID, 10) + "&q=pilot", "1", "40.00"},
			{"/deals/board?stale=1", "0", "0.00"}, // just created: nothing is stale
		}
		for _, c := range cases {
			count, total, names, r := created(c.path)
			if count != c.count || !strings.Contains(total, c.total) || len(names) != atoi(t, c.count) {
				t.Errorf("%s: count %s, total %s, cards %v; want %s, %s", c.path, count, total, names, c.count, c.total)
			}
			// The poll carries the same filter.
			u, _ := url.Parse(c.path)
			poll := r.doc(t).Find("#board").AttrOr("hx-get", "")
			pu, _ := url.Parse(poll)
			for k, v := range u.Query() {
				want := v[0]
				if k == "view" && strings.HasPrefix(want, "owner:") {
					if pu.Query().Get("view") != "owner" || pu.Query().Get("owner") != strings.TrimPrefix(want, "owner:") {
						t.Errorf("%s: poll URL %q lost the owner", c.path, poll)
					}
					continue
				}
				if pu.Query().Get(k) != want {
					t.Errorf("%s: poll URL %q lost %s=%s", c.path, poll, k, want)
				}
			}
		}
		// The form shows the filter.
		_, _, _, r := created("/deals/board?view=mine&q=renewal&close_from=2026-05-01&close_to=2026-05-31&stale=1&stage=Contract+Sent")
		doc := r.doc(t)
		if v, _ := doc.Find("[data-testid=board-view] option[selected]").Attr("value"); v != "mine" {
			t.Errorf("view option %q", v)
		}
		for sel, want := range map[string]string{"[data-testid=board-search]": "renewal", "[data-testid=board-from]": "2026-05-01", "[data-testid=board-to]": "2026-05-31"} {
			if got := doc.Find(sel).AttrOr("value", ""); got != want {
				t.Errorf("%s value %q, want %q", sel, got, want)
			}
		}
		if _, ok := doc.Find("[data-testid=board-stale]").Attr("checked"); !ok {
			t.Errorf("stale only not checked")
		}
		if v, _ := doc.Find("[data-testid=stage-picker] option[selected]").Attr("value"); v != "Contract Sent" {
			t.Errorf("stage picker %q", v)
		}
		if doc.Find("[data-testid=col-contract-sent].picked").Length() != 1 {
			t.Errorf("the picked column is not marked for phone width")
		}
		// Nonsense is dropped, never a 500.
		for _, p := range []string{
			"/deals/board?view=owner:abc&close_from=2026-13-40&close_to=yesterday&stale=maybe&stage=Nope",
			"/deals/board?q=" + strings.Repeat("x", 300),
			"/deals/board/more?col=Nope&after=%%%",
			"/deals/board/more?col=Created&after=not-a-cursor",
			"/deals/board/poll?view=owner:-1",
		} {
			if r := owner.get(p, "HX-Request", "true"); r.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", p, r.StatusCode)
			}
		}
		if count, _, _, _ := created("/deals/board?view=owner:abc&close_from=2026-13-40"); count != "3" {
			t.Errorf("dropped filter values still filtered: count %s", count)
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
