package store

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// Carrying the search cache across a term write
//
// A write of search terms (a contact's company saved, say) moves the
// team's terms version, and every word set, dense set and name-sorted
// ordered set of the team was keyed by the old one: the next searches read
// them all anew. On MariaDB at 1M contacts that cost the top bar its p95
// (a company edit every 5 s: 84 ms, against 28 ms with no writes; BENCHMARKS
// "Round 7 — the merged main"): each word's ordered set is up to 20,000
// random primary-key lookups, read one at a time in the background while
// the requests meanwhile take the slower walks.
//
// So each move of the terms version also records, in the same transaction,
// which records' terms it changed (term_changes, migration 0028: replaceTerms
// and insertTerms name them; any other term write, a delete or an
// import's batch records "every record", record_id 0). A cache miss at
// version V whose key the cache holds at an older V0 reads the log of
// (V0, V] and, when it names every change (no "every record", no version
// missing: pruned, or written by a writer outside a transaction), carries
// the value over instead of reading it anew:
//
//   - a word's set or a dense word's set: the changed records leave it,
//     and those of them that have the word now (one statement through the
//     terms' record index) come back;
//   - an ordered set: kept as it was, with the changed records noted
//     (orderedSet.changed). A page is then the next rows of the old order
//     that did not change, with the changed records the search matches
//     now, read by primary key and ordered by the database in one statement
//     (overlayWalk): the order of the rows that did not change is still
//     the database's, and the changed ones are placed by the database
//     itself, in its own collation — which Go can't reproduce for
//     MariaDB's utf8mb4_unicode_ci. Up to overlayMax changed records; then
//     the set is read anew, as before.
//
// Exact by the same rule as the cache: a record a term write did not name
// has the terms and the sort keys it had at V0 (term-derived sort columns
// move only with its terms: termSortCols), and the rows a log names are
// always re-read. A log that can't be trusted to be complete is not used.

// termLogKeep is how many versions of a team's terms log are kept;
// termPatchLag is how far back a cached value is carried from (at most).
const (
	termLogKeep    = 512
	termLogPrune   = 64 // prune every this many versions
	termPatchLag   = 256
	termLogRecords = 256 // more records in one version: "every record"
	overlayMax     = 256 // changed records an ordered set carries
)

// termLog is what a transaction's term writes changed, per team.
type termLog map[int64]*teamTermLog

type teamTermLog struct {
	all  bool             // a write that did not name its records
	recs map[int8][]int64 // per term table
	n    int
}

func (l termLog) team(id int64) *teamTermLog {
	t := l[id]
	if t == nil {
		t = &teamTermLog{recs: map[int8][]int64{}}
		l[id] = t
	}
	return t
}

func (l termLog) everything(teamID int64) { l.team(teamID).all = true }

func (l termLog) add(teamID int64, ts termSet, ids []int64) {
	t := l.team(teamID)
	if t.all {
		return
	}
	if t.n += len(ids); t.n > termLogRecords {
		t.all, t.recs = true, nil // an import's batch: no need to keep its ids
		return
	}
	t.recs[ts.code] = append(t.recs[ts.code], ids...)
}

