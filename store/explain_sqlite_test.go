package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// allQueries records every SELECT a store runs.
type allQueries struct {
	mu      sync.Mutex
	queries []string
}

func (l *allQueries) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.HasPrefix(strings.TrimSpace(e.Query), "SELECT") {
		l.mu.Lock()
		l.queries = append(l.queries, e.Query)
		l.mu.Unlock()
	}
	return ctx
}

func (l *allQueries) AfterQuery(context.Context, *bun.QueryEvent) {}

func (l *allQueries) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// fullScan matches a plan step that reads a whole table or index of a real
// table (SQLite writes "SCAN alias" or "SCAN alias USING [COVERING] INDEX
// name" for those, "SEARCH" for a range or a key lookup). Scans of
// subqueries and derived tables are fine.
var fullScan = regexp.MustCompile(`(^|\| )SCAN (c|r|d|u|l|a|n|t\d*|users|contacts|deals|contact_terms|deal_terms|deal_stage_log|activities|notes|deal_month_totals|activity_day_totals|team_changes)( |$)`)

// planCase is a store call and the plan steps its queries must show.
type planCase struct {
	name string
	run  func() error
	// want: each must appear in the plan of one of the queries.
	want []string
	// sorted: a list walk may not sort (USE TEMP B-TREE FOR ORDER BY).
	walk bool
}

// checkSQLitePlans runs each case and asserts its queries' plans: the wanted
// index steps are there, no real table is read in full, and a list walk
// reads its sort index in order.
func checkSQLitePlans(t *testing.T, s *store.Store, cases []planCase) {
	t.Helper()
	log := &allQueries{}
	s.DB.AddQueryHook(log)
	for _, c := range cases {
		log.take()
		if err := c.run(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		queries := log.take()
		if len(queries) == 0 {
			t.Fatalf("%s: no queries captured", c.name)
		}
		var plans []string
		for _, q := range queries {
			p := sqlitePlan(t, s, q)
			plans = append(plans, p)
			if fullScan.MatchString(p) {
				t.Errorf("%s: a full scan in %q\n%s", c.name, p, q)
			}
			walkQuery := strings.HasPrefix(q, "SELECT r.id") || strings.HasPrefix(q, "SELECT * FROM (SELECT r.id")
			if c.walk && walkQuery && !strings.Contains(q, "NOT INDEXED") && strings.Contains(p, "FOR ORDER BY") {
				t.Errorf("%s: the walk sorts: %q\n%s", c.name, p, q)
			}
		}
		all := strings.Join(plans, " || ")
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q in the plans\n%s\nqueries:\n%s", c.name, w, strings.Join(plans, "\n"), strings.Join(queries, "\n"))
			}
		}
	}
}

// TestSQLiteQueriesUseTheIntendedIndex checks with EXPLAIN QUERY PLAN, on a
// seeded SQLite database, that every list, search, row-load and dashboard query
// reads the index it was written for — once with no statistics (SQLite's
// guesses picked an index on team_id for lookups by primary key and read
// the whole team) and once after Analyze.
func TestSQLiteQueriesUseTheIntendedIndex(t *testing.T) {
	// The plans asserted are of the reads a search makes; a set cached by
	// an earlier search of the same word (search_cache.go) skips them.
	defer store.SetSearchCacheBytes(0)()
	ctx := context.Background()
	u := storetest.URL(t, store.SQLite)
	open := func() *store.Store {
		s, err := store.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 3000, Deals: 600, Members: 4,
		Now: now, Rand: rand.New(rand.NewPCG(7, 8))})
	teamID := owner.TeamID

	for _, stats := range []bool{false, true} {
		t.Run(fmt.Sprintf("statistics=%v", stats), func(t *testing.T) {
			if !stats {
				// Forget the statistics Seed gathered; a fresh pool reads
				// the schema without them.
				if _, err := s.DB.ExecContext(ctx, "DELETE FROM sqlite_stat1"); err != nil {
					t.Fatal(err)
				}
			} else if err := s.Analyze(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s = open()
			var rows int
			if err := s.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if stats != (rows > 0) {
				t.Fatalf("statistics=%v but sqlite_stat1 has %d rows", stats, rows)
			}
			checkSQLitePlans(t, s, sqlitePlanCases(t, s, teamID, owner.ID, now))
		})
	}
}

