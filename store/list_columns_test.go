package store_test

import (
	"context"
	"slices"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestListColumnsPerUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.CreateUser(ctx, "Ann", "ann@example.com", "x")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateUser(ctx, "Bob", "bob@example.com", "x")
		if err != nil {
			t.Fatal(err)
		}
		if cols, chosen, err := s.ListColumns(ctx, a.ID, "contacts"); err != nil || chosen || cols != nil {
			t.Fatalf("before a choice: %v %v %v", cols, chosen, err)
		}
		if err := s.SetListColumns(ctx, a.ID, "contacts", []string{"email", "status"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetListColumns(ctx, a.ID, "contacts", []string{"email", "owner"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetListColumns(ctx, a.ID, "deals", []string{}); err != nil {
			t.Fatal(err)
		}
		cols, chosen, err := s.ListColumns(ctx, a.ID, "contacts")
		if err != nil || !chosen || !slices.Equal(cols, []string{"email", "owner"}) {
			t.Errorf("Ann's contacts columns: %v %v %v", cols, chosen, err)
		}
		if cols, chosen, err := s.ListColumns(ctx, a.ID, "deals"); err != nil || !chosen || len(cols) != 0 {
			t.Errorf("Ann's deals columns (none chosen on): %v %v %v", cols, chosen, err)
		}
		if _, chosen, _ := s.ListColumns(ctx, b.ID, "contacts"); chosen {
			t.Error("Bob sees Ann's choice")
		}
		if err := s.SetListColumns(ctx, a.ID, "contacts", nil); err != nil {
			t.Fatal(err)
		}
		if _, chosen, _ := s.ListColumns(ctx, a.ID, "contacts"); chosen {
			t.Error("reset kept the choice")
		}
	})
}