// writeTermLog writes the log rows of the teams' new terms versions (the
// transaction holds their team_changes rows, just moved) and prunes old
// versions now and then.
func writeTermLog(ctx context.Context, db bun.IDB, teams []int64, log termLog) error {
	var vs []struct {
		Team    int64 `bun:"team_id"`
		Version int64 `bun:"terms_version"`
	}
	if err := db.NewRaw("SELECT team_id, terms_version FROM team_changes WHERE team_id IN (?)", bun.In(teams)).Scan(ctx, &vs); err != nil {
		return fmt.Errorf("terms log of teams %v: %w", teams, err)
	}
	var rows []any
	for _, v := range vs {
		t := log[v.Team]
		if t == nil || t.all {
			rows = append(rows, v.Team, v.Version, 0, 0)
			continue
		}
		for code, ids := range t.recs {
			ids = slices.Clone(ids)
			slices.Sort(ids)
			for _, id := range slices.Compact(ids) {
				rows = append(rows, v.Team, v.Version, code, id)
			}
		}
	}
	insert := "INSERT OR IGNORE INTO"
	if db.Dialect().Name().String() == "mysql" {
		insert = "INSERT IGNORE INTO"
	}
	for len(rows) > 0 {
		n := min(len(rows), 4*250)
		q := insert + " term_changes (team_id, version, term_table, record_id) VALUES " + strings.Repeat("(?, ?, ?, ?), ", n/4-1) + "(?, ?, ?, ?)"
		if _, err := db.NewRaw(q, rows[:n]...).Exec(ctx); err != nil {
			return fmt.Errorf("terms log of teams %v: %w", teams, err)
		}
		rows = rows[n:]
	}
	for _, v := range vs {
		if v.Version%termLogPrune != 0 {
			continue
		}
		if _, err := db.NewRaw("DELETE FROM term_changes WHERE team_id = ? AND version <= ?", v.Team, v.Version-termLogKeep).Exec(ctx); err != nil {
			return fmt.Errorf("prune the terms log of team %d: %w", v.Team, err)
		}
	}
	return nil
}

// termDelta is what the terms log says changed between two versions: the
// records per term table, sorted.
type termDelta map[int8][]int64

func (d termDelta) ids(ts termSet) []int64 { return d[ts.code] }

// errNoPatch: the cached value can't be carried over (the caller reads it
// anew).
var errNoPatch = errors.New("search cache: no patch")

