package store

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// SearchMode sets the search plan thresholds (see rareCap and setCap)
// so that tests take each plan.
type SearchMode struct {
	Name            string
	Rare, Intersect int
	// Budget, when positive, is the set walk's budget in index entries
	// (from then on the set is sorted by primary key).
	Budget int
	// Dense is denseCap (0: dense words are probed); Order is orderCap
	// (0: no ordered sets; positive: every set of one id or more).
	Dense, Order int
	// IDsOnly: walk batches read ids alone and the hits' keys by primary
	// key (the fallback of walkCarriesKeys).
	IDsOnly bool
}

// SearchCacheLoads is how many values of a kind ("set", "dense",
// "t:order", "l:order", "t:narrow", "l:narrow") the search cache has read
// so far.
func SearchCacheLoads(kind string) int64 {
	if n, ok := searchSets.loads.Load(kind); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// OrderedWalks is how many pages came from ordered sets so far.
func OrderedWalks() int64 { return orderedWalks.Load() }

// Store tests build the cache's background values at once (see
// searchBuildAsync), so that each request's plan is known.
func init() { searchBuildAsync = false }

var defaultDenseCap, defaultOrderCap, defaultOrderMin = denseCap, orderCap, orderMin

// SearchModes are the plans: the defaults; probe every word while walking
// the sort index; read the matching ids of every search and sort them; and
// the set walk for every set of more than mixedAt records.
func SearchModes(mixedAt int) []SearchMode {
	return []SearchMode{
		{Name: "default", Rare: rareCap, Intersect: setCap, Dense: defaultDenseCap, Order: defaultOrderCap},
		{Name: "probe", Rare: -1, Intersect: -1},
		{Name: "rare", Rare: 1 << 30, Intersect: 1 << 30},
		{Name: "mixed", Rare: mixedAt, Intersect: 1 << 30},
		{Name: "dense sets", Rare: mixedAt, Intersect: 4 * mixedAt, Dense: 1 << 30},
		{Name: "ordered", Rare: mixedAt, Intersect: 1 << 30, Order: 1 << 30},
		{Name: "dense sets, ordered", Rare: mixedAt, Intersect: 4 * mixedAt, Dense: 1 << 30, Order: 1 << 30},
	}
}

// Use applies the mode and returns a function that restores the defaults.
func (m SearchMode) Use() (restore func()) {
	oldRare, oldInter, oldBudget := rareCap, setCap, walkBudget
	oldDense, oldOrder, oldMin := denseCap, orderCap, orderMin
	oldCarry := walkCarriesKeys
	rareCap, setCap, walkBudget = m.Rare, m.Intersect, m.Budget
	walkCarriesKeys = !m.IDsOnly
	denseCap, orderCap, orderMin = m.Dense, m.Order, defaultOrderMin
	if m.Order > 0 && m.Order != defaultOrderCap {
		orderMin = 1
	}
	ForgetDenseWords()
	return func() {
		rareCap, setCap, walkBudget = oldRare, oldInter, oldBudget
		denseCap, orderCap, orderMin = oldDense, oldOrder, oldMin
		walkCarriesKeys = oldCarry
	}
}

// ForgetDenseWords empties the statistics of common words (denseWords), so
// that a test sees each word's terms read again.
func ForgetDenseWords() {
	denseWords.mu.Lock()
	defer denseWords.mu.Unlock()
	denseWords.m = map[denseKey]denseEntry{}
}

// ContactTerms exposes the search tokens of a contact to tests.
func ContactTerms(name, email, company, phone string) []string {
	return contactTerms(name, email, company, phone)
}

// SetSeedBulkThreshold changes the contact count from which Seed bulk-loads
// MySQL, so tests can take that path with little data.
func SetSeedBulkThreshold(n int) (restore func()) {
	old := seedBulkThreshold
	seedBulkThreshold = n
	return func() { seedBulkThreshold = old }
}

// InTx exposes the store's retrying transaction helper to tests.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.inTx(ctx, fn)
}

// OnRetry sets the hook told of every transaction run again.
func (s *Store) OnRetry(fn func(error)) { s.onRetry = fn }

// Statements exposes the migration splitter.
func Statements(sql string) []string { return statements(sql) }

// MigrateList applies the given migrations instead of the embedded ones.
func (s *Store) MigrateList(ctx context.Context, all []Migration) (int, error) {
	return s.migrate(ctx, all)
}