// sqlitePlanCases lists the store calls whose plans are asserted. A new
// query set (a board, say) adds its calls here with the index steps its
// plans must show.
func sqlitePlanCases(t *testing.T, s *store.Store, teamID, userID int64, now time.Time) []planCase {
	ctx := context.Background()
	first, err := s.ListContacts(ctx, teamID, store.ContactQuery{Limit: 5})
	if err != nil || len(first.Rows) == 0 {
		t.Fatalf("no contacts: %v", err)
	}
	contactID := first.Rows[0].ID
	deals, err := s.ListDeals(ctx, teamID, store.DealQuery{Limit: 5})
	if err != nil || len(deals.Rows) == 0 {
		t.Fatalf("no deals: %v", err)
	}
	deal := deals.Rows[0]
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if berlin == nil {
		berlin = time.UTC
	}
	const pk = "USING INTEGER PRIMARY KEY (rowid=?)"
	var cases []planCase
	twoPages := func(page func(cursor string) (string, error)) func() error {
		return func() error {
			next, err := page("")
			if err != nil || next == "" {
				return fmt.Errorf("first page: next %q, %v", next, err)
			}
			_, err = page(next)
			return err
		}
	}
	for sortKey, idx := range contactIndexes {
		for _, view := range []string{store.ViewAll, store.ViewMine, store.ViewUnassigned} {
			for _, desc := range []bool{false, true} {
				want := idx[0]
				if view != store.ViewAll {
					want = idx[1]
				}
				q := store.ContactQuery{View: view, UserID: userID, Sort: sortKey, Desc: desc, Limit: 10}
				cases = append(cases, planCase{
					name: fmt.Sprintf("contacts view=%s sort=%s desc=%v", view, sortKey, desc),
					run: twoPages(func(cursor string) (string, error) {
						q := q
						q.Cursor = cursor
						p, err := s.ListContacts(ctx, teamID, q)
						return p.Next, err
					}),
					want: []string{"SEARCH r USING COVERING INDEX " + want + " (", "SEARCH c " + pk},
					walk: true,
				})
			}
		}
	}
	for sortKey, idx := range dealIndexes {
		for _, view := range []string{store.ViewAll, store.ViewMine} {
			want := idx[0]
			if view != store.ViewAll {
				want = idx[1]
			}
			q := store.DealQuery{View: view, UserID: userID, Sort: sortKey, Limit: 10}
			cases = append(cases, planCase{
				name: fmt.Sprintf("deals view=%s sort=%s", view, sortKey),
				run: twoPages(func(cursor string) (string, error) {
					q := q
					q.Cursor = cursor
					p, err := s.ListDeals(ctx, teamID, q)
					return p.Next, err
				}),
				want: []string{"SEARCH r USING COVERING INDEX " + want + " (", "SEARCH d " + pk},
				walk: true,
			})
		}
	}
	// A page after a cursor on a column of few values (a status, an
	// amount) reads the rest of the cursor's value by (col = v, id > i) and
	// the values past it by (col > v): a row value (col, id) > (v, i) seeks
	// on col alone and read all of v's rows before the cursor (64.7 ms 30,000
	// pages deep by status at a million contacts).
	for _, c := range []struct {
		table, sortKey, index, col string
	}{{"contacts", "status", "contacts_status", "status"}, {"deals", "amount", "deals_amount", "amount"}} {
		for _, desc := range []bool{false, true} {
			op := ">"
			if desc {
				op = "<"
			}
			run := twoPages(func(cursor string) (string, error) {
				if c.table == "deals" {
					p, err := s.ListDeals(ctx, teamID, store.DealQuery{Sort: c.sortKey, Desc: desc, Limit: 10, Cursor: cursor})
					return p.Next, err
				}
				p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Sort: c.sortKey, Desc: desc, Limit: 10, Cursor: cursor})
				return p.Next, err
			})
			cases = append(cases, planCase{
				name: fmt.Sprintf("%s after a cursor sort=%s desc=%v", c.table, c.sortKey, desc),
				run:  run,
				want: []string{
					"SEARCH r USING COVERING INDEX " + c.index + " (team_id=? AND " + c.col + "=? AND id" + op + "?)",
					"SEARCH r USING COVERING INDEX " + c.index + " (team_id=? AND " + c.col + op + "?)",
				},
				walk: true,
			})
		}
	}
	// Search, with the caps scaled to the seeded team as in
	// TestSearchPlansMatchBruteForce: read each word's matching ids from its
	// term range (the terms' primary key), then load a rare set by primary
	// key, or walk the sort index (ids only) keeping the set's ids and check
	// the dense words through (record id, term), or, when every word is
	// dense, walk the sort index and probe each row's terms.
	scaled := store.SearchMode{Name: "scaled", Rare: 40, Intersect: 200}
	const fromTerms = "SEARCH t USING PRIMARY KEY (team_id=? AND term>? AND term<?)"
	const probe = "USING COVERING INDEX contact_terms_contact (contact_id=? AND term>? AND term<?)"
	search := func(q string, sortKey string, mode store.SearchMode) func() error {
		return func() error {
			defer mode.Use()()
			p, err := s.ListContacts(ctx, teamID, store.ContactQuery{Search: q, Sort: sortKey, Limit: 5})
			if err == nil && p.Next != "" {
				_, err = s.ListContacts(ctx, teamID, store.ContactQuery{Search: q, Sort: sortKey, Limit: 5, Cursor: p.Next})
			}
			return err
		}
	}
	setWalkIndex := map[string]string{
		"name":    "SEARCH r USING COVERING INDEX contacts_name (team_id=? AND name>? AND name<?)",
		"updated": "SEARCH r USING COVERING INDEX " + contactIndexes["updated"][0] + " (team_id=?)",
	}
	for _, sortKey := range []string{"name", "updated"} {
		sortIndex := "SEARCH r USING COVERING INDEX " + contactIndexes[sortKey][0] + " (team_id=?)"
		cases = append(cases,
			planCase{name: "search a rare word, sort " + sortKey, run: search("anna", sortKey, scaled),
				want: []string{fromTerms, "SEARCH r " + pk, "SEARCH c " + pk}},
			planCase{name: "search a rare and a common word, sort " + sortKey, run: search("anna m", sortKey, scaled),
				want: []string{fromTerms, "SEARCH t0 " + probe, "SEARCH r " + pk}},
			planCase{name: "search a one-letter prefix, sort " + sortKey, run: search("a", sortKey, scaled),
				want: []string{fromTerms, sortIndex, "SEARCH t0 " + probe, "SEARCH c " + pk}, walk: true},
			planCase{name: "search two common words, sort " + sortKey, run: search("a m", sortKey, scaled),
				want: []string{fromTerms, sortIndex, "SEARCH t0 " + probe, "SEARCH t1 " + probe}, walk: true},
			// The less common word read into a set too big to sort: the
			// walk keeps the set's ids and checks the other word on them.
			// Under the name sort every Anna is in the range of names
			// starting with "anna", and the walk keeps to it.
			planCase{name: "search a set walk, sort " + sortKey,
				run: search("anna m", sortKey, store.SearchMode{Name: "set", Rare: 5, Intersect: 1000}),
				// The batches read the sort value from the index with
				// the ids: no read of the hits' keys by primary key.
				want: []string{fromTerms, setWalkIndex[sortKey], "SEARCH t " + probe, "SEARCH c " + pk}, walk: true},
			planCase{name: "search a set walk with ids alone, sort " + sortKey,
				run:  search("anna m", sortKey, store.SearchMode{Name: "set", Rare: 5, Intersect: 1000, IDsOnly: true}),
				want: []string{fromTerms, setWalkIndex[sortKey], "SEARCH t " + probe, "SEARCH r " + pk}, walk: true},
		)
	}
	cases = append(cases,
		planCase{name: "contact by id", want: []string{"SEARCH c " + pk, "SEARCH u " + pk},
			run: func() error { _, err := s.ContactByID(ctx, teamID, contactID); return err }},
		planCase{name: "deal by id", want: []string{"SEARCH d " + pk},
			run: func() error { _, err := s.DealByID(ctx, teamID, deal.ID); return err }},
		planCase{name: "deals of a contact", want: []string{"SEARCH d USING INDEX deals_of_contact (contact_id=?)"},
			run: func() error { _, err := s.DealsOfContact(ctx, teamID, deal.ContactID); return err }},
		planCase{name: "notes of a contact", want: []string{"SEARCH n USING INDEX notes_contact (contact_id=?)"},
			run: func() error { _, err := s.ListNotes(ctx, teamID, contactID); return err }},
		planCase{name: "activities of a contact", want: []string{"SEARCH a USING INDEX activities_contact (contact_id=?)"},
			run: func() error { _, err := s.ListActivities(ctx, teamID, contactID, 0); return err }},
		planCase{name: "closed vs goal", want: []string{"SEARCH deal_month_totals USING PRIMARY KEY (team_id=? AND month>? AND month<?)"},
			run: func() error { _, err := s.ClosedVsGoal(ctx, teamID, berlin, now); return err }},
		planCase{name: "forecast", want: []string{"SEARCH deal_month_totals USING PRIMARY KEY (team_id=? AND month=?)"},
			run: func() error { _, err := s.Forecast(ctx, teamID, berlin, now); return err }},
		planCase{name: "funnel", want: []string{"SEARCH deal_stage_log USING COVERING INDEX deal_stage_log_team (team_id=? AND at>? AND at<?)"},
			run: func() error { _, err := s.Funnel(ctx, teamID, berlin, now); return err }},
		planCase{name: "team activity", want: []string{
			"SEARCH activity_day_totals USING PRIMARY KEY (team_id=? AND day>? AND day<?)",
			"SEARCH activities USING COVERING INDEX activities_team (team_id=? AND at>? AND at<?)",
			"SEARCH u " + pk},
			run: func() error { _, err := s.TeamActivity(ctx, teamID, berlin, now); return err }},
		planCase{name: "team version", want: []string{"SEARCH team_changes " + pk},
			run: func() error { _, err := s.TeamVersion(ctx, teamID); return err }},
	)
	return cases
}
