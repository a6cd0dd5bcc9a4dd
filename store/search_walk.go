package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// The set walk (see the notes on search in search.go): the matches of the
// search are the records in plan.set (and having plan.checks), and the page
// is the first of them in the segment's order. The sort index is read in
// batches of ids alone — index-only range scans in the index's order, each
// starting after the last id of the one before — and the ids are kept when
// they are in the set: sequential index reads instead of a B-tree probe per
// row. Batches grow from setBatch to maxSetBatch, so a dense set reads
// little past its page and a sparse one takes few statements.

const (
	setBatch    = 512
	maxSetBatch = 16384
)

// setSegmentKeys reads up to limit keys of the set's records in segment g
// after the cursor. Each batch reads the sort column with the ids (the
// sort index holds it: still index-only), so the hits' keys and the next
// batch's cursor come from the batch itself; before, every batch was
// followed by a read of its hits' keys by primary key, a round trip per
// batch ("y": five statements for a page, now three). A value the scan
// does not know (errRowShape) sends the segment back to that read.
func (sp *listSpec) setSegmentKeys(ctx context.Context, s *Store, teamID int64, g segment, cur *cursor, after any, plan searchPlan, limit int, desc bool) ([]pageKey, error) {
	var out []pageKey
	batch := plan.firstBatch(limit)
	read, found := 0, 0
	carry := walkCarriesKeys
	for {
		var ids []int64
		var hits []int64
		var keys map[int64]pageKey
		var last int64
		var err error
		if carry {
			query, args := sp.segmentSQL(s, teamID, g, cur, after, searchPlan{}, batch, desc, false)
			var lastKey pageKey
			ids, keys, lastKey, err = scanWalkBatch(ctx, s, query, args, g, plan.has)
			if errors.Is(err, errRowShape) {
				carry = false
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", sp.table, err)
			}
			for _, id := range ids {
				if _, ok := keys[id]; ok {
					hits = append(hits, id)
				}
			}
			if len(ids) > 0 {
				last = lastKey.ID
				keys[last] = lastKey
			}
		} else {
			query, args := sp.segmentSQL(s, teamID, g, cur, after, searchPlan{}, batch, desc, true)
			if ids, err = scanIDs(ctx, s, query, args); err != nil {
				return nil, fmt.Errorf("list %s: %w", sp.table, err)
			}
			for _, id := range ids {
				if plan.has(id) {
					hits = append(hits, id)
				}
			}
			if len(ids) > 0 {
				last = ids[len(ids)-1]
			}
		}
		if plan.budget != nil {
			*plan.budget -= len(ids)
		}
		if len(plan.checks) > 0 {
			if hits, err = checkWords(ctx, s, sp.terms, teamID, hits, plan.checks); err != nil {
				return nil, err
			}
		}
		hits = hits[:min(len(hits), limit-len(out))]
		done := len(out)+len(hits) == limit || len(ids) < batch
		if done {
			last = 0
		}
		if !carry {
			if keys, err = sp.keysOf(ctx, s, teamID, g, hits, last); err != nil {
				return nil, err
			}
		}
		for _, id := range hits {
			if k, ok := keys[id]; ok { // gone since the walk read it: not listed
				out = append(out, k)
			}
		}
		if done {
			return out, nil
		}
		if plan.budget != nil && *plan.budget < 0 {
			return nil, errWalkBudget
		}
		k, ok := keys[last]
		if !ok {
			// The row the next batch starts after was deleted meanwhile:
			// the set sorted by primary key answers instead.
			return nil, errWalkBudget
		}
		cur = &cursor{ID: last}
		if g.col != "" {
			if after, ok = s.cursorArg(g.kind, k.value(g.kind)); !ok {
				return nil, fmt.Errorf("list %s: sort value of %d", sp.table, last)
			}
		}
		read += len(ids)
		found += len(hits)
		batch = nextBatch(batch, read, found, limit-len(out))
	}
}