// ContactSearchPlan names the plan ListContacts takes for the search q in
// the team: "none" (nothing can match), "rare", "set", "probe" or "all" (no
// words).
func (s *Store) ContactSearchPlan(ctx context.Context, teamID int64, q string) (string, error) {
	words, ok := parseSearch(q)
	if !ok {
		return "none", nil
	}
	p, err := planSearch(ctx, s, contactTermSet, teamID, words)
	switch {
	case err != nil:
		return "", err
	case p.none:
		return "none", nil
	case p.rare:
		return "rare", nil
	case p.set != nil:
		return "set", nil
	case p.member != nil:
		return "dense sets", nil
	case len(p.probes) > 0:
		return "probe", nil
	}
	return "all", nil
}

// InsertDealForTest writes a deal and its stage-log rows straight to their
// tables, the way a store write method would (one transaction, with the
// Change of what it wrote): tests build histories no form can make. The
// rows' ids are set; each log row's DealID is set to the deal's.
func (s *Store) InsertDealForTest(ctx context.Context, d *Deal, logs []StageLog) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return err
		}
		var at []time.Time
		for i := range logs {
			logs[i].DealID = d.ID
			if _, err := tx.NewInsert().Model(&logs[i]).Exec(ctx); err != nil {
				return err
			}
			at = append(at, logs[i].At)
		}
		return s.recordChange(ctx, tx, Change{TeamID: d.TeamID, Deals: dealsInserted([]Deal{*d}), Logged: at})
	})
}

// InsertActivityForTest writes an activity (at any time) like
// InsertDealForTest.
func (s *Store) InsertActivityForTest(ctx context.Context, a *Activity) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, Change{TeamID: a.TeamID, Activities: activitiesInserted([]Activity{*a})})
	})
}

// SetDealForTest overwrites a deal's stage, goal, amount and close date
// (a zero date: none) like InsertDealForTest, with no rule checked.
func (s *Store) SetDealForTest(ctx context.Context, teamID, id int64, stage string, goal, amount int64, closeDate time.Time) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old := new(Deal)
		if err := s.forUpdate(tx.NewSelect().Model(old).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Deal)(nil)).Set("goal = ?", goal).Set("amount = ?", amount).
			Set("close_date = ?", nullDate(closeDate)).Set("stage = ?", stage).Set("stage_rank = ?", StageIndex(stage)).
			Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		after := *old
		after.Stage, after.Goal, after.Amount, after.CloseDate = stage, goal, amount, closeDate
		return s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: []DealDelta{{Before: old, After: &after}}})
	})
}

// DealTerms exposes the search tokens of a deal to tests.
func DealTerms(name, company, contactName string) []string {
	return dealTerms(name, company, contactName)
}

// SetSearchCacheBytes replaces the search set cache with an empty one of
// that bound (0: off) until restore.
func SetSearchCacheBytes(n int) (restore func()) {
	old := searchSets
	searchSets = newSearchCache(n)
	return func() { searchSets = old }
}

// SetExportBatch changes the records an export hands over at a time (and
// the page of a paging export); it returns a function that restores it.
func SetExportBatch(n int) (restore func()) {
	old := exportBatch
	exportBatch = n
	return func() { exportBatch = old }
}

// SetExportBuckets changes the rows of a bucket pass and the listing size
// from which MySQL exports take passes (exports_buckets.go).
func SetExportBuckets(rows, from int) (restore func()) {
	oldRows, oldMin := exportBucketRows, exportBucketMin
	exportBucketRows, exportBucketMin = rows, from
	return func() { exportBucketRows, exportBucketMin = oldRows, oldMin }
}

// OverlayWalks is how many pages came from ordered sets carried over term
// writes (search_patch.go) so far.
func OverlayWalks() int64 { return overlayWalks.Load() }

// SetExportBucketReads changes how a bucket's rows are read: lookups ids
// a statement in IN lists of in, and a pass over the bucket's id range when
// its rows are at least one in dense of the range's ids.
func SetExportBucketReads(lookups, in, dense int) (restore func()) {
	oldLookups, oldIn, oldDense := bucketLookup, bucketIn, bucketDense
	bucketLookup, bucketIn, bucketDense = lookups, in, dense
	return func() { bucketLookup, bucketIn, bucketDense = oldLookups, oldIn, oldDense }
}
