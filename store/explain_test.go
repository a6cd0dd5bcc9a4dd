package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// queryLog records the list queries a store runs (they start with
// "SELECT r.id").
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.HasPrefix(e.Query, "SELECT r.id") {
		l.mu.Lock()
		l.queries = append(l.queries, e.Query)
		l.mu.Unlock()
	}
	return ctx
}

func (l *queryLog) AfterQuery(context.Context, *bun.QueryEvent) {}

func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// explainRow is one row of MySQL's EXPLAIN.
type explainRow struct {
	selectType, table, typ, key, extra string
}

func explain(t *testing.T, db *sql.DB, query string) []explainRow {
	t.Helper()
	rows, err := db.Query("EXPLAIN " + query)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if slices.Contains(cols, "estRows") {
		return tidbExplain(t, rows, cols)
	}
	var out []explainRow
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var r explainRow
		for i, c := range cols {
			switch c {
			case "select_type":
				r.selectType = vals[i].String
			case "table":
				r.table = vals[i].String
			case "type":
				r.typ = vals[i].String
			case "key":
				r.key = vals[i].String
			case "Extra":
				r.extra = vals[i].String
			}
		}
		out = append(out, r)
	}
	return out
}

// tidbExplain reads TiDB's EXPLAIN (an operator tree: id, estRows, task,
// access object, operator info) as MySQL's rows, so the plan assertions
// hold on both: each operator that reads a table becomes a row, in tree
// order (the outer read first), with the index it reads as key and its
// kind as type (IndexRangeScan/TableRangeScan: range, a point get: ref,
// a full scan: index or ALL). Rows under the inner side of an Apply (a
// subquery run per outer row) are DEPENDENT SUBQUERY, and a Sort or TopN
// anywhere in the plan shows as "Using filesort" in every row's Extra.
func tidbExplain(t *testing.T, rows *sql.Rows, cols []string) []explainRow {
	t.Helper()
	type op struct{ id, access string }
	var ops []op
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var o op
		for i, c := range cols {
			switch c {
			case "id":
				o.id = vals[i].String
			case "access object":
				o.access = vals[i].String
			}
		}
		ops = append(ops, o)
	}
	sorted := false
	for _, o := range ops {
		name := strings.TrimLeft(o.id, "└─├│ ")
		if strings.HasPrefix(name, "Sort") || strings.HasPrefix(name, "TopN") {
			sorted = true
		}
	}
	var out []explainRow
	applyDepth := -1
	for _, o := range ops {
		name := strings.TrimLeft(o.id, "└─├│ ")
		depth := len(o.id) - len(name)
		if strings.HasPrefix(name, "Apply") && applyDepth < 0 {
			applyDepth = depth
		}
		var r explainRow
		switch {
		case strings.HasPrefix(name, "IndexRangeScan"), strings.HasPrefix(name, "TableRangeScan"):
			r.typ = "range"
		case strings.HasPrefix(name, "Point_Get"), strings.HasPrefix(name, "Batch_Point_Get"):
			r.typ = "ref"
		case strings.HasPrefix(name, "IndexFullScan"):
			r.typ = "index"
		case strings.HasPrefix(name, "TableFullScan"):
			r.typ = "ALL"
		default:
			continue
		}
		for _, part := range strings.Split(o.access, ", ") {
			switch {
			case strings.HasPrefix(part, "table:"):
				r.table = strings.TrimPrefix(part, "table:")
			case strings.HasPrefix(part, "index:"):
				r.key, _, _ = strings.Cut(strings.TrimPrefix(part, "index:"), "(")
			}
		}
		if r.key == "" {
			r.key = "PRIMARY" // a clustered primary key: the table itself
		}
		if applyDepth >= 0 && depth > applyDepth && len(out) > 0 {
			r.selectType = "DEPENDENT SUBQUERY"
		}
		if sorted {
			r.extra = "Using filesort"
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatalf("TiDB plan without a table read: %v", ops)
	}
	return out
}

