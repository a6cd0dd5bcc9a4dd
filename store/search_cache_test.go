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
// (WithSearchVersions, as the handlers do) or read by the store. Another team
// with the same names never sees the first team's records.
func TestSearchCacheSeesWritesOfAnotherInstance(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			writer, reader := twoStores(t, d)

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
						v, err := reader.SearchVersions(ctx, teamID)
						if err != nil {
							t.Fatal(err)
						}
						c = store.WithSearchVersions(ctx, teamID, v)
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

// TestSearchOrderedSetsSeeWritesOfAnotherInstance: the ordered sets and
// dense sets (search_order.go, denseSet) of one store give, for every sort
// in both directions and page by page, what the same store gives with the
// search cache off — also when another store writes between two pages
// (a rename out of the search, a new match, a deleted one, a changed sort
// value), so that the next page is read under the new version.
func TestSearchOrderedSetsSeeWritesOfAnotherInstance(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			writer, reader := twoStores(t, d)
			team, owner, _, _ := teamOf(t, writer)
			statuses := store.ContactStatuses
			var annas []*store.Contact
			for i := range 40 {
				in := store.ContactInput{Name: fmt.Sprintf("Anna M%02d", (i*7)%40), Phone: fmt.Sprintf("+49 30 %07d", (i*13)%40),
					Company: fmt.Sprintf("Firma %d", i%5), Status: statuses[i%3]}
				if i%4 == 0 {
					in.Phone, in.Company = "", ""
				}
				annas = append(annas, addContact(t, writer, team, owner, in))
				addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Bert M%02d", i)})
			}
			modes := []store.SearchMode{
				{Name: "ordered", Rare: 2, Intersect: 1 << 30, Order: 1 << 30},
				{Name: "dense sets, ordered", Rare: 2, Intersect: 10, Dense: 1 << 30, Order: 1 << 30},
				{Name: "member walk", Rare: 2, Intersect: -1, Dense: 1 << 30},
			}
			page := func(q, sortKey string, desc bool, cursor string) ([]int64, string) {
				t.Helper()
				p, err := reader.ListContacts(ctx, team.ID, store.ContactQuery{Search: q, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: 7})
				if err != nil {
					t.Fatal(err)
				}
				return contactIDs(p.Rows), p.Next
			}
			uncached := func(q, sortKey string, desc bool, cursor string) ([]int64, string) {
				defer store.SetSearchCacheBytes(0)()
				return page(q, sortKey, desc, cursor)
			}
			round := 0
			for _, mode := range modes {
				restore := mode.Use()
				for _, q := range []string{"anna", "anna m", "m"} {
					for _, sortKey := range store.ContactSorts {
						for _, desc := range []bool{false, true} {
							what := fmt.Sprintf("mode %s, %q by %s desc %v", mode.Name, q, sortKey, desc)
							on := store.SetSearchCacheBytes(1 << 20)
							got, next := page(q, sortKey, desc, "")
							want, wantNext := uncached(q, sortKey, desc, "")
							if !slices.Equal(got, want) || next != wantNext {
								t.Fatalf("%s, page 1: %v, uncached %v", what, got, want)
							}
							// Another instance writes; the next pages follow
							// the new data.
							round++
							c := annas[round%len(annas)]
							c, err := writer.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: "Zora " + c.Name, Email: c.Email, Phone: "+49 40 1234567", Company: "Andere", Status: store.ContactStatuses[len(store.ContactStatuses)-1]})
							if err != nil {
								t.Fatal(err)
							}
							annas[round%len(annas)] = c
							added := addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Anna Mneu%d", round), Company: "Neu"})
							annas = append(annas, added)
							for cursor, n := next, 2; cursor != "" && n < 10; n++ {
								got, next := page(q, sortKey, desc, cursor)
								want, wantNext := uncached(q, sortKey, desc, cursor)
								if !slices.Equal(got, want) || next != wantNext {
									t.Fatalf("%s, page %d after the writes: %v, uncached %v", what, n, got, want)
								}
								// Twice: now from the sets built under the
								// new version.
								if again, _ := page(q, sortKey, desc, cursor); !slices.Equal(again, want) {
									t.Fatalf("%s, page %d again: %v, uncached %v", what, n, again, want)
								}
								cursor = next
							}
							on()
						}
					}
				}
				restore()
			}
		})
	}
}

// twoStores opens two stores on one migrated test database, as two
// instances of Sherpa would: writer writes, reader searches.
func twoStores(t *testing.T, d store.Dialect) (writer, reader *store.Store) {
	t.Helper()
	ctx := context.Background()
	u := storetest.URL(t, d)
	writer, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	if _, err := writer.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if reader, err = store.Open(ctx, u); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	return writer, reader
}
