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

// TestExportBucketsKeepTheListAndItsSnapshot: with buckets of a few rows
// (so that a listing spans dozens of them, MySQL's bucket export:
// exports_buckets.go), read by passes over their id ranges, by lookups a
// few ids a statement, or either as the density decides, an export of
// every sort in both directions, every view, a filter and a search is the
// table's rows walked page by page, row for row. On MySQL, rows renamed,
// given to another owner, deleted and created while the export runs (after
// its first batch and again between later buckets) are exported as they
// were when it started, in their places then.
func TestExportBucketsKeepTheListAndItsSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		defer store.SetExportBatch(5)()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 180, Deals: 10, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(31, 32))})
		teamID := owner.TeamID
		members, err := s.TeamMembers(ctx, teamID)
		if err != nil {
			t.Fatal(err)
		}
		emails := map[int64]string{}
		for _, m := range members {
			emails[m.ID] = m.Email
		}
		listed := func(q store.ContactQuery) (rows []store.Contact, out []string) {
			t.Helper()
			for q.Limit = 40; ; {
				p, err := s.ListContacts(ctx, teamID, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.Rows {
					rows = append(rows, c)
					out = append(out, strings.Join([]string{c.Name, c.Email, c.Phone, c.Company, c.Status, emails[c.OwnerID]}, "|"))
				}
				if q.Cursor = p.Next; q.Cursor == "" {
					return rows, out
				}
			}
		}
		exported := func(q store.ContactQuery, during func(batch int)) []string {
			t.Helper()
			var out []string
			batch := 0
			if err := s.ExportContacts(ctx, teamID, q, func(recs [][]string) error {
				for _, r := range recs {
					out = append(out, strings.Join(r, "|"))
				}
				batch++
				if during != nil {
					during(batch)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		check := func(what string, want, got []string) {
			t.Helper()
			if !slices.Equal(want, got) {
				i := firstDiff(want, got)
				t.Fatalf("%s: the export (%d records) is not the list (%d rows): first difference at %d: %q, want %q",
					what, len(got), len(want), i, at(got, i), at(want, i))
			}
		}
		type config struct {
			name               string
			rows, from         int
			lookups, in, dense int
		}
		configs := []config{
			{"passes", 7, 1, 4995, 999, 1 << 30},
			{"lookups", 7, 1 << 30, 3, 2, 3},
			{"as dense", 11, 4, 5, 2, 3},
		}
		filter := store.ContactFilter{Statuses: []string{store.StatusNew, store.StatusOpen}, Owners: []int64{owner.ID, store.Unassigned}}
		for _, c := range configs {
			restore := func(fs ...func()) func() {
				return func() {
					for _, f := range fs {
						f()
					}
				}
			}(store.SetExportBuckets(c.rows, c.from), store.SetExportBucketReads(c.lookups, c.in, c.dense))
			for _, sortKey := range store.ContactSorts {
				for _, desc := range []bool{false, true} {
					for _, q := range []store.ContactQuery{
						{Sort: sortKey, Desc: desc},
						{View: store.ViewMine, UserID: owner.ID, Sort: sortKey, Desc: desc},
						{View: store.ViewUnassigned, Sort: sortKey, Desc: desc},
						{Sort: sortKey, Desc: desc, Filter: filter},
						{Sort: sortKey, Desc: desc, Search: "m"},
					} {
						what := fmt.Sprintf("%s: by %s desc=%v, view %q, search %q, filtered %v", c.name, sortKey, desc, q.View, q.Search, q.Filter.Statuses != nil)
						_, want := listed(q)
						if q.View == "" && q.Search == "" && q.Filter.Statuses == nil && len(want) != 180 {
							t.Fatalf("%s: %d rows", what, len(want))
						}
						check(what, want, exported(q, nil))
					}
				}
			}
			restore()
		}
		if s.Dialect != store.MySQL {
			return // SQLite exports each segment as one statement (exports.go)
		}
		// Changes while an export runs.
		others := []int64{}
		for _, m := range members {
			if m.ID != owner.ID {
				others = append(others, m.ID)
			}
		}
		n := 0
		change := func(rows []store.Contact) {
			t.Helper()
			n++
			pick := func(i int) store.Contact {
				c, err := s.ContactByID(ctx, teamID, rows[(i+5*n)%len(rows)].ID)
				if err != nil {
					t.Fatal(err)
				}
				return *c
			}
			for i, k := range []int{3, len(rows) / 2, len(rows) - 2} {
				c := pick(k)
				in := store.ContactInput{Name: fmt.Sprintf("%s %d %s", []string{"Aaron", "Mia", "Zoe"}[i], n, c.Name),
					Email: c.Email, Phone: c.Phone, Company: "Moved " + c.Company, Status: c.Status, OwnerID: others[(n+i)%len(others)]}
				if _, err := s.UpdateContact(ctx, teamID, owner, c.ID, c.Version, in); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteContact(ctx, teamID, owner, pick(len(rows)/3).ID); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := s.CreateContact(ctx, teamID, owner, store.ContactInput{Name: fmt.Sprintf("Anna New %d-%d", n, i),
					Email: fmt.Sprintf("new%d-%d@example.com", n, i), Company: "Acme", OwnerID: owner.ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, c := range configs[:2] {
			restore := func(fs ...func()) func() {
				return func() {
					for _, f := range fs {
						f()
					}
				}
			}(store.SetExportBuckets(c.rows, c.from), store.SetExportBucketReads(c.lookups, c.in, c.dense))
			for _, sortKey := range []string{"name", "company", "owner", "updated"} {
				for _, desc := range []bool{false, true} {
					q := store.ContactQuery{Sort: sortKey, Desc: desc}
					rows, want := listed(q)
					got := exported(q, func(batch int) {
						if batch == 1 || batch == 9 {
							change(rows)
						}
					})
					check(fmt.Sprintf("%s, changed during the export: by %s desc=%v", c.name, sortKey, desc), want, got)
				}
			}
			restore()
		}
	})
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// TestBucketExportReadsRowsByPrimaryKey: on MySQL the reads of a bucket's
// rows, by lookups and by passes, are ranges of the primary key (not a scan
// of the team).
func TestBucketExportReadsRowsByPrimaryKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		if s.Dialect != store.MySQL {
			return // SQLite exports each segment as one statement (exports.go)
		}
		ctx := context.Background()
		defer store.SetExportBatch(5)()
		defer store.SetExportBuckets(7, 1)()
		defer store.SetExportBucketReads(5, 2, 3)()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 60, Deals: 5, Members: 2,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(41, 42))})
		log := &queryLog{}
		s.DB.AddQueryHook(log)
		for _, sortKey := range []string{"name", "created"} {
			if err := s.ExportContacts(ctx, owner.TeamID, store.ContactQuery{Sort: sortKey}, func([][]string) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		lookups, passes := 0, 0
		for _, q := range log.take() {
			if !strings.Contains(q, "FORCE INDEX (PRIMARY)") {
				continue // the ids, from the sort index: the pages' statements
			}
			switch {
			case strings.Contains(q, " OR r.id IN ("):
				lookups++
			case strings.Contains(q, "BETWEEN"):
				passes++
			}
			for _, r := range explain(t, s.DB.DB, q) {
				if r.key != "PRIMARY" || (r.typ != "range" && r.typ != "const") {
					t.Fatalf("%s: reads %s by %q (%s)", q, r.typ, r.key, r.extra)
				}
			}
		}
		if lookups == 0 || passes == 0 {
			t.Fatalf("%d lookups and %d passes: the test no longer reads both ways", lookups, passes)
		}
	})
}
