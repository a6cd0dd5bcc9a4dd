package store_test

import (
	"context"
	"testing"
	"time"

	"sherpa/store"
)

// BenchmarkContactFilters lists the bench team's contacts with each filter
// and every sort, both directions: the first page, and a page
// SHERPA_BENCH_FILTER_PAGES pages (200 by default: 5,000 matching rows) in,
// reached by walking the Next cursors once before measuring.
//
//	SHERPA_BENCH_URL=… go test ./store -run '^$' -bench ContactFilters -benchtime 20x
func BenchmarkContactFilters(b *testing.B) {
	s, teamID, user := benchStore(b)
	ctx := context.Background()
	members, err := s.TeamMembers(ctx, teamID)
	if err != nil || len(members) < 3 {
		b.Fatalf("members: %v", err)
	}
	now := time.Now()
	// A company of the team (the seed's are 1–50 contacts each).
	some, err := s.ListContacts(ctx, teamID, store.ContactQuery{Limit: 1})
	if err != nil || len(some.Rows) == 0 {
		b.Fatalf("a contact: %v", err)
	}
	filters := map[string]store.ContactFilter{
		"status":  {Statuses: []string{store.StatusConnected}},
		"owners":  {Owners: []int64{members[1].ID, store.Unassigned}},
		"company": {Company: some.Rows[0].Company},
		// One owner is the owner's view: its (team, owner, sort) index is
		// walked, with the created filter checked on each row.
		"mine-created": {Owners: []int64{user.ID}, CreatedFrom: now.AddDate(0, -3, 0)},
		// Each condition matches thousands, all of them together a few
		// dozen: no filter alone is selective.
		"narrow":      {Statuses: []string{store.StatusBadTiming}, Owners: []int64{members[1].ID, members[2].ID}, CreatedFrom: now.AddDate(0, 0, -7)},
		"created":     {CreatedFrom: now.AddDate(0, -3, 0)},
		"contacted":   {ContactedFrom: now.AddDate(0, -2, 0), ContactedTo: now.AddDate(0, -1, 0)},
		"back-burner": {Assigned: true, NotContactedSince: now.AddDate(0, 0, -30)},
		"combined":    {Statuses: []string{store.StatusNew, store.StatusOpen}, Owners: []int64{members[2].ID, user.ID}, CreatedFrom: now.AddDate(-1, 0, 0)},
	}
	for name, f := range filters {
		for _, sortKey := range store.ContactSorts {
			for _, desc := range []bool{false, true} {
				q := store.ContactQuery{Filter: f, Sort: sortKey, Desc: desc}
				b.Run(name+"/first/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
					measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
				})
				b.Run(name+"/deep/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
					q := q
					for range filterBenchPages {
						p, err := s.ListContacts(ctx, teamID, q)
						if err != nil {
							b.Fatal(err)
						}
						if p.Next == "" {
							break
						}
						q.Cursor = p.Next
					}
					measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
				})
			}
		}
	}
}

// filterBenchPages is how many pages in the filters' deep page is.
var filterBenchPages = envInt("SHERPA_BENCH_FILTER_PAGES", 200)

// BenchmarkDealFilters is BenchmarkContactFilters for deals.
func BenchmarkDealFilters(b *testing.B) {
	s, teamID, _ := benchStore(b)
	ctx := context.Background()
	members, err := s.TeamMembers(ctx, teamID)
	if err != nil || len(members) < 2 {
		b.Fatalf("members: %v", err)
	}
	lo, hi := int64(100_000), int64(2_000_000)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	filters := map[string]store.DealFilter{
		"stage":    {Stages: []string{store.StageQualified, store.StageAppointment}},
		"owners":   {Owners: []int64{members[1].ID, store.Unassigned}},
		"close":    {CloseFrom: day("2026-01-01"), CloseTo: day("2026-03-31")},
		"amount":   {AmountMin: &lo, AmountMax: &hi},
		"combined": {Stages: []string{store.StageCreated, store.StageQualified}, CloseFrom: day("2025-06-01"), AmountMin: &lo},
	}
	for name, f := range filters {
		for _, sortKey := range store.DealSorts {
			for _, desc := range []bool{false, true} {
				q := store.DealQuery{Filter: f, Sort: sortKey, Desc: desc}
				b.Run(name+"/first/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
					measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
				})
				b.Run(name+"/deep/"+sortKey+"/"+dirName(desc), func(b *testing.B) {
					q := q
					for range filterBenchPages {
						p, err := s.ListDeals(ctx, teamID, q)
						if err != nil {
							b.Fatal(err)
						}
						if p.Next == "" {
							break
						}
						q.Cursor = p.Next
					}
					measure(b, func() error { _, err := s.ListDeals(ctx, teamID, q); return err })
				})
			}
		}
	}
}
