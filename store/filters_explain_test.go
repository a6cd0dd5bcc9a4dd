package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestFilteredListsUseTheSortIndex runs EXPLAIN (EXPLAIN QUERY PLAN on
// SQLite) on the list queries of every filter with every sort, on both
// filter plans: walking, each page reads a range of the sort index (the
// owner's sort index for one owner) without sorting; with few matches, they
// are read from the filter's index and loaded by primary key.
func TestFilteredListsUseTheSortIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		users := []int64{0, owner.ID, admin.ID, member.ID}
		now := time.Now().UTC()
		var contacts []*store.Contact
		for i := range 48 {
			c := addContact(t, s, team, admin, store.ContactInput{Name: fmt.Sprintf("Name %d", i%7), Company: []string{"Acme", "Beta"}[i%2],
				Status: store.ContactStatuses[i%3], OwnerID: users[i%4]})
			contacts = append(contacts, c)
			if i%3 > 0 {
				if _, err := s.LogScheduled(ctx, team.ID, c.ID, admin.ID, store.ActivityMeeting, "Meeting", now.Add(time.Duration(i)*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := range 48 {
			addDeal(t, s, team, admin, contacts[i], store.DealInput{Name: "Deal", OwnerID: users[i%4], Amount: fmt.Sprint(100 * (i % 5)),
				Stage: store.Stages[i%3], CloseDate: []string{"", "2026-01-01", "2026-02-01"}[i%3]})
		}
		log := &queryLog{}
		s.DB.AddQueryHook(log)
		day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
		amount := func(n int64) *int64 { return &n }
		contactFilters := map[string]store.ContactFilter{
			"status":            {Statuses: []string{store.ContactStatuses[0], store.ContactStatuses[1]}},
			"one status":        {Statuses: []string{store.ContactStatuses[1]}},
			"one owner":         {Owners: []int64{admin.ID}},
			"one owner created": {Owners: []int64{admin.ID}, CreatedFrom: now.Add(-time.Hour)},
			"unassigned":        {Owners: []int64{store.Unassigned}},
			"owners":            {Owners: []int64{admin.ID, store.Unassigned}},
			"company":           {Company: "Acme"},
			"created":           {CreatedFrom: now.Add(-time.Hour), CreatedTo: now.Add(time.Hour)},
			"updated":           {UpdatedFrom: now.Add(-time.Hour)},
			"contacted":         {ContactedFrom: now.Add(-time.Hour), ContactedTo: now.Add(time.Hour)},
			"back burner":       {Assigned: true, NotContactedSince: now.Add(time.Hour)},
			"all at once":       {Statuses: store.ContactStatuses[:3], Owners: []int64{admin.ID, owner.ID}, Company: "Beta", CreatedFrom: now.Add(-time.Hour)},
		}
		dealFilters := map[string]store.DealFilter{
			"stage":             {Stages: store.Stages[:2]},
			"one stage":         {Stages: store.Stages[1:2]},
			"one owner":         {Owners: []int64{admin.ID}},
			"one owner closing": {Owners: []int64{admin.ID}, CloseFrom: day("2025-12-01")},
			"owners":            {Owners: []int64{admin.ID, store.Unassigned}},
			"close date":        {CloseFrom: day("2025-12-01"), CloseTo: day("2026-01-31")},
			"amount":            {AmountMin: amount(100), AmountMax: amount(30000)},
			"all at once":       {Stages: store.Stages[:3], Owners: []int64{owner.ID, member.ID}, CloseFrom: day("2025-01-01"), AmountMin: amount(1)},
		}
		for _, plan := range filterPlans {
			restore := store.SetFilterCap(plan.cap)
			// walkOnly: a filter of one owner is the owner's view, walked
			// on every plan.
			check := func(what, sortIndex string, walkOnly, covering bool) {
				t.Helper()
				queries := log.take()
				if len(queries) == 0 {
					t.Fatalf("%s: no list queries captured", what)
				}
				for _, q := range queries {
					switch {
					case plan.cap == 0 || walkOnly:
						checkWalkPlan(t, s, q, sortIndex, what)
						if covering {
							checkWalkCovering(t, s, q, sortIndex, what)
						}
					case strings.Contains(q, "LIMIT") && !strings.Contains(q, "ORDER BY"):
						// The matches, read from the selective filter's index.
						checkFilterRead(t, s, q, what)
					case strings.Contains(q, "FORCE INDEX (PRIMARY)") || strings.Contains(q, " NOT INDEXED"):
						checkPrimaryRead(t, s, q, what)
					case plan.walks:
						// The narrow plan walks when the combination
						// holds more than the candidates' cap.
						checkWalkPlan(t, s, q, sortIndex, what)
					default:
						t.Errorf("%s: a walk on the candidates plan\n%s", what, q)
					}
				}
			}
			for name, f := range contactFilters {
				for sortKey, idx := range contactIndexes {
					for _, desc := range []bool{false, true} {
						want := idx[0]
						if len(f.Owners) == 1 {
							want = idx[1]
						}
						q := store.ContactQuery{Filter: f, Sort: sortKey, Desc: desc, Limit: 2}
						p, err := s.ListContacts(ctx, team.ID, q)
						if err != nil {
							t.Fatal(err)
						}
						if len(p.Rows) == 0 {
							t.Fatalf("contacts filter %s: nothing matches", name)
						}
						if p.Next != "" {
							q.Cursor = p.Next
							if _, err := s.ListContacts(ctx, team.ID, q); err != nil {
								t.Fatal(err)
							}
						}
						check(fmt.Sprintf("plan=%s contacts filter=%s sort=%s desc=%v", plan.name, name, sortKey, desc), want, name == "one owner" || name == "unassigned",
							inSortIndex["contacts "+name+" "+sortKey])
					}
				}
			}
			for name, f := range dealFilters {
				for sortKey, idx := range dealIndexes {
					for _, desc := range []bool{false, true} {
						want := idx[0]
						if len(f.Owners) == 1 {
							want = idx[1]
						}
						q := store.DealQuery{Filter: f, Sort: sortKey, Desc: desc, Limit: 2}
						p, err := s.ListDeals(ctx, team.ID, q)
						if err != nil {
							t.Fatal(err)
						}
						if len(p.Rows) == 0 {
							t.Fatalf("deals filter %s: nothing matches", name)
						}
						if p.Next != "" {
							q.Cursor = p.Next
							if _, err := s.ListDeals(ctx, team.ID, q); err != nil {
								t.Fatal(err)
							}
						}
						check(fmt.Sprintf("plan=%s deals filter=%s sort=%s desc=%v", plan.name, name, sortKey, desc), want, name == "one owner",
							inSortIndex["deals "+name+" "+sortKey])
					}
				}
			}
			restore()
		}
	})
}

// inSortIndex lists the filters walked inside the sort index (migration
// 0025): their column goes with the sort order, so a walk can pass tens of
// thousands of misses before a page fills, and each must be checked in the
// index read, not by a row lookup. "list filter sort".
var inSortIndex = map[string]bool{
	"contacts created last_contacted": true, "contacts created next_step": true,
	"contacts created phone": true, "contacts created status": true,
	"contacts contacted created": true, "contacts contacted next_step": true,
	"contacts back burner last_contacted": true,
	"deals close date stage":              true, "deals close date created": true, "deals close date updated": true,
	"deals amount stage": true, "deals amount goal": true,
	// The same on the owner's indexes (one owner is the owner's view).
	"contacts one owner created last_contacted": true, "contacts one owner created next_step": true,
	"contacts one owner created phone": true, "contacts one owner created status": true,
	"deals one owner closing stage": true, "deals one owner closing created": true, "deals one owner closing updated": true,
}

// checkWalkCovering asserts a walk reads the sort index alone: every condition
// is checked in the index entries.
func checkWalkCovering(t *testing.T, s *store.Store, q, sortIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		if plan := sqlitePlan(t, s, q); !strings.Contains(plan, "COVERING INDEX "+sortIndex+" ") {
			t.Errorf("%s: walk %q, want the covering index %s\n%s", what, plan, sortIndex, q)
		}
		return
	}
	if r := explain(t, sqlDB(s), q)[0]; !strings.Contains(r.extra, "Using index") || strings.Contains(r.extra, "Using index condition") {
		t.Errorf("%s: walk %+v, want %s read alone (Using index)\n%s", what, r, sortIndex, q)
	}
}

// checkFilterRead asserts the read of a selective filter's matches ranges
// over an index (the one its hint names) and sorts nothing.
func checkFilterRead(t *testing.T, s *store.Store, q, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		plan := sqlitePlan(t, s, q)
		if !strings.HasPrefix(plan, "SEARCH r USING ") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: filter read %q\n%s", what, plan, q)
		}
		return
	}
	r := explain(t, sqlDB(s), q)[0]
	if !strings.Contains(q, "FORCE INDEX ("+r.key+")") || (r.typ != "range" && r.typ != "ref" && r.typ != "ref_or_null") {
		t.Errorf("%s: filter read %+v\n%s", what, r, q)
	}
}