// listIndexes maps each sort key to the index its list query must use, for
// the "all" view and for views filtered by owner.
var contactIndexes = map[string][2]string{
	"name": {"contacts_name", "contacts_owner_name"}, "email": {"contacts_email", "contacts_owner_email"},
	"phone": {"contacts_phone", "contacts_owner_phone"}, "company": {"contacts_company", "contacts_owner_company"},
	"status": {"contacts_status", "contacts_owner_status"}, "owner": {"contacts_owner_name", "contacts_owner_name"},
	"created": {"contacts_created", "contacts_owner_created"}, "updated": {"contacts_updated", "contacts_owner_updated"},
	"last_contacted": {"contacts_last_contacted", "contacts_owner_last_contacted"}, "next_step": {"contacts_next_step", "contacts_owner_next_step"},
}

var dealIndexes = map[string][2]string{
	"name": {"deals_name", "deals_owner_name"}, "stage": {"deals_stage", "deals_owner_stage"},
	"goal": {"deals_goal", "deals_owner_goal"}, "amount": {"deals_amount", "deals_owner_amount"},
	"close_date": {"deals_close_date", "deals_owner_close_date"}, "owner": {"deals_owner_name", "deals_owner_name"},
	"contact": {"deals_contact", "deals_owner_contact"}, "company": {"deals_company", "deals_owner_company"},
	"created": {"deals_created", "deals_owner_created"}, "updated": {"deals_updated", "deals_owner_updated"},
}

