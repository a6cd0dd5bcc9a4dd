package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// runBulk claims and runs queued jobs until none is left.
func runBulk(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	for {
		j, err := s.ClaimBulkJob(ctx, "test-worker")
		if err != nil {
			t.Fatal(err)
		}
		if j == nil {
			return
		}
		if err := s.RunBulkJob(ctx, j, "test-worker"); err != nil {
			t.Fatal(err)
		}
	}
}

func bulkJob(t *testing.T, s *store.Store, teamID, id int64) *store.BulkJob {
	t.Helper()
	j, err := s.BulkJob(context.Background(), teamID, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestBulkAssignAllMatchingAndUndo assigns every contact matching a filter
// (in batches smaller than the selection), then undoes it after someone
// changed a few: they are kept and listed, the others get their owners back.
func TestBulkAssignAllMatchingAndUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		defer store.SetBulkBatch(7)()
		team, owner, admin, member := teamOf(t, s)
		users := []int64{0, owner.ID, admin.ID}
		before := map[int64]int64{}
		for i := range 60 {
			c := addContact(t, s, team, admin, store.ContactInput{Name: fmt.Sprintf("C %d", i), Company: []string{"Acme", "Beta"}[i%2], OwnerID: users[i%3]})
			before[c.ID] = c.OwnerID
		}
		teamB, ownerB, _, _ := teamOf(t, s)
		other := addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Theirs", Company: "Acme"})

		sel := store.BulkSelection{All: true, Contacts: &store.ContactQuery{Filter: store.ContactFilter{Company: "Acme"}}}
		if _, err := s.CreateBulkJob(ctx, team.ID, member, store.ListContacts, store.BulkAssign, fmt.Sprint(member.ID), sel); !errors.Is(err, store.ErrNotAllowed) {
			t.Fatalf("a member's bulk assign: %v", err)
		}
		if n, err := s.CountMatching(ctx, team.ID, sel); err != nil || n != 30 {
			t.Fatalf("count matching %d, %v; want 30", n, err)
		}
		j, err := s.CreateBulkJob(ctx, team.ID, admin, store.ListContacts, store.BulkAssign, fmt.Sprint(member.ID), sel)
		if err != nil {
			t.Fatal(err)
		}
		runBulk(t, s)
		j = bulkJob(t, s, team.ID, j.ID)
		if j.Status != store.BulkDone || j.Total != 30 || j.Done != 30 || j.Changed != 30 {
			t.Fatalf("job %+v", j)
		}
		page, _ := s.ListContacts(ctx, team.ID, store.ContactQuery{Limit: 100})
		var changedSince []int64
		for _, c := range page.Rows {
			want := before[c.ID]
			if c.Company == "Acme" {
				want = member.ID
			}
			if c.OwnerID != want {
				t.Errorf("contact %s: owner %d, want %d", c.Name, c.OwnerID, want)
			}
			// Someone edits three of the changed ones afterwards.
			if c.Company == "Acme" && len(changedSince) < 3 {
				if _, err := s.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: c.Name + " edited", Email: c.Email, Company: c.Company, OwnerID: c.OwnerID}); err != nil {
					t.Fatal(err)
				}
				changedSince = append(changedSince, c.ID)
			}
		}
		if got, _ := s.ContactByID(ctx, teamB.ID, other.ID); got.OwnerID != other.OwnerID {
			t.Error("another team's contact was assigned")
		}
		if _, err := s.QueueBulkUndo(ctx, team.ID, member, j.ID); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("a member undid an assignment: %v", err)
		}
		if _, err := s.QueueBulkUndo(ctx, team.ID, admin, j.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.QueueBulkUndo(ctx, team.ID, admin, j.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second undo: %v", err)
		}
		runBulk(t, s)
		j = bulkJob(t, s, team.ID, j.ID)
		if j.Status != store.BulkUndone || j.Kept != 3 {
			t.Fatalf("after undo %+v", j)
		}
		page, _ = s.ListContacts(ctx, team.ID, store.ContactQuery{Limit: 100})
		for _, c := range page.Rows {
			want := before[c.ID]
			if slices.Contains(changedSince, c.ID) {
				want = member.ID
			}
			if c.OwnerID != want {
				t.Errorf("after undo, contact %s: owner %d, want %d", c.Name, c.OwnerID, want)
			}
		}
		kept, err := s.BulkRows(ctx, j, store.BulkRowsKept, 10)
		if err != nil || len(kept) != 3 {
			t.Fatalf("kept rows %+v, %v", kept, err)
		}
		for _, k := range kept {
			if !slices.Contains(changedSince, k.RecordID) || k.Name == "" {
				t.Errorf("kept %+v", k)
			}
		}
	})
}

