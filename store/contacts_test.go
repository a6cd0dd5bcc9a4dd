package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestContactValidation(t *testing.T) {
	ok := store.ContactInput{Name: "Ann Lee", Email: "ann@example.com", Phone: "+49 (151) 234-5678", Company: "Acme", Status: "Open deal"}
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name  string
		edit  func(in *store.ContactInput)
		field string // "" means valid
	}{
		{"valid", func(in *store.ContactInput) {}, ""},
		{"status defaults to New", func(in *store.ContactInput) { in.Status = "" }, ""},
		{"status in other case", func(in *store.ContactInput) { in.Status = "bad TIMING" }, ""},
		{"phone optional", func(in *store.ContactInput) { in.Phone = "" }, ""},
		{"phone with extension", func(in *store.ContactInput) { in.Phone = "030 1234567 ext. 12" }, ""},
		{"company optional", func(in *store.ContactInput) { in.Company = "" }, ""},
		{"name at limit", func(in *store.ContactInput) { in.Name = long(100) }, ""},
		{"name of 100 runes", func(in *store.ContactInput) { in.Name = strings.Repeat("ü", 100) }, ""},
		{"name required", func(in *store.ContactInput) { in.Name = "  " }, "name"},
		{"name too long", func(in *store.ContactInput) { in.Name = long(101) }, "name"},
		{"email required", func(in *store.ContactInput) { in.Email = "" }, "email"},
		{"email without at", func(in *store.ContactInput) { in.Email = "ann.example.com" }, "email"},
		{"email without dotted domain", func(in *store.ContactInput) { in.Email = "ann@localhost" }, "email"},
		{"email with display name", func(in *store.ContactInput) { in.Email = "Ann <ann@example.com>" }, "email"},
		{"email with space", func(in *store.ContactInput) { in.Email = "ann lee@example.com" }, "email"},
		{"email too long", func(in *store.ContactInput) { in.Email = long(250) + "@example.com" }, "email"},
		{"phone too long", func(in *store.ContactInput) { in.Phone = strings.Repeat("1", 41) }, "phone"},
		{"phone with letters", func(in *store.ContactInput) { in.Phone = "call me" }, "phone"},
		{"phone without enough digits", func(in *store.ContactInput) { in.Phone = "+1" }, "phone"},
		{"company too long", func(in *store.ContactInput) { in.Company = long(101) }, "company"},
		{"unknown status", func(in *store.ContactInput) { in.Status = "Hot" }, "status"},
		{"negative owner", func(in *store.ContactInput) { in.OwnerID = -1 }, "owner_id"},
	}
	for _, c := range cases {
		in := ok
		c.edit(&in)
		fe := in.Validate()
		if c.field == "" {
			if len(fe) != 0 {
				t.Errorf("%s: unexpected errors %v", c.name, fe)
			}
			continue
		}
		if len(fe) != 1 || fe[c.field] == "" {
			t.Errorf("%s: errors %v, want exactly one on %s", c.name, fe, c.field)
		}
	}
	if got := (store.ContactInput{Status: "open DEAL", Email: " Ann@Example.COM "}).Normalized(); got.Status != "Open deal" || got.Email != "ann@example.com" {
		t.Errorf("Normalized = %+v", got)
	}
}

func TestCreateContactStoresNormalizedValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, _ := teamOf(t, s)
		c, err := s.CreateContact(ctx, team.ID, owner, store.ContactInput{
			Name: " Ann Lee ", Email: "Ann.Lee@Example.COM", Phone: "+1 (555) 123-4567", Company: " Acme ", OwnerID: admin.ID,
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Ann Lee" || c.Email != "ann.lee@example.com" || c.PhoneDigits != "15551234567" ||
			c.Company != "Acme" || c.Status != store.StatusNew || c.OwnerID != admin.ID || c.OwnerName != admin.Name || c.Version != 1 {
			t.Errorf("created %+v", c)
		}
		got, err := s.ContactByID(ctx, team.ID, c.ID)
		if err != nil || utcContact(*got) != utcContact(*c) {
			t.Errorf("ContactByID = %+v, %v; want %+v", got, err, c)
		}
		if _, err := s.CreateContact(ctx, team.ID, owner, store.ContactInput{Name: "", Email: "x"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("invalid input: %v", err)
		}
	})
}

