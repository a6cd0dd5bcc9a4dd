package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestAddingANoteLogsAnActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, _, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		first, err := s.AddNote(ctx, team.ID, member, c.ID, "  Called about the quote.  ")
		if err != nil {
			t.Fatal(err)
		}
		if first.Body != "Called about the quote." || first.AuthorID != member.ID || first.AuthorName != member.Name {
			t.Errorf("note = %+v", first)
		}
		clk.t = clk.t.Add(time.Minute)
		long := strings.Repeat("word ", 300)
		second, err := s.AddNote(ctx, team.ID, owner, c.ID, long)
		if err != nil {
			t.Fatal(err)
		}
		notes, err := s.ListNotes(ctx, team.ID, c.ID)
		if err != nil || len(notes) != 2 || notes[0].ID != second.ID || notes[1].ID != first.ID || notes[1].AuthorName != member.Name {
			t.Fatalf("ListNotes (newest first) = %+v, %v", notes, err)
		}
		acts, err := s.ListActivities(ctx, team.ID, c.ID, 0)
		if err != nil || len(acts) != 2 {
			t.Fatalf("activities = %+v, %v", acts, err)
		}
		if a := acts[1]; a.Type != store.ActivityNote || a.UserID != member.ID || a.UserName != member.Name ||
			a.Description != "Called about the quote." || !a.At.Equal(first.CreatedAt) {
			t.Errorf("note activity = %+v", a)
		}
		if d := acts[0].Description; len([]rune(d)) != 500 || !strings.HasSuffix(d, "…") {
			t.Errorf("long note's activity description has %d runes", len([]rune(d)))
		}
		for _, body := range []string{"", "   ", strings.Repeat("x", 10001)} {
			if _, err := s.AddNote(ctx, team.ID, owner, c.ID, body); fieldErrors(t, err)["body"] == "" {
				t.Errorf("note %q accepted", body[:min(len(body), 10)])
			}
		}
		if acts, _ := s.ListActivities(ctx, team.ID, c.ID, 0); len(acts) != 2 {
			t.Errorf("refused notes logged activities")
		}
	})
}

func TestNotesAreRemovedByTheirAuthorOrAManager(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		// A second member, who did not write the note.
		other := newUser(t, s, "other")
		inv, _ := s.CreateInvitation(ctx, team.ID, owner.ID, other.Email, "hash-other-"+other.Email, time.Hour)
		if _, err := s.AcceptInvitation(ctx, inv.TokenHash, other.ID); err != nil {
			t.Fatal(err)
		}
		other = reload(t, s, other)

		cases := []struct {
			author, remover *store.User
			allowed         bool
		}{
			{member, member, true},
			{member, other, false},
			{member, admin, true},
			{member, owner, true},
			{admin, member, false},
			{admin, admin, true},
			{owner, admin, true},
			{owner, other, false},
		}
		for _, tc := range cases {
			n, err := s.AddNote(ctx, team.ID, tc.author, c.ID, "note by "+tc.author.Name)
			if err != nil {
				t.Fatal(err)
			}
			if n.CanDelete(tc.remover) != tc.allowed {
				t.Errorf("CanDelete(%s's note, %s) = %v", tc.author.Name, tc.remover.Name, !tc.allowed)
			}
			err = s.DeleteNote(ctx, team.ID, tc.remover, c.ID, n.ID)
			_, lookErr := s.NoteByID(ctx, team.ID, c.ID, n.ID)
			if tc.allowed {
				if err != nil || !errors.Is(lookErr, store.ErrNotFound) {
					t.Errorf("%s removes %s's note: %v (note still there: %v)", tc.remover.Name, tc.author.Name, err, lookErr == nil)
				}
			} else if !errors.Is(err, store.ErrNotAllowed) || lookErr != nil {
				t.Errorf("%s removes %s's note: %v, want ErrNotAllowed and the note kept", tc.remover.Name, tc.author.Name, err)
			}
		}
		// A note id under the wrong contact is not found.
		c2 := addContact(t, s, team, owner, store.ContactInput{})
		n, _ := s.AddNote(ctx, team.ID, owner, c.ID, "x")
		if err := s.DeleteNote(ctx, team.ID, owner, c2.ID, n.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete under another contact: %v", err)
		}
	})
}

func TestLogActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, _, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		for i, typ := range store.ActivityTypes {
			clk.t = clk.t.Add(time.Second)
			if _, err := s.LogActivity(ctx, team.ID, c.ID, member.ID, typ, "did "+typ); err != nil {
				t.Fatalf("log %s: %v", typ, err)
			}
			_ = i
		}
		if _, err := s.LogActivity(ctx, team.ID, c.ID, member.ID, "call", "x"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("unknown type: %v", err)
		}
		acts, err := s.ListActivities(ctx, team.ID, c.ID, 3)
		if err != nil || len(acts) != 3 || acts[0].Type != store.ActivityMeeting || acts[2].Type != store.ActivityTask {
			t.Errorf("latest 3 activities = %+v, %v", acts, err)
		}
	})
}
