package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Filters
//
// A list's filters are conditions on the listed row that combine with AND,
// with the view, the search and every sort. Paging stays keyset paging on
// the sort index, so a deep page costs what the first does. How a filter is
// applied is chosen like a search word (planSearch), from how many rows it
// matches, counted in its own index up to filterCap:
//
//   - one owner (or unassigned) is a view: the (team, owner, sort column,
//     id) index the Mine view reads serves it for every sort;
//   - few matches: when some filter's index range holds at most filterCap
//     rows, the ids matching every filter are read from that range and only
//     they are loaded by primary key and sorted (the search's rare plan);
//   - otherwise the sort index is walked in order and each row is checked:
//     no filter is selective, so a page fills after at most
//     limit × (team rows / filterCap) rows, whatever its depth.
//
// A range on the sort column itself (created from … to …, sorted by
// created) narrows the walked range. A filter that rules out NULLs drops the
// NULL segment of a nullable sort.
//
// The walk's misses are cheap only if they are checked in the sort index:
// a filter whose column goes with the sort order (contacts created lately,
// sorted by last contacted: the first 96,000 contacted rows at 1M are all
// older) passes tens of thousands of rows before a page fills, and a row
// lookup for each took 1.7 s on MariaDB. Migration 0025 appends those
// filter columns to the sort indexes after id (created to phone, status,
// last contacted and next step; last contacted to created and next step;
// close date and amount to the deals' stage, goal, created and updated),
// so the walk reads the index alone. Asserted in filters_explain_test.go
// (inSortIndex); BENCHMARKS.md "Round 3 — lists".

// filterCap: a filter with at most this many rows in its index range is
// selective (its matches are loaded and sorted). A variable for tests.
var filterCap = 4000

// filterPred is one filter condition on the listed table, aliased r.
type filterPred struct {
	where   string
	args    []any
	index   string // an index whose range holds the matching rows (for counting), "" if none
	notNull string // a column the condition proves not NULL
	// sortCol: a bound that only narrows a walk of this sort column
	// (always true, so left out of every other query).
	sortCol string
}

// Unassigned stands for "no owner" in an owner filter.
const Unassigned int64 = 0

// ContactFilter narrows the contacts listed. Zero fields filter nothing.
// Date ranges are [From, To): the caller turns days into instants in the
// team's time zone.
type ContactFilter struct {
	Statuses []string
	// Owners: members' ids, Unassigned for contacts without an owner.
	Owners                     []int64
	Assigned                   bool // only contacts with an owner
	Company                    string
	CreatedFrom, CreatedTo     time.Time
	UpdatedFrom, UpdatedTo     time.Time
	ContactedFrom, ContactedTo time.Time
	// NotContactedSince: never contacted, or last contacted before it
	// (the back burner).
	NotContactedSince time.Time
}

// DealFilter narrows the deals listed; see ContactFilter. Close dates are
// days, [CloseFrom, CloseTo] inclusive; amounts are in minor units,
// inclusive, nil for no bound.
type DealFilter struct {
	Stages               []string
	Owners               []int64
	CloseFrom, CloseTo   time.Time
	AmountMin, AmountMax *int64
}

// IsZero reports whether the filter filters nothing.
func (f ContactFilter) IsZero() bool {
	return len(f.Statuses) == 0 && len(f.Owners) == 0 && !f.Assigned && f.Company == "" &&
		f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() && f.UpdatedFrom.IsZero() && f.UpdatedTo.IsZero() &&
		f.ContactedFrom.IsZero() && f.ContactedTo.IsZero() && f.NotContactedSince.IsZero()
}

// IsZero reports whether the filter filters nothing.
func (f DealFilter) IsZero() bool {
	return len(f.Stages) == 0 && len(f.Owners) == 0 && f.CloseFrom.IsZero() && f.CloseTo.IsZero() && f.AmountMin == nil && f.AmountMax == nil
}

