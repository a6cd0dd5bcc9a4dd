package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Found is what the top bar's search found: a few of the team's contacts
// and deals, by the same rules as the contacts and deals tables searched
// for q (ListContacts and ListDeals with Search), in the tables' own first
// order, by name: the dropdown's few are the first rows of the table its
// "all results" link opens. (Round 2 listed the most recently updated
// first. That order moves with every write: a status edit, a note, a next
// step moved on. So the search cache rebuilt its sets in that order after
// each one. With a status edit every 500 ms, SQLite at 1M contacts served
// the mixed top-bar searches at 238 req/s, p95 70 ms. By name, which only
// a write of search terms moves, it served 1,948 req/s, p95 8.5 ms; with
// no writes, 2,000 req/s. BENCHMARKS.md, "Round 7".)
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
		contacts, cerr = s.ListContacts(ctx, teamID, ContactQuery{Search: q, Sort: "name", Limit: limit})
	}()
	deals, err := s.ListDeals(ctx, teamID, DealQuery{Search: q, Sort: "name", Limit: limit})
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
