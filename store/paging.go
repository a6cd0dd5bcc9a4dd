package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Keyset paging
//
// Contacts and deals share one mechanism, described by a listSpec: the sort
// keys a user may choose (a whitelist mapped to columns and indexes), the
// views and the term table used by search. A page is found in two steps:
// the ids of the page are read from the sort index alone (a covering range
// scan), then the rows are loaded by primary key.
//
// Every order is (sort column, id), so ties never make a row appear twice or
// vanish. A cursor holds the sort value and id of the row next to the page
// boundary; the next page is the rows after it: on MySQL
// `col > v OR (col = v AND id > i)` with FORCE INDEX (MariaDB turns the plain
// row constructor into a full scan, and without the hint it prefers a ref on
// team_id: BENCHMARKS.md, "Measured before the design"), on SQLite the row
// value (col, id) > (v, i) with INDEXED BY. The previous page reads the reverse order from the cursor
// and turns the rows around. No page ever counts the team's rows.
//
// A listing can run through several segments, each its own index range:
// sorting by owner goes member by member (by the member's name, unassigned
// last) and by the record name inside each, reading the (team_id, owner_id,
// name, id) index one owner at a time; a nullable column has its non-NULL
// rows first and the NULL rows (ordered by id) last. Descending reverses the
// segments and the order inside each.

// Views of a list.
const (
	ViewAll        = "all"
	ViewMine       = "mine"
	ViewUnassigned = "unassigned"
)

// PageSize is the number of rows a list page shows unless asked otherwise.
const PageSize = 25

const maxPageSize = 200

// exportPageSize is the page of an export's walk: fewer, larger statements
// than maxPageSize, and under 1,000 ids for the row load (from 1,000 values
// MariaDB turns an IN list into a materialised table).
const exportPageSize = 999

type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindTime
	kindDate
)

// sortDef maps a sort key a user may choose to a column and its indexes.
type sortDef struct {
	key        string    // as in the URL: "name"
	col        string    // column: "name"
	kind       valueKind // how the column's values are carried in cursors
	nullable   bool      // NULLs come after every value (ascending)
	unique     bool      // unique in the team: ordered by col alone (no id tie-break)
	byOwner    bool      // segments per owner, col inside each
	index      string    // index for the "all" view
	ownerIndex string    // index for views filtered by owner
}

// listSpec describes one paged, sorted, searchable table.
type listSpec struct {
	table       string
	terms       termSet
	sorts       []sortDef
	defaultSort string
	views       []string
}

func (sp *listSpec) sortDef(key string) sortDef {
	for _, d := range sp.sorts {
		if d.key == key {
			return d
		}
	}
	for _, d := range sp.sorts {
		if d.key == sp.defaultSort {
			return d
		}
	}
	panic("store: list " + sp.table + " has no default sort")
}

// listParams is a list request after the caller's typed query.
type listParams struct {
	view   string
	userID int64
	search string
	sort   string
	desc   bool
	cursor string
	limit  int
	// Filters (filters.go): conditions on every row, the owners of an
	// owner filter of several, and whether the view was set by a filter.
	preds     []filterPred
	owners    []int64
	ownerView bool
	// unbounded lets a bulk job read pages larger than a screen's.
	unbounded bool
	bulk      bool // an export's walk: pages of up to exportPageSize
}

