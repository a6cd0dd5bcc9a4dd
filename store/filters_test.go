package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// filterCase is a filter with its meaning written out in Go.
type filterCase[F, R any] struct {
	name   string
	filter F
	keep   func(R) bool
}

// filterPlans are the ways a filter is applied: walking the sort index (no
// filter selective), loading the few matches (every filter selective), and
// a combination of filters read from its smallest filter's range (each
// filter matches more than 4 rows; the few matching all are candidates,
// more are walked).
var filterPlans = []struct {
	name  string
	cap   int
	walks bool // some lists of the plan walk the sort index
}{{"walk", 0, true}, {"candidates", 1 << 20, false}, {"narrow", 4, true}}

// TestContactFiltersPageEveryRowOnceInOrder lists contacts with each filter
// and combinations of them, in every sort and direction, on both filter
// plans, and walks every page forward and back against the same filter
// applied in Go.
func TestContactFiltersPageEveryRowOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		all := pagingContacts(t, s, team, admin, []int64{0, owner.ID, admin.ID, member.ID})
		teamB, ownerB, _, _ := teamOf(t, s)
		for range 20 {
			addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Ann", Company: "Acme", Status: store.StatusOpen})
		}
		rank := ownerRanks(t, s, team.ID)
		cols := contactColumns(rank)
		// The times pagingContacts gives: created base+0…12 min, updated
		// base+1h…, contacted base+2h….
		base := all[0].CreatedAt // pagingContacts' clock start
		in := func(t, from, to time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
		cases := []filterCase[store.ContactFilter, store.Contact]{
			{"status", store.ContactFilter{Statuses: []string{store.StatusOpen, store.StatusConnected}},
				func(c store.Contact) bool { return c.Status == store.StatusOpen || c.Status == store.StatusConnected }},
			// One status is a one-value range, not IN.
			{"one status", store.ContactFilter{Statuses: []string{store.StatusConnected}}, func(c store.Contact) bool { return c.Status == store.StatusConnected }},
			{"one owner", store.ContactFilter{Owners: []int64{admin.ID}}, func(c store.Contact) bool { return c.OwnerID == admin.ID }},
			{"unassigned", store.ContactFilter{Owners: []int64{store.Unassigned}}, func(c store.Contact) bool { return c.OwnerID == 0 }},
			{"owners and unassigned", store.ContactFilter{Owners: []int64{owner.ID, store.Unassigned}},
				func(c store.Contact) bool { return c.OwnerID == owner.ID || c.OwnerID == 0 }},
			{"company", store.ContactFilter{Company: "acme"}, func(c store.Contact) bool { return strings.EqualFold(c.Company, "acme") }},
			{"created range", store.ContactFilter{CreatedFrom: base.Add(3 * time.Minute), CreatedTo: base.Add(9 * time.Minute)},
				func(c store.Contact) bool { return in(c.CreatedAt, base.Add(3*time.Minute), base.Add(9*time.Minute)) }},
			{"updated since", store.ContactFilter{UpdatedFrom: base.Add(time.Hour + 2*time.Minute)},
				func(c store.Contact) bool { return !c.UpdatedAt.Before(base.Add(time.Hour + 2*time.Minute)) }},
			{"contacted range", store.ContactFilter{ContactedFrom: base.Add(2*time.Hour + time.Minute), ContactedTo: base.Add(2*time.Hour + 4*time.Minute)},
				func(c store.Contact) bool {
					return in(c.LastContactedAt, base.Add(2*time.Hour+time.Minute), base.Add(2*time.Hour+4*time.Minute))
				}},
			{"back burner", store.ContactFilter{Assigned: true, NotContactedSince: base.Add(2*time.Hour + 2*time.Minute)},
				func(c store.Contact) bool {
					return c.OwnerID != 0 && (c.LastContactedAt.IsZero() || c.LastContactedAt.Before(base.Add(2*time.Hour+2*time.Minute)))
				}},
			{"status, owners, company and created", store.ContactFilter{Statuses: store.ContactStatuses[:5], Owners: []int64{member.ID, admin.ID},
				Company: "Beta GmbH", CreatedTo: base.Add(10 * time.Minute)},
				func(c store.Contact) bool {
					return slices.Contains(store.ContactStatuses[:5], c.Status) && (c.OwnerID == member.ID || c.OwnerID == admin.ID) &&
						strings.EqualFold(c.Company, "beta gmbh") && c.CreatedAt.Before(base.Add(10*time.Minute))
				}},
		}
		for _, plan := range filterPlans {
			restore := store.SetFilterCap(plan.cap)
			for _, fc := range cases {
				for _, view := range []string{store.ViewAll, store.ViewMine} {
					keep := fc.keep
					if view == store.ViewMine {
						keep = func(c store.Contact) bool { return c.OwnerID == member.ID && fc.keep(c) }
					}
					var want []store.Contact
					for _, c := range all {
						if keep(c) {
							want = append(want, c)
						}
					}
					if view == store.ViewAll && len(want) < 4 {
						t.Fatalf("filter %s: only %d rows, test data too thin", fc.name, len(want))
					}
					for _, sortKey := range store.ContactSorts {
						for _, desc := range []bool{false, true} {
							want := slices.Clone(want)
							slices.SortFunc(want, func(a, b store.Contact) int {
								c := cmp.Or(cols[sortKey](a, b), cmp.Compare(a.ID, b.ID))
								if desc {
									return -c
								}
								return c
							})
							name := fmt.Sprintf("plan=%s filter=%s view=%s sort=%s desc=%v", plan.name, fc.name, view, sortKey, desc)
							limit := max(3, len(want)/5) // about five pages
							checkWalkAny(t, name, func(cursor string) ([]int64, string, string, error) {
								p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{View: view, UserID: member.ID, Filter: fc.filter,
									Sort: sortKey, Desc: desc, Cursor: cursor, Limit: limit})
								return contactIDs(p.Rows), p.Next, p.Prev, err
							}, contactIDs(want), limit)
						}
					}
				}
			}
			restore()
		}
	})
}