func TestDuplicateEmailIsRefusedWithTheExistingContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		first := addContact(t, s, team, owner, store.ContactInput{Name: "Ann", Email: "ann@example.com"})
		_, err := s.CreateContact(ctx, team.ID, owner, store.ContactInput{Name: "Ann again", Email: "ANN@example.com "})
		var dup *store.DuplicateError
		if !errors.Is(err, store.ErrDuplicate) || !errors.As(err, &dup) || dup.ExistingID != first.ID {
			t.Fatalf("duplicate create: %v, want DuplicateError{%d}", err, first.ID)
		}
		// Updating another contact to that email is refused the same way.
		other := addContact(t, s, team, owner, store.ContactInput{Name: "Bob", Email: "bob@example.com"})
		_, err = s.UpdateContact(ctx, team.ID, owner, other.ID, other.Version, store.ContactInput{Name: "Bob", Email: "Ann@Example.com"})
		if !errors.As(err, &dup) || dup.ExistingID != first.ID {
			t.Errorf("duplicate update: %v", err)
		}
		// Another team may have the same email.
		teamB, ownerB, _, _ := teamOf(t, s)
		addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Ann", Email: "ann@example.com"})
	})
}

func TestUpdateContactRefusesALostUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Ann", Email: "ann@example.com", Status: "New"})
		// Two people open the same row at version 1.
		first, err := s.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: "Ann Lee", Email: "ann@example.com", Status: "Open"})
		if err != nil {
			t.Fatal(err)
		}
		if first.Version != c.Version+1 || first.Name != "Ann Lee" || !first.UpdatedAt.After(c.UpdatedAt.Add(-1)) {
			t.Errorf("after first save: %+v", first)
		}
		fresh, err := s.UpdateContact(ctx, team.ID, admin, c.ID, c.Version, store.ContactInput{Name: "Ann Smith", Email: "ann@example.com", Status: "Connected"})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second save from the same version: %v, want ErrConflict", err)
		}
		if fresh == nil || fresh.Name != "Ann Lee" || fresh.Status != "Open" || fresh.Version != first.Version {
			t.Errorf("conflict returned %+v, want the first save's row", fresh)
		}
		now, _ := s.ContactByID(ctx, team.ID, c.ID)
		if now.Name != "Ann Lee" || now.Version != first.Version {
			t.Errorf("conflicting save changed the row: %+v", now)
		}
		// Saving again from the fresh version works.
		if _, err := s.UpdateContact(ctx, team.ID, admin, c.ID, fresh.Version, store.ContactInput{Name: "Ann Smith", Email: "ann@example.com"}); err != nil {
			t.Errorf("save from fresh version: %v", err)
		}
	})
}

func TestOnlyManagersChooseContactOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		_, _, _, stranger := teamOf(t, s)

		// A member's new contact is theirs, whatever the form said.
		mine := addContact(t, s, team, member, store.ContactInput{OwnerID: admin.ID})
		if mine.OwnerID != member.ID {
			t.Errorf("member's new contact owned by %d, want %d", mine.OwnerID, member.ID)
		}
		// A manager chooses, and may leave it unassigned.
		c := addContact(t, s, team, admin, store.ContactInput{})
		if c.OwnerID != 0 {
			t.Errorf("admin's unassigned contact has owner %d", c.OwnerID)
		}
		if _, err := s.CreateContact(ctx, team.ID, admin, store.ContactInput{Name: "X", Email: "x@example.com", OwnerID: stranger.ID}); fieldErrors(t, err)["owner_id"] == "" {
			t.Errorf("owner from another team accepted: %v", err)
		}
		// A member's edit keeps the owner.
		upd, err := s.UpdateContact(ctx, team.ID, member, c.ID, c.Version, store.ContactInput{Name: "Renamed", Email: c.Email, OwnerID: member.ID})
		if err != nil || upd.OwnerID != 0 {
			t.Errorf("member edit: owner %d, %v", upd.OwnerID, err)
		}
		// Assigning is for owners and admins.
		if _, err := s.AssignContact(ctx, team.ID, member, c.ID, member.ID); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member assigns: %v", err)
		}
		got, err := s.AssignContact(ctx, team.ID, admin, c.ID, member.ID)
		if err != nil || got.OwnerID != member.ID || got.OwnerName != member.Name || got.Version != upd.Version+1 {
			t.Errorf("admin assigns: %+v, %v", got, err)
		}
		if _, err := s.AssignContact(ctx, team.ID, owner, c.ID, stranger.ID); fieldErrors(t, err)["owner_id"] == "" {
			t.Errorf("assign to another team's user: %v", err)
		}
		got, err = s.AssignContact(ctx, team.ID, owner, c.ID, 0)
		if err != nil || got.OwnerID != 0 || got.OwnerName != "" {
			t.Errorf("unassign: %+v, %v", got, err)
		}
	})
}

