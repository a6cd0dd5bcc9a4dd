package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Ordered sets: when a search's matches are known exactly as a set of ids
// (every word read into a set, no word left to probe) and the set is of
// moderate size, its rows' sort keys are read once, in the database's own
// order (the rare plan's statement: by primary key, ORDER BY the sort
// column and id, so the collation is the engine's and the order is the one
// every other plan gives), and kept in the search cache under the team's
// list version (its terms version for a sort of term-derived columns:
// keyVersion), per sort and per segment. A page is then the next entries
// after the cursor's row in memory: no walk of the sort index and no
// probe, whatever the sort or the page.
//
// Why: "anna" (12,615 contacts at 1M) by phone, company, status or a date
// walked ~2,000–4,000 index entries and read the hits' keys by primary key
// on every page (55–141 ms p99 with 8 clients); the set is the same on
// every request until a write moves the version.
//
// The read (about the set's size in primary-key lookups: tens of ms for
// 12,615 rows, up to a second with a cold buffer pool) runs in the
// background (searchCache.build); the request that asked, and the others
// until it is in, take the walk as before. Exact: the list holds the
// set's rows as the database ordered them under a version the request
// also reads with, and a cursor whose row is not in the list (or whose
// value differs from the list's) falls back to the walk.

var (
	// orderCap: a set of at most this many ids gets an ordered list (at
	// most ~4 MB a sort: "y" has 38,866 matches at 1M contacts) on SQLite;
	// on MySQL at most orderCapMySQL, because there the read costs a
	// random primary-key lookup per id, most of them buffer-pool misses at
	// 1M contacts: "y"'s 38,866 took over 4 s, competing with the requests
	// meanwhile, where its walk costs ~4 ms a page.
	orderCap      = 50000
	orderCapMySQL = 20000
	// orderMin: smaller sets are sorted by primary key on each request,
	// which costs little more than a cache lookup.
	orderMin = 100
)

// termSortCols are the sort columns whose values only writes that move the
// terms version change (listversion.go): the fields terms are made of, and
// the creation time, which nothing writes after the insert.
var termSortCols = map[string][]string{
	"contacts": {"name", "email", "phone_digits", "company", "created_at"},
	"deals":    {"name", "company", "contact_name", "created_at"},
}

// keyVersion is the version, and a prefix for the key's kind, under which
// the search cache keeps what it learns of the plan's rows in the
// segments (their order; whether they lie in a name range): the terms
// version when the sort column and the segments' conditions read only
// term-derived columns — a name-sorted search then stays cached across a
// status edit — and the list version otherwise (by status, in the "mine"
// view, by owner: a status or owner edit changes the rows' order or which
// segment holds them).
func (p searchPlan) keyVersion(sp *listSpec, d sortDef, segs []segment) (string, int64) {
	terms := !d.byOwner && !d.nullable && slices.Contains(termSortCols[sp.table], d.col)
	for _, g := range segs {
		if g.where != "" || len(g.args) > 0 || g.null != "" || (g.col != "" && g.col != d.col) {
			terms = false
		}
	}
	if terms {
		return "t:", p.versions.Terms
	}
	return "l:", p.versions.List
}

// orderedSet is a set's rows in the order of a sort, per segment key,
// ascending (a descending walk reads it from the end).
type orderedSet struct {
	segs map[string][]pageKey
	// changed: the sorted ids of the records whose terms changed since
	// segs were read (a set carried over term writes: search_patch.go),
	// nil for a set read at its version.
	changed []int64
	size    int // bytes held
}

// orderedKeys returns the ordered list of the plan's matches under the
// listing's segments when the cache holds it (starting its read when it
// does not), or nil.
func (sp *listSpec) orderedKeys(ctx context.Context, s *Store, teamID int64, segs []segment, d sortDef, p listParams, plan searchPlan, ws []searchWord) *orderedSet {
	var ids []int64
	n := 0 // at most this many matches
	switch {
	case plan.rare && len(plan.probes) == 0:
		ids, n = plan.ids, len(plan.ids)
	case plan.set != nil && len(plan.checks) == 0:
		ids, n = plan.set, len(plan.set)
	case len(plan.member) > 0 && len(plan.checks) == 0 && len(plan.probes) == 0:
		// Dense words only, every one's set cached ("y": 38,866 of 1M):
		// their common ids, listed only if the ordered set is to be read.
		n = slices.MinFunc(plan.member, func(a, b *idSet) int { return a.size() - b.size() }).size()
	default:
		return nil
	}
	limit := orderCap
	if s.Dialect == MySQL {
		limit = min(limit, orderCapMySQL)
	}
	if limit <= 0 || n < orderMin || n > limit || plan.versions.List <= 0 || plan.versions.Terms <= 0 || len(p.preds) > 0 || (len(segs) > 2 && !ownerSegments(segs)) || len(ws) == 0 {
		return nil
	}
	var sig strings.Builder
	for _, g := range segs {
		fmt.Fprintf(&sig, "%s|%s|%s|%v|%s|%v|%s;", g.key, g.col, g.where, g.args, g.index, g.unique, g.null)
	}
	vk, version := plan.keyVersion(sp, d, segs)
	key := searchCacheKey{s: s, kind: vk + "order:" + sp.table + ":" + d.key + ":" + sig.String(), team: teamID, word: wordsKey(ws), version: version}
	// The load may outlive the request: it keeps the plan's ids, which
	// nothing changes in place (the cache's sets are shared, and a plan's
	// own sets are new slices), rather than copying 12,615 ids for "anna"
	// on every request (a tenth of a top-bar search's CPU) to use them at
	// most once.
	if vk == "t:" && len(segs) == 1 {
		// Carried over the term writes since an older version's set, when
		// the terms log names them (search_patch.go).
		if v, ok, found := searchSets.patched(key, s.patchOrdered(ctx, sp.terms, teamID, version, plan)); found && ok {
			return v.(*orderedSet)
		}
	}
	segs = slices.Clone(segs)
	member := slices.Clone(plan.member)
	v, ok, found := searchSets.build(key, func() (any, bool, int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if len(member) > 0 {
			ids = memberIDs(member)
		}
		o, size, err := sp.readOrdered(ctx, s, teamID, segs, ids)
		return o, err == nil, size, err
	})
	if !found || !ok {
		return nil
	}
	return v.(*orderedSet)
}