// timeRange adds col >= from and col < to.
func timeRange(col, index string, from, to time.Time) []filterPred {
	var out []filterPred
	if !from.IsZero() {
		out = append(out, filterPred{where: "r." + col + " >= ?", args: []any{from.UTC()}, index: index, notNull: col})
	}
	if !to.IsZero() {
		out = append(out, filterPred{where: "r." + col + " < ?", args: []any{to.UTC()}, index: index, notNull: col})
	}
	return out
}

// preds turns the filter into conditions; owner filters are returned apart
// (see ownerFilter).
func (f ContactFilter) preds() []filterPred {
	var out []filterPred
	switch {
	case len(f.Statuses) == 1:
		// A range of one value, as for company below: MariaDB reads
		// status IN (one) as status = ?, and sorts its rows by status, id
		// again (a filesort of 100,000 rows at 1M contacts, 90–120 ms).
		out = append(out, filterPred{where: "r.status >= ? AND r.status <= ?", args: []any{f.Statuses[0], f.Statuses[0]}, index: "contacts_status"})
	case len(f.Statuses) > 1:
		out = append(out, filterPred{where: "r.status IN (?)", args: []any{bun.In(f.Statuses)}, index: "contacts_status"})
	}
	if f.Assigned {
		out = append(out, filterPred{where: "r.owner_id IS NOT NULL", notNull: "owner_id"})
	}
	if f.Company != "" {
		// A range of one value, not "=": MariaDB sorts the rows of
		// company = ? ORDER BY company, id again (a filesort), those of the
		// same range in index order. The collation makes both match the
		// same rows.
		out = append(out, filterPred{where: "r.company >= ? AND r.company <= ?", args: []any{f.Company, f.Company}, index: "contacts_company"})
	}
	out = append(out, timeRange("created_at", "contacts_created", f.CreatedFrom, f.CreatedTo)...)
	if !f.CreatedFrom.IsZero() {
		// A contact is updated at or after it was created: the bound is
		// always true, and it lets a walk by updated start where the
		// matches can begin instead of checking every older row (created
		// and updated go together, so the rows before are all misses).
		out = append(out, filterPred{where: "r.updated_at >= ?", args: []any{f.CreatedFrom.UTC()}, sortCol: "updated_at"})
	}
	out = append(out, timeRange("updated_at", "contacts_updated", f.UpdatedFrom, f.UpdatedTo)...)
	out = append(out, timeRange("last_contacted_at", "contacts_last_contacted", f.ContactedFrom, f.ContactedTo)...)
	if !f.NotContactedSince.IsZero() {
		out = append(out, filterPred{where: "(r.last_contacted_at IS NULL OR r.last_contacted_at < ?)", args: []any{f.NotContactedSince.UTC()}, index: "contacts_last_contacted"})
	}
	return out
}

func (s *Store) dealPreds(f DealFilter) []filterPred {
	var out []filterPred
	if len(f.Stages) > 0 {
		ranks := make([]int, 0, len(f.Stages))
		for _, st := range f.Stages {
			ranks = append(ranks, StageIndex(st))
		}
		if len(ranks) == 1 {
			// A range of one value: see the contacts' status.
			out = append(out, filterPred{where: "r.stage_rank >= ? AND r.stage_rank <= ?", args: []any{ranks[0], ranks[0]}, index: "deals_stage"})
		} else {
			out = append(out, filterPred{where: "r.stage_rank IN (?)", args: []any{bun.In(ranks)}, index: "deals_stage"})
		}
	}
	if !f.CloseFrom.IsZero() {
		v, _ := s.cursorArg(kindDate, f.CloseFrom.Format(time.DateOnly))
		out = append(out, filterPred{where: "r.close_date >= ?", args: []any{v}, index: "deals_close_date", notNull: "close_date"})
	}
	if !f.CloseTo.IsZero() {
		v, _ := s.cursorArg(kindDate, f.CloseTo.Format(time.DateOnly))
		out = append(out, filterPred{where: "r.close_date <= ?", args: []any{v}, index: "deals_close_date", notNull: "close_date"})
	}
	if f.AmountMin != nil {
		out = append(out, filterPred{where: "r.amount >= ?", args: []any{*f.AmountMin}, index: "deals_amount"})
	}
	if f.AmountMax != nil {
		out = append(out, filterPred{where: "r.amount <= ?", args: []any{*f.AmountMax}, index: "deals_amount"})
	}
	return out
}

