package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// sameRows compares two rows field by field, times by instant.
func sameRows(t *testing.T, what string, fast, general any) {
	t.Helper()
	fv, gv := reflect.ValueOf(fast), reflect.ValueOf(general)
	for i := range fv.NumField() {
		f := fv.Type().Field(i)
		if !f.IsExported() || f.Name == "BaseModel" {
			continue
		}
		a, b := fv.Field(i).Interface(), gv.Field(i).Interface()
		if at, ok := a.(time.Time); ok {
			if !at.Equal(b.(time.Time)) {
				t.Errorf("%s %s: fast %v, general %v", what, f.Name, a, b)
			}
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s %s: fast %#v, general %#v", what, f.Name, a, b)
		}
	}
}

// TestListRowsScanLikeBun: the named-column scan of a list page's rows
// reads every field as bun's general scan does, on both databases, with
// every nullable column set and unset, and another team's ids give nothing.
func TestListRowsScanLikeBun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		other, otherOwner, _, _ := teamOf(t, s)
		plain := addContact(t, s, team, owner, store.ContactInput{Name: "Plain", OwnerID: 0})
		full := addContact(t, s, team, owner, store.ContactInput{Name: "Full Ümlaut", Company: "Acme", Phone: "+49 30 1234567", OwnerID: member.ID})
		if _, err := s.LogActivity(ctx, team.ID, full.ID, member.ID, store.ActivityEmail, "emailed"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LogScheduled(ctx, team.ID, full.ID, owner.ID, store.ActivityMeeting, "Meeting: next", time.Now().Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		theirs := addContact(t, s, other, otherOwner, store.ContactInput{Name: "Theirs"})
		ids := []int64{plain.ID, full.ID, theirs.ID}
		fast, err := s.FastContactRows(ctx, team.ID, ids)
		if err != nil {
			t.Fatal(err)
		}
		general, err := s.GeneralContactRows(ctx, team.ID, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(fast) != 2 || len(general) != 2 {
			t.Fatalf("%d fast and %d general rows, want 2 (not another team's)", len(fast), len(general))
		}
		byID := map[int64]store.Contact{}
		for _, c := range general {
			byID[c.ID] = c
		}
		for _, c := range fast {
			sameRows(t, "contact "+c.Name, c, byID[c.ID])
		}
		if f := fast[0]; f.ID == full.ID && (f.LastContactedAt.IsZero() || f.NextStepAt.IsZero() || f.OwnerName == "") {
			t.Errorf("the full contact's columns came back empty: %+v", f)
		}

		open, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "Open", Goal: "10", ContactID: plain.ID})
		if err != nil {
			t.Fatal(err)
		}
		lost, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "Lost", Goal: "20", CloseDate: "2026-03-04", ContactID: full.ID, OwnerID: member.ID})
		if err != nil {
			t.Fatal(err)
		}
		reasons, _ := s.LostReasons(ctx, team.ID)
		if _, err := s.MoveDeal(ctx, team.ID, owner, lost.ID, store.MoveInput{Stage: store.StageLost, ClosedOn: "2026-03-05", LostReason: reasons[0], LostNote: "too dear"}); err != nil {
			t.Fatal(err)
		}
		dids := []int64{open.ID, lost.ID}
		fd, err := s.FastDealRows(ctx, team.ID, dids)
		if err != nil {
			t.Fatal(err)
		}
		gd, err := s.GeneralDealRows(ctx, team.ID, dids)
		if err != nil {
			t.Fatal(err)
		}
		if len(fd) != 2 || len(gd) != 2 {
			t.Fatalf("%d fast and %d general deal rows, want 2", len(fd), len(gd))
		}
		dByID := map[int64]store.Deal{}
		for _, d := range gd {
			dByID[d.ID] = d
		}
		for _, d := range fd {
			sameRows(t, "deal "+d.Name, d, dByID[d.ID])
			if d.ID == lost.ID && (d.CloseDate.IsZero() || d.ClosedAt.IsZero() || d.LostNote != "too dear") {
				t.Errorf("the lost deal's columns came back empty: %+v", d)
			}
		}
	})
}
