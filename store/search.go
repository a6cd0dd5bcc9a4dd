package store

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
// list code chooses a plan from how often each word occurs (planSearch) —
// the same SQL on every engine, with no engine's EXPLAIN output to read.
//
// Each word's matching ids are read from its term range in one sequential
// range scan of at most setCap+1 rows (termIDs); a word with more rows is
// dense. The sparse words' id sets are intersected in Go. Then:
//
//   - none: a word has no term, or the intersection is empty;
//   - rare: at most rareCap records have every sparse word: they are
//     loaded by primary key and sorted (the dense words, if any, probed on
//     each);
//   - set walk (search_walk.go): more records than that — the sort index is
//     walked in batches of ids alone (index-only, in order, from the
//     cursor) and the ids in the set are kept; the dense words are checked
//     on those hits only, through (record id, term). The walk reads about
//     page/density index entries when the word is spread over the order,
//     and sequential entries cost a fraction of a row looked up by primary
//     key (walkRatio). When the matches sit far from the cursor (a first
//     name under the name sort: every "Anna …" is in one place), the walk
//     is long; it stops after walkRatio entries per record of the set and
//     sorts the set by primary key instead, so it costs at most about twice
//     the cheaper of the two;
//   - probe walk: every word is dense (more than setCap term rows; in a
//     team of N one record in N/setCap or more matches): the sort index is
//     walked in order and each row's terms are probed through (record id,
//     term); a page fills after a few dozen rows.
//
// Round 5: a dense word's ids are also kept as a set once read in the
// background (denseSet: at most denseCap term rows, a bitmap over the
// team's ids). A sparse set is then filtered by it in memory instead of
// probing the dense word on its hits, and dense words alone take the
// member walk: the probe walk's order, each id tested in memory. And a set
// known exactly (no word left to probe) gets its rows' sort keys read once
// per sort and paged in memory (search_order.go).
//
// Reading setCap rows to learn that a word is dense would cost every
// search of "a" or "com" that much: denseWords remembers such words per
// store for a few minutes. It is a statistic only — every plan returns the
// same rows — so it needs no invalidation across instances.
//
// Measured at 1M contacts (BENCHMARKS.md, "Round 3 — search"): the old
// probe walk cost a B-tree probe per row walked, 3.5 s for "anna" by name
// (45,000 rows before the first Anna), and the old intersection probed
// every row of the rarer word for the other (0.7 s for "laura
// kowalczyk"); reading both sets in order takes ~25 ms.
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
	// rareCap: a set of at most this many matching records is loaded by
	// primary key and sorted; a larger one is walked to (set walk).
	rareCap = 500
	// setCap: a word with at most this many term rows is read into a set
	// of ids; a word with more is dense, and probed.
	setCap = 20000
	// denseCap: a dense word with at most this many term rows has its id
	// set kept in the search cache (search_cache.go) once read in the
	// background (an idSet: a bitmap over the team's ids when it is
	// dense, 1M ids in 125 KB): the walk then tests its rows in memory
	// instead of probing each row's terms in SQL. A word with more rows
	// matches so many records that the probe walk fills a page in a few
	// dozen rows. 0 turns dense sets off.
	denseCap = 1_000_000
)

// termSet names a term table, the column holding the record id and the
// index on (record id, term).
type termSet struct {
	table    string // contact_terms
	column   string // contact_id
	byRecord string // contact_terms_contact
	code     int8   // its term_table in the terms log (search_patch.go)
}

var (
	contactTermSet = termSet{"contact_terms", "contact_id", "contact_terms_contact", 1}
	dealTermSet    = termSet{"deal_terms", "deal_id", "deal_terms_deal", 2}
)

// termRow is one row of a term table, for inserts.
type termRow struct {
	TeamID int64
	Term   string
	ID     int64
}