// ownerPred is the condition of an owner filter of several owners.
func ownerPred(owners []int64, ownerIndex string) filterPred {
	var ids []int64
	none := false
	for _, o := range owners {
		if o == Unassigned {
			none = true
		} else {
			ids = append(ids, o)
		}
	}
	switch {
	case len(ids) == 0:
		return filterPred{where: "r.owner_id IS NULL", index: ownerIndex}
	case none:
		return filterPred{where: "(r.owner_id IN (?) OR r.owner_id IS NULL)", args: []any{bun.In(ids)}, index: ownerIndex}
	}
	return filterPred{where: "r.owner_id IN (?)", args: []any{bun.In(ids)}, index: ownerIndex}
}

// applyOwners folds an owner filter into the list parameters: a single
// owner becomes the view (the owner indexes serve it), several a condition.
// It reports false when the view and the filter leave nothing.
func (sp *listSpec) applyOwners(p *listParams, owners []int64) bool {
	owners = slices.Compact(slices.Sorted(slices.Values(owners)))
	if len(owners) == 0 {
		return true
	}
	viewOwner, hasView := int64(0), false
	switch p.view {
	case ViewMine:
		viewOwner, hasView = p.userID, true
	case ViewUnassigned:
		viewOwner, hasView = Unassigned, true
	}
	if hasView {
		return slices.Contains(owners, viewOwner)
	}
	if len(owners) == 1 {
		if owners[0] == Unassigned {
			p.view = ViewUnassigned
		} else {
			p.view, p.userID = ViewMine, owners[0]
		}
		// Unassigned is not a view every list offers; the list's own
		// views are checked against the owner views here.
		p.ownerView = true
		return true
	}
	p.owners = owners
	p.preds = append(p.preds, ownerPred(owners, sp.ownerIndexName()))
	return true
}

// ownerIndexName is an index on (team_id, owner_id, …) of the list.
func (sp *listSpec) ownerIndexName() string {
	return sp.table + "_owner_name"
}

// countUpTo counts the team's rows matching a condition in its index, up to
// limit: the count reads at most limit index entries.
func (sp *listSpec) countUpTo(ctx context.Context, s *Store, teamID int64, index string, preds []filterPred, limit int) (int, error) {
	var q strings.Builder
	args := []any{teamID}
	q.WriteString("SELECT COUNT(*) FROM (SELECT 1 FROM " + sp.table + " AS r" + s.indexHint(index) + " WHERE r.team_id = ?")
	for _, p := range preds {
		q.WriteString(" AND " + p.where)
		args = append(args, p.args...)
	}
	q.WriteString(" LIMIT ?) AS x")
	args = append(args, limit)
	var n int
	if err := s.DB.NewRaw(q.String(), args...).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count %s: %w", sp.table, err)
	}
	return n, nil
}

