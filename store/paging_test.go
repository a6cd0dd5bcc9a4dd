package store_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// pageFunc lists one page at a cursor.
type pageFunc func(cursor string) (ids []int64, next, prev string, err error)

// checkWalk walks every page forward, then every page backward from the
// last, and checks both yield want exactly, in order, with full pages, and
// that Next from a page reached backward leads where it did going forward.
func checkWalk(t *testing.T, name string, list pageFunc, want []int64, limit int) {
	t.Helper()
	maxPages := len(want)/limit + 3
	var forward [][]int64
	var nexts []string
	var lastPrev string
	cur := ""
	for i := 0; ; i++ {
		if i > maxPages {
			t.Fatalf("%s: forward paging does not end", name)
		}
		ids, next, prev, err := list(cur)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if (i == 0) != (prev == "") {
			t.Fatalf("%s: page %d has prev %q", name, i, prev)
		}
		if next != "" && len(ids) != limit {
			t.Fatalf("%s: page %d has %d rows, want %d", name, i, len(ids), limit)
		}
		forward = append(forward, ids)
		nexts = append(nexts, next)
		lastPrev = prev
		if next == "" {
			break
		}
		cur = next
	}
	if got := slices.Concat(forward...); !slices.Equal(got, want) {
		t.Fatalf("%s: forward walk\n got %v\nwant %v", name, got, want)
	}
	// Backward from the last page.
	var backward [][]int64
	cur = lastPrev
	for i := 0; cur != ""; i++ {
		if i > maxPages {
			t.Fatalf("%s: backward paging does not end", name)
		}
		ids, next, prev, err := list(cur)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ids) != limit {
			t.Fatalf("%s: backward page has %d rows", name, len(ids))
		}
		// Next from this page must be the page after it.
		after, _, _, err := list(next)
		if err != nil {
			t.Fatal(err)
		}
		k := len(forward) - 2 - i
		if k < 0 || !slices.Equal(ids, forward[k]) || !slices.Equal(after, forward[k+1]) {
			t.Fatalf("%s: backward page %d = %v (next %v), want %v then %v", name, i, ids, after, forward[max(k, 0)], forward[max(k+1, 0)])
		}
		backward = append([][]int64{ids}, backward...)
		cur = prev
	}
	backward = append(backward, forward[len(forward)-1])
	if got := slices.Concat(backward...); !slices.Equal(got, want) {
		t.Fatalf("%s: backward walk\n got %v\nwant %v", name, got, want)
	}
}

