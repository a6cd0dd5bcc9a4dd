package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestSearchCacheKeepsTermSetsAcrossOtherWrites: writes that change no
// search term (a status edit, an owner, a note, an activity, deals moved
// on) through another instance move the team's list version but not its
// terms version; the reader's cached word sets, dense sets and
// name-sorted ordered sets stay (no value is read again) and its results
// — contacts, deals, top bar — equal the uncached ones, also by status, by
// stage and amount and in the "mine" view, whose cached order is keyed by
// the list version and read again. A rename then moves the terms version:
// the reader reads its sets again and sees it.
func TestSearchCacheKeepsTermSetsAcrossOtherWrites(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			writer, reader := twoStores(t, d)
			team, owner, admin, _ := teamOf(t, writer)
			statuses := store.ContactStatuses
			var annas []*store.Contact
			for i := range 30 {
				annas = append(annas, addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Anna M%02d", (i*7)%30),
					Status: statuses[i%3]}))
				addContact(t, writer, team, owner, store.ContactInput{Name: fmt.Sprintf("Bert M%02d", i)})
			}
			var deals []*store.Deal
			for i, c := range annas[:20] {
				deals = append(deals, addDeal(t, writer, team, owner, c, store.DealInput{Name: fmt.Sprintf("Anna deal %02d", (i*3)%20), Goal: fmt.Sprint(100 + i)}))
			}
			type query struct {
				q, sort string
				view    string
			}
			queries := []query{{"anna", "name", ""}, {"anna", "status", ""}, {"anna m", "name", ""}, {"anna", "name", store.ViewMine}, {"m", "email", ""},
				{"anna", "amount", ""}}
			// read is what the reader shows for the query: two pages, and
			// the top bar's contacts.
			read := func(qu query) (string, []int64) {
				t.Helper()
				v, err := reader.SearchVersions(ctx, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				c := store.WithSearchVersions(ctx, team.ID, v)
				var out [][]int64
				cursor := ""
				for range 2 {
					p, err := reader.ListContacts(c, team.ID, store.ContactQuery{Search: qu.q, Sort: qu.sort, View: qu.view, UserID: owner.ID, Cursor: cursor, Limit: 7})
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, contactIDs(p.Rows))
					if cursor = p.Next; cursor == "" {
						break
					}
				}
				f, err := reader.SearchAll(c, team.ID, qu.q, 5)
				if err != nil {
					t.Fatal(err)
				}
				// The deals table by the query's sort where it has one (a
				// stage edit moves the stage sort's order), else by stage.
				sortKey := qu.sort
				if !slices.Contains(store.DealSorts, sortKey) {
					sortKey = "stage"
				}
				dp, err := reader.ListDeals(c, team.ID, store.DealQuery{Search: qu.q, Sort: sortKey, Limit: 7})
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(out, contactIDs(f.Contacts), dealIDs(f.Deals), dealIDs(dp.Rows)), slices.Concat(append(out, contactIDs(f.Contacts))...)
			}
			check := func(when string) {
				t.Helper()
				for _, qu := range queries {
					got, _ := read(qu)
					off := store.SetSearchCacheBytes(0)
					want, _ := read(qu)
					off()
					if got != want {
						t.Fatalf("%s, %+v: cached %s, uncached %s", when, qu, got, want)
					}
				}
			}
			kinds := []string{"set", "dense", "t:order", "l:order", "patch:set", "patch:dense", "patch:t:order"}
			loads := func() map[string]int64 {
				m := map[string]int64{}
				for _, k := range kinds {
					m[k] = store.SearchCacheLoads(k)
				}
				return m
			}
			modes := []store.SearchMode{
				{Name: "ordered", Rare: 2, Intersect: 1 << 30, Order: 1 << 30},
				{Name: "dense sets", Rare: 2, Intersect: 10, Dense: 1 << 30},
			}
			for mi, mode := range modes {
				restore := mode.Use()
				on := store.SetSearchCacheBytes(1 << 20)
				check("warm-up")
				warm := loads()
				if warm["set"]+warm["dense"] == 0 {
					t.Fatalf("mode %s: the searches cached no set: %v", mode.Name, warm)
				}
				check("warm")
				if got := loads(); fmt.Sprint(got) != fmt.Sprint(warm) {
					t.Fatalf("mode %s: a second round read values again: %v, then %v", mode.Name, warm, got)
				}

				before, err := reader.SearchVersions(ctx, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				// Writes of no term, through the other instance.
				c := annas[3]
				c, err = writer.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: c.Name, Email: c.Email,
					Status: statuses[len(statuses)-1]})
				if err != nil {
					t.Fatal(err)
				}
				annas[3] = c
				if _, err := writer.AssignContact(ctx, team.ID, owner, annas[5].ID, admin.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := writer.AddNote(ctx, team.ID, owner, annas[6].ID, "a note"); err != nil {
					t.Fatal(err)
				}
				if _, err := writer.LogActivity(ctx, team.ID, annas[7].ID, owner.ID, store.ActivityEmail, "wrote"); err != nil {
					t.Fatal(err)
				}
				if deals[mi], err = writer.MoveDeal(ctx, team.ID, owner, deals[mi].ID, store.MoveInput{Stage: store.StageQualified}); err != nil {
					t.Fatal(err)
				}
				if deals[5+mi], err = writer.MoveDeal(ctx, team.ID, owner, deals[5+mi].ID, store.MoveInput{Stage: store.StageWon, Amount: "500", ClosedOn: "2026-01-02"}); err != nil {
					t.Fatal(err)
				}
				after, err := reader.SearchVersions(ctx, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				if after.List == before.List || after.Terms != before.Terms {
					t.Fatalf("mode %s: writes of no term: versions %+v → %+v (want the list version moved, the terms version kept)", mode.Name, before, after)
				}
				check("after writes of no term")
				got := loads()
				for _, k := range []string{"set", "dense", "t:order"} {
					if got[k] != warm[k] {
						t.Errorf("mode %s: writes of no term made the reader read %s values again: %v, then %v", mode.Name, k, warm, got)
					}
				}
				if mode.Order > 0 && got["l:order"] == warm["l:order"] {
					t.Errorf("mode %s: the status-sorted ordered set was not read again after a status edit: %v, then %v", mode.Name, warm, got)
				}

				// A rename: the terms version moves; the sets are carried over
				// from the terms log (search_patch.go), not read again.
				c = annas[10+mi]
				renamed, err := writer.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: "Zora " + c.Name[5:], Email: c.Email, Status: c.Status})
				if err != nil {
					t.Fatal(err)
				}
				annas[10+mi] = renamed
				moved, err := reader.SearchVersions(ctx, team.ID)
				if err != nil {
					t.Fatal(err)
				}
				if moved.Terms == after.Terms || moved.List == after.List {
					t.Fatalf("mode %s: a rename: versions %+v → %+v", mode.Name, after, moved)
				}
				check("after a rename")
				l := loads()
				for _, k := range []string{"set", "dense", "t:order"} {
					if l[k] != got[k] {
						t.Errorf("mode %s: the rename made the reader read %s values again: %v, then %v", mode.Name, k, got, l)
					}
				}
				if l["patch:set"]+l["patch:dense"] == got["patch:set"]+got["patch:dense"] {
					t.Errorf("mode %s: the rename carried no word set over: %v, then %v", mode.Name, got, l)
				}
				if mode.Order > 0 && l["patch:t:order"] == got["patch:t:order"] {
					t.Errorf("mode %s: the rename carried no ordered set over: %v, then %v", mode.Name, got, l)
				}
				if s, ids := read(query{"anna", "name", ""}); slices.Contains(ids, renamed.ID) {
					t.Fatalf("mode %s: the renamed contact %d still matches anna: %s", mode.Name, renamed.ID, s)
				}
				on()
				restore()
			}
		})
	}
}
