package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// boardLog records the board's column queries: the cards ("SELECT d.id")
// and the totals ("SELECT COUNT(*)").
type boardLog struct {
	mu      sync.Mutex
	cards   []string
	totals  []string
	monthly []string
	names   []string
}

func (l *boardLog) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case strings.HasPrefix(e.Query, "SELECT d.id, d.name, d.amount,"):
		l.cards = append(l.cards, e.Query)
	case strings.HasPrefix(e.Query, "SELECT COUNT(*) AS n, COALESCE(SUM(d.amount), 0) AS amount FROM deals"):
		l.totals = append(l.totals, e.Query)
	case strings.HasPrefix(e.Query, "SELECT 0 AS part, stage,"), strings.HasPrefix(e.Query, "SELECT 1 AS part, stage,"):
		l.monthly = append(l.monthly, e.Query)
	case strings.HasPrefix(e.Query, "SELECT id, name FROM users"):
		l.names = append(l.names, e.Query)
	}
	return ctx
}

func (l *boardLog) AfterQuery(context.Context, *bun.QueryEvent) {}

func (l *boardLog) take() (cards, totals, monthly []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cards, totals, monthly = l.cards, l.totals, l.monthly
	l.cards, l.totals, l.monthly = nil, nil, nil
	return cards, totals, monthly
}

func (l *boardLog) takeNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.names
	l.names = nil
	return n
}

// TestBoardQueriesUseTheBoardIndexes runs EXPLAIN (MySQL) and EXPLAIN QUERY
// PLAN (SQLite) on every column query of the board: the cards read a
// range of deals_board (or deals_owner_board) in order, without a sort;
// filtered totals are read from that index alone, and the whole team's
// totals from deal_month_totals by its key plus the undated deals'
// range of deals_board, never a scan.
func TestBoardQueriesUseTheBoardIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		users := []int64{0, owner.ID, admin.ID, member.ID}
		for i := range 40 {
			addDeal(t, s, team, admin, c, store.DealInput{Name: "Deal", Amount: "5", OwnerID: users[i%4],
				Stage: store.OpenStages[i%4], CloseDate: []string{"", "2026-01-01", "2026-02-01"}[i%3]})
		}
		clk.t = clk.t.AddDate(0, 0, 30) // every deal is stale by now
		log := &boardLog{}
		s.DB.AddQueryHook(log)
		march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		queries := []struct {
			name    string
			q       store.BoardQuery
			index   string
			monthly int // statements of totals kept by the store (deal_stage_totals, deal_month_totals): one a board
			columns int // columns read (stale only skips the closed ones)
		}{
			{"all", store.BoardQuery{Month: march}, "deals_board", 1, 0},
			{"mine", store.BoardQuery{View: store.ViewMine, UserID: member.ID, Month: march}, "deals_owner_board", 0, 0},
			{"an owner", store.BoardQuery{View: store.ViewOwner, OwnerID: admin.ID, Month: march}, "deals_owner_board", 0, 0},
			{"search", store.BoardQuery{Search: "deal", Month: march}, "deals_board", 0, 0},
			{"stale only", store.BoardQuery{StaleOnly: true, Month: march}, "deals_board", 0, len(store.OpenStages)},
			{"mine, stale only", store.BoardQuery{View: store.ViewMine, UserID: member.ID, StaleOnly: true, Month: march}, "deals_owner_board", 0, len(store.OpenStages)},
			{"whole months", store.BoardQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), Month: march}, "deals_board", 1, 0},
			{"days", store.BoardQuery{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC), Month: march}, "deals_board", 0, 0},
		}
		for _, tc := range queries {
			if tc.columns == 0 {
				tc.columns = len(store.Stages)
			}
			tc.q.Limit = 3
			cols, err := s.Board(ctx, team.ID, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range cols {
				if col.Next != "" {
					if _, err := s.BoardMore(ctx, team.ID, tc.q, col.Stage, col.Next); err != nil {
						t.Fatal(err)
					}
				}
			}
			cards, totals, monthly := log.take()
			counted := 0 // columns counted under their filter
			if tc.monthly == 0 {
				counted = tc.columns
			}
			if len(cards) <= tc.columns || len(totals) != counted || len(monthly) != tc.monthly {
				t.Fatalf("%s: %d card, %d total and %d monthly total queries recorded", tc.name, len(cards), len(totals), len(monthly))
			}
			for _, q := range monthly {
				checkNoScan(t, s, q, tc.name+" monthly totals")
			}
			for _, q := range cards {
				checkCards(t, s, q, tc.index, tc.name+" cards")
			}
			for _, q := range totals {
				checkCovering(t, s, q, tc.index, tc.name+" totals")
			}
		}
		// The owners' names: the team's members by users_team, former
		// members by primary key.
		log.takeNames()
		former := newUser(t, s, "Former owner")
		if _, err := s.DB.NewRaw("UPDATE deals SET owner_id = ? WHERE team_id = ? AND stage = ?", former.ID, team.ID, store.StageCreated).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		cols, err := s.Board(ctx, team.ID, store.BoardQuery{Month: march})
		if err != nil {
			t.Fatal(err)
		}
		if card := cols[0].Cards[0]; card.OwnerName != former.Name {
			t.Errorf("a former member's card names %q, want %q", card.OwnerName, former.Name)
		}
		if card := cols[1].Cards[len(cols[1].Cards)-1]; card.OwnerID != 0 && card.OwnerName == "" {
			t.Errorf("a member's card names nobody: %+v", card.Deal)
		}
		names := log.takeNames()
		if len(names) != 2 {
			t.Fatalf("%d name queries, want the members' and the former owner's", len(names))
		}
		checkNamesPlan(t, s, names[0], "users_team", "members' names")
		checkNamesPlan(t, s, names[1], "PRIMARY", "former owner's name")
	})
}