// TestListQueriesUseTheSortIndex runs EXPLAIN on every list query for every
// sort, direction and view, on the first page and on a later one: each must
// read a range (or ref) of the expected index, never scan the table or sort.
// On SQLite it checks EXPLAIN QUERY PLAN the same way.
func TestListQueriesUseTheSortIndex(t *testing.T) {
	// The plans asserted are of the reads a search makes; a set cached by
	// an earlier search of the same word (search_cache.go) skips them.
	defer store.SetSearchCacheBytes(0)()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		users := []int64{0, owner.ID, admin.ID, member.ID}
		var contacts []*store.Contact
		for i := range 60 {
			contacts = append(contacts, addContact(t, s, team, admin, store.ContactInput{
				Name: fmt.Sprintf("Name %d", i%9), Phone: "0151 1234", Company: "Acme", OwnerID: users[i%4]}))
		}
		for i := range 60 {
			addDeal(t, s, team, admin, contacts[i], store.DealInput{Name: "Deal", OwnerID: users[i%4], CloseDate: []string{"", "2026-01-01"}[i%2]})
		}
		log := &queryLog{}
		s.DB.AddQueryHook(log)

		type list struct {
			name    string
			views   []string
			indexes map[string][2]string
			page    func(view, sort string, desc bool, cursor, search string) (next string, err error)
		}
		lists := []list{
			{"contacts", []string{store.ViewAll, store.ViewMine, store.ViewUnassigned}, contactIndexes,
				func(view, sort string, desc bool, cursor, search string) (string, error) {
					p, err := s.ListContacts(ctx, team.ID, store.ContactQuery{View: view, UserID: member.ID, Sort: sort, Desc: desc, Cursor: cursor, Search: search, Limit: 5})
					return p.Next, err
				}},
			{"deals", []string{store.ViewAll, store.ViewMine}, dealIndexes,
				func(view, sort string, desc bool, cursor, search string) (string, error) {
					p, err := s.ListDeals(ctx, team.ID, store.DealQuery{View: view, UserID: member.ID, Sort: sort, Desc: desc, Cursor: cursor, Search: search, Limit: 5})
					return p.Next, err
				}},
		}
		for _, l := range lists {
			for sortKey, idx := range l.indexes {
				for _, view := range l.views {
					for _, desc := range []bool{false, true} {
						want := idx[0]
						if view != store.ViewAll {
							want = idx[1]
						}
						next, err := l.page(view, sortKey, desc, "", "")
						if err != nil {
							t.Fatal(err)
						}
						if next == "" {
							t.Fatalf("%s %s %s: no second page", l.name, view, sortKey)
						}
						if _, err := l.page(view, sortKey, desc, next, ""); err != nil {
							t.Fatal(err)
						}
						queries := log.take()
						if len(queries) == 0 {
							t.Fatalf("no list queries captured")
						}
						for _, q := range queries {
							checkPlan(t, s, q, want, fmt.Sprintf("%s view=%s sort=%s desc=%v", l.name, view, sortKey, desc))
						}
					}
				}
			}
		}
		if s.Dialect != store.MySQL {
			// SQLite: the walking plans read the sort index in order and
			// look matches up by key; nothing is scanned in full.
			for _, mode := range store.SearchModes(1)[1:] {
				restore := mode.Use()
				if _, err := lists[0].page(store.ViewAll, "name", false, "", "name acme"); err != nil {
					t.Fatal(err)
				}
				restore()
				for _, q := range log.take() {
					detail := sqlitePlan(t, s, q)
					rare := strings.Contains(q, "NOT INDEXED")
					switch {
					case strings.Contains(detail, "SCAN "):
						t.Errorf("plan %s scans: %s", mode.Name, detail)
					case rare && !strings.Contains(detail, "INTEGER PRIMARY KEY"):
						t.Errorf("rare plan: %s", detail)
					case !rare && (!strings.Contains(detail, "INDEX contacts_name") || strings.Contains(detail, "FOR ORDER BY")):
						t.Errorf("plan %s: %s", mode.Name, detail)
					}
				}
			}
			return
		}
		// The search plans: walk the sort index and probe each row's terms,
		// or read the few candidates by primary key; and the reads that
		// choose them (each word's term count, a rare word's matches with
		// the other words probed) range over the terms' primary key.
		all := &allQueries{}
		s.DB.AddQueryHook(all)
		for _, mode := range store.SearchModes(1)[1:] {
			restore := mode.Use()
			all.take()
			if _, err := lists[0].page(store.ViewAll, "name", false, "", "name acme"); err != nil {
				t.Fatal(err)
			}
			restore()
			seen := map[string]bool{}
			for _, q := range all.take() {
				rows := explain(t, sqlDB(s), q)
				outer := rows[0]
				probes := func() {
					for _, r := range rows[1:] {
						if r.selectType != "DEPENDENT SUBQUERY" || r.key != "contact_terms_contact" {
							t.Errorf("%s: terms must be probed per row, got %+v in\n%s", mode.Name, r, q)
						}
					}
				}
				switch {
				case strings.HasPrefix(q, "SELECT t.contact_id") && strings.Contains(q, "contact_terms_contact"):
					seen["check"] = true
					if outer.table != "t" || outer.key != "contact_terms_contact" || outer.typ != "range" {
						t.Errorf("%s: words checked on a set's hits %+v in\n%s", mode.Name, outer, q)
					}
				case strings.HasPrefix(q, "SELECT t.contact_id"):
					seen["terms"] = true
					if outer.table != "t" || outer.key != "PRIMARY" || outer.typ != "range" {
						t.Errorf("%s: a word's matches %+v in\n%s", mode.Name, outer, q)
					}
				case strings.HasPrefix(q, "SELECT r.id") && strings.Contains(q, "FORCE INDEX (PRIMARY)"):
					seen["rare"] = true
					if outer.key != "PRIMARY" || outer.typ != "range" {
						t.Errorf("rare plan: %+v in\n%s", outer, q)
					}
				case strings.HasPrefix(q, "SELECT r.id"):
					seen["walk"] = true
					// A walk kept to the names starting with a word
					// (narrowToPrefix) is a range of the same index.
					want := "ref"
					if strings.Contains(q, " LIKE ") {
						want = "range"
					}
					if outer.key != "contacts_name" || outer.typ != want || strings.Contains(outer.extra, "filesort") {
						t.Errorf("%s plan: outer %+v", mode.Name, outer)
					}
					probes()
				}
			}
			// The set walk reads its hits' keys with the ids (no read by
			// primary key after each batch).
			want := map[string][]string{"probe": {"walk"}, "rare": {"terms", "rare"}, "mixed": {"terms", "walk"}}[mode.Name]
			for _, w := range want {
				if !seen[w] {
					t.Errorf("mode %s: no %s query", mode.Name, w)
				}
			}
		}
	})
}

func sqlDB(s *store.Store) *sql.DB { return s.DB.DB }

