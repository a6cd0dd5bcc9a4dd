package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"sherpa/store"
)

// Helpers shared by the contact, deal, note, paging and search tests.

// contactSeq makes emails unique across a test.
var contactSeq int

// addContact creates a contact as actor; fields left empty get defaults.
func addContact(t testing.TB, s *store.Store, team *store.Team, actor *store.User, in store.ContactInput) *store.Contact {
	t.Helper()
	if in.Name == "" {
		in.Name = "Contact"
	}
	if in.Email == "" {
		contactSeq++
		in.Email = fmt.Sprintf("c%05d@example.com", contactSeq)
	}
	c, err := s.CreateContact(context.Background(), team.ID, actor, in)
	if err != nil {
		t.Fatalf("create contact %+v: %v", in, err)
	}
	return c
}

// addDeal creates a deal as actor for contact.
func addDeal(t testing.TB, s *store.Store, team *store.Team, actor *store.User, contact *store.Contact, in store.DealInput) *store.Deal {
	t.Helper()
	if in.Name == "" {
		in.Name = "Deal"
	}
	in.ContactID = contact.ID
	d, err := s.CreateDeal(context.Background(), team.ID, actor, in)
	if err != nil {
		t.Fatalf("create deal %+v: %v", in, err)
	}
	return d
}

// fieldErrors returns the field errors in err, failing the test when err is
// something else.
func fieldErrors(t testing.TB, err error) store.FieldErrors {
	t.Helper()
	var fe store.FieldErrors
	if !errors.As(err, &fe) || !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v, want field errors", err)
	}
	return fe
}

// clock is a controllable time source for Store.SetClock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func useClock(s *store.Store) *clock {
	c := &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)}
	s.SetClock(c.now)
	return c
}

// contactIDs lists the ids of contacts.
func contactIDs(rows []store.Contact) []int64 {
	out := make([]int64, len(rows))
	for i, c := range rows {
		out[i] = c.ID
	}
	return out
}

func dealIDs(rows []store.Deal) []int64 {
	out := make([]int64, len(rows))
	for i, d := range rows {
		out[i] = d.ID
	}
	return out
}

// searchContacts returns the ids of every contact matching q, walking all
// pages, sorted by name.
func searchContacts(t testing.TB, s *store.Store, teamID int64, q string) []int64 {
	t.Helper()
	var out []int64
	cur := ""
	for range 1000 {
		p, err := s.ListContacts(context.Background(), teamID, store.ContactQuery{Search: q, Cursor: cur})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		out = append(out, contactIDs(p.Rows)...)
		if p.Next == "" {
			return out
		}
		cur = p.Next
	}
	t.Fatalf("search %q: paging does not end", q)
	return nil
}

// utcContact and utcDeal put every time in UTC, so that rows read through
// different drivers compare equal with ==.
func utcContact(c store.Contact) store.Contact {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

func utcDeal(d store.Deal) store.Deal {
	d.CreatedAt, d.UpdatedAt, d.CloseDate = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), d.CloseDate.UTC()
	for _, t := range []*time.Time{&d.ClosedAt, &d.LastTouchedAt, &d.NextDueAt, &d.StageSince} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return d
}

// seededOwner loads the demo data of opt and returns the demo team's owner.
func seededOwner(t *testing.T, s *store.Store, opt store.SeedOptions) *store.User {
	t.Helper()
	ctx := context.Background()
	res, err := s.Seed(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := s.UserByEmail(ctx, res.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	return owner
}
