package store

import (
	"context"
	"fmt"
)

// Search plans, for tests that must take each one.
const (
	PlanProbe    = "probe"    // every word probed row by row while walking
	PlanMaterial = "material" // walk joined to materialised matches
	PlanRare     = "rare"     // candidates loaded by id and sorted
)

// UseSearchPlan makes every search take plan; it returns a function that
// restores the thresholds.
func UseSearchPlan(plan string) (restore func()) {
	oldRare, oldMat := rareIDCap, materialCap
	switch plan {
	case PlanProbe:
		materialCap = -1
	case PlanMaterial:
		rareIDCap, materialCap = -1, 1<<30
	case PlanRare:
		rareIDCap, materialCap = 1<<30, 1<<30
	}
	return func() { rareIDCap, materialCap = oldRare, oldMat }
}

// SearchPlans lists the plans UseSearchPlan takes.
var SearchPlans = []string{PlanProbe, PlanMaterial, PlanRare}

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

// ListCursorAt returns the Next cursor of a page ending with the row at
// offset (0-based) of the contact or deal listing, found with OFFSET — slow
// at depth, for benchmark setup only.
func (s *Store) ListCursorAt(ctx context.Context, table string, teamID int64, view string, userID int64, sortKey string, desc bool, offset int) (string, error) {
	sp := &contactList
	if table == "deals" {
		sp = &dealList
	}
	p := listParams{view: view, userID: userID, sort: sortKey, desc: desc}
	d := sp.sortDef(sortKey)
	segs, err := sp.segments(ctx, s, teamID, p, d)
	if err != nil {
		return "", err
	}
	for _, g := range segs {
		where := "r.team_id = ?"
		args := []any{teamID}
		if g.where != "" {
			where += " AND " + g.where
			args = append(args, g.args...)
		}
		var n int
		if err := s.DB.NewRaw("SELECT COUNT(*) FROM "+sp.table+" AS r WHERE "+where, args...).Scan(ctx, &n); err != nil {
			return "", err
		}
		if offset >= n {
			offset -= n
			continue
		}
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		cols, order := "r.id", "r.id "+dir
		if g.col != "" {
			cols += ", r." + g.col + " AS " + keyAlias(g.kind)
			order = "r." + g.col + " " + dir + ", " + order
		}
		var keys []pageKey
		if err := s.DB.NewRaw("SELECT "+cols+" FROM "+sp.table+" AS r WHERE "+where+" ORDER BY "+order+" LIMIT 1 OFFSET ?",
			append(args, offset)...).Scan(ctx, &keys); err != nil {
			return "", err
		}
		c := cursor{Sort: d.key, Desc: desc, Seg: g.key, ID: keys[0].ID}
		if g.col != "" {
			c.Val = keys[0].value(g.kind)
		}
		return c.encode(), nil
	}
	return "", fmt.Errorf("offset beyond the listing")
}
