package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestSearchPlansMatchBruteForce seeds a team, scales the plan thresholds
// down to its size (as the defaults are to a team of about a million) and
// checks, for common words, rare words, several words and a one-letter
// prefix, that the plan chosen by term frequency is the expected one, and
// that walking every page by cursor gives exactly the matching contacts in
// order, as computed in Go from the contacts' own terms.
func TestSearchPlansMatchBruteForce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 3000, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(3, 4))})
		teamID := owner.TeamID
		// Every contact of the team in each order, read page by page: the
		// order the database gives (its collation), which the paging tests
		// check. A search's result is the matching subsequence.
		type order struct {
			sort string
			desc bool
			rows []store.Contact
		}
		var orders []order
		for _, sortKey := range []string{"name", "updated", "owner"} {
			for _, desc := range []bool{false, true} {
				o := order{sort: sortKey, desc: desc}
				for q := (store.ContactQuery{Sort: sortKey, Desc: desc, Limit: 200}); ; {
					p, err := s.ListContacts(ctx, teamID, q)
					if err != nil {
						t.Fatal(err)
					}
					o.rows = append(o.rows, p.Rows...)
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if len(o.rows) != 3000 {
					t.Fatalf("read %d contacts, want 3000", len(o.rows))
				}
				orders = append(orders, o)
			}
		}
		all := orders[0].rows
		terms := map[int64][]string{}
		for _, c := range all {
			terms[c.ID] = store.ContactTerms(c.Name, c.Email, c.Company, c.Phone)
		}
		matches := func(c store.Contact, words []string) bool {
			for _, w := range words {
				if !slices.ContainsFunc(terms[c.ID], func(term string) bool { return strings.HasPrefix(term, w) }) {
					return false
				}
			}
			return true
		}
		count := func(words ...string) int {
			n := 0
			for _, c := range all {
				if matches(c, words) {
					n++
				}
			}
			return n
		}
		// About a million contacts to 3,000: the caps shrink with the team.
		restore := store.SearchMode{Name: "scaled", Rare: 40, Intersect: 200}.Use()
		defer restore()

		cases := []struct {
			q, plan string
		}{
			{"a", "probe"},              // one letter: a fifth of the terms
			{"anna", "rare"},            // the most common first name, ~30 here
			{"m", "probe"},              // another letter
			{"com", "probe"},            // a third of the emails
			{"a m", "probe"},            // two common words, a large intersection
			{"anna m", "rare"},          // a rare word drives, the common one is probed
			{"m s", "probe"},            // two letters
			{"müller", "rare"},          // a surname
			{"a müller", "rare"},        // common and rare
			{"gmbh co", "probe"},        // company forms
			{"zzzzqq", "none"},          // no term at all
			{"anna müller", "none"},     // two rare words, nobody has both
			{"gmbh anna", "rare"},       //
			{"a e i o", "probe"},        // four common words (nobody has all)
			{"schmidt gmbh", "rare"},    //
			{"m gmbh", "probe"},         //
			{"anna zzzzqq", "none"},     // a word without terms ends the search
			{"laura kowalczyk", "none"}, //
		}
		checked := 0
		for _, c := range cases {
			words := strings.Fields(strings.ReplaceAll(c.q, "ü", "u"))
			plan, err := s.ContactSearchPlan(ctx, teamID, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if plan != c.plan {
				t.Errorf("search %q (%d matches): plan %s, want %s", c.q, count(words...), plan, c.plan)
			}
			for _, o := range orders {
				var want []int64
				for _, x := range o.rows {
					if matches(x, words) {
						want = append(want, x.ID)
					}
				}
				var got []int64
				q := store.ContactQuery{Search: c.q, Sort: o.sort, Desc: o.desc, Limit: 25}
				for range 1000 {
					p, err := s.ListContacts(ctx, teamID, q)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, contactIDs(p.Rows)...)
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("search %q sort=%s desc=%v: %d rows, want %d (first %v, want %v)", c.q, o.sort, o.desc,
						len(got), len(want), got[:min(5, len(got))], want[:min(5, len(want))])
				}
				checked += len(want)
			}
		}
		if checked == 0 {
			t.Fatal("no search matched anything")
		}
	})
}