// filterPlan narrows a search plan by the filters: when one filter is
// selective, exactly the ids matching every filter (and the search's rare
// ids, when it has them) are the candidates.
func (sp *listSpec) filterPlan(ctx context.Context, s *Store, teamID int64, p listParams, plan searchPlan) (searchPlan, error) {
	if len(p.preds) == 0 || plan.none {
		return plan, nil
	}
	best, bestN := "", -1
	var bestPred filterPred
	for _, f := range p.preds {
		if f.index == "" {
			continue
		}
		n, err := sp.countUpTo(ctx, s, teamID, f.index, []filterPred{f}, filterCap+1)
		if err != nil {
			return plan, err
		}
		if n == 0 {
			return searchPlan{none: true}, nil
		}
		if bestN < 0 || n < bestN {
			best, bestN, bestPred = f.index, n, f
		}
	}
	if bestN < 0 {
		return plan, nil
	}
	if bestN > filterCap {
		// No filter alone is selective; several together may be (each
		// matches thousands, all of them a few dozen), and then the walk
		// would check the whole team (9 s a page on MariaDB at 1M). When
		// the smallest filter's range holds at most narrowCap rows, its
		// matches of every filter are read from it: a bounded read, and
		// the candidates if they are few.
		var ok bool
		var err error
		if best, bestPred, ok, err = sp.narrowest(ctx, s, teamID, p.preds); err != nil || !ok {
			return plan, err
		}
	}
	// Read the matches from the selective filter's range, every other
	// filter checked on the way.
	var q strings.Builder
	args := []any{teamID}
	q.WriteString("SELECT r.id FROM " + sp.table + " AS r" + s.indexHint(best) + " WHERE r.team_id = ? AND " + bestPred.where)
	args = append(args, bestPred.args...)
	for _, f := range p.preds {
		if f.where == bestPred.where || f.sortCol != "" {
			continue
		}
		q.WriteString(" AND " + f.where)
		args = append(args, f.args...)
	}
	q.WriteString(" LIMIT ?")
	args = append(args, filterCap+1)
	var ids []int64
	if err := s.DB.NewRaw(q.String(), args...).Scan(ctx, &ids); err != nil {
		return plan, fmt.Errorf("filter %s: %w", sp.table, err)
	}
	if plan.rare {
		keep := make(map[int64]bool, len(plan.ids))
		for _, id := range plan.ids {
			keep[id] = true
		}
		ids = slices.DeleteFunc(ids, func(id int64) bool { return !keep[id] })
	}
	if len(ids) == 0 {
		return searchPlan{none: true}, nil
	}
	if len(ids) > filterCap {
		// Too many to sort each page (a narrow read that found them
		// dense): the walk fills its pages quickly.
		return plan, nil
	}
	slices.Sort(ids)
	plan.rare, plan.ids = true, ids
	return plan, nil
}

// narrowCap: a combination of filters is read from the range of its
// smallest filter when that range holds at most this many rows. A
// variable for tests.
var narrowCap = 20000

// narrowest finds, among two or more indexed filters, one whose index
// range holds at most narrowCap rows (counted in the index alone, up to
// narrowCap+1); false when there are fewer than two or none is that small.
func (sp *listSpec) narrowest(ctx context.Context, s *Store, teamID int64, preds []filterPred) (string, filterPred, bool, error) {
	// Two bounds of one range (created from … to) are one filter here.
	var indexed []filterPred
	for _, f := range preds {
		if f.index != "" && !slices.ContainsFunc(indexed, func(g filterPred) bool { return g.index == f.index }) {
			indexed = append(indexed, f)
		}
	}
	if len(indexed) < 2 || filterCap <= 0 {
		return "", filterPred{}, false, nil
	}
	for _, f := range indexed {
		n, err := sp.countUpTo(ctx, s, teamID, f.index, []filterPred{f}, narrowCap+1)
		if err != nil {
			return "", filterPred{}, false, err
		}
		if n <= narrowCap {
			return f.index, f, true, nil
		}
	}
	return "", filterPred{}, false, nil
}

// withPreds adds the filter conditions to every segment, and leaves out the
// NULL segment of a column a condition proves not NULL.
func withPreds(segs []segment, preds []filterPred) []segment {
	if len(preds) == 0 {
		return segs
	}
	out := segs[:0:0]
	for _, g := range segs {
		if g.null != "" && slices.ContainsFunc(preds, func(f filterPred) bool { return f.notNull == g.null }) {
			continue
		}
		for _, f := range preds {
			if f.sortCol != "" && f.sortCol != g.col {
				continue
			}
			g.where = and(g.where, f.where)
			g.args = append(slices.Clip(g.args), f.args...)
		}
		out = append(out, g)
	}
	return out
}