// checkCovering asserts an aggregate reads only the wanted index.
func checkCovering(t *testing.T, s *store.Store, query, wantIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		joined := sqlitePlan(t, s, query)
		if !strings.Contains(joined, "COVERING INDEX "+wantIndex+" ") {
			t.Errorf("%s: plan %q, want a covering search of %s\n%s", what, joined, wantIndex, query)
		}
		return
	}
	r := explain(t, sqlDB(s), query)[0]
	if r.key != wantIndex || (r.typ != "range" && r.typ != "ref") || !strings.Contains(r.extra, "Using index") {
		t.Errorf("%s: plan %+v, want an index-only range/ref on %s\n%s", what, r, wantIndex, query)
	}
}

// checkNoScan asserts a query reads its tables by key, scanning none (the
// totals tables hold a handful of rows per team and stage).
func checkNoScan(t *testing.T, s *store.Store, query, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		joined := sqlitePlan(t, s, query)
		for _, table := range []string{"deal_month_totals", "deal_stage_totals"} {
			if strings.Contains(joined, "SCAN "+table) || (strings.Contains(query, "FROM "+table) && !strings.Contains(joined, "SEARCH "+table+" USING PRIMARY KEY")) {
				t.Errorf("%s: plan %q does not read %s by its key\n%s", what, joined, table, query)
			}
		}
		if strings.Contains(joined, "SCAN d ") || strings.Contains(joined, "SCAN d|") {
			t.Errorf("%s: plan %q scans the deals\n%s", what, joined, query)
		}
		return
	}
	for _, r := range explain(t, sqlDB(s), query) {
		if strings.HasPrefix(r.table, "<") || r.table == "" {
			continue
		}
		if r.typ == "ALL" || r.typ == "index" || r.key == "" {
			t.Errorf("%s: plan row %+v reads without a key\n%s", what, r, query)
		}
	}
}

// checkCards asserts a column's card query reads the wanted index in order:
// a ref or range on MySQL, a search on SQLite, and no sort.
func checkCards(t *testing.T, s *store.Store, query, wantIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		joined := sqlitePlan(t, s, query)
		if !(strings.Contains(joined, "SEARCH d USING INDEX "+wantIndex+" ") || strings.Contains(joined, "SEARCH d USING COVERING INDEX "+wantIndex+" ")) ||
			strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a search of %s without a sort\n%s", what, joined, wantIndex, query)
		}
		return
	}
	r := explain(t, sqlDB(s), query)[0]
	if r.key != wantIndex || (r.typ != "range" && r.typ != "ref") || strings.Contains(r.extra, "filesort") {
		t.Errorf("%s: plan %+v, want range/ref on %s without a sort\n%s", what, r, wantIndex, query)
	}
}

// checkNamesPlan asserts a read of users goes by the wanted index.
func checkNamesPlan(t *testing.T, s *store.Store, query, wantIndex, what string) {
	t.Helper()
	if s.Dialect == store.SQLite {
		joined := sqlitePlan(t, s, query)
		want := "SEARCH users USING INDEX " + wantIndex
		if wantIndex == "PRIMARY" {
			want = "SEARCH users USING INTEGER PRIMARY KEY"
		}
		if !strings.Contains(joined, want) {
			t.Errorf("%s: plan %q, want %q\n%s", what, joined, want, query)
		}
		return
	}
	r := explain(t, sqlDB(s), query)[0]
	if r.key != wantIndex || (r.typ != "range" && r.typ != "ref" && r.typ != "const" && r.typ != "eq_ref") {
		t.Errorf("%s: plan %+v, want a read of %s\n%s", what, r, wantIndex, query)
	}
}
