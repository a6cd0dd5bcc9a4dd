package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestExportListsTheTablesRowsInItsOrder: for every sort of both tables in
// both directions, with searches in every plan class, views and filters,
// the export's records are the rows of the table's pages walked from the
// first to the last, in that order, handed over in batches of 7 (so every
// export crosses many batch boundaries, and a paging export many pages; on
// MySQL a big export's passes hold 13 rows each).
func TestExportListsTheTablesRowsInItsOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		defer store.SetExportBatch(7)()
		// MySQL's big exports (by passes in primary-key order) from 10
		// rows on, 13 places a pass.
		defer store.SetExportBuckets(13, 10)()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 240, Deals: 90, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(21, 22))})
		teamID := owner.TeamID
		members, err := s.TeamMembers(ctx, teamID)
		if err != nil {
			t.Fatal(err)
		}
		emails := map[int64]string{}
		for _, m := range members {
			emails[m.ID] = m.Email
		}
		contactEmail := map[int64]string{}
		for q := (store.ContactQuery{Limit: 200}); ; {
			p, err := s.ListContacts(ctx, teamID, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Rows {
				contactEmail[c.ID] = c.Email
			}
			if q.Cursor = p.Next; q.Cursor == "" {
				break
			}
		}
		exported := func(run func(emit func([][]string) error) error) []string {
			t.Helper()
			var out []string
			if err := run(func(recs [][]string) error {
				if len(recs) == 0 || len(recs) > 7 {
					t.Fatalf("a batch of %d records", len(recs))
				}
				for _, r := range recs {
					out = append(out, strings.Join(r, "|"))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		contacts := func(q store.ContactQuery) (listed, got []string) {
			for q.Limit = 50; ; {
				p, err := s.ListContacts(ctx, teamID, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.Rows {
					listed = append(listed, strings.Join([]string{c.Name, c.Email, c.Phone, c.Company, c.Status, emails[c.OwnerID]}, "|"))
				}
				if q.Cursor = p.Next; q.Cursor == "" {
					break
				}
			}
			q.Limit = 0
			return listed, exported(func(emit func([][]string) error) error { return s.ExportContacts(ctx, teamID, q, emit) })
		}
		deals := func(q store.DealQuery) (listed, got []string) {
			for q.Limit = 50; ; {
				p, err := s.ListDeals(ctx, teamID, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range p.Rows {
					date := ""
					if !d.CloseDate.IsZero() {
						date = d.CloseDate.UTC().Format(time.DateOnly)
					}
					listed = append(listed, strings.Join([]string{d.Name, d.Stage, date, emails[d.OwnerID], contactEmail[d.ContactID], d.Company}, "|"))
				}
				if q.Cursor = p.Next; q.Cursor == "" {
					break
				}
			}
			q.Limit = 0
			got = exported(func(emit func([][]string) error) error { return s.ExportDeals(ctx, teamID, q, emit) })
			for i, r := range got { // the money columns are left out of the comparison
				f := strings.Split(r, "|")
				got[i] = strings.Join([]string{f[0], f[1], f[4], f[5], f[6], f[7]}, "|")
			}
			return listed, got
		}
		check := func(what string, listed, got []string) {
			t.Helper()
			if !slices.Equal(listed, got) {
				t.Fatalf("%s: the export (%d records) is not the list (%d rows): first difference at %d",
					what, len(got), len(listed), firstDiff(listed, got))
			}
		}
		nonEmpty := 0
		for _, sortKey := range store.ContactSorts {
			for _, desc := range []bool{false, true} {
				l, g := contacts(store.ContactQuery{Sort: sortKey, Desc: desc})
				check(fmt.Sprintf("contacts by %s desc=%v", sortKey, desc), l, g)
				if len(l) != 240 {
					t.Fatalf("contacts by %s: %d rows", sortKey, len(l))
				}
				for _, view := range []string{store.ViewMine, store.ViewUnassigned} {
					l, g := contacts(store.ContactQuery{View: view, UserID: owner.ID, Sort: sortKey, Desc: desc})
					check(fmt.Sprintf("contacts %s by %s desc=%v", view, sortKey, desc), l, g)
				}
				f := store.ContactFilter{Statuses: []string{store.StatusNew, store.StatusOpen}, Owners: []int64{owner.ID, store.Unassigned}}
				l, g = contacts(store.ContactQuery{Sort: sortKey, Desc: desc, Filter: f})
				check(fmt.Sprintf("contacts filtered by %s desc=%v", sortKey, desc), l, g)
			}
		}
		for _, sortKey := range store.DealSorts {
			for _, desc := range []bool{false, true} {
				l, g := deals(store.DealQuery{Sort: sortKey, Desc: desc})
				check(fmt.Sprintf("deals by %s desc=%v", sortKey, desc), l, g)
				l, g = deals(store.DealQuery{View: store.ViewMine, UserID: owner.ID, Sort: sortKey, Desc: desc})
				check(fmt.Sprintf("deals mine by %s desc=%v", sortKey, desc), l, g)
			}
		}
		for _, mode := range searchClassModes {
			restore := mode.Use()
			for _, q := range searchClassQueries {
				for _, sortKey := range []string{"name", "email", "owner", "last_contacted"} {
					l, g := contacts(store.ContactQuery{Search: q, Sort: sortKey, Desc: sortKey == "owner"})
					check(fmt.Sprintf("%s: contacts %q by %s", mode.Name, q, sortKey), l, g)
					nonEmpty += min(len(l), 1)
				}
				l, g := deals(store.DealQuery{Search: q})
				check(fmt.Sprintf("%s: deals %q", mode.Name, q), l, g)
			}
			restore()
		}
		if nonEmpty == 0 {
			t.Fatal("no search found anything: the test data does not fit the queries")
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestExportStopsWhenTheClientGoesAway: an export whose emit fails (the
// client stopped reading) or whose context ends (the client went away) after
// its first batch returns at once with that error and hands over nothing
// more; its statement is not left running on the server, and its
// connection is not kept from later exports.
func TestExportStopsWhenTheClientGoesAway(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		defer store.SetExportBatch(5)()
		defer store.SetExportBuckets(13, 10)()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 200, Deals: 40, Members: 1,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(5, 6))})
		teamID := owner.TeamID
		gone := errors.New("client gone")
		for round := range 3 { // more rounds than the SQLite export pool has connections
			for _, how := range []string{"emit fails", "context cancelled"} {
				for _, kind := range []string{"contacts", "deals"} {
					ctx, cancel := context.WithCancel(context.Background())
					calls := 0
					emit := func([][]string) error {
						calls++
						if how == "emit fails" {
							return gone
						}
						cancel()
						return nil
					}
					var err error
					if kind == "contacts" {
						err = s.ExportContacts(ctx, teamID, store.ContactQuery{Sort: "email"}, emit)
					} else {
						err = s.ExportDeals(ctx, teamID, store.DealQuery{}, emit)
					}
					cancel()
					want := gone
					if how == "context cancelled" {
						want = context.Canceled
					}
					if !errors.Is(err, want) || calls != 1 {
						t.Fatalf("round %d, %s, %s: %v after %d batches; want %v after 1", round, how, kind, err, calls, want)
					}
				}
			}
		}
		if s.Dialect == store.MySQL {
			// The stopped statements are not running on the server.
			deadline := time.Now().Add(10 * time.Second)
			for {
				var n int
				if err := s.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM information_schema.processlist
WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE '%COALESCE(r.owner_id, 0)%'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d export statements still running", n)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		// A whole export still works.
		n := 0
		if err := s.ExportContacts(context.Background(), teamID, store.ContactQuery{}, func(recs [][]string) error {
			n += len(recs)
			return nil
		}); err != nil || n != 200 {
			t.Fatalf("export after the stopped ones: %d records, %v", n, err)
		}
	})
}