// TestBulkStatusStageAndDelete: a status change of chosen ids (another
// team's id among them is dropped), undo within a day only; stage moves by
// the pipeline's rules with the refusals listed; a delete with its count.
func TestBulkStatusStageAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, _, member := teamOf(t, s)
		teamB, ownerB, _, _ := teamOf(t, s)
		theirs := addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Theirs"})
		var ids []int64
		var contacts []*store.Contact
		for i := range 5 {
			c := addContact(t, s, team, owner, store.ContactInput{Name: fmt.Sprintf("S %d", i), Status: store.StatusNew})
			ids = append(ids, c.ID)
			contacts = append(contacts, c)
		}
		j, err := s.CreateBulkJob(ctx, team.ID, member, store.ListContacts, store.BulkStatus, store.StatusConnected,
			store.BulkSelection{IDs: append(slices.Clone(ids), theirs.ID)})
		if err != nil {
			t.Fatal(err)
		}
		runBulk(t, s)
		j = bulkJob(t, s, team.ID, j.ID)
		if j.Total != 5 || j.Changed != 5 {
			t.Fatalf("status job %+v", j)
		}
		if c, _ := s.ContactByID(ctx, teamB.ID, theirs.ID); c.Status != store.StatusNew {
			t.Error("another team's contact changed")
		}
		clk.t = clk.t.Add(store.BulkUndoFor + time.Minute)
		if _, err := s.QueueBulkUndo(ctx, team.ID, member, j.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("undo after a day: %v", err)
		}
		clk.t = clk.t.Add(-2 * time.Minute)
		if _, err := s.QueueBulkUndo(ctx, team.ID, member, j.ID); err != nil {
			t.Fatal(err)
		}
		runBulk(t, s)
		for _, id := range ids {
			if c, _ := s.ContactByID(ctx, team.ID, id); c.Status != store.StatusNew {
				t.Errorf("contact %d: status %s after undo", id, c.Status)
			}
		}

		// Stage: an open deal of the owner's moves for the owner; the
		// member's move refuses the owner's deal and a closed one.
		mine := addDeal(t, s, team, member, contacts[0], store.DealInput{Name: "Member's", Stage: store.StageCreated})
		owners := addDeal(t, s, team, owner, contacts[1], store.DealInput{Name: "Owner's", Stage: store.StageCreated, OwnerID: owner.ID})
		won := addDeal(t, s, team, member, contacts[2], store.DealInput{Name: "Won", Stage: store.StageWon, Amount: "100", ClosedOn: "2026-01-02"})
		j, err = s.CreateBulkJob(ctx, team.ID, member, store.ListDeals, store.BulkStage, store.StageQualified,
			store.BulkSelection{IDs: []int64{mine.ID, owners.ID, won.ID}})
		if err != nil {
			t.Fatal(err)
		}
		runBulk(t, s)
		j = bulkJob(t, s, team.ID, j.ID)
		if j.Changed != 1 || j.Refused != 2 {
			t.Fatalf("stage job %+v", j)
		}
		refused, _ := s.BulkRows(ctx, j, store.BulkRowsRefused, 10)
		if len(refused) != 2 || refused[0].Note == "" || refused[1].Note == "" {
			t.Errorf("refusals %+v", refused)
		}
		if d, _ := s.DealByID(ctx, team.ID, mine.ID); d.Stage != store.StageQualified {
			t.Errorf("member's deal in %s", d.Stage)
		}
		if _, err := s.CreateBulkJob(ctx, team.ID, owner, store.ListDeals, store.BulkStage, store.StageLost, store.BulkSelection{IDs: []int64{mine.ID}}); err == nil {
			t.Error("closing as lost without a reason was queued")
		}

		// Delete with what goes with it.
		if _, err := s.AddNote(ctx, team.ID, owner, contacts[0].ID, "a note"); err != nil {
			t.Fatal(err)
		}
		sel := store.BulkSelection{IDs: ids[:2]}
		n, deals, notes, err := s.BulkDeleteImpact(ctx, team.ID, store.ListContacts, sel)
		if err != nil || n != 2 || deals != 2 || notes != 1 {
			t.Fatalf("impact %d contacts, %d deals, %d notes, %v", n, deals, notes, err)
		}
		if _, err := s.CreateBulkJob(ctx, team.ID, member, store.ListContacts, store.BulkDelete, "", sel); err != nil {
			t.Fatal(err)
		}
		runBulk(t, s)
		for _, id := range ids[:2] {
			if _, err := s.ContactByID(ctx, team.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("contact %d not deleted: %v", id, err)
			}
		}
		if _, err := s.ContactByID(ctx, team.ID, ids[2]); err != nil {
			t.Error(err)
		}
	})
}
