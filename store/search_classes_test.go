package store_test

import (
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

// searchClassModes force each plan class on a small team: the probe walk
// (every word dense), the rare plan (every set sorted by primary key), the
// set walk (every set walked to), the set walk with the dense words checked
// on its hits, the set walk whose budget runs out at once (the set is
// sorted by primary key from then on), the member walk (every word's set
// read as a dense set and tested in memory), dense sets intersected with
// the sparse ones, and the ordered sets (every set's keys read once in the
// sort's order and paged in memory). The set and member walks also run
// with their hits' keys read by primary key after each batch (IDsOnly, the
// fallback when a batch's sort values do not scan).
var searchClassModes = []store.SearchMode{
	{Name: "probe", Rare: -1, Intersect: -1},
	{Name: "rare", Rare: 1 << 30, Intersect: 1 << 30},
	{Name: "set", Rare: 3, Intersect: 1 << 30},
	{Name: "set, keys by primary key", Rare: 3, Intersect: 1 << 30, IDsOnly: true},
	{Name: "set+dense", Rare: 3, Intersect: 120},
	{Name: "set, budget spent", Rare: 3, Intersect: 1 << 30, Budget: 1},
	{Name: "member walk", Rare: 3, Intersect: -1, Dense: 1 << 30},
	{Name: "member walk, keys by primary key", Rare: 3, Intersect: -1, Dense: 1 << 30, IDsOnly: true},
	{Name: "dense sets", Rare: 3, Intersect: 120, Dense: 1 << 30},
	{Name: "ordered", Rare: 3, Intersect: 1 << 30, Order: 1 << 30},
	{Name: "dense sets, ordered", Rare: 3, Intersect: 120, Dense: 1 << 30, Order: 1 << 30},
	// Every word dense and its set cached: the common ids get an ordered
	// list too ("y" at 1M).
	{Name: "member walk, ordered", Rare: 3, Intersect: -1, Dense: 1 << 30, Order: 1 << 30},
}

var searchClassQueries = []string{"anna", "m", "anna m", "gmbh", "müller zz"}

// TestSearchPlanClassesMatchBruteForce: for every plan class, every sort of
// the contacts and deals tables in both directions, walking the pages by
// their Next cursors gives exactly the team's records that a Go filter
// over all of them finds (each once, in the table's order), and walking
// back by Prev from the last page gives the same pages. The seeded second
// team has the same names: none of its records may appear.
func TestSearchPlanClassesMatchBruteForce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 900, Deals: 300, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(11, 12))})
		teamID := owner.TeamID

		type list struct {
			name  string
			sorts []string
			// page lists one page; terms gives a record's search terms.
			page func(q string, sortKey string, desc bool, cursor string, limit int) (ids []int64, next, prev string, err error)
			// all is every record of the team in the order, with its terms.
			terms map[int64][]string
		}
		contacts := list{name: "contacts", sorts: store.ContactSorts, terms: map[int64][]string{},
			page: func(q, sortKey string, desc bool, cursor string, limit int) ([]int64, string, string, error) {
				p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Search: q, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: limit})
				for _, c := range p.Rows {
					if c.TeamID != teamID {
						t.Fatalf("contact %d of team %d listed for team %d", c.ID, c.TeamID, teamID)
					}
				}
				return contactIDs(p.Rows), p.Next, p.Prev, err
			}}
		deals := list{name: "deals", sorts: store.DealSorts, terms: map[int64][]string{},
			page: func(q, sortKey string, desc bool, cursor string, limit int) ([]int64, string, string, error) {
				p, err := s.ListDeals(ctx, teamID, store.DealQuery{Search: q, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: limit})
				for _, d := range p.Rows {
					if d.TeamID != teamID {
						t.Fatalf("deal %d of team %d listed for team %d", d.ID, d.TeamID, teamID)
					}
				}
				return dealIDs(p.Rows), p.Next, p.Prev, err
			}}
		first, err := s.ListContacts(ctx, teamID, store.ContactQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for q := (store.ContactQuery{Limit: 200}); ; {
			p, err := s.ListContacts(ctx, teamID, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Rows {
				contacts.terms[c.ID] = store.ContactTerms(c.Name, c.Email, c.Company, c.Phone)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		for q := (store.DealQuery{Limit: 200}); ; {
			p, err := s.ListDeals(ctx, teamID, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Rows {
				deals.terms[d.ID] = store.DealTerms(d.Name, d.Company, d.ContactName)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if len(first.Rows) == 0 || len(contacts.terms) != 900 || len(deals.terms) != 300 {
			t.Fatalf("read %d contacts and %d deals, want 900 and 300", len(contacts.terms), len(deals.terms))
		}

		// Each mode takes its plan.
		for _, c := range []struct{ mode, q, plan string }{
			{"probe", "anna", "probe"}, {"rare", "anna m", "rare"}, {"set", "anna", "set"},
			{"set+dense", "anna m", "set"}, {"set, budget spent", "gmbh", "set"}, {"rare", "müller zz", "none"},
			{"member walk", "anna", "dense sets"}, {"member walk", "anna m", "dense sets"}, {"dense sets", "anna m", "set"},
		} {
			i := slices.IndexFunc(searchClassModes, func(m store.SearchMode) bool { return m.Name == c.mode })
			restore := searchClassModes[i].Use()
			plan, err := s.ContactSearchPlan(ctx, teamID, c.q)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if plan != c.plan {
				t.Errorf("mode %s, q=%q: plan %s, want %s", c.mode, c.q, plan, c.plan)
			}
		}

		walkAll := func(l list, q, sortKey string, desc bool, limit int) []int64 {
			var out []int64
			for cursor, n := "", 0; ; n++ {
				ids, next, _, err := l.page(q, sortKey, desc, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, ids...)
				if next == "" || n > 2000 {
					return out
				}
				cursor = next
			}
		}
		checked := 0
		for _, l := range []list{contacts, deals} {
			for _, sortKey := range l.sorts {
				for _, desc := range []bool{false, true} {
					// The table's order (no search) is the reference: a
					// search's result is its matching subsequence.
					order := walkAll(l, "", sortKey, desc, 200)
					if len(order) != len(l.terms) {
						t.Fatalf("%s sort=%s desc=%v: %d records, want %d", l.name, sortKey, desc, len(order), len(l.terms))
					}
					for _, q := range searchClassQueries {
						words := strings.Fields(strings.ReplaceAll(q, "ü", "u"))
						var want []int64
						for _, id := range order {
							if termsMatch(l.terms[id], words) {
								want = append(want, id)
							}
						}
						for _, mode := range searchClassModes {
							restore := mode.Use()
							walks := store.OrderedWalks()
							what := fmt.Sprintf("%s q=%q sort=%s desc=%v plan=%s", l.name, q, sortKey, desc, mode.Name)
							// Forwards by Next, keeping each page and the
							// cursor that opened it.
							var got []int64
							var pages [][]int64
							var opened []string
							for cursor := ""; len(pages) < 1000; {
								ids, next, _, err := l.page(q, sortKey, desc, cursor, 9)
								if err != nil {
									t.Fatal(err)
								}
								got = append(got, ids...)
								pages, opened = append(pages, ids), append(opened, cursor)
								if next == "" {
									break
								}
								cursor = next
							}
							if !slices.Equal(got, want) {
								t.Errorf("%s: %d rows, want %d (first %v, want %v)", what, len(got), len(want), got[:min(5, len(got))], want[:min(5, len(want))])
							} else if len(pages) > 1 {
								// Backwards by Prev from the last page: the
								// same pages.
								_, _, prev, err := l.page(q, sortKey, desc, opened[len(opened)-1], 9)
								if err != nil {
									t.Fatal(err)
								}
								for i := len(pages) - 2; i >= 0; i-- {
									ids, _, p, err := l.page(q, sortKey, desc, prev, 9)
									if err != nil {
										t.Fatal(err)
									}
									if !slices.Equal(ids, pages[i]) {
										t.Errorf("%s: page %d backwards %v, forwards %v", what, i, ids, pages[i])
										break
									}
									if i > 0 && p == "" {
										t.Errorf("%s: page %d has no previous page", what, i)
										break
									}
									prev = p
								}
							}
							restore()
							if strings.HasSuffix(mode.Name, "ordered") && len(want) > 0 && store.OrderedWalks() == walks {
								t.Errorf("%s: no page came from an ordered set", what)
							}
							checked += len(want)
						}
					}
				}
			}
		}
		if checked == 0 {
			t.Fatal("no search matched anything")
		}
	})
}

// termsMatch: every word starts one of the terms.
func termsMatch(terms, words []string) bool {
	for _, w := range words {
		if !slices.ContainsFunc(terms, func(term string) bool { return strings.HasPrefix(term, w) }) {
			return false
		}
	}
	return true
}
