package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// Search
//
// Contacts and deals are searched through term tables (contact_terms,
// deal_terms): one row (team_id, term, record id) per distinct search token of
// a record, kept up to date in the same transaction as every write. A search
// word matches a record when one of its terms starts with the word, which is a
// range scan `term >= w AND term < w+U+10FFFF` on the primary key
// (team_id, term, id) — the same SQL and the same plan on MySQL and SQLite.
//
// Why not FULLTEXT (MySQL) and FTS5 (SQLite)? They can answer "which records
// match" quickly, but a page also needs an order, and FULLTEXT with ORDER BY
// costs ~1.8 s for a common word at 1M rows because every hit is sorted
// (BENCHMARKS.md, "Measured before the design"). With our own table the list code picks a plan from the
// estimated number of hits of each word (planSearch):
//
//   - rare: when the records matching every word number at most rareIDCap,
//     their ids are read from the term index (intersected in SQL), then the
//     rows are loaded by primary key and only those are sorted;
//   - materialised walk: for words of middling frequency (and intersections
//     of several words) the sort index is walked in order, joined to the
//     matching ids materialised once into a keyed temporary table. Both are
//     sequential reads, which matter on a server whose buffer pool is far
//     smaller than the data (MariaDB's default is 128 MB);
//   - probe walk: a very common word matches densely, so the sort index is
//     walked and each row's own terms are probed through (record id, term);
//     a page fills after a few dozen rows.
//
// The tokens, the two dialects' behaviour and the prefix rules are the same
// everywhere, which a single FULLTEXT/FTS5 pair could not promise (different
// tokenisers, stop words and minimum word lengths).
//
// How text becomes terms and query words is in search_terms.go.

// termBound closes a prefix range: every string that starts with p is below
// p+termBound in binary (code point) order.
const termBound = "\U0010FFFF"

// Search plan thresholds, in estimated term rows (see estimateHits; on
// MySQL the estimate runs about twice the true count). Variables only so
// that tests can force each plan.
var (
	// rareIDCap: a match set of at most this many records is loaded by
	// primary key and sorted.
	rareIDCap = 1000
	// materialCap: a word with at most this many hits is materialised and
	// joined to the walk of the sort index; above it, rows are probed.
	materialCap = 40000
)

// termSet names a term table, the column holding the record id and the
// index on (record id, term).
type termSet struct {
	table    string // contact_terms
	column   string // contact_id
	byRecord string // contact_terms_contact
}

var (
	contactTermSet = termSet{"contact_terms", "contact_id", "contact_terms_contact"}
	dealTermSet    = termSet{"deal_terms", "deal_id", "deal_terms_deal"}
)

// termRow is one row of a term table, for inserts.
type termRow struct {
	TeamID int64
	Term   string
	ID     int64
}