func TestDeletingAContactDeletesWhatHangsOnIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Ann"})
		keep := addContact(t, s, team, owner, store.ContactInput{Name: "Bob"})
		addDeal(t, s, team, owner, c, store.DealInput{Name: "One"})
		addDeal(t, s, team, owner, c, store.DealInput{Name: "Two"})
		kept := addDeal(t, s, team, owner, keep, store.DealInput{Name: "Kept"})
		if _, err := s.AddNote(ctx, team.ID, owner, c.ID, "hello"); err != nil {
			t.Fatal(err)
		}
		deals, notes, err := s.ContactDeleteImpact(ctx, team.ID, c.ID)
		if err != nil || deals != 2 || notes != 1 {
			t.Fatalf("impact = %d deals, %d notes, %v", deals, notes, err)
		}
		if err := s.DeleteContact(ctx, team.ID, owner, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteContact(ctx, team.ID, owner, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		for _, q := range []string{
			"SELECT COUNT(*) FROM deals WHERE contact_id = ?",
			"SELECT COUNT(*) FROM notes WHERE contact_id = ?",
			"SELECT COUNT(*) FROM activities WHERE contact_id = ?",
			"SELECT COUNT(*) FROM contact_terms WHERE contact_id = ?",
		} {
			var n int
			if err := s.DB.NewRaw(q, c.ID).Scan(ctx, &n); err != nil || n != 0 {
				t.Errorf("%s: %d left, %v", q, n, err)
			}
		}
		var logs int
		s.DB.NewRaw("SELECT COUNT(*) FROM deal_stage_log WHERE team_id = ? AND deal_id <> ?", team.ID, kept.ID).Scan(ctx, &logs)
		if logs != 0 {
			t.Errorf("%d stage log rows of deleted deals left", logs)
		}
		if _, err := s.DealByID(ctx, team.ID, kept.ID); err != nil {
			t.Errorf("other contact's deal: %v", err)
		}
	})
}

func TestMemberLeavingUnassignsTheirRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, member, store.ContactInput{})
		d := addDeal(t, s, team, member, c, store.DealInput{})
		other := addContact(t, s, team, admin, store.ContactInput{OwnerID: admin.ID})
		if _, err := s.LeaveTeam(ctx, team.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ContactByID(ctx, team.ID, c.ID); got.OwnerID != 0 {
			t.Errorf("contact still owned by %d", got.OwnerID)
		}
		if got, _ := s.DealByID(ctx, team.ID, d.ID); got.OwnerID != 0 {
			t.Errorf("deal still owned by %d", got.OwnerID)
		}
		if got, _ := s.ContactByID(ctx, team.ID, other.ID); got.OwnerID != admin.ID {
			t.Errorf("someone else's contact lost its owner")
		}
		// Removal by an admin does the same.
		c2 := addContact(t, s, team, admin, store.ContactInput{OwnerID: admin.ID})
		if err := s.RemoveMember(ctx, team.ID, owner, admin.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ContactByID(ctx, team.ID, c2.ID); got.OwnerID != 0 {
			t.Errorf("removed admin's contact still owned")
		}
		// And the unassigned view lists them.
		p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{View: store.ViewUnassigned})
		if err != nil || len(p.Rows) != 3 {
			t.Errorf("unassigned view: %d rows, %v", len(p.Rows), err)
		}
	})
}
