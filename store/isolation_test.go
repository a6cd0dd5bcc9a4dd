package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestAnotherTeamsRecordsAreNotFound uses team A's ids from team B for every
// read and write and checks each answers ErrNotFound and changes nothing.
func TestAnotherTeamsRecordsAreNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		teamA, ownerA, _, _ := teamOf(t, s)
		teamB, ownerB, _, memberB := teamOf(t, s)
		c := addContact(t, s, teamA, ownerA, store.ContactInput{Name: "Ann", Email: "ann@a.example", Company: "A"})
		d := addDeal(t, s, teamA, ownerA, c, store.DealInput{Name: "A deal"})
		n, err := s.AddNote(ctx, teamA.ID, ownerA, c.ID, "A's note")
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, s)

		b := teamB.ID
		cin := store.ContactInput{Name: "Hacked", Email: "hacked@b.example"}
		din := store.DealInput{Name: "Hacked", ContactID: c.ID}
		checks := map[string]error{
			"ContactByID":         second(s.ContactByID(ctx, b, c.ID)),
			"UpdateContact":       second(s.UpdateContact(ctx, b, ownerB, c.ID, c.Version, cin)),
			"DeleteContact":       s.DeleteContact(ctx, b, ownerB, c.ID),
			"AssignContact":       second(s.AssignContact(ctx, b, ownerB, c.ID, memberB.ID)),
			"ContactDeleteImpact": third(s.ContactDeleteImpact(ctx, b, c.ID)),
			"DealByID":            second(s.DealByID(ctx, b, d.ID)),
			"UpdateDeal":          second(s.UpdateDeal(ctx, b, ownerB, d.ID, d.Version, din)),
			"DeleteDeal":          s.DeleteDeal(ctx, b, ownerB, d.ID),
			"AssignDeal":          second(s.AssignDeal(ctx, b, ownerB, d.ID, memberB.ID)),
			"AddNote":             second(s.AddNote(ctx, b, ownerB, c.ID, "hi")),
			"ListNotes":           second(s.ListNotes(ctx, b, c.ID)),
			"NoteByID":            second(s.NoteByID(ctx, b, c.ID, n.ID)),
			"DeleteNote":          s.DeleteNote(ctx, b, ownerB, c.ID, n.ID),
			"LogActivity":         second(s.LogActivity(ctx, b, c.ID, ownerB.ID, store.ActivityEmail, "x")),
			"ListActivities":      second(s.ListActivities(ctx, b, c.ID, 0)),
		}
		for name, err := range checks {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s with another team's id: %v, want ErrNotFound", name, err)
			}
		}
		// A deal for another team's contact is a field error, not a deal.
		if _, err := s.CreateDeal(ctx, b, ownerB, din); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateDeal for another team's contact: %v", err)
		}
		// Acting for a team one is not in is refused outright.
		if _, err := s.CreateContact(ctx, teamA.ID, ownerB, cin); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("CreateContact in another team: %v", err)
		}
		// Lists and searches of team B show nothing of team A.
		for _, q := range []string{"", "ann", "a.example", "A deal"} {
			p, err := s.ListContacts(ctx, b, store.ContactQuery{Search: q})
			if err != nil || len(p.Rows) != 0 {
				t.Errorf("team B contacts %q: %d rows, %v", q, len(p.Rows), err)
			}
			dp, err := s.ListDeals(ctx, b, store.DealQuery{Search: q})
			if err != nil || len(dp.Rows) != 0 {
				t.Errorf("team B deals %q: %d rows, %v", q, len(dp.Rows), err)
			}
		}
		if dl, err := s.DealsOfContact(ctx, b, c.ID); err != nil || len(dl) != 0 {
			t.Errorf("DealsOfContact from team B: %v, %v", dl, err)
		}
		if log, err := s.DealStageLog(ctx, b, d.ID); err != nil || len(log) != 0 {
			t.Errorf("DealStageLog from team B: %v, %v", log, err)
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("team B's attempts changed the data:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }

// snapshot summarises every record table, to see that nothing changed.
func snapshot(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, table := range []string{"contacts", "deals"} {
		var n, versions, owners int64
		var name string
		if err := s.DB.NewRaw("SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(MAX(name), ''), COALESCE(SUM(owner_id), 0) FROM "+table).
			Scan(ctx, &n, &versions, &name, &owners); err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		fmt.Fprintf(&b, "%s %d/%d/%s/%d ", table, n, versions, name, owners)
	}
	for _, table := range []string{"notes", "activities", "deal_stage_log", "contact_terms", "deal_terms"} {
		var n int64
		if err := s.DB.NewRaw("SELECT COUNT(*) FROM "+table).Scan(ctx, &n); err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		fmt.Fprintf(&b, "%s %d ", table, n)
	}
	return b.String()
}