// termDeltaOf reads (once per instance, through the search cache) which
// records the team's term writes of (from, to] changed; errNoPatch when
// the log does not name them all.
func (s *Store) termDeltaOf(ctx context.Context, teamID, from, to int64) (termDelta, error) {
	if to-from > termPatchLag || from <= 0 {
		return nil, errNoPatch
	}
	key := searchCacheKey{s: s, kind: "delta", team: teamID, word: strconv.FormatInt(from, 10), version: to}
	v, ok, err := searchSets.getAny(key, func() (any, bool, int, error) {
		rows, err := s.DB.QueryContext(ctx, "SELECT version, term_table, record_id FROM term_changes WHERE team_id = ? AND version > ? AND version <= ?", teamID, from, to)
		if err != nil {
			return nil, false, 0, fmt.Errorf("terms log of team %d: %w", teamID, err)
		}
		defer rows.Close()
		d := termDelta{}
		seen := map[int64]bool{}
		all, n := false, 0
		for rows.Next() {
			var version, id int64
			var code int8
			if err := rows.Scan(&version, &code, &id); err != nil {
				return nil, false, 0, fmt.Errorf("terms log of team %d: %w", teamID, err)
			}
			seen[version] = true
			if id == 0 {
				all = true
			}
			d[code] = append(d[code], id)
			n++
		}
		if err := rows.Err(); err != nil {
			return nil, false, 0, fmt.Errorf("terms log of team %d: %w", teamID, err)
		}
		if all || int64(len(seen)) != to-from {
			return nil, false, 64, nil // kept: the same answer for every word
		}
		for c, ids := range d {
			slices.Sort(ids)
			d[c] = slices.Compact(ids)
		}
		return d, true, 8*n + 64, nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoPatch
	}
	return v.(termDelta), nil
}

// patched returns the key's value when the cache holds it, or carries it
// over from the newest older version the cache holds with patch (which
// returns errNoPatch when it can't); found false otherwise, and when the
// key's value is being read (the caller goes its usual way). A value
// carried over replaces the older one.
func (c *searchCache) patched(k searchCacheKey, patch func(old any, oldOK bool, from int64) (any, bool, int, error)) (v any, ok, found bool) {
	if !c.on(k) {
		return nil, false, false
	}
	c.mu.Lock()
	if e := c.m[k]; e != nil {
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e.v, e.ok, e.err == nil
		default:
			return nil, false, false
		}
	}
	base := k
	base.version = 0
	from, have := c.latest[base]
	old := k
	old.version = from
	oe := c.m[old]
	if !have || from >= k.version || oe == nil {
		c.mu.Unlock()
		return nil, false, false
	}
	select {
	case <-oe.ready:
	default:
		c.mu.Unlock()
		return nil, false, false
	}
	if oe.err != nil {
		c.mu.Unlock()
		return nil, false, false
	}
	e := &searchCacheEntry{ready: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()
	c.fillAs(k, e, "patch", func() (any, bool, int, error) { return patch(oe.v, oe.ok, from) })
	if e.err != nil {
		return nil, false, false
	}
	c.mu.Lock()
	if c.m[old] == oe {
		c.bytes -= entryBytes(old, oe)
		delete(c.m, old)
	}
	c.mu.Unlock()
	return e.v, e.ok, true
}

// patchIDs is the sorted ids with the changed records taken out and those
// of them in now put back.
func patchIDs(ids, changed, now []int64) []int64 {
	out := make([]int64, 0, len(ids)+len(now))
	for _, id := range ids {
		if !inSet(changed, id) {
			out = append(out, id)
		}
	}
	out = append(out, now...)
	slices.Sort(out)
	return slices.Compact(out)
}

// wordNow is which of the records ids have a term starting with the word
// now (sorted).
func wordNow(ctx context.Context, s *Store, ts termSet, teamID int64, ids []int64, w searchWord) ([]int64, error) {
	return checkWords(ctx, s, ts, teamID, slices.Clone(ids), []searchWord{w})
}

// patchWordSet carries a word's set (search.go's "set:" entries) over the
// term writes since from.
func (s *Store) patchWordSet(ctx context.Context, ts termSet, teamID int64, w searchWord, to int64) func(any, bool, int64) (any, bool, int, error) {
	return func(old any, oldOK bool, from int64) (any, bool, int, error) {
		d, err := s.termDeltaOf(ctx, teamID, from, to)
		if err != nil {
			return nil, false, 0, err
		}
		ids, _ := old.([]int64)
		changed := d.ids(ts)
		if !oldOK || len(changed) == 0 { // a dense word stays dense: a statistic (planSearch)
			return ids, oldOK, 8 * cap(ids), nil
		}
		now, err := wordNow(ctx, s, ts, teamID, changed, w)
		if err != nil {
			return nil, false, 0, err
		}
		out := patchIDs(ids, changed, now)
		if len(out) > setCap {
			return nil, false, 0, nil
		}
		return out, true, 8 * cap(out), nil
	}
}

// patchDenseSet carries a dense word's id set over the term writes since
// from: a bitmap is copied with the changed records' bits set anew.
func (s *Store) patchDenseSet(ctx context.Context, ts termSet, teamID int64, w searchWord, to int64) func(any, bool, int64) (any, bool, int, error) {
	return func(old any, oldOK bool, from int64) (any, bool, int, error) {
		d, err := s.termDeltaOf(ctx, teamID, from, to)
		if err != nil {
			return nil, false, 0, err
		}
		set, _ := old.(*idSet)
		changed := d.ids(ts)
		if !oldOK || set == nil || len(changed) == 0 {
			if set == nil {
				return nil, oldOK, 0, nil
			}
			return set, oldOK, set.bytes(), nil
		}
		now, err := wordNow(ctx, s, ts, teamID, changed, w)
		if err != nil {
			return nil, false, 0, err
		}
		if set.bits != nil {
			b := &idSet{base: set.base, bits: slices.Clone(set.bits)}
			fits := true
			for _, id := range changed {
				if off := id - b.base; off >= 0 && off/64 < int64(len(b.bits)) {
					b.bits[off/64] &^= 1 << (off % 64)
				}
			}
			for _, id := range now {
				off := id - b.base
				if off < 0 || off/64 >= int64(len(b.bits)) {
					fits = false // outside the bitmap: the sorted ids below
					break
				}
				b.bits[off/64] |= 1 << (off % 64)
			}
			if fits {
				for _, w := range b.bits {
					b.n += bits.OnesCount64(w)
				}
				return b, true, b.bytes(), nil
			}
		}
		out := newIDSet(patchIDs(set.sorted(), changed, now))
		return out, true, out.bytes(), nil
	}
}

// patchOrdered carries an ordered set of one segment over the term writes
// since from, noting the changed records (overlayWalk) that concern it:
// those it lists, and those the plan (made at the new version) matches.
// The others are in neither the old order nor the new one.
func (s *Store) patchOrdered(ctx context.Context, ts termSet, teamID int64, to int64, plan searchPlan) func(any, bool, int64) (any, bool, int, error) {
	return func(old any, oldOK bool, from int64) (any, bool, int, error) {
		o, _ := old.(*orderedSet)
		if !oldOK || o == nil || len(o.segs) != 1 {
			return nil, false, 0, errNoPatch
		}
		d, err := s.termDeltaOf(ctx, teamID, from, to)
		if err != nil {
			return nil, false, 0, err
		}
		var changed []int64
		if ids := d.ids(ts); len(ids) > 0 {
			listed := map[int64]bool{}
			for _, keys := range o.segs {
				for _, k := range keys {
					if inSet(ids, k.ID) {
						listed[k.ID] = true
					}
				}
			}
			for _, id := range ids {
				if listed[id] || plan.matches(id) {
					changed = append(changed, id)
				}
			}
		}
		if len(changed) == 0 {
			return o, true, o.size, nil
		}
		if o.changed != nil {
			changed = patchIDs(o.changed, nil, changed)
		}
		if len(changed) > overlayMax {
			return nil, false, 0, errNoPatch
		}
		out := &orderedSet{segs: o.segs, changed: slices.Clip(changed), size: o.size + 8*len(changed)}
		return out, true, out.size, nil
	}
}

// matches reports whether the record matches a plan that knows its
// matches exactly (an ordered set's plan: search_order.go).
func (p searchPlan) matches(id int64) bool {
	if p.rare {
		return inSet(p.ids, id)
	}
	return p.has(id)
}

// overlayWalk is walk over an ordered set carried over term writes (its
// changed records noted): the next need rows of the old order after the
// cursor that did not change, and the changed records the plan matches
// now, read by primary key and ordered by the database (one statement of
// at most need + overlayMax ids). False when the cursor's row changed or
// is not in the order as the cursor has it (the caller walks instead).
func (sp *listSpec) overlayWalk(ctx context.Context, s *Store, teamID int64, segs []segment, cur *cursor, after any, plan searchPlan, need int, desc bool) ([]pageKey, bool, error) {
	o := plan.order
	if len(segs) != 1 {
		return nil, false, nil
	}
	g := segs[0]
	keys, ok := o.segs[g.key]
	if !ok {
		return nil, false, nil
	}
	if cur != nil && inSet(o.changed, cur.ID) {
		return nil, false, nil
	}
	pos, dir, ok := startAt(keys, g, cur, desc)
	if !ok {
		return nil, false, nil
	}
	ids := make([]int64, 0, need+len(o.changed))
	for n := 0; pos >= 0 && pos < len(keys) && n < need; pos += dir {
		if !inSet(o.changed, keys[pos].ID) {
			ids = append(ids, keys[pos].ID)
			n++
		}
	}
	for _, id := range o.changed {
		if plan.matches(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, true, nil
	}
	slices.Sort(ids)
	out, err := sp.segmentKeys(ctx, s, teamID, g, cur, after, searchPlan{rare: true, ids: ids}, need, desc)
	if err != nil {
		return nil, false, err
	}
	overlayWalks.Add(1)
	return out, true, nil
}