// readOrdered reads the keys of the rows ids in each segment's order.
func (sp *listSpec) readOrdered(ctx context.Context, s *Store, teamID int64, segs []segment, ids []int64) (*orderedSet, int, error) {
	o := &orderedSet{segs: map[string][]pageKey{}}
	size := 0
	if len(ids) == 0 { // dense sets with no id in common
		for _, g := range segs {
			o.segs[g.key] = nil
		}
		return o, size, nil
	}
	rare := searchPlan{rare: true, ids: ids}
	if len(segs) > 1 && ownerSegments(segs) {
		return sp.readOrderedByOwner(ctx, s, teamID, segs, rare)
	}
	for _, g := range segs {
		query, args := sp.segmentSQL(s, teamID, g, nil, nil, rare, len(ids), false, false)
		var keys []pageKey
		if err := s.DB.NewRaw(query, args...).Scan(ctx, &keys); err != nil {
			return nil, 0, fmt.Errorf("list %s: ordered set: %w", sp.table, err)
		}
		for i := range keys {
			keys[i].seg = g.key
			size += len(keys[i].Str)
		}
		size += 72 * cap(keys)
		o.segs[g.key] = keys
	}
	o.size = size
	return o, size, nil
}

// ownerSegments reports an owner sort's segments (one per member and the
// unassigned), which readOrdered reads in one statement.
func ownerSegments(segs []segment) bool {
	for _, g := range segs {
		if !g.byOwner || g.col != segs[0].col {
			return false
		}
	}
	return len(segs) > 0
}

// readOrderedByOwner is readOrdered for an owner sort: the set's rows read
// once by primary key in the sort column's order (the order inside every
// owner's segment, in the database's collation) and dealt out to the
// segments by owner; a row of an owner with no segment (an owner filter)
// is not listed, as the walk would not list it. One statement instead of
// one per member, each reading the whole set: the owner sort was left to
// the walk before (Round 5: 68/67 ms p99 on MariaDB, 81/47 on SQLite).
func (sp *listSpec) readOrderedByOwner(ctx context.Context, s *Store, teamID int64, segs []segment, rare searchPlan) (*orderedSet, int, error) {
	o := &orderedSet{segs: map[string][]pageKey{}}
	byOwner := map[int64]string{}
	for _, g := range segs {
		byOwner[g.owner] = g.key
		o.segs[g.key] = nil
	}
	g := segs[0]
	all := segment{col: g.col, kind: g.kind, index: g.index}
	sel := "r.id, COALESCE(r.owner_id, 0) AS owner, r." + g.col + " AS " + keyAlias(g.kind)
	query, args := sp.segmentSelect(s, teamID, all, nil, nil, rare, len(rare.ids), false, sel, "")
	var rows []struct {
		pageKey
		Owner int64 `bun:"owner"`
	}
	if err := s.DB.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, 0, fmt.Errorf("list %s: ordered set by owner: %w", sp.table, err)
	}
	size := 0
	for _, r := range rows {
		key, ok := byOwner[r.Owner]
		if !ok {
			continue
		}
		k := r.pageKey
		k.seg = key
		o.segs[key] = append(o.segs[key], k)
		size += 72 + len(k.Str)
	}
	o.size = size
	return o, size, nil
}

// walkOrdered is walk over an ordered set; false when the cursor's row is
// not in it as the cursor has it (the caller walks instead).
func (o *orderedSet) walk(segs []segment, start, step int, cur *cursor, need int, desc bool) ([]pageKey, bool) {
	var out []pageKey
	for i := start; i >= 0 && i < len(segs) && len(out) < need; i += step {
		g := segs[i]
		keys, ok := o.segs[g.key]
		if !ok {
			return nil, false
		}
		var c *cursor
		if i == start {
			c = cur
		}
		pos, dir, ok := startAt(keys, g, c, desc)
		if !ok {
			return nil, false
		}
		for ; pos >= 0 && pos < len(keys) && len(out) < need; pos += dir {
			out = append(out, keys[pos])
		}
	}
	orderedWalks.Add(1)
	return out, true
}

// startAt is where a walk of a segment's ordered keys starts, and its
// direction: after the cursor's row when there is a cursor (false when
// the row is not in the keys as the cursor has it), else at the first key
// in the walk's order.
func startAt(keys []pageKey, g segment, cur *cursor, desc bool) (pos, dir int, ok bool) {
	dir, pos = 1, 0
	if desc {
		dir, pos = -1, len(keys)-1
	}
	if cur == nil {
		return pos, dir, true
	}
	j := slices.IndexFunc(keys, func(k pageKey) bool { return k.ID == cur.ID })
	if j < 0 || (g.col != "" && keys[j].value(g.kind) != cur.Val) {
		return 0, 0, false
	}
	return j + dir, dir, true
}

// orderedWalks counts the pages read from ordered sets, overlayWalks
// those read from ordered sets carried over term writes (tests check that
// the paths are taken).
var orderedWalks, overlayWalks atomic.Int64