// ownerRanks orders a team's members by name then id; unassigned is last.
func ownerRanks(t *testing.T, s *store.Store, teamID int64) func(id int64) int {
	members, err := s.TeamMembers(context.Background(), teamID)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(members, func(a, b store.User) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	rank := map[int64]int{}
	for i, m := range members {
		rank[m.ID] = i
	}
	return func(id int64) int {
		if id == 0 {
			return len(members)
		}
		return rank[id]
	}
}

// nullsLast orders times with the zero time (NULL) after every other.
func nullsLast(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

func lower(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

// wordPrefix reports whether some word of text starts with prefix.
func wordPrefix(text, prefix string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// pagingContacts makes 300 contacts with many equal values in every sort
// column, some edited later.
func pagingContacts(t *testing.T, s *store.Store, team *store.Team, actor *store.User, users []int64) []store.Contact {
	ctx := context.Background()
	clk := useClock(s)
	base := clk.t
	r := rand.New(rand.NewPCG(7, 11))
	names := []string{"Ann Lee", "ann lee", "ANN", "Ann", "Anna", "Bob", "bob", "bob smith", "Bob Smith", "Carl", "Zed", "Zed 2", "Zed 10", "Dora", "x"}
	phones := []string{"", "+49 151 1111", "0151 1111", "(555) 123-4567", "555 1234567", "+1 555 123 4567", "030 12345"}
	companies := []string{"", "Acme", "acme", "Beta GmbH", "Zeta", "beta gmbh"}
	perm := r.Perm(300)
	var ids []int64
	for i := range 300 {
		clk.t = base.Add(time.Duration(i%13) * time.Minute)
		c, err := s.CreateContact(ctx, team.ID, actor, store.ContactInput{
			Name: names[r.IntN(len(names))], Email: fmt.Sprintf("m%03d@d%d.example", perm[i], i%3),
			Phone: phones[r.IntN(len(phones))], Company: companies[r.IntN(len(companies))],
			Status: store.ContactStatuses[r.IntN(len(store.ContactStatuses))], OwnerID: users[r.IntN(len(users))],
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for i, id := range ids {
		if i%2 == 0 {
			continue
		}
		clk.t = base.Add(time.Hour + time.Duration(i%7)*time.Minute)
		c, _ := s.ContactByID(ctx, team.ID, id)
		if _, err := s.UpdateContact(ctx, team.ID, actor, id, c.Version, store.ContactInput{
			Name: c.Name, Email: c.Email, Phone: c.Phone, Company: c.Company, Status: c.Status, OwnerID: users[r.IntN(len(users))],
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Last contacted and next step: ties, and contacts with neither.
	for i, id := range ids {
		if i%3 == 0 {
			continue
		}
		clk.t = base.Add(2*time.Hour + time.Duration(i%5)*time.Minute)
		typ := []string{store.ActivityEmail, store.ActivityMeeting, store.ActivityTask}[i%3]
		if _, err := s.LogScheduled(ctx, team.ID, id, actor.ID, typ, "Paging", clk.t.Add(time.Duration(i%4)*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]store.Contact, len(ids))
	for i, id := range ids {
		c, err := s.ContactByID(ctx, team.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = *c
	}
	return out
}

func TestContactPagingVisitsEveryRowOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		all := pagingContacts(t, s, team, admin, []int64{0, owner.ID, admin.ID, member.ID})
		// Another team's contacts must never show.
		teamB, ownerB, _, _ := teamOf(t, s)
		for range 30 {
			addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Ann"})
		}
		rank := ownerRanks(t, s, team.ID)
		cols := contactColumns(rank)
		if len(cols) != len(store.ContactSorts) {
			t.Fatalf("test covers %d sorts, store has %d", len(cols), len(store.ContactSorts))
		}
		views := map[string]func(c store.Contact) bool{
			store.ViewAll:        func(store.Contact) bool { return true },
			store.ViewMine:       func(c store.Contact) bool { return c.OwnerID == member.ID },
			store.ViewUnassigned: func(c store.Contact) bool { return c.OwnerID == 0 },
		}
		// "b" matches Bob… in names and Beta in companies; the two
		// settings of the rare-word cap take the two search plans.
		searchB := func(c store.Contact) bool { return wordPrefix(c.Name, "b") || wordPrefix(c.Company, "b") }
		type run struct {
			view, search string
			keep         func(store.Contact) bool
			limit        int
			mode         store.SearchMode
		}
		var runs []run
		for v, keep := range views {
			runs = append(runs, run{view: v, keep: keep, limit: 25})
		}
		runs = append(runs, run{view: store.ViewAll, keep: views[store.ViewAll], limit: 7})
		// "bob" has about 80 hits and "smith" about 40: 60 splits them.
		// (The default thresholds take the rare plan on data this small.)
		for _, mode := range store.SearchModes(60)[1:] {
			runs = append(runs,
				run{view: store.ViewAll, search: "b", keep: searchB, limit: 10, mode: mode},
				run{view: store.ViewUnassigned, search: "B", keep: func(c store.Contact) bool { return c.OwnerID == 0 && searchB(c) }, limit: 6, mode: mode},
				run{view: store.ViewMine, search: "bob smith", keep: func(c store.Contact) bool {
					return c.OwnerID == member.ID && wordPrefix(c.Name, "bob") && wordPrefix(c.Name, "smith")
				}, limit: 3, mode: mode},
			)
		}
		for _, rn := range runs {
			restore := rn.mode.Use()
			for _, sortKey := range store.ContactSorts {
				for _, desc := range []bool{false, true} {
					var want []store.Contact
					for _, c := range all {
						if rn.keep(c) {
							want = append(want, c)
						}
					}
					if len(want) < 2*rn.limit {
						t.Fatalf("view %s %q: only %d rows, test data too thin", rn.view, rn.search, len(want))
					}
					col := cols[sortKey]
					slices.SortFunc(want, func(a, b store.Contact) int {
						c := cmp.Or(col(a, b), cmp.Compare(a.ID, b.ID))
						if desc {
							return -c
						}
						return c
					})
					name := fmt.Sprintf("view=%s search=%q plan=%s sort=%s desc=%v limit=%d", rn.view, rn.search, rn.mode.Name, sortKey, desc, rn.limit)
					checkWalk(t, name, func(cursor string) ([]int64, string, string, error) {
						p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{
							View: rn.view, UserID: member.ID, Search: rn.search, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: rn.limit,
						})
						return contactIDs(p.Rows), p.Next, p.Prev, err
					}, contactIDs(want), rn.limit)
				}
			}
			restore()
		}
	})
}

func TestBadCursorsShowTheFirstPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		for i := range 30 {
			addContact(t, s, team, owner, store.ContactInput{Name: fmt.Sprintf("C %02d", i)})
		}
		first, err := s.ListContacts(ctx, team.ID, store.ContactQuery{Sort: "name"})
		if err != nil {
			t.Fatal(err)
		}
		for _, cur := range []string{"garbage", "%%%", "eyJ9", strings.Repeat("A", 5000), first.Next + "x",
			// A cursor made for another sort or direction.
			func() string {
				p, _ := s.ListContacts(ctx, team.ID, store.ContactQuery{Sort: "email"})
				return p.Next
			}(),
			func() string {
				p, _ := s.ListContacts(ctx, team.ID, store.ContactQuery{Sort: "name", Desc: true})
				return p.Next
			}(),
		} {
			p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{Sort: "name", Cursor: cur})
			if err != nil || !slices.Equal(contactIDs(p.Rows), contactIDs(first.Rows)) || p.Prev != "" {
				t.Errorf("cursor %.20q: %d rows, prev %q, %v; want the first page", cur, len(p.Rows), p.Prev, err)
			}
		}
		// Unknown sort and view fall back to name and all.
		p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{Sort: "name; DROP TABLE contacts", View: "everything"})
		if err != nil || !slices.Equal(contactIDs(p.Rows), contactIDs(first.Rows)) {
			t.Errorf("unknown sort: %v", err)
		}
	})
}

// pagingDeals makes 150 deals with many equal values in every sort column,
// some without a close date.
func pagingDeals(t *testing.T, s *store.Store, team *store.Team, actor *store.User, users []int64) []store.Deal {
	ctx := context.Background()
	clk := useClock(s)
	base := clk.t
	r := rand.New(rand.NewPCG(3, 5))
	var contacts []*store.Contact
	for _, n := range []string{"Ann", "ann", "Bob", "Carl Jones", "carl jones", "Dora"} {
		contacts = append(contacts, addContact(t, s, team, actor, store.ContactInput{Name: n, Company: "Co " + n}))
	}
	names := []string{"Pilot", "pilot", "Renewal", "Big order", "big Order", "Zed"}
	money := []string{"", "100", "100.00", "2,500", "99.99", "1000000"}
	dates := []string{"", "", "2026-01-31", "2026-02-01", "2025-12-31"}
	companies := []string{"", "Acme", "ACME", "Zeta"}
	var ids []int64
	for i := range 150 {
		clk.t = base.Add(time.Duration(i%11) * time.Minute)
		stage := store.Stages[r.IntN(len(store.Stages))]
		in := store.DealInput{
			Name: names[r.IntN(len(names))], Stage: stage, Goal: money[r.IntN(len(money))], Amount: money[r.IntN(len(money))],
			CloseDate: dates[r.IntN(len(dates))], OwnerID: users[r.IntN(len(users))],
			ContactID: contacts[r.IntN(len(contacts))].ID, Company: companies[r.IntN(len(companies))],
			LostReason: "Price", ClosedOn: dates[r.IntN(len(dates))],
		}
		if stage == store.StageWon {
			in.Amount, in.ClosedOn = "10", "2026-01-31"
		}
		d, err := s.CreateDeal(ctx, team.ID, actor, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
		if i%3 == 0 && !store.IsClosed(stage) {
			clk.t = base.Add(time.Hour + time.Duration(i%5)*time.Minute)
			in.Stage, in.LostReason = store.StageLost, "Other"
			if _, err := s.UpdateDeal(ctx, team.ID, actor, d.ID, d.Version, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := make([]store.Deal, len(ids))
	for i, id := range ids {
		d, err := s.DealByID(ctx, team.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = *d
	}
	return out
}

func TestDealPagingVisitsEveryRowOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		all := pagingDeals(t, s, team, admin, []int64{0, owner.ID, admin.ID, member.ID})
		rank := ownerRanks(t, s, team.ID)
		cols := dealColumns(rank)
		if len(cols) != len(store.DealSorts) {
			t.Fatalf("test covers %d sorts, store has %d", len(cols), len(store.DealSorts))
		}
		searchPilot := func(d store.Deal) bool { return wordPrefix(d.Name, "pil") }
		type run struct {
			view, search string
			keep         func(store.Deal) bool
			limit        int
			mode         store.SearchMode
		}
		modes := store.SearchModes(45) // "pil" has about 50 hits, "ann" about 40
		runs := []run{
			{store.ViewAll, "", func(store.Deal) bool { return true }, 25, modes[0]},
			{store.ViewAll, "", func(store.Deal) bool { return true }, 6, modes[0]},
			{store.ViewMine, "", func(d store.Deal) bool { return d.OwnerID == member.ID }, 8, modes[0]},
		}
		for _, mode := range modes[1:] {
			runs = append(runs, run{store.ViewAll, "PIL", searchPilot, 7, mode},
				run{store.ViewAll, "pil ann", func(d store.Deal) bool {
					return searchPilot(d) && wordPrefix(d.ContactName, "ann")
				}, 3, mode})
		}
		for _, rn := range runs {
			restore := rn.mode.Use()
			for _, sortKey := range store.DealSorts {
				for _, desc := range []bool{false, true} {
					var want []store.Deal
					for _, d := range all {
						if rn.keep(d) {
							want = append(want, d)
						}
					}
					if len(want) < 2*rn.limit {
						t.Fatalf("view %s %q: only %d rows", rn.view, rn.search, len(want))
					}
					col := cols[sortKey]
					slices.SortFunc(want, func(a, b store.Deal) int {
						c := cmp.Or(col(a, b), cmp.Compare(a.ID, b.ID))
						if desc {
							return -c
						}
						return c
					})
					name := fmt.Sprintf("view=%s search=%q plan=%s sort=%s desc=%v limit=%d", rn.view, rn.search, rn.mode.Name, sortKey, desc, rn.limit)
					checkWalk(t, name, func(cursor string) ([]int64, string, string, error) {
						p, err := s.ListDeals(ctx, team.ID, store.DealQuery{
							View: rn.view, UserID: member.ID, Search: rn.search, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: rn.limit,
						})
						return dealIDs(p.Rows), p.Next, p.Prev, err
					}, dealIDs(want), rn.limit)
				}
			}
			restore()
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// contactColumns orders contacts by each sort key as the store must.
func contactColumns(rank func(int64) int) map[string]func(a, b store.Contact) int {
	return map[string]func(a, b store.Contact) int{
		"name":    func(a, b store.Contact) int { return lower(a.Name, b.Name) },
		"email":   func(a, b store.Contact) int { return lower(a.Email, b.Email) },
		"phone":   func(a, b store.Contact) int { return strings.Compare(a.PhoneDigits, b.PhoneDigits) },
		"company": func(a, b store.Contact) int { return lower(a.Company, b.Company) },
		"status":  func(a, b store.Contact) int { return lower(a.Status, b.Status) },
		"owner": func(a, b store.Contact) int {
			return cmp.Or(cmp.Compare(rank(a.OwnerID), rank(b.OwnerID)), lower(a.Name, b.Name))
		},
		"created":        func(a, b store.Contact) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated":        func(a, b store.Contact) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		"last_contacted": func(a, b store.Contact) int { return nullsLast(a.LastContactedAt, b.LastContactedAt) },
		"next_step":      func(a, b store.Contact) int { return nullsLast(a.NextStepAt, b.NextStepAt) },
	}
}

// dealColumns orders deals by each sort key as the store must.
func dealColumns(rank func(int64) int) map[string]func(a, b store.Deal) int {
	return map[string]func(a, b store.Deal) int{
		"name":  func(a, b store.Deal) int { return lower(a.Name, b.Name) },
		"stage": func(a, b store.Deal) int { return cmp.Compare(store.StageIndex(a.Stage), store.StageIndex(b.Stage)) },
		"goal":  func(a, b store.Deal) int { return cmp.Compare(a.Goal, b.Goal) },
		"amount": func(a, b store.Deal) int {
			return cmp.Compare(a.Amount, b.Amount)
		},
		"close_date": func(a, b store.Deal) int {
			// Deals without a date come last.
			return cmp.Or(cmp.Compare(boolInt(a.CloseDate.IsZero()), boolInt(b.CloseDate.IsZero())), a.CloseDate.Compare(b.CloseDate))
		},
		"owner": func(a, b store.Deal) int {
			return cmp.Or(cmp.Compare(rank(a.OwnerID), rank(b.OwnerID)), lower(a.Name, b.Name))
		},
		"contact": func(a, b store.Deal) int { return lower(a.ContactName, b.ContactName) },
		"company": func(a, b store.Deal) int { return lower(a.Company, b.Company) },
		"created": func(a, b store.Deal) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated": func(a, b store.Deal) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
	}
}