// cursor is the position next to a page boundary. It travels through URLs as
// base64url JSON; a cursor that does not decode, or was made for another
// sort, is ignored and the first page shown.
type cursor struct {
	Sort   string `json:"s"`
	Desc   bool   `json:"d,omitempty"`
	Before bool   `json:"b,omitempty"`
	Seg    string `json:"g,omitempty"`
	Val    string `json:"v,omitempty"`
	ID     int64  `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, bool) {
	if s == "" || len(s) > 2048 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, false
	}
	return &c, true
}

// pageKey is one row of a page as read from the sort index.
type pageKey struct {
	ID   int64     `bun:"id"`
	Str  string    `bun:"k_str"`
	Int  int64     `bun:"k_int"`
	Time time.Time `bun:"k_time"`
	seg  string
}

// segment is one index range of a listing.
type segment struct {
	key    string
	where  string
	args   []any
	col    string // "" orders by id alone
	kind   valueKind
	index  string
	unique bool   // col alone orders the rows
	null   string // the NULL rows of this column (a nullable sort's last segment)
	// byOwner: one owner's rows of an owner sort (owner 0: unassigned).
	byOwner bool
	owner   int64
}

func keyAlias(k valueKind) string {
	switch k {
	case kindInt:
		return "k_int"
	case kindTime, kindDate:
		return "k_time"
	}
	return "k_str"
}

// value encodes the sort value of a key for a cursor.
func (k pageKey) value(kind valueKind) string {
	switch kind {
	case kindInt:
		return strconv.FormatInt(k.Int, 10)
	case kindTime:
		return k.Time.UTC().Format(time.RFC3339Nano)
	case kindDate:
		return k.Time.UTC().Format(time.DateOnly)
	}
	return k.Str
}

// arg turns a cursor value back into a query argument.
func (s *Store) cursorArg(kind valueKind, v string) (any, bool) {
	switch kind {
	case kindInt:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	case kindTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t.UTC(), err == nil
	case kindDate:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, false
		}
		if s.Dialect == MySQL {
			return t.Format(time.DateOnly), true
		}
		// SQLite compares the text bun stored, so the argument must be
		// formatted the same way.
		return t.UTC(), true
	}
	return v, true
}

// listResult is a page of ids with the cursors around it.
type listResult struct {
	ids        []int64
	next, prev string
}

// segments lists the index ranges of a listing in display order.
func (sp *listSpec) segments(ctx context.Context, s *Store, teamID int64, p listParams, d sortDef) ([]segment, error) {
	var ownerWhere string
	var ownerArgs []any
	index := d.index
	switch p.view {
	case ViewMine:
		ownerWhere, ownerArgs, index = "r.owner_id = ?", []any{p.userID}, d.ownerIndex
	case ViewUnassigned:
		ownerWhere, index = "r.owner_id IS NULL", d.ownerIndex
	}
	var segs []segment
	switch {
	case d.byOwner:
		var owners []int64
		switch p.view {
		case ViewMine:
			owners = []int64{p.userID}
		case ViewUnassigned:
			owners = []int64{0}
		default:
			var err error
			if owners, err = s.ownerOrder(ctx, teamID); err != nil {
				return nil, err
			}
			owners = append(owners, 0)
			if p.owners != nil {
				owners = slices.DeleteFunc(owners, func(o int64) bool { return !slices.Contains(p.owners, o) })
			}
		}
		for _, o := range owners {
			seg := segment{key: "o" + strconv.FormatInt(o, 10), col: d.col, kind: d.kind, index: d.ownerIndex, byOwner: true, owner: o}
			if o == 0 {
				seg.where, seg.null = "r.owner_id IS NULL", "owner_id"
			} else {
				seg.where, seg.args = "r.owner_id = ?", []any{o}
			}
			segs = append(segs, seg)
		}
	case d.nullable:
		segs = []segment{
			{key: "v", where: and(ownerWhere, "r."+d.col+" IS NOT NULL"), args: ownerArgs, col: d.col, kind: d.kind, index: index},
			{key: "n", where: and(ownerWhere, "r."+d.col+" IS NULL"), args: ownerArgs, kind: d.kind, index: index, null: d.col},
		}
	default:
		// A unique column needs no tie-break, and the unique index (which
		// MariaDB will not read as ordered by the id after it) can serve.
		segs = []segment{{where: ownerWhere, args: ownerArgs, col: d.col, kind: d.kind, index: index, unique: d.unique && p.view == ViewAll}}
	}
	segs = withPreds(segs, p.preds)
	if p.desc {
		slices.Reverse(segs)
	}
	return segs, nil
}

// ownerOrders keeps each team's members in the owner sort's order (by
// name) per list version, which every member change and rename moves
// (listversion.go): an owner-sorted page read them on every request, a
// statement of its few. Only a request that carries its version
// (WithSearchVersions, read with the session before anything else) uses it;
// others read the members as before.
var ownerOrders = struct {
	mu sync.Mutex
	m  map[ownerOrderKey]ownerOrderEntry
}{m: map[ownerOrderKey]ownerOrderEntry{}}

type ownerOrderKey struct {
	s    *Store
	team int64
}

type ownerOrderEntry struct {
	version int64
	ids     []int64
}

// ownerOrderTeams bounds the map; then it starts again empty.
const ownerOrderTeams = 4096

// ownerOrder is the team's member ids by name, id (a copy: the caller may
// append).
func (s *Store) ownerOrder(ctx context.Context, teamID int64) ([]int64, error) {
	v, ok := ctx.Value(searchVersionKey{}).(searchVersion)
	cacheable := ok && v.team == teamID && v.versions.List > 0
	k := ownerOrderKey{s, teamID}
	if cacheable {
		ownerOrders.mu.Lock()
		e, hit := ownerOrders.m[k]
		ownerOrders.mu.Unlock()
		if hit && e.version == v.versions.List {
			return slices.Clone(e.ids), nil
		}
	}
	var owners []int64
	if err := s.DB.NewRaw("SELECT id FROM users WHERE team_id = ? ORDER BY name, id", teamID).Scan(ctx, &owners); err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	if cacheable {
		ownerOrders.mu.Lock()
		if len(ownerOrders.m) >= ownerOrderTeams {
			ownerOrders.m = map[ownerOrderKey]ownerOrderEntry{}
		}
		if cur, ok := ownerOrders.m[k]; !ok || cur.version <= v.versions.List {
			ownerOrders.m[k] = ownerOrderEntry{version: v.versions.List, ids: slices.Clone(owners)}
		}
		ownerOrders.mu.Unlock()
	}
	return owners, nil
}

func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " AND " + b
}

// listPlan is a listing before its first page is read: the sort, the
// search's (and filters') plan and the segments in display order. empty:
// nothing can match.
type listPlan struct {
	d     sortDef
	plan  searchPlan
	segs  []segment
	empty bool
}

// prepare plans a listing; every page of it and its export (exports.go)
// start here, so they list the same rows in the same order.
func (sp *listSpec) prepare(ctx context.Context, s *Store, teamID int64, p listParams) (listPlan, error) {
	if !slices.Contains(sp.views, p.view) && !p.ownerView {
		p.view = ViewAll
	}
	d := sp.sortDef(p.sort)
	words, ok := parseSearch(p.search)
	if !ok {
		return listPlan{empty: true}, nil
	}
	plan, err := planSearch(ctx, s, sp.terms, teamID, words)
	if err != nil {
		return listPlan{}, err
	}
	if plan, err = sp.filterPlan(ctx, s, teamID, p, plan); err != nil {
		return listPlan{}, err
	}
	if plan.rare && plan.walks() {
		// A selective filter's candidates: keep those of the search's set.
		ids := slices.DeleteFunc(slices.Clone(plan.ids), func(id int64) bool { return !plan.has(id) })
		plan = searchPlan{rare: true, ids: ids, probes: plan.checks}
		if len(plan.ids) == 0 {
			return listPlan{empty: true}, nil
		}
	}
	if plan.none {
		return listPlan{empty: true}, nil
	}
	segs, err := sp.segments(ctx, s, teamID, p, d)
	if err != nil {
		return listPlan{}, err
	}
	plan.order = sp.orderedKeys(ctx, s, teamID, segs, d, p, plan, words)
	if plan.order == nil && plan.set != nil && d.kind == kindString && p.view == ViewAll && len(p.preds) == 0 {
		if segs, err = sp.narrowToPrefix(ctx, s, teamID, segs, d, plan, words); err != nil {
			return listPlan{}, err
		}
	}
	return listPlan{d: d, plan: plan, segs: segs}, nil
}

// listPage finds the ids of one page and the cursors around it.
func (sp *listSpec) listPage(ctx context.Context, s *Store, teamID int64, p listParams) (listResult, error) {
	if p.limit <= 0 {
		p.limit = PageSize
	}
	switch {
	case p.unbounded:
	case p.bulk:
		p.limit = min(p.limit, exportPageSize)
	default:
		p.limit = min(p.limit, maxPageSize)
	}
	lp, err := sp.prepare(ctx, s, teamID, p)
	if err != nil || lp.empty {
		return listResult{}, err
	}
	d, plan, segs := lp.d, lp.plan, lp.segs
	cur, ok := decodeCursor(p.cursor)
	start := 0
	var after any
	if ok && cur.Sort == d.key && cur.Desc == p.desc {
		start = slices.IndexFunc(segs, func(g segment) bool { return g.key == cur.Seg })
		if start >= 0 && segs[start].col != "" {
			if after, ok = s.cursorArg(segs[start].kind, cur.Val); !ok {
				start = -1
			}
		}
		if start < 0 {
			cur, start = nil, 0
		}
	} else {
		cur = nil
	}

	backward := cur != nil && cur.Before
	var keys []pageKey
	if backward {
		keys, err = sp.walk(ctx, s, teamID, segs, start, -1, cur, after, plan, p.limit+1, !p.desc)
		if err != nil {
			return listResult{}, err
		}
		if len(keys) <= p.limit {
			// Fewer rows before the cursor than a page: show the first page.
			backward, cur, start = false, nil, 0
			keys = nil
		}
	}
	if !backward {
		keys, err = sp.walk(ctx, s, teamID, segs, start, +1, cur, after, plan, p.limit+1, p.desc)
		if err != nil {
			return listResult{}, err
		}
	}

	res := listResult{}
	mk := func(k pageKey, before bool) string {
		c := cursor{Sort: d.key, Desc: p.desc, Before: before, Seg: k.seg, ID: k.ID}
		if g := segs[slices.IndexFunc(segs, func(g segment) bool { return g.key == k.seg })]; g.col != "" {
			c.Val = k.value(g.kind)
		}
		return c.encode()
	}
	more := len(keys) > p.limit
	if more {
		keys = keys[:p.limit]
	}
	if backward {
		slices.Reverse(keys)
		if more {
			res.prev = mk(keys[0], true)
		}
		res.next = mk(keys[len(keys)-1], false)
	} else {
		if more {
			res.next = mk(keys[len(keys)-1], false)
		}
		if cur != nil {
			if len(keys) > 0 {
				res.prev = mk(keys[0], true)
			} else {
				c := *cur
				c.Before = true
				res.prev = c.encode()
			}
		}
	}
	for _, k := range keys {
		res.ids = append(res.ids, k.ID)
	}
	return res, nil
}

// walk reads up to need keys through the segments from start in direction
// step (+1 display order, -1 reverse), each segment ordered descending when
// desc. The first segment starts after the cursor when there is one. A set
// walk that uses its budget is done again with the set sorted by primary
// key (see walkRatio).
func (sp *listSpec) walk(ctx context.Context, s *Store, teamID int64, segs []segment, start, step int, cur *cursor, after any, plan searchPlan, need int, desc bool) ([]pageKey, error) {
	switch {
	case plan.order != nil && plan.order.changed != nil:
		out, ok, err := sp.overlayWalk(ctx, s, teamID, segs, cur, after, plan, need, desc)
		if err != nil || ok {
			return out, err
		}
	case plan.order != nil:
		if out, ok := plan.order.walk(segs, start, step, cur, need, desc); ok {
			return out, nil
		}
	}
	out, err := sp.walkPlan(ctx, s, teamID, segs, start, step, cur, after, plan, need, desc)
	if errors.Is(err, errWalkBudget) {
		return sp.walkPlan(ctx, s, teamID, segs, start, step, cur, after, plan.asRare(), need, desc)
	}
	return out, err
}

func (sp *listSpec) walkPlan(ctx context.Context, s *Store, teamID int64, segs []segment, start, step int, cur *cursor, after any, plan searchPlan, need int, desc bool) ([]pageKey, error) {
	var out []pageKey
	for i := start; i >= 0 && i < len(segs) && len(out) < need; i += step {
		var c *cursor
		if i == start {
			c = cur
		}
		keys, err := sp.segmentKeys(ctx, s, teamID, segs[i], c, after, plan, need-len(out), desc)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
	}
	return out, nil
}

// segmentKeys runs one segment's query.
func (sp *listSpec) segmentKeys(ctx context.Context, s *Store, teamID int64, g segment, cur *cursor, after any, plan searchPlan, limit int, desc bool) ([]pageKey, error) {
	if plan.walks() {
		return sp.setSegmentKeys(ctx, s, teamID, g, cur, after, plan, limit, desc)
	}
	query, args := sp.segmentSQL(s, teamID, g, cur, after, plan, limit, desc, false)
	var keys []pageKey
	if err := s.DB.NewRaw(query, args...).Scan(ctx, &keys); err != nil {
		return nil, fmt.Errorf("list %s: %w", sp.table, err)
	}
	for i := range keys {
		keys[i].seg = g.key
	}
	return keys, nil
}

// segmentSQL is one segment's query: the keys (or with idsOnly the ids
// alone) of up to limit rows after the cursor.
func (sp *listSpec) segmentSQL(s *Store, teamID int64, g segment, cur *cursor, after any, plan searchPlan, limit int, desc, idsOnly bool) (string, []any) {
	sel := "r.id"
	if g.col != "" && !idsOnly {
		sel += ", r." + g.col + " AS " + keyAlias(g.kind)
	}
	return sp.segmentSelect(s, teamID, g, cur, after, plan, limit, desc, sel, "")
}

// segmentSelect is segmentSQL with the select list sel (columns of r) and
// join (joins after r) given; a negative limit reads the whole segment (an
// export's stream, which has no cursor).
func (sp *listSpec) segmentSelect(s *Store, teamID int64, g segment, cur *cursor, after any, plan searchPlan, limit int, desc bool, sel, join string) (string, []any) {
	var args []any
	index := s.indexHint(g.index)
	if plan.rare {
		// A few candidates: read them by primary key and sort them.
		index = s.indexHint(primaryKey)
	}
	head := "SELECT " + sel
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	// body is the rest of the statement after the select list, with the
	// keyset bound keyset (and its args) and the order order.
	body := func(keyset string, keysetArgs []any, order string) (string, []any) {
		var q strings.Builder
		var args []any
		q.WriteString(" FROM " + sp.table + " AS r" + index + join + " WHERE r.team_id = ?")
		args = append(args, teamID)
		if plan.rare {
			// IN lists of under 1,000 values, OR-ed: from 1,000 values MariaDB
			// turns an IN list into a materialised table (its
			// in_predicate_conversion_threshold), 30–90 ms instead of a range
			// of primary-key lookups.
			q.WriteString(" AND (")
			for i := 0; i < len(plan.ids); i += 999 {
				if i > 0 {
					q.WriteString(" OR ")
				}
				q.WriteString("r.id IN (?)")
				args = append(args, bun.In(plan.ids[i:min(i+999, len(plan.ids))]))
			}
			q.WriteString(")")
		}
		if g.where != "" {
			q.WriteString(" AND " + g.where)
			args = append(args, g.args...)
		}
		q.WriteString(keyset)
		args = append(args, keysetArgs...)
		for i, w := range plan.probes {
			probe, pargs := s.probeSQL(sp.terms, "t"+strconv.Itoa(i), "r.id", teamID, w)
			q.WriteString(" AND " + probe)
			args = append(args, pargs...)
		}
		q.WriteString(" ORDER BY " + order)
		if limit >= 0 {
			q.WriteString(" LIMIT ?")
			args = append(args, limit)
		}
		return q.String(), args
	}
	order := "r.id " + dir
	switch {
	case g.unique:
		order = "r." + g.col + " " + dir
	case g.col != "":
		order = "r." + g.col + " " + dir + ", r.id " + dir
	}
	var keyset string
	var keysetArgs []any
	if cur != nil {
		switch {
		case g.unique:
			keyset, keysetArgs = " AND r."+g.col+" "+op+" ?", []any{after}
		case g.col == "":
			keyset, keysetArgs = " AND r.id "+op+" ?", []any{cur.ID}
		case s.Dialect == MySQL:
			// The redundant bound keeps the range tight on the index.
			keyset = " AND r." + g.col + " " + op + "= ? AND (r." + g.col + " " + op + " ? OR (r." + g.col + " = ? AND r.id " + op + " ?))"
			keysetArgs = []any{after, after, after, cur.ID}
		default:
			// SQLite seeks a row value (col, id) > (v, i) on col alone and
			// then reads every row of col = v up to i: on a column of few
			// values that is most of a value's rows (a contacts page 30,000
			// pages deep by status read 150,000 index entries, 64.7 ms).
			// The rest of v's rows (col = v AND id > i, a seek on both
			// columns) followed by the rows past v (col > v, a seek) are two
			// ranges each read in index order; UNION ALL gives the left
			// arm's rows before the right's, which is the page order.
			left, largs := body(" AND r."+g.col+" = ? AND r.id "+op+" ?", []any{after, cur.ID}, "r.id "+dir)
			right, rargs := body(" AND r."+g.col+" "+op+" ?", []any{after}, order)
			sel := strings.TrimPrefix(head, "SELECT ")
			return "SELECT * FROM (SELECT " + sel + left + ") UNION ALL SELECT * FROM (SELECT " + sel + right + ") LIMIT ?",
				append(append(largs, rargs...), limit)
		}
	}
	rest, rargs := body(keyset, keysetArgs, order)
	return head + rest, append(args, rargs...)
}

// primaryKey names a table's primary key for indexHint.
const primaryKey = "PRIMARY"

// indexHint makes the table before it be read through the named index, the
// one place where both dialects' hints are written: FORCE INDEX on MySQL,
// INDEXED BY on SQLite. Without statistics SQLite's planner guesses, and it
// guesses wrong where it matters: for `team_id = ? AND id IN (…)` it picks
// an index on team_id and scans the whole team (111.7 ms at 100k contacts
// against 0.37 ms by primary key). primaryKey reads the primary key; on
// SQLite that is NOT INDEXED, which leaves the rowid lookup as the only way
// in. Every query with a hint has its plan asserted in explain_test.go.
func (s *Store) indexHint(index string) string {
	switch {
	case s.Dialect == MySQL:
		return " FORCE INDEX (" + index + ")"
	case index == primaryKey:
		return " NOT INDEXED"
	}
	return " INDEXED BY " + index
}

// orderByIDs puts rows in the order of ids (the page order).
func orderByIDs[T any](rows []T, ids []int64, id func(*T) int64) []T {
	pos := make(map[int64]int, len(ids))
	for i, v := range ids {
		pos[v] = i
	}
	slices.SortFunc(rows, func(a, b T) int { return pos[id(&a)] - pos[id(&b)] })
	return rows
}
