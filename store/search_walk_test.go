package store_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestWalkBatchesCarryTheirKeys: a set walk and a member walk read each
// batch's sort values with its ids, so a page is its batches and the rows'
// load, with no read of the hits' keys by primary key between them; with
// IDsOnly (the fallback) those reads come back, and both list the same
// pages under every sort.
func TestWalkBatchesCarryTheirKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 600, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(5, 6))})
		all := &allQueries{}
		s.DB.AddQueryHook(all)
		// keyReads counts the statements that read sort keys by primary key
		// (the walk's old second statement per batch).
		keyReads := func() int {
			n := 0
			for _, q := range all.take() {
				if strings.HasPrefix(q, "SELECT r.id") && (strings.Contains(q, "FORCE INDEX (PRIMARY)") || strings.Contains(q, "NOT INDEXED")) &&
					!strings.Contains(q, "ORDER BY") {
					n++
				}
			}
			return n
		}
		for _, m := range []store.SearchMode{
			{Name: "set", Rare: 3, Intersect: 1 << 30},
			{Name: "member walk", Rare: 3, Intersect: -1, Dense: 1 << 30},
		} {
			for _, sortKey := range store.ContactSorts {
				pages := map[bool][]string{}
				reads := map[bool]int{}
				for _, idsOnly := range []bool{false, true} {
					m.IDsOnly = idsOnly
					restore := m.Use()
					all.take()
					for q := (store.ContactQuery{Search: "a", Sort: sortKey, Limit: 7}); len(pages[idsOnly]) < 6; {
						p, err := s.ListContacts(ctx, owner.TeamID, q)
						if err != nil {
							t.Fatal(err)
						}
						var names []string
						for _, c := range p.Rows {
							names = append(names, c.Name)
						}
						pages[idsOnly] = append(pages[idsOnly], strings.Join(names, ","))
						if p.Next == "" {
							break
						}
						q.Cursor = p.Next
					}
					reads[idsOnly] = keyReads()
					restore()
				}
				if strings.Join(pages[false], "|") != strings.Join(pages[true], "|") {
					t.Errorf("%s sort=%s: pages differ:\n%v\n%v", m.Name, sortKey, pages[false], pages[true])
				}
				if reads[false] != 0 || reads[true] == 0 {
					t.Errorf("%s sort=%s: %d key reads by primary key carrying keys, %d with ids alone", m.Name, sortKey, reads[false], reads[true])
				}
			}
		}
	})
}