// checkPrimaryRead asserts a page of candidates is loaded by primary key.
func checkPrimaryRead(t *testing.T, s *store.Store, q, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		plan := sqlitePlan(t, s, q)
		if !strings.Contains(plan, "USING INTEGER PRIMARY KEY") {
			t.Errorf("%s: candidates %q\n%s", what, plan, q)
		}
		return
	}
	r := explain(t, sqlDB(s), q)[0]
	if r.key != "PRIMARY" || r.typ != "range" {
		t.Errorf("%s: candidates %+v\n%s", what, r, q)
	}
}

// checkWalkPlan asserts a filtered page reads the sort index in order; a
// later page starts at the cursor (a range).
func checkWalkPlan(t *testing.T, s *store.Store, q, wantIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		checkPlan(t, s, q, wantIndex, what)
		return
	}
	r := explain(t, sqlDB(s), q)[0]
	if r.key != wantIndex || (r.typ != "range" && r.typ != "ref") || strings.Contains(r.extra, "filesort") {
		t.Errorf("%s: plan %+v, want range/ref on %s\n%s", what, r, wantIndex, q)
	}
	later := strings.Contains(q, " OR (r.") || strings.Contains(q, "r.email > ") || strings.Contains(q, "r.email < ") ||
		strings.Contains(q, "r.id > ") || strings.Contains(q, "r.id < ")
	if later && r.typ != "range" {
		t.Errorf("%s: a later page must be a range, got %s\n%s", what, r.typ, q)
	}
}
