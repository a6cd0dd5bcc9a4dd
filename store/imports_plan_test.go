package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// importWrites records the statements an import job runs on the records
// and their terms (not the job's own bookkeeping).
type importWrites struct {
	mu      sync.Mutex
	queries []string
}

func (l *importWrites) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	q := strings.TrimSpace(e.Query)
	for _, p := range []string{"SELECT id, name, email", "SELECT record_id FROM import_changes", "SELECT contact_id, term",
		"UPDATE contacts", "DELETE FROM contact_terms", "SELECT DISTINCT contact_id FROM deals"} {
		if strings.HasPrefix(q, p) {
			l.mu.Lock()
			l.queries = append(l.queries, q)
			l.mu.Unlock()
			return ctx
		}
	}
	return ctx
}

func (l *importWrites) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestImportStatementsReadByKey runs an import that creates and updates
// contacts, beside another team's contacts, and checks each statement's plan
// on both databases: every lookup, update and term delete goes by a key (the
// email index, the primary key, the contact's term index), none reads a
// whole table or a team's whole index.
func TestImportStatementsReadByKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		other := newImportTeam(t, s, "Neighbour")
		it := newImportTeam(t, s, "Planned")
		csvOf := func(from, to int, name string) []byte {
			var b strings.Builder
			b.WriteString("Email,Name,Company,Phone\n")
			for i := from; i < to; i++ {
				fmt.Fprintf(&b, "p%d@example.com,%s %d,Firm %d,+49 30 %07d\n", i, name, i, i%50, i)
			}
			return []byte(b.String())
		}
		importAll(t, s, other, store.ImportContacts, string(csvOf(0, 2000, "Other")), nil)
		importAll(t, s, it, store.ImportContacts, string(csvOf(0, 2000, "Before")), nil)
		log := &importWrites{}
		s.DB.AddQueryHook(log)
		im := importAll(t, s, it, store.ImportContacts, string(csvOf(1000, 3000, "After")),
			func(m *store.ImportMapping) { m.Mode = store.ModeUpsert })
		if im.Created != 1000 || im.Updated != 1000 {
			t.Fatalf("created %d, updated %d", im.Created, im.Updated)
		}
		log.mu.Lock()
		queries := log.queries
		log.mu.Unlock()
		seen := map[string]bool{}
		for _, q := range queries {
			shape := q[:min(len(q), 24)]
			if seen[shape] {
				continue
			}
			seen[shape] = true
			if s.Dialect == store.SQLite {
				p := sqlitePlan(t, s, q)
				if fullScan.MatchString(p) || strings.Contains(p, "SCAN contact_terms") || strings.Contains(p, "SCAN import_changes") {
					t.Errorf("a full scan in %q\n%.300s", p, q)
				}
				if strings.Contains(q, "FROM deals") && !strings.Contains(p, "INDEX deals_of_contact (contact_id=?)") {
					t.Errorf("deals of the updated contacts not read by contact: %q\n%.300s", p, q)
				}
				continue
			}
			for _, r := range explain(t, s.DB.DB, q) {
				if strings.HasPrefix(r.table, "<") {
					continue // the statement's own list of new values
				}
				if r.typ == "ALL" || r.typ == "index" || (r.key == "contacts_email" && !strings.HasPrefix(q, "SELECT id, name, email")) ||
					(r.table == "deals" && r.key != "deals_of_contact") {
					t.Errorf("%s reads %s by %s (%s)\n%.300s", r.typ, r.table, r.key, r.extra, q)
				}
			}
		}
		for _, want := range []string{"SELECT id, name, email", "UPDATE contacts", "DELETE FROM contact_terms", "SELECT contact_id, term", "SELECT DISTINCT contact_id FROM deals"} {
			found := false
			for _, q := range queries {
				found = found || strings.HasPrefix(q, want)
			}
			if !found {
				t.Errorf("no %q statement ran", want)
			}
		}
		// The other team's contacts and terms are untouched.
		if n := len(teamContacts(t, s, other.team.ID)); n != 2000 {
			t.Errorf("the other team has %d contacts", n)
		}
		page, err := s.ListContacts(ctx, it.team.ID, store.ContactQuery{Search: "after 1500"})
		if err != nil || len(page.Rows) != 1 {
			t.Errorf("search after the rename: %v %d rows", err, len(page.Rows))
		}
		page, err = s.ListContacts(ctx, it.team.ID, store.ContactQuery{Search: "before 1500"})
		if err != nil || len(page.Rows) != 0 {
			t.Errorf("the old name still found: %v %d rows", err, len(page.Rows))
		}
	})
}
