package store_test

import (
	"context"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestImportUpdateAndUndoTouchTheBoard: a contact updated by an import is a
// touch of its deals for the board's stale rule (the update is noted on the
// contact's Activity tab), and so is the undo that restores it; both move
// the team's counter the board polls, the undo also because it puts the
// contact's old name back on the deals' cards.
func TestImportUpdateAndUndoTouchTheBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Touch")
		a := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Alpha", Email: "a@example.com", Company: "A Co"})
		b := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Beta", Email: "b@example.com"})
		deal := addDeal(t, s, it.team, it.owner, a, store.DealInput{Name: "Alpha deal"})
		other := addDeal(t, s, it.team, it.owner, b, store.DealInput{Name: "Beta deal"})
		old := time.Now().UTC().AddDate(0, 0, -60).Truncate(time.Second)
		age := func() {
			t.Helper()
			if _, err := s.DB.NewRaw("UPDATE deals SET last_touched_at = ?, stage_since = ? WHERE team_id = ?", old, old, it.team.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		stale := func(id int64) bool {
			t.Helper()
			d, err := s.DealByID(ctx, it.team.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return store.IsStale(d, time.Now(), 14)
		}
		version := func() int64 {
			t.Helper()
			v, err := s.TeamVersion(ctx, it.team.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v.All
		}
		age()
		if !stale(deal.ID) || !stale(other.ID) {
			t.Fatal("the aged deals are not stale")
		}
		v0 := version()
		// Only the company changes: no card shows it, yet it is a touch.
		im := importAll(t, s, it, store.ImportContacts, "Email,Company\na@example.com,A2\n", func(m *store.ImportMapping) { m.Mode = store.ModeUpdate })
		if im.Updated != 1 {
			t.Fatalf("import %+v", im)
		}
		if stale(deal.ID) {
			t.Error("the deal of a contact the import updated is still stale")
		}
		if !stale(other.ID) {
			t.Error("a deal of a contact the import left alone was touched")
		}
		v1 := version()
		if v1 <= v0 {
			t.Errorf("team version %d → %d after an import that touched a deal", v0, v1)
		}

		// A rename, then its undo: the name goes back on the card.
		im = importAll(t, s, it, store.ImportContacts, "Email,Name\na@example.com,Alpha Renamed\n", func(m *store.ImportMapping) { m.Mode = store.ModeUpdate })
		if d, _ := s.DealByID(ctx, it.team.ID, deal.ID); im.Updated != 1 || d.ContactName != "Alpha Renamed" {
			t.Fatalf("import %+v, card name %q", im, d.ContactName)
		}
		age()
		v2 := version()
		if im, err := s.UndoImport(ctx, it.team.ID, im.ID, it.owner); err != nil || im.Status != store.ImportUndone || im.UndoKept != 0 {
			t.Fatalf("undo %v %+v", err, im)
		}
		if d, _ := s.DealByID(ctx, it.team.ID, deal.ID); d.ContactName != "Alpha" {
			t.Errorf("card name after undo %q", d.ContactName)
		}
		if stale(deal.ID) {
			t.Error("the deal of the contact undo restored is still stale")
		}
		if !stale(other.ID) {
			t.Error("undo touched a deal of a contact it did not restore")
		}
		if v3 := version(); v3 <= v2 {
			t.Errorf("team version %d → %d after an undo that restored a name on a card", v2, v3)
		}
	})
}