// insertTerms writes term rows in multi-row INSERT statements (and counts
// the change in the teams' terms versions: listversion.go).
func insertTerms(ctx context.Context, db bun.IDB, ts termSet, rows []termRow) error {
	byTeam := map[int64][]int64{} // the records, for the terms log
	var teams []int64
	for i, r := range rows {
		if _, ok := byTeam[r.TeamID]; !ok {
			teams = append(teams, r.TeamID)
		}
		if ids := byTeam[r.TeamID]; i == 0 || len(ids) == 0 || ids[len(ids)-1] != r.ID {
			byTeam[r.TeamID] = append(ids, r.ID)
		}
	}
	for _, t := range teams {
		if err := termRecordsChanged(ctx, db, ts, t, byTeam[t]...); err != nil {
			return err
		}
	}
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
// only the rows that differ. It moves the team's terms version even when
// none differs: its callers changed a field terms are made of, and a
// name's case is the name sort's order (listversion.go).
func replaceTerms(ctx context.Context, db bun.IDB, ts termSet, teamID, id int64, terms []string) error {
	if err := termRecordsChanged(ctx, db, ts, teamID, id); err != nil {
		return err
	}
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

// searchPlan is how a listing applies the search words; see the notes on
// search above.
type searchPlan struct {
	none   bool         // nothing can match
	rare   bool         // only the records in ids can match: sorted by primary key
	ids    []int64      //
	probes []searchWord // words probed per row in SQL (rare and probe walk)
	// set walk: the sorted ids of the records having every sparse word;
	// the sort index is walked and its ids kept when they are in set, and
	// then checked for the words in checks (the dense ones).
	set    []int64
	checks []searchWord
	// member: with no set, the dense words' id sets (the walk keeps the
	// ids in every one of them); dense is every dense word, for the
	// probe walk that replaces a member walk that cannot go on.
	member []*idSet
	dense  []searchWord
	// budget is how many index entries the set walk may still read before
	// the set is sorted by primary key instead (shared by the copies of a
	// plan in one listing).
	budget *int
	// order: the matches in the listing's order (search_order.go), when
	// the cache has them.
	order *orderedSet
	// versions are the team's list and terms versions the plan was made
	// under (search_cache.go; 0: not cached): the word sets are keyed by
	// the terms version, what else depends on the rows by plan.keyVersion.
	versions SearchVersions
}

// termIDs reads the ids of the records having a term that starts with one
// of w's prefixes, from at most limit+1 term rows: one range of the terms'
// primary key (team_id, term, id), read in order. complete is false when
// the word has more than limit term rows (ids are then not returned).
func termIDs(ctx context.Context, s *Store, ts termSet, teamID int64, w searchWord, limit int) (ids []int64, complete bool, err error) {
	if limit < 0 {
		return nil, false, nil
	}
	cond, args := prefixCond("t", w)
	rows, err := s.DB.QueryContext(ctx, "SELECT t."+ts.column+" FROM "+ts.table+" AS t WHERE t.team_id = ? AND "+cond+" LIMIT ?",
		append(append([]any{teamID}, args...), limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("search terms: %w", err)
	}
	defer rows.Close()
	ids = make([]int64, 0, 256)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("search terms: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("search terms: %w", err)
	}
	if len(ids) > limit {
		return nil, false, nil
	}
	slices.Sort(ids)
	return slices.Compact(ids), true, nil
}

// intersect keeps the ids of a that are in b (both sorted).
func intersect(a, b []int64) []int64 {
	out := a[:0]
	j := 0
	for _, id := range a {
		for j < len(b) && b[j] < id {
			j++
		}
		if j < len(b) && b[j] == id {
			out = append(out, id)
		}
	}
	return out
}

// inSet reports whether the sorted ids hold id.
func inSet(ids []int64, id int64) bool {
	_, ok := slices.BinarySearch(ids, id)
	return ok
}

// planSearch chooses how to apply the words: see the notes on search.
func planSearch(ctx context.Context, s *Store, ts termSet, teamID int64, ws []searchWord) (searchPlan, error) {
	if len(ws) == 0 {
		return searchPlan{}, nil
	}
	var set []int64
	haveSet, shared := false, false
	var dense, checks []searchWord
	var member []*idSet
	versions := s.searchCacheVersions(ctx, teamID)
	version := versions.Terms // the word sets hold term rows only
	for _, w := range ws {
		if !denseWords.has(s, ts, teamID, w, setCap) {
			// setCap is part of the key: tests change it.
			key := searchCacheKey{s: s, kind: "set:" + ts.table + ":" + strconv.Itoa(setCap), team: teamID, word: wordKey(w), version: version}
			var ids []int64
			var complete bool
			var err error
			if v, ok, found := searchSets.patched(key, s.patchWordSet(ctx, ts, teamID, w, version)); found {
				ids, complete = v.([]int64), ok // carried over term writes (search_patch.go)
			} else {
				ids, complete, err = searchSets.get(key, func() ([]int64, bool, error) {
					return termIDs(ctx, s, ts, teamID, w, setCap)
				})
			}
			if err != nil {
				return searchPlan{}, err
			}
			if !complete && setCap >= 0 {
				denseWords.add(s, ts, teamID, w, setCap)
			}
			if complete {
				if !haveSet {
					set, haveSet, shared = ids, true, true
				} else {
					if shared { // the cache's slice: intersect into a copy
						set, shared = slices.Clone(set), false
					}
					set = intersect(set, ids)
				}
				if len(set) == 0 {
					return searchPlan{none: true}, nil
				}
				continue
			}
		}
		dense = append(dense, w)
		if ds := denseSet(ctx, s, ts, teamID, w, version); ds != nil {
			member = append(member, ds)
		} else {
			checks = append(checks, w)
		}
	}
	if haveSet && len(member) > 0 {
		// The sparse set's ids that every dense set has: in memory.
		out := make([]int64, 0, len(set))
		for _, id := range set {
			if hasAll(member, id) {
				out = append(out, id)
			}
		}
		if set = out; len(set) == 0 {
			return searchPlan{none: true}, nil
		}
		member = nil
	}
	switch {
	case !haveSet && len(member) > 0:
		// A member walk: the sort index walked in order, its ids tested
		// against the dense sets in memory (and the words with no set
		// yet probed on the hits). No budget: every word is dense, so a
		// page fills after about page/density entries, as the probe walk
		// did with a probe per entry.
		return searchPlan{member: member, checks: checks, dense: dense, versions: versions}, nil
	case !haveSet:
		return searchPlan{probes: dense, versions: versions}, nil
	case len(set) <= rareCap:
		return searchPlan{rare: true, ids: set, probes: checks, versions: versions}, nil
	}
	budget := walkRatio(s)*len(set) + minWalk
	if walkBudget > 0 {
		budget = walkBudget
	}
	return searchPlan{set: set, checks: checks, budget: &budget, versions: versions}, nil
}

// denseSet is the dense word's id set when the search cache holds it
// (keyed by the team's terms version);
// otherwise it starts reading it in the background (at most denseCap term
// rows; a word with more is remembered in denseWords and not read again
// for a while) and returns nil: this request probes the word as before.
// The read uses its own context: it outlives the request.
func denseSet(ctx context.Context, s *Store, ts termSet, teamID int64, w searchWord, version int64) *idSet {
	if denseCap <= 0 || denseCap <= setCap || version <= 0 || denseWords.has(s, ts, teamID, w, denseCap) {
		return nil
	}
	key := searchCacheKey{s: s, kind: "dense:" + ts.table + ":" + strconv.Itoa(denseCap), team: teamID, word: wordKey(w), version: version}
	if v, ok, found := searchSets.patched(key, s.patchDenseSet(ctx, ts, teamID, w, version)); found {
		// Carried over term writes (search_patch.go).
		if set, _ := v.(*idSet); ok && set != nil {
			return set
		}
		return nil
	}
	limit := denseCap
	v, ok, found := searchSets.build(key, func() (any, bool, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ids, complete, err := termIDs(ctx, s, ts, teamID, w, limit)
		if err != nil || !complete {
			if err == nil {
				denseWords.add(s, ts, teamID, w, limit)
			}
			return nil, false, 0, err
		}
		set := newIDSet(ids)
		return set, true, set.bytes(), nil
	})
	if !found || !ok {
		return nil
	}
	return v.(*idSet)
}

// idSet is a set of record ids: a bitmap from the smallest id when that
// is no larger than the sorted ids (ids are dense in a team of one
// database), else the sorted ids.
type idSet struct {
	ids  []int64
	base int64
	bits []uint64
	n    int // ids in bits
}

func newIDSet(sorted []int64) *idSet {
	if len(sorted) == 0 {
		return &idSet{}
	}
	lo, hi := sorted[0], sorted[len(sorted)-1]
	words := (hi-lo)/64 + 1
	if words > int64(len(sorted)) {
		return &idSet{ids: slices.Clip(sorted)}
	}
	bits := make([]uint64, words)
	for _, id := range sorted {
		d := id - lo
		bits[d/64] |= 1 << (d % 64)
	}
	return &idSet{base: lo, bits: bits, n: len(sorted)}
}

func (s *idSet) has(id int64) bool {
	if s.bits == nil {
		return inSet(s.ids, id)
	}
	d := id - s.base
	if d < 0 || d/64 >= int64(len(s.bits)) {
		return false
	}
	return s.bits[d/64]&(1<<(d%64)) != 0
}

// density is about the share of the ids in the set's span it holds.
func (s *idSet) density() float64 {
	if s.bits == nil {
		if len(s.ids) == 0 {
			return 0
		}
		return float64(len(s.ids)) / float64(s.ids[len(s.ids)-1]-s.ids[0]+1)
	}
	return float64(s.n) / float64(64*len(s.bits))
}

func (s *idSet) bytes() int { return 8*cap(s.ids) + 8*cap(s.bits) }

// size is how many ids the set holds.
func (s *idSet) size() int {
	if s.bits == nil {
		return len(s.ids)
	}
	return s.n
}

// sorted lists the set's ids in ascending order.
func (s *idSet) sorted() []int64 {
	if s.bits == nil {
		return slices.Clone(s.ids)
	}
	out := make([]int64, 0, s.n)
	for i, w := range s.bits {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, s.base+int64(i)*64+int64(b))
			w &= w - 1
		}
	}
	return out
}

// memberIDs is the sorted ids that every one of the dense sets holds: the
// smallest set's ids, kept when the others have them.
func memberIDs(sets []*idSet) []int64 {
	if len(sets) == 0 {
		return nil
	}
	small := slices.MinFunc(sets, func(a, b *idSet) int { return a.size() - b.size() })
	return slices.DeleteFunc(small.sorted(), func(id int64) bool { return !hasAll(sets, id) })
}

func hasAll(sets []*idSet, id int64) bool {
	for _, s := range sets {
		if !s.has(id) {
			return false
		}
	}
	return true
}

// has reports whether a set or member walk keeps the id.
func (p searchPlan) has(id int64) bool {
	if p.set != nil {
		return inSet(p.set, id)
	}
	return hasAll(p.member, id)
}

// walks reports whether the plan is a set or member walk.
func (p searchPlan) walks() bool { return p.set != nil || p.member != nil }

// walkRatio is about how many sort-index entries a walk reads in the time
// of one row loaded by primary key (measured at 1M contacts: MariaDB reads
// its index at ~1.5 µs an entry and a row not in its buffer pool in 10–100
// µs; SQLite 0.5 µs and 6 µs). A set walk that has read walkRatio entries
// per id of its set stops and sorts the set by primary key instead, so it
// never costs much more than twice the better of the two.
func walkRatio(s *Store) int {
	if s.Dialect == MySQL {
		return 40
	}
	return 12
}

// minWalk is the walk every set may take before its budget counts.
const minWalk = 4096

// walkBudget, when positive, replaces the computed budget (tests).
var walkBudget = 0

// errWalkBudget: the set walk used its budget (see walkRatio).
var errWalkBudget = errors.New("search: walk budget used")

// asRare is the set plan as a rare one: its ids sorted by primary key.
func (p searchPlan) asRare() searchPlan {
	if p.set == nil { // a member walk: the probe walk
		return searchPlan{probes: p.dense, versions: p.versions}
	}
	return searchPlan{rare: true, ids: p.set, probes: p.checks, versions: p.versions}
}

// checkWords keeps, in order, the ids of the team's records that have a
// term starting with each word, reading the terms' (record id, term) index
// for these ids only.
func checkWords(ctx context.Context, s *Store, ts termSet, teamID int64, ids []int64, ws []searchWord) ([]int64, error) {
	for _, w := range ws {
		if len(ids) == 0 {
			return ids, nil
		}
		cond, args := prefixCond("t", w)
		var found []int64
		if err := s.DB.NewRaw("SELECT t."+ts.column+" FROM "+ts.table+" AS t"+s.indexHint(ts.byRecord)+" WHERE t."+ts.column+" IN (?) AND t.team_id = ? AND "+cond,
			append([]any{bun.In(ids), teamID}, args...)...).Scan(ctx, &found); err != nil {
			return nil, fmt.Errorf("search: check words: %w", err)
		}
		slices.Sort(found)
		ids = slices.DeleteFunc(ids, func(id int64) bool { return !inSet(found, id) })
	}
	return ids, nil
}

// denseWords remembers which words were found to have more than setCap
// term rows, so that the next search of a common word ("a", "com") goes to
// the probe walk without reading setCap term rows first. It is a
// statistic: it only chooses the plan, and every plan returns the same
// rows, so an entry gone stale (the word became rare) costs time, never
// correctness; entries expire after denseTTL.
var denseWords = &denseStats{m: map[denseKey]denseEntry{}}

const (
	denseTTL     = 10 * time.Minute
	denseEntries = 10000 // then the map starts again empty
)

type denseKey struct {
	s     *Store
	table string
	team  int64
	word  string
}

type denseEntry struct {
	over  int // the word has more than this many term rows
	until time.Time
}

type denseStats struct {
	mu sync.Mutex
	m  map[denseKey]denseEntry
}

func denseKeyOf(s *Store, ts termSet, teamID int64, w searchWord) denseKey {
	return denseKey{s, ts.table, teamID, strings.Join(w.prefixes, "\x00")}
}

// has reports that the word is known to have more than limit term rows.
func (d *denseStats) has(s *Store, ts termSet, teamID int64, w searchWord, limit int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[denseKeyOf(s, ts, teamID, w)]
	return ok && e.over >= limit && time.Now().Before(e.until)
}

func (d *denseStats) add(s *Store, ts termSet, teamID int64, w searchWord, over int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.m) >= denseEntries {
		d.m = map[denseKey]denseEntry{}
	}
	d.m[denseKeyOf(s, ts, teamID, w)] = denseEntry{over: over, until: time.Now().Add(denseTTL)}
}