// nextBatch is the walk's next batch after read entries held found hits:
// twice the last (a set far from the cursor takes few statements), but
// no more than about twice what the density seen so far needs for the
// need rows still missing (a page short of a few rows reads a few dozen
// entries more, not thousands).
func nextBatch(batch, read, found, need int) int {
	next := min(2*batch, maxSetBatch)
	if found > 0 {
		next = min(next, max(minSetBatch, 2*need*read/found))
	}
	return next
}

// walkCarriesKeys: walk batches read the sort column with the ids (false:
// ids alone and the hits' keys by primary key, tests).
var walkCarriesKeys = true

// scanWalkBatch runs a walk batch of (id, sort value) rows: the ids in
// order, the keys of the ids keep holds, and the last row's key. Values are
// scanned into reused buffers and made keys only for the hits, since a
// batch can be thousands of rows with a few hits.
func scanWalkBatch(ctx context.Context, s *Store, query string, args []any, g segment, keep func(int64) bool) (ids []int64, keys map[int64]pageKey, last pageKey, err error) {
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, pageKey{}, err
	}
	defer rows.Close()
	keys = map[int64]pageKey{}
	var id, n int64
	var raw sql.RawBytes
	var v any
	dest := []any{&id}
	if g.col != "" {
		switch g.kind {
		case kindString:
			dest = append(dest, &raw)
		case kindInt:
			dest = append(dest, &n)
		default:
			dest = append(dest, &v)
		}
	}
	var lastStr []byte
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			if isScanError(err) {
				return nil, nil, pageKey{}, errRowShape
			}
			return nil, nil, pageKey{}, err
		}
		ids = append(ids, id)
		k := pageKey{ID: id, Int: n, seg: g.key}
		if g.col != "" && g.kind != kindString && g.kind != kindInt {
			if k.Time, err = scanTime(v); err != nil {
				return nil, nil, pageKey{}, err
			}
		}
		if keep(id) {
			if g.kind == kindString {
				k.Str = string(raw)
			}
			keys[id] = k
		}
		last = k
		if g.kind == kindString {
			lastStr = append(lastStr[:0], raw...)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, pageKey{}, err
	}
	if g.col != "" && g.kind == kindString {
		last.Str = string(lastStr)
	}
	return ids, keys, last, nil
}

// firstBatch is the walk's first batch for a page of limit: about three
// times the entries a page needs at the plan's density (its ids over their
// span: a team's ids are close together), so that a dense word ("a": a
// third of the team) reads a few dozen entries, not setBatch; at least
// minSetBatch and at most maxFirstBatch. The bound was setBatch and the
// factor two: "y" (one contact in 26 at 1M, fewer among the first names)
// read 512 entries, found half a page and read 1,024 more in a second
// statement, where one batch of 2,000 fills it.
func (p searchPlan) firstBatch(limit int) int {
	d := 1.0
	if p.set != nil {
		d = float64(len(p.set)) / float64(p.set[len(p.set)-1]-p.set[0]+1)
	}
	for _, m := range p.member {
		d = min(d, m.density())
	}
	if d <= 0 {
		return setBatch
	}
	return int(min(float64(maxFirstBatch), max(float64(minSetBatch), 3*float64(limit)/d)))
}

const (
	minSetBatch   = 32
	maxFirstBatch = 4 * setBatch
)

// scanIDs runs a query of ids: a plain scan, since a batch can be
// thousands of rows.
func scanIDs(ctx context.Context, s *Store, query string, args []any) ([]int64, error) {
	rows, err := s.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// keysOf reads the sort keys of the segment's rows ids and last (0: none)
// by primary key.
func (sp *listSpec) keysOf(ctx context.Context, s *Store, teamID int64, g segment, ids []int64, last int64) (map[int64]pageKey, error) {
	all := ids
	if last != 0 {
		all = append(all[:len(all):len(all)], last)
	}
	out := make(map[int64]pageKey, len(all))
	if len(all) == 0 {
		return out, nil
	}
	col := ""
	if g.col != "" {
		col = ", r." + g.col + " AS " + keyAlias(g.kind)
	}
	var keys []pageKey
	if err := s.DB.NewRaw("SELECT r.id"+col+" FROM "+sp.table+" AS r"+s.indexHint(primaryKey)+" WHERE r.team_id = ? AND r.id IN (?)",
		teamID, bun.In(all)).Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("list %s: sort keys: %w", sp.table, err)
	}
	for _, k := range keys {
		k.seg = g.key
		out[k.ID] = k
	}
	return out, nil
}

