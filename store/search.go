package store

import (
	"context"
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
// (BENCHMARKS.md, "Measured before the design"). With our own table the
// list code chooses a plan from how often each word occurs (planSearch),
// counted in the term index up to a small limit — the same SQL on every
// engine, with no engine's EXPLAIN output to read:
//
//   - rare: when the least common word has at most rareCap term rows, the
//     ids of the records matching every word are read from its term range
//     (each row's other words probed through (record id, term)); then
//     those rows are loaded by primary key and only they are sorted. The
//     work is bounded by rareCap whatever the team's size;
//   - several common words: if the least common has at most intersectCap
//     rows, the same read looks for the records having all of them; an
//     intersection of at most rareCap records is sorted like a rare word;
//   - probe walk: otherwise every word is common, so matches are dense:
//     the sort index is walked in order and each row's own terms are
//     probed through (record id, term); a page fills after a few dozen
//     rows (with rareCap term rows in a team of N, one row in N/rareCap).
//
// The tokens, the two dialects' behaviour and the prefix rules are the same
// everywhere, which a single FULLTEXT/FTS5 pair could not promise (different
// tokenisers, stop words and minimum word lengths).
//
// How text becomes terms and query words is in search_terms.go.

// termBound closes a prefix range: every string that starts with p is below
// p+termBound in binary (code point) order.
const termBound = "\U0010FFFF"

// Search plan thresholds, in term rows (see planSearch). Variables only so
// that tests can force each plan.
var (
	// rareCap: a word with at most this many term rows is rare; a set of at
	// most this many matching records is loaded by primary key and sorted.
	rareCap = 4000
	// intersectCap: of several common words, the least common is read to
	// find the records having all of them when it has at most this many
	// term rows.
	intersectCap = 20000
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

// countTerms counts the term rows that start with one of a word's prefixes,
// up to limit: a range of the terms' primary key (team_id, term, id) read no
// further than limit rows, however common the word.
func countTerms(ctx context.Context, s *Store, ts termSet, teamID int64, w searchWord, limit int) (int, error) {
	cond, args := prefixCond("t", w)
	var n int
	err := s.DB.NewRaw("SELECT COUNT(*) FROM (SELECT 1 FROM "+ts.table+" AS t WHERE t.team_id = ? AND "+cond+" LIMIT ?) AS hits",
		append(append([]any{teamID}, args...), limit)...).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("count search terms: %w", err)
	}
	return n, nil
}

// probeSQL is the condition "the record idExpr has a term that starts with
// one of w's prefixes", read through the terms' (record id, term) index. A
// scalar subquery rather than EXISTS: MariaDB rewrites EXISTS into a
// semi-join that first materialises every hit of the word, which for a
// common word is the slow plan the probe exists to avoid.
func (s *Store) probeSQL(ts termSet, alias, idExpr string, teamID int64, w searchWord) (string, []any) {
	cond, args := prefixCond(alias, w)
	return "(SELECT 1 FROM " + ts.table + " AS " + alias + s.indexHint(ts.byRecord) + " WHERE " + alias + "." + ts.column + " = " + idExpr +
		" AND " + alias + ".team_id = ? AND " + cond + " LIMIT 1) IS NOT NULL", append([]any{teamID}, args...)
}

// matchingIDs reads the ids of the records matching every word from at most
// limit term rows: the first word's term range, each row's other words
// probed. A record with several matching terms comes once (deduplicated
// here: DISTINCT costs MariaDB a temporary table). complete reports that the
// rows ran out before the limit, so that ids are all the matches.
func matchingIDs(ctx context.Context, s *Store, ts termSet, teamID int64, ws []searchWord, limit int) (ids []int64, complete bool, err error) {
	cond, args := prefixCond("t0", ws[0])
	var q strings.Builder
	q.WriteString("SELECT t0." + ts.column + " FROM " + ts.table + " AS t0 WHERE t0.team_id = ? AND " + cond)
	args = append([]any{teamID}, args...)
	for i, w := range ws[1:] {
		probe, pargs := s.probeSQL(ts, "t"+strconv.Itoa(i+1), "t0."+ts.column, teamID, w)
		q.WriteString(" AND " + probe)
		args = append(args, pargs...)
	}
	q.WriteString(" LIMIT ?")
	if err := s.DB.NewRaw(q.String(), append(args, limit)...).Scan(ctx, &ids); err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	complete = len(ids) < limit
	slices.Sort(ids)
	return slices.Compact(ids), complete, nil
}

// searchPlan is how a listing applies the search words; see the notes on
// search above.
type searchPlan struct {
	none   bool         // nothing can match
	rare   bool         // exactly the records in ids match
	ids    []int64      //
	probes []searchWord // otherwise: words probed row by row in the walk
}

// planSearch chooses how to apply the words: see the notes on search.
func planSearch(ctx context.Context, s *Store, ts termSet, teamID int64, ws []searchWord) (searchPlan, error) {
	if len(ws) == 0 {
		return searchPlan{}, nil
	}
	limit := rareCap + 1
	if len(ws) > 1 {
		limit = max(rareCap, intersectCap) + 1
	}
	counts := make(map[string]int, len(ws))
	for _, w := range ws {
		n, err := countTerms(ctx, s, ts, teamID, w, max(limit, 1))
		if err != nil {
			return searchPlan{}, err
		}
		if n == 0 {
			return searchPlan{none: true}, nil
		}
		counts[w.prefixes[0]] = n
	}
	words := slices.Clone(ws)
	slices.SortStableFunc(words, func(a, b searchWord) int { return counts[a.prefixes[0]] - counts[b.prefixes[0]] })
	least := counts[words[0].prefixes[0]]
	if least > rareCap && (len(words) == 1 || least > intersectCap) {
		return searchPlan{probes: words}, nil
	}
	ids, complete, err := matchingIDs(ctx, s, ts, teamID, words, max(rareCap, 0)+1)
	switch {
	case err != nil:
		return searchPlan{}, err
	case len(ids) == 0 && complete:
		return searchPlan{none: true}, nil
	case complete && len(ids) <= rareCap:
		return searchPlan{rare: true, ids: ids}, nil
	}
	// Many records have every word: they are dense enough to walk to.
	return searchPlan{probes: words}, nil
}
