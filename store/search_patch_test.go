package store_test

import (
	"context"
	"fmt"
	"testing"
	"unsafe"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestSearchCarriesSetsOverTermWrites: a reader's cached word sets, dense
// sets and name-sorted ordered sets are carried over term writes made
// through another instance (search_patch.go) — records renamed into the
// middle of a word's order, out of it, a company changed, a record added,
// a deal renamed — and every page of every listing, in both directions,
// equals the uncached one after each write. The ordered sets are not read
// again until a delete (which the terms log does not name) forces it.
func TestSearchCarriesSetsOverTermWrites(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			writer, reader := twoStores(t, d)
			team, owner, _, _ := teamOf(t, writer)
			var annas, berts []*store.Contact
			for i := range 40 {
				annas = append(annas, addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Anna M%02d", (i*7)%40),
					Company: fmt.Sprintf("Acme %02d", (i*11)%40)}))
				berts = append(berts, addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Bert M%02d", i)}))
			}
			var deals []*store.Deal
			for i, c := range annas[:12] {
				deals = append(deals, addDeal(t, writer, team, owner, c, store.DealInput{Name: fmt.Sprintf("Anna deal %02d", (i*5)%12), Goal: "100"}))
			}
			type query struct {
				q, sort string
				desc    bool
			}
			var queries []query
			for _, q := range []string{"anna", "anna m", "m"} {
				for _, sort := range []string{"name", "company", "created"} {
					queries = append(queries, query{q, sort, false}, query{q, sort, true})
				}
			}
			// read is every page of the query (forward, then back from the
			// last one), the deals' pages and the top bar, as the reader
			// shows them.
			read := func(qu query) string {
				t.Helper()
				v, err := reader.SearchVersions(ctx, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				c := store.WithSearchVersions(ctx, team.ID, v)
				var out []any
				cursor, prev := "", ""
				for range 20 {
					p, err := reader.ListContacts(c, team.ID, store.ContactQuery{Search: qu.q, Sort: qu.sort, Desc: qu.desc, Cursor: cursor, Limit: 6})
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, contactIDs(p.Rows))
					prev = p.Prev
					if cursor = p.Next; cursor == "" {
						break
					}
				}
				for prev != "" {
					p, err := reader.ListContacts(c, team.ID, store.ContactQuery{Search: qu.q, Sort: qu.sort, Desc: qu.desc, Cursor: prev, Limit: 6})
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, "back", contactIDs(p.Rows))
					prev = p.Prev
				}
				dp, err := reader.ListDeals(c, team.ID, store.DealQuery{Search: qu.q, Sort: "name", Desc: qu.desc, Limit: 5})
				if err != nil {
					t.Fatal(err)
				}
				f, err := reader.SearchAll(c, team.ID, qu.q, 5)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(out, dealIDs(dp.Rows), contactIDs(f.Contacts), dealIDs(f.Deals))
			}
			check := func(when string) {
				t.Helper()
				for _, qu := range queries {
					got := read(qu)
					off := store.SetSearchCacheBytes(0)
					want := read(qu)
					off()
					if got != want {
						t.Fatalf("%s, %+v:\ncached   %s\nuncached %s", when, qu, got, want)
					}
				}
			}
			modes := []store.SearchMode{
				{Name: "ordered", Rare: 2, Intersect: 1 << 30, Order: 1 << 30},
				{Name: "dense sets, ordered", Rare: 2, Intersect: 10, Dense: 1 << 30, Order: 1 << 30},
			}
			for mi, mode := range modes {
				restore := mode.Use()
				on := store.SetSearchCacheBytes(4 << 20)
				check("warm-up")
				orders, walks := store.SearchCacheLoads("t:order"), store.OverlayWalks()
				rename := func(c **store.Contact, in store.ContactInput) {
					t.Helper()
					if in.Email == "" {
						in.Email = (*c).Email
					}
					got, err := writer.UpdateContact(ctx, team.ID, owner, (*c).ID, (*c).Version, in)
					if err != nil {
						t.Fatal(err)
					}
					*c = got
				}
				// Into the middle of anna's order, out of it, a company moved.
				rename(&berts[mi], store.ContactInput{Name: "Anna M20b", Company: "Acme 99"})
				check("a record renamed into the set")
				rename(&annas[3+mi], store.ContactInput{Name: "Zora M03", Company: annas[3+mi].Company})
				check("a record renamed out of the set")
				rename(&annas[9+mi], store.ContactInput{Name: annas[9+mi].Name, Company: "Aaa first"})
				check("a company changed")
				added := addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Anna M00%d", mi), Company: "Zzz"})
				check("a record added")
				dl := deals[mi]
				dl, err := writer.UpdateDeal(ctx, team.ID, owner, dl.ID, dl.Version, store.DealInput{Name: "Anna deal 99", Goal: "100", ContactID: annas[mi].ID})
				if err != nil {
					t.Fatal(err)
				}
				deals[mi] = dl
				check("a deal renamed")
				if n := store.SearchCacheLoads("t:order"); n != orders {
					t.Errorf("mode %s: term writes the log names made the reader read ordered sets again: %d, then %d", mode.Name, orders, n)
				}
				if n := store.SearchCacheLoads("patch:t:order"); n == 0 {
					t.Errorf("mode %s: no ordered set was carried over", mode.Name)
				}
				if store.OverlayWalks() == walks {
					t.Errorf("mode %s: no page came from a carried ordered set", mode.Name)
				}
				// A delete is not named in the log: the sets are read anew.
				if err := writer.DeleteContact(ctx, team.ID, owner, added.ID); err != nil {
					t.Fatal(err)
				}
				check("a record deleted")
				if n := store.SearchCacheLoads("t:order"); n == orders {
					t.Errorf("mode %s: after a delete the ordered sets were not read again", mode.Name)
				}
				on()
				restore()
			}
		})
	}
}

// TestSearchCacheKeysDoNotAliasTheQuery: the query a handler passes may
// point into the request's buffer (fiber's values do), which the next
// request overwrites. The search cache's keys must not share it: a key
// changed in place is lost, and its value read again on every request.
func TestSearchCacheKeysDoNotAliasTheQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		addContact(t, s, team, owner, store.ContactInput{Name: "Anna Brenner", Email: "anna@brenneranalytics.test"})
		on := store.SetSearchCacheBytes(1 << 20)
		defer on()
		search := func(q string) {
			t.Helper()
			v, err := s.SearchVersions(ctx, team.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SearchAll(store.WithSearchVersions(ctx, team.ID, v), team.ID, q, 5); err != nil {
				t.Fatal(err)
			}
		}
		buf := []byte("brenneranalytics")
		search(unsafe.String(&buf[0], len(buf)))
		loads := store.SearchCacheLoads("set")
		copy(buf, "xxxxxxxxxxxxxxxx") // the next request in the same buffer
		search("brenneranalytics")
		if n := store.SearchCacheLoads("set"); n != loads || loads == 0 {
			t.Fatalf("the word sets were read %d times, then %d: the cache's keys share the query's bytes", loads, n)
		}
	})
}
