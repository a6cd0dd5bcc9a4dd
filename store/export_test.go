package store

import (
	"context"
	"fmt"
)

// SearchMode sets the search plan thresholds (see rareIDCap and
// materialCap) so that tests take each plan.
type SearchMode struct {
	Name           string
	Rare, Material int
}

// SearchModes are the plans, pure and mixed: probe every word; materialise
// every word; load rare candidates by id; and the mixes where words with
// more than Material hits are probed while the others are materialised or
// give the candidates. mixedAt is the hit count that splits the words.
func SearchModes(mixedAt int) []SearchMode {
	return []SearchMode{
		{"default", rareIDCap, materialCap},
		{"probe", 0, -1},
		{"material", -1, 1 << 30},
		{"rare", 1 << 30, 1 << 30},
		{"material+probe", -1, mixedAt},
		{"rare+probe", 1 << 30, mixedAt},
	}
}

// Use applies the mode and returns a function that restores the defaults.
func (m SearchMode) Use() (restore func()) {
	oldRare, oldMat := rareIDCap, materialCap
	rareIDCap, materialCap = m.Rare, m.Material
	return func() { rareIDCap, materialCap = oldRare, oldMat }
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
