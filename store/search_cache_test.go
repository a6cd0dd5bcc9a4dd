package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestSearchCacheSeesWritesOfAnotherInstance: two stores share a database;
// one searches (filling its search cache), the other writes, and the first
// one's next search shows the write — under every plan class, through the
// table, the top bar, and with the version handed in by the request
// (WithListVersion, as the handlers do) or read by the store. Another team
// with the same names never sees the first team's records.
func TestSearchCacheSeesWritesOfAnotherInstance(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			u := storetest.URL(t, d)
			writer, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer writer.Close()
			if _, err := writer.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			reader, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()

			team, owner, _, _ := teamOf(t, writer)
			teamB, ownerB, _, _ := teamOf(t, writer)
			var annas []*store.Contact
			for i := range 6 {
				annas = append(annas, addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Anna Müller%d", i)}))
				addContact(t, writer, teamB, ownerB, store.ContactInput{Name: fmt.Sprintf("Anna Müller%d", i)})
			}
			addContact(t, writer, team, owner, store.ContactInput{Name: "Bert Berg"})

			for _, mode := range store.SearchModes(2) {
				restore := mode.Use()
				// search returns the ids the reader finds for q, sorted.
				search := func(teamID int64, q string, withVersion bool) []int64 {
					t.Helper()
					c := ctx
					if withVersion {
						v, err := reader.ListVersion(ctx, teamID)
						if err != nil {
							t.Fatal(err)
						}
						c = store.WithListVersion(ctx, teamID, v)
					}
					p, err := reader.ListContacts(c, teamID, store.ContactQuery{Search: q, Limit: 100})
					if err != nil {
						t.Fatal(err)
					}
					f, err := reader.SearchAll(c, teamID, q, 100)
					if err != nil {
						t.Fatal(err)
					}
					ids, top := contactIDs(p.Rows), contactIDs(f.Contacts)
					slices.Sort(ids)
					slices.Sort(top)
					if !slices.Equal(ids, top) {
						t.Fatalf("mode %s, %q: table %v, top bar %v", mode.Name, q, ids, top)
					}
					return ids
				}
				idsOf := func(cs ...*store.Contact) []int64 {
					var ids []int64
					for _, c := range cs {
						ids = append(ids, c.ID)
					}
					slices.Sort(ids)
					return ids
				}
				for _, withVersion := range []bool{false, true} {
					want := idsOf(annas...)
					for _, q := range []string{"anna", "anna mü"} {
						if got := search(team.ID, q, withVersion); !slices.Equal(got, want) {
							t.Fatalf("mode %s, %q: %v, want %v", mode.Name, q, got, want)
						}
						for _, id := range search(teamB.ID, q, withVersion) {
							if slices.Contains(want, id) {
								t.Fatalf("mode %s, %q: team B sees team A's contact %d", mode.Name, q, id)
							}
						}
					}
					// Rename one Anna, add one, delete one: through the other store.
					c := annas[0]
					renamed, err := writer.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: "Zora Müller", Email: c.Email})
					if err != nil {
						t.Fatal(err)
					}
					if err := writer.DeleteContact(ctx, team.ID, owner, annas[1].ID); err != nil {
						t.Fatal(err)
					}
					added := addContact(t, writer, team, owner, store.ContactInput{Name: "Anna Neu"})
					want = idsOf(append([]*store.Contact{added}, annas[2:]...)...)
					for _, q := range []string{"anna"} {
						if got := search(team.ID, q, withVersion); !slices.Equal(got, want) {
							t.Fatalf("mode %s, after the writes, %q: %v, want %v", mode.Name, q, got, want)
						}
					}
					if got := search(team.ID, "anna mü", withVersion); !slices.Equal(got, idsOf(annas[2:]...)) {
						t.Fatalf("mode %s, after the writes, anna mü: %v, want %v", mode.Name, got, idsOf(annas[2:]...))
					}
					if got := search(team.ID, "zora", withVersion); !slices.Equal(got, idsOf(renamed)) {
						t.Fatalf("mode %s, after the rename, zora: %v", mode.Name, got)
					}
					// Put things back for the next round.
					back, err := writer.UpdateContact(ctx, team.ID, owner, renamed.ID, renamed.Version, store.ContactInput{Name: c.Name, Email: c.Email})
					if err != nil {
						t.Fatal(err)
					}
					if err := writer.DeleteContact(ctx, team.ID, owner, added.ID); err != nil {
						t.Fatal(err)
					}
					annas[0] = back
					annas[1] = addContact(t, writer, team, owner, store.ContactInput{Name: "Anna Müller1"})
				}
				restore()
			}
		})
	}
}

// TestSearchCacheMatchesUncached: for a range of words (dense, common
// first names, surnames, prefixes, two words, none), every sort in both
// directions and the first three pages, the contacts and deals tables
// answer the same with the search cache (asked twice: a miss, then a hit)
// as without it.
func TestSearchCacheMatchesUncached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 900, Deals: 300, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(5, 6))})
		teamID := owner.TeamID
		words := []string{"a", "m", "mü", "anna", "müller", "anna müller", "anna m", "laura", "com", "zz", "kow"}
		type pages struct{ ids [][]int64 }
		read := func(q, sortKey string, desc bool, deals bool) pages {
			var out pages
			cursor := ""
			for range 3 {
				var ids []int64
				var next string
				if deals {
					p, err := s.ListDeals(ctx, teamID, store.DealQuery{Search: q, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: 20})
					if err != nil {
						t.Fatal(err)
					}
					ids, next = dealIDs(p.Rows), p.Next
				} else {
					p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Search: q, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: 20})
					if err != nil {
						t.Fatal(err)
					}
					ids, next = contactIDs(p.Rows), p.Next
				}
				out.ids = append(out.ids, ids)
				if next == "" {
					break
				}
				cursor = next
			}
			return out
		}
		for _, mode := range store.SearchModes(20) {
			restore := mode.Use()
			for _, deals := range []bool{false, true} {
				sorts := store.ContactSorts
				if deals {
					sorts = store.DealSorts
				}
				for _, q := range words {
					for _, sortKey := range sorts {
						for _, desc := range []bool{false, true} {
							off := store.SetSearchCacheBytes(0)
							want := read(q, sortKey, desc, deals)
							off()
							on := store.SetSearchCacheBytes(1 << 20)
							miss, hit := read(q, sortKey, desc, deals), read(q, sortKey, desc, deals)
							on()
							if fmt.Sprint(miss) != fmt.Sprint(want) || fmt.Sprint(hit) != fmt.Sprint(want) {
								t.Fatalf("mode %s, deals %v, %q by %s desc %v: cached %v / %v, uncached %v", mode.Name, deals, q, sortKey, desc, miss, hit, want)
							}
						}
					}
				}
			}
			restore()
		}
	})
}