// narrowToPrefix: a word that starts the sort column of its matches (a
// first name under the name sort, a company word under the company sort)
// puts them in one range of the sort index, far from the start when it
// comes late in the alphabet, and the set walk would read everything before
// it — descending, almost the whole team. When every record of the set lies
// in the index range of values starting with the word, the walk may keep to
// that range: it reads the range's ids once (at most a few times the set)
// and, if the set is all there, adds the range to every segment. Exact in
// every case: the range only narrows the walk when no match is outside it.
func (sp *listSpec) narrowToPrefix(ctx context.Context, s *Store, teamID int64, segs []segment, d sortDef, plan searchPlan, ws []searchWord) ([]segment, error) {
	if len(ws) == 0 || len(ws[0].prefixes) != 1 {
		return segs, nil
	}
	w := ws[0].prefixes[0]
	for _, r := range w {
		if !isWordRune(r) {
			return segs, nil
		}
	}
	for _, g := range segs {
		if g.col != d.col {
			return segs, nil
		}
	}
	var cond string
	var args []any
	if s.Dialect == MySQL {
		// The column's collation folds case and accents as fold does.
		cond, args = "r."+d.col+" LIKE ?", []any{w + "%"}
	} else {
		// NOCASE: ASCII case folded; a word with other letters may miss
		// matches in the range, and then the set is not all there.
		cond, args = "r."+d.col+" >= ? AND r."+d.col+" < ?", []any{w, w + termBound}
	}
	var sig strings.Builder
	for _, g := range segs {
		fmt.Fprintf(&sig, "%s|%s|%v;", g.col, g.where, g.args)
	}
	vk, version := plan.keyVersion(sp, d, segs)
	key := searchCacheKey{s: s, kind: vk + "narrow:" + sp.table + ":" + strconv.Itoa(setCap) + ":" + sig.String(), team: teamID, word: wordsKey(ws), version: version}
	_, all, err := searchSets.get(key, func() ([]int64, bool, error) {
		all, err := sp.setInPrefixRange(ctx, s, teamID, segs, cond, args, plan)
		return nil, all, err
	})
	if err != nil || !all {
		return segs, err
	}
	out := make([]segment, len(segs))
	for i, g := range segs {
		g.where = and(g.where, cond)
		g.args = append(append([]any(nil), g.args...), args...)
		out[i] = g
	}
	return out, nil
}

// setInPrefixRange reports whether every record of the plan's set lies in
// the segments' index range of cond (see narrowToPrefix).
func (sp *listSpec) setInPrefixRange(ctx context.Context, s *Store, teamID int64, segs []segment, cond string, args []any, plan searchPlan) (bool, error) {
	limit := 2*len(plan.set) + minWalk
	found := 0
	for _, g := range segs {
		var q strings.Builder
		qargs := []any{teamID}
		q.WriteString("SELECT r.id FROM " + sp.table + " AS r" + s.indexHint(g.index) + " WHERE r.team_id = ?")
		if g.where != "" {
			q.WriteString(" AND " + g.where)
			qargs = append(qargs, g.args...)
		}
		q.WriteString(" AND " + cond + " LIMIT ?")
		qargs = append(append(qargs, args...), limit+1)
		ids, err := scanIDs(ctx, s, q.String(), qargs)
		if err != nil {
			return false, fmt.Errorf("list %s: prefix range: %w", sp.table, err)
		}
		if len(ids) > limit {
			return false, nil // the range is mostly other records: not worth it
		}
		limit -= len(ids)
		for _, id := range ids {
			if inSet(plan.set, id) {
				found++
			}
		}
	}
	return found >= len(plan.set), nil
}