// sqlitePlan is SQLite's EXPLAIN QUERY PLAN of a query, one line.
func sqlitePlan(t *testing.T, s *store.Store, query string) string {
	t.Helper()
	rows, err := s.DB.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, " | ")
}

// checkPlan asserts a list query reads the wanted index without a sort.
func checkPlan(t *testing.T, s *store.Store, query, wantIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		joined := sqlitePlan(t, s, query)
		if !strings.Contains(joined, "INDEX "+wantIndex+" ") || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a search of %s without a sort\n%s", what, joined, wantIndex, query)
		}
		return
	}
	plan := explain(t, sqlDB(s), query)
	r := plan[0]
	if r.key != wantIndex || (r.typ != "range" && r.typ != "ref") || strings.Contains(r.extra, "filesort") {
		t.Errorf("%s: plan %+v, want range/ref on %s\n%s", what, r, wantIndex, query)
	}
	if strings.Contains(query, " < ") || strings.Contains(query, " > ") {
		if r.typ != "range" {
			t.Errorf("%s: a later page must be a range, got %s\n%s", what, r.typ, query)
		}
	}
}

// TestDeepPageInATieReadsOnlyAPage checks on MySQL that a page in the middle
// of hundreds of equal sort values starts at the cursor: the range covers
// (value, id), so the server reads about a page of index entries, not the
// whole group before it.
func TestDeepPageInATieReadsOnlyAPage(t *testing.T) {
	s := storetest.Open(t, store.MySQL)
	ctx := context.Background()
	team, owner, _, _ := teamOf(t, s)
	for i := range 400 {
		addContact(t, s, team, owner, store.ContactInput{Name: "Same Name", Status: "Open", Company: fmt.Sprintf("C%d", i%2), OwnerID: owner.ID})
	}
	log := &queryLog{}
	s.DB.AddQueryHook(log)
	for _, q := range []store.ContactQuery{
		{Sort: "status"}, {Sort: "name", Desc: true}, {Sort: "company"}, {Sort: "owner"}, {View: store.ViewMine, UserID: owner.ID, Sort: "status", Desc: true},
	} {
		// Walk to page 12 of 16, all inside one value.
		for range 12 {
			p, err := s.ListContacts(ctx, team.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			q.Cursor = p.Next
		}
		log.take()
		if _, err := s.ListContacts(ctx, team.ID, q); err != nil {
			t.Fatal(err)
		}
		queries := log.take()
		if s.TiDB() {
			// TiDB has no handler counters: EXPLAIN ANALYZE says how many
			// rows each read returned.
			total := 0
			for _, query := range queries {
				total += tidbRowsRead(t, s, query)
			}
			if total > 40 {
				t.Errorf("sort %s desc=%v view=%s: %d index rows read for a page of 25 deep in a tie, want about 26", q.Sort, q.Desc, q.View, total)
			}
			continue
		}
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "FLUSH STATUS"); err != nil {
			t.Fatal(err)
		}
		for _, query := range queries {
			rows, err := conn.QueryContext(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
		var name string
		var reads, total int
		rows, err := conn.QueryContext(ctx, "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_prev', 'Handler_read_key')")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			rows.Scan(&name, &reads)
			total += reads
		}
		rows.Close()
		conn.Close()
		if total > 40 {
			t.Errorf("sort %s desc=%v view=%s: %d index reads for a page of 25 deep in a tie, want about 26", q.Sort, q.Desc, q.View, total)
		}
	}
}

// tidbRowsRead is the number of rows TiDB's range and point reads returned
// running query (EXPLAIN ANALYZE's actRows of those operators).
func tidbRowsRead(t *testing.T, s *store.Store, query string) int {
	t.Helper()
	rows, err := s.DB.QueryContext(context.Background(), "EXPLAIN ANALYZE "+query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	total := 0
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var id string
		var act int
		for i, c := range cols {
			switch c {
			case "id":
				id = strings.TrimLeft(vals[i].String, "└─├│ ")
			case "actRows":
				fmt.Sscan(vals[i].String, &act)
			}
		}
		if strings.HasPrefix(id, "IndexRangeScan") || strings.HasPrefix(id, "TableRangeScan") {
			total += act
		}
	}
	return total
}