// checkWalkAny is checkWalk that also accepts an empty or one-page result.
func checkWalkAny(t *testing.T, name string, list pageFunc, want []int64, limit int) {
	t.Helper()
	if len(want) <= limit {
		ids, next, prev, err := list("")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) || prev != "" || (next != "" && len(want) < limit) {
			t.Fatalf("%s: got %v (next %q, prev %q), want %v", name, ids, next, prev, want)
		}
		return
	}
	checkWalk(t, name, list, want, limit)
}

// TestDealFiltersPageEveryRowOnceInOrder is the contacts' test for deals:
// stage, owner, close-date range and amount range, alone and combined.
func TestDealFiltersPageEveryRowOnceInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		all := pagingDeals(t, s, team, admin, []int64{0, owner.ID, admin.ID, member.ID})
		rank := ownerRanks(t, s, team.ID)
		cols := dealColumns(rank)
		day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
		amount := func(n int64) *int64 { return &n }
		between := func(d store.Deal, from, to string) bool {
			return !d.CloseDate.IsZero() && !d.CloseDate.Before(day(from)) && !d.CloseDate.After(day(to))
		}
		cases := []filterCase[store.DealFilter, store.Deal]{
			{"stage", store.DealFilter{Stages: []string{store.StageLost, store.StageQualified}},
				func(d store.Deal) bool { return d.Stage == store.StageLost || d.Stage == store.StageQualified }},
			{"one stage", store.DealFilter{Stages: []string{store.StageQualified}}, func(d store.Deal) bool { return d.Stage == store.StageQualified }},
			{"one owner", store.DealFilter{Owners: []int64{admin.ID}}, func(d store.Deal) bool { return d.OwnerID == admin.ID }},
			{"unassigned", store.DealFilter{Owners: []int64{store.Unassigned}}, func(d store.Deal) bool { return d.OwnerID == 0 }},
			{"owners", store.DealFilter{Owners: []int64{owner.ID, member.ID}}, func(d store.Deal) bool { return d.OwnerID == owner.ID || d.OwnerID == member.ID }},
			{"close date range", store.DealFilter{CloseFrom: day("2026-01-01"), CloseTo: day("2026-01-31")},
				func(d store.Deal) bool { return between(d, "2026-01-01", "2026-01-31") }},
			{"close date from", store.DealFilter{CloseFrom: day("2026-01-31")},
				func(d store.Deal) bool { return between(d, "2026-01-31", "9999-12-31") }},
			{"amount range", store.DealFilter{AmountMin: amount(1000), AmountMax: amount(250000)},
				func(d store.Deal) bool { return d.Amount >= 1000 && d.Amount <= 250000 }},
			{"amount at most", store.DealFilter{AmountMax: amount(0)}, func(d store.Deal) bool { return d.Amount <= 0 }},
			{"stage, owners, close and amount", store.DealFilter{Stages: store.Stages[:5], Owners: []int64{admin.ID, store.Unassigned},
				CloseTo: day("2026-01-31"), AmountMin: amount(1)},
				func(d store.Deal) bool {
					return slices.Contains(store.Stages[:5], d.Stage) && (d.OwnerID == admin.ID || d.OwnerID == 0) &&
						between(d, "0001-01-01", "2026-01-31") && d.Amount >= 1
				}},
		}
		for _, plan := range filterPlans {
			restore := store.SetFilterCap(plan.cap)
			for _, fc := range cases {
				for _, view := range []string{store.ViewAll, store.ViewMine} {
					keep := fc.keep
					if view == store.ViewMine {
						keep = func(d store.Deal) bool { return d.OwnerID == member.ID && fc.keep(d) }
					}
					var want []store.Deal
					for _, d := range all {
						if keep(d) {
							want = append(want, d)
						}
					}
					if view == store.ViewAll && len(want) < 4 {
						t.Fatalf("filter %s: only %d rows, test data too thin", fc.name, len(want))
					}
					for _, sortKey := range store.DealSorts {
						for _, desc := range []bool{false, true} {
							want := slices.Clone(want)
							slices.SortFunc(want, func(a, b store.Deal) int {
								c := cmp.Or(cols[sortKey](a, b), cmp.Compare(a.ID, b.ID))
								if desc {
									return -c
								}
								return c
							})
							name := fmt.Sprintf("plan=%s filter=%s view=%s sort=%s desc=%v", plan.name, fc.name, view, sortKey, desc)
							limit := max(3, len(want)/5) // about five pages
							checkWalkAny(t, name, func(cursor string) ([]int64, string, string, error) {
								p, err := s.ListDeals(ctx, team.ID, store.DealQuery{View: view, UserID: member.ID, Filter: fc.filter,
									Sort: sortKey, Desc: desc, Cursor: cursor, Limit: limit})
								return dealIDs(p.Rows), p.Next, p.Prev, err
							}, dealIDs(want), limit)
						}
					}
				}
			}
			restore()
		}
	})
}