// ViewBackBurner lists the contacts with an owner that nobody contacted in
// the team's back-burner days (or ever), longest untouched first.
const ViewBackBurner = "back_burner"

// contactParams turns a contact query into list parameters; false when the
// view and the filter leave nothing to list.
func (s *Store) contactParams(ctx context.Context, teamID int64, q ContactQuery) (listParams, bool, error) {
	p := listParams{view: q.View, userID: q.UserID, search: q.Search, sort: q.Sort, desc: q.Desc, cursor: q.Cursor, limit: q.Limit}
	f := q.Filter
	if q.View == ViewBackBurner {
		days, err := s.BackBurnerDays(ctx, teamID)
		if err != nil {
			return p, false, err
		}
		f.Assigned, f.NotContactedSince = true, s.now().AddDate(0, 0, -days)
		p.view = ViewAll
		if p.sort == "" {
			p.sort = "last_contacted"
		}
	}
	p.preds = f.preds()
	ok := contactList.applyOwners(&p, f.Owners)
	return p, ok, nil
}

// dealParams turns a deal query into list parameters; see contactParams.
func (s *Store) dealParams(q DealQuery) (listParams, bool) {
	p := listParams{view: q.View, userID: q.UserID, search: q.Search, sort: q.Sort, desc: q.Desc, cursor: q.Cursor, limit: q.Limit}
	p.preds = s.dealPreds(q.Filter)
	ok := dealList.applyOwners(&p, q.Filter.Owners)
	return p, ok
}

// DefaultBackBurnerDays is the back-burner setting of a team that chose none.
const DefaultBackBurnerDays = 30

// BackBurnerDays is the team's setting: after how many days without contact
// an owned contact is on the back burner.
func (s *Store) BackBurnerDays(ctx context.Context, teamID int64) (int, error) {
	var days []int
	if err := s.DB.NewRaw("SELECT back_burner_days FROM list_settings WHERE team_id = ?", teamID).Scan(ctx, &days); err != nil {
		return 0, fmt.Errorf("back-burner days of team %d: %w", teamID, err)
	}
	if len(days) == 0 {
		return DefaultBackBurnerDays, nil
	}
	return days[0], nil
}

// SetBackBurnerDays changes the team's back-burner setting (1 to 365 days);
// only owners and admins may.
func (s *Store) SetBackBurnerDays(ctx context.Context, teamID int64, actor *User, days int) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	if days < 1 || days > 365 {
		return FieldErrors{"back_burner_days": "Choose between 1 and 365 days."}
	}
	row := &struct {
		bun.BaseModel `bun:"table:list_settings"`
		TeamID        int64 `bun:"team_id,pk"`
		Days          int   `bun:"back_burner_days"`
	}{TeamID: teamID, Days: days}
	if _, err := s.upsert(s.DB.NewInsert().Model(row), "team_id", "back_burner_days").Exec(ctx); err != nil {
		return fmt.Errorf("set back-burner days of team %d: %w", teamID, err)
	}
	return s.listChanged(ctx, s.DB, teamID) // the back-burner view changes
}

// backBurnerCountCap bounds the back-burner count of the dashboard header:
// beyond it the header says "10,000+".
const backBurnerCountCap = 10000

// BackBurnerCount counts the team's contacts on the back burner, up to
// backBurnerCountCap+1 (more means "over the cap"), from the last-contacted
// index alone.
func (s *Store) BackBurnerCount(ctx context.Context, teamID int64) (n int, capped bool, err error) {
	days, err := s.BackBurnerDays(ctx, teamID)
	if err != nil {
		return 0, false, err
	}
	f := ContactFilter{Assigned: true, NotContactedSince: s.now().AddDate(0, 0, -days)}
	n, err = contactList.countUpTo(ctx, s, teamID, "contacts_last_contacted", f.preds(), backBurnerCountCap+1)
	if err != nil {
		return 0, false, fmt.Errorf("back burner of team %d: %w", teamID, err)
	}
	return min(n, backBurnerCountCap), n > backBurnerCountCap, nil
}
