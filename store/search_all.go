package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Found is what the top bar's search found: a few of the team's contacts
// and deals, by the same rules as the contacts and deals tables searched
// for q (ListContacts and ListDeals with Search), most recently updated
// first: a jump-to box wants what was just worked on, and the updated
// index reaches five matches of a common word after a few hundred entries
// where the name index may walk tens of thousands before the first "Anna".
type Found struct {
	Contacts []Contact
	Deals    []Deal
	// MoreContacts and MoreDeals: the tables have more matches than shown.
	MoreContacts, MoreDeals bool
}

// SearchAll finds up to limit contacts and limit deals of the team matching
// q. An empty q finds nothing.
func (s *Store) SearchAll(ctx context.Context, teamID int64, q string, limit int) (Found, error) {
	var f Found
	if strings.TrimSpace(q) == "" || limit <= 0 {
		return f, nil
	}
	// The two tables are searched side by side: each waits mostly on its
	// own reads, so the dropdown costs about the slower of the two.
	var (
		wg       sync.WaitGroup
		contacts ContactPage
		cerr     error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		contacts, cerr = s.ListContacts(ctx, teamID, ContactQuery{Search: q, Sort: "updated", Desc: true, Limit: limit})
	}()
	deals, err := s.ListDeals(ctx, teamID, DealQuery{Search: q, Sort: "updated", Desc: true, Limit: limit})
	wg.Wait()
	if cerr != nil {
		return f, fmt.Errorf("search all: %w", cerr)
	}
	if err != nil {
		return f, fmt.Errorf("search all: %w", err)
	}
	f.Contacts, f.MoreContacts = contacts.Rows, contacts.Next != ""
	f.Deals, f.MoreDeals = deals.Rows, deals.Next != ""
	return f, nil
}
