package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestOwnerOrderFollowsTheListVersion: the owner sort's member order is
// kept per list version (ownerOrder). Under the version a request carries,
// a rename behind the store's back (which moves no version) does not
// reorder the segments, while a request without a version reads the
// members afresh; a rename through the store moves the version and the
// next request under it sees the new order.
func TestOwnerOrderFollowsTheListVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 80, Members: 3,
			Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), Rand: rand.New(rand.NewPCG(9, 10))})
		teamID := owner.TeamID
		firstOwner := func(ctx context.Context) int64 {
			t.Helper()
			p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Sort: "owner", Limit: 5})
			if err != nil || len(p.Rows) == 0 {
				t.Fatalf("owner sort: %d rows, %v", len(p.Rows), err)
			}
			return p.Rows[0].OwnerID
		}
		versioned := func() context.Context {
			v, err := s.SearchVersions(ctx, teamID)
			if err != nil {
				t.Fatal(err)
			}
			return store.WithSearchVersions(ctx, teamID, v)
		}
		at := versioned()
		first := firstOwner(at)
		if first == 0 {
			t.Fatal("the first page of the owner sort is unassigned")
		}
		if _, err := s.DB.NewRaw("UPDATE users SET name = 'Zzz Behind' WHERE id = ?", first).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := firstOwner(at); got != first {
			t.Errorf("under the same version the owners were read again: first owner %d, want %d", got, first)
		}
		if got := firstOwner(ctx); got == first {
			t.Errorf("without a version: first owner still %d after the rename", got)
		}
		if err := s.UpdateUserName(ctx, first, "Zzzz Renamed"); err != nil {
			t.Fatal(err)
		}
		if got := firstOwner(versioned()); got == first {
			t.Errorf("after a rename through the store: first owner still %d", got)
		}
	})
}