// insertTerms writes term rows in multi-row INSERT statements.
func insertTerms(ctx context.Context, db bun.IDB, ts termSet, rows []termRow) error {
	const batch = 2000
	for len(rows) > 0 {
		n := min(batch, len(rows))
		var b strings.Builder
		b.WriteString("INSERT INTO " + ts.table + " (team_id, term, " + ts.column + ") VALUES ")
		args := make([]any, 0, 3*n)
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, r.TeamID, r.Term, r.ID)
		}
		if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("insert %s: %w", ts.table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// replaceTerms makes the stored terms of one record equal terms, touching
// only the rows that differ.
func replaceTerms(ctx context.Context, db bun.IDB, ts termSet, teamID, id int64, terms []string) error {
	var old []string
	if err := db.NewRaw("SELECT term FROM "+ts.table+" WHERE "+ts.column+" = ? AND team_id = ?", id, teamID).Scan(ctx, &old); err != nil {
		return fmt.Errorf("read %s of %d: %w", ts.table, id, err)
	}
	want := map[string]bool{}
	for _, t := range terms {
		want[t] = true
	}
	var gone []string
	for _, t := range old {
		if want[t] {
			delete(want, t)
		} else {
			gone = append(gone, t)
		}
	}
	if len(gone) > 0 {
		if _, err := db.NewRaw("DELETE FROM "+ts.table+" WHERE team_id = ? AND "+ts.column+" = ? AND term IN (?)",
			teamID, id, bun.In(gone)).Exec(ctx); err != nil {
			return fmt.Errorf("delete %s of %d: %w", ts.table, id, err)
		}
	}
	var add []termRow
	for _, t := range terms {
		if want[t] {
			add = append(add, termRow{teamID, t, id})
		}
	}
	return insertTerms(ctx, db, ts, add)
}

// prefixCond is the SQL condition "alias.term starts with one of the
// word's prefixes", with its arguments.
func prefixCond(alias string, w searchWord) (string, []any) {
	var parts []string
	var args []any
	for _, p := range w.prefixes {
		parts = append(parts, "("+alias+".term >= ? AND "+alias+".term < ?)")
		args = append(args, p, p+termBound)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// estimateHits estimates how many term rows start with one of a word's
// prefixes: on MySQL from the range optimizer's index dives (EXPLAIN, well
// under a millisecond whatever the count), on SQLite by counting up to just
// past materialCap.
func estimateHits(ctx context.Context, s *Store, ts termSet, teamID int64, w searchWord) (int, error) {
	cond, args := prefixCond("t", w)
	args = append([]any{teamID}, args...)
	from := " FROM " + ts.table + " AS t WHERE t.team_id = ? AND " + cond
	if s.Dialect != MySQL {
		var n int
		err := s.DB.NewRaw("SELECT COUNT(*) FROM (SELECT 1"+from+" LIMIT ?) AS hits", append(args, materialCap+1)...).Scan(ctx, &n)
		if err != nil {
			return 0, fmt.Errorf("count search hits: %w", err)
		}
		return n, nil
	}
	rows, err := s.DB.QueryContext(ctx, "EXPLAIN SELECT 1"+from, args...)
	if err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return 0, fmt.Errorf("estimate search hits: no plan")
	}
	if err := rows.Scan(ptrs...); err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	for i, c := range cols {
		if c == "rows" {
			n, err := strconv.Atoi(vals[i].String)
			if err != nil {
				return materialCap + 1, nil
			}
			return n, nil
		}
	}
	return materialCap + 1, nil
}

// searchPlan is how a listing applies the search words; see the package
// notes on search above.
type searchPlan struct {
	none    bool         // nothing can match
	rare    bool         // only the records in ids can match
	ids     []int64      //
	setSQL  string       // materialised match set joined to the walk, or ""
	setArgs []any        //
	probes  []searchWord // words probed row by row
}

// matchSetSQL selects the ids of the records matching every word: the first
// word's term rows, each checked against the other words' materialised
// matches (on MySQL a STRAIGHT_JOIN to a keyed derived table, on SQLite an
// IN over a subquery, which SQLite materialises into an index).
func matchSetSQL(d Dialect, ts termSet, teamID int64, ws []searchWord) (string, []any) {
	var from, where strings.Builder
	var fromArgs, whereArgs []any
	from.WriteString("SELECT DISTINCT t0." + ts.column + " AS id FROM " + ts.table + " AS t0")
	cond, cargs := prefixCond("t0", ws[0])
	where.WriteString(" WHERE t0.team_id = ? AND " + cond)
	whereArgs = append(append(whereArgs, teamID), cargs...)
	for i, w := range ws[1:] {
		a := "t" + strconv.Itoa(i+1)
		cond, cargs := prefixCond(a, w)
		sub := "SELECT " + a + "." + ts.column + " AS id FROM " + ts.table + " AS " + a + " WHERE " + a + ".team_id = ? AND " + cond
		if d == MySQL {
			m := "m" + strconv.Itoa(i+1)
			from.WriteString(" STRAIGHT_JOIN (" + strings.Replace(sub, "SELECT ", "SELECT DISTINCT ", 1) + ") AS " + m + " ON " + m + ".id = t0." + ts.column)
			fromArgs = append(append(fromArgs, teamID), cargs...)
		} else {
			where.WriteString(" AND t0." + ts.column + " IN (" + sub + ")")
			whereArgs = append(append(whereArgs, teamID), cargs...)
		}
	}
	return from.String() + where.String(), append(fromArgs, whereArgs...)
}

// planSearch chooses how to apply the words: see the notes on search.
func planSearch(ctx context.Context, s *Store, ts termSet, teamID int64, ws []searchWord) (searchPlan, error) {
	if len(ws) == 0 {
		return searchPlan{}, nil
	}
	type est struct {
		w searchWord
		n int
	}
	var small, huge []est
	for _, w := range ws {
		n, err := estimateHits(ctx, s, ts, teamID, w)
		if err != nil {
			return searchPlan{}, err
		}
		if n <= materialCap {
			small = append(small, est{w, n})
		} else {
			huge = append(huge, est{w, n})
		}
	}
	var plan searchPlan
	for _, e := range huge {
		plan.probes = append(plan.probes, e.w)
	}
	if len(small) == 0 {
		return plan, nil
	}
	slices.SortFunc(small, func(a, b est) int { return a.n - b.n })
	words := make([]searchWord, len(small))
	for i, e := range small {
		words[i] = e.w
	}
	plan.setSQL, plan.setArgs = matchSetSQL(s.Dialect, ts, teamID, words)
	if rareIDCap <= 0 || len(small) == 1 && small[0].n > rareIDCap {
		return plan, nil
	}
	// Few hits, or several words whose intersection may be small: find the
	// matching ids, and sort just those if they are few.
	var ids []int64
	if err := s.DB.NewRaw(plan.setSQL+" LIMIT ?", append(slices.Clone(plan.setArgs), rareIDCap+1)...).Scan(ctx, &ids); err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	switch {
	case len(ids) == 0:
		return searchPlan{none: true}, nil
	case len(ids) <= rareIDCap:
		plan.rare, plan.ids, plan.setSQL, plan.setArgs = true, ids, "", nil
	}
	return plan, nil
}
