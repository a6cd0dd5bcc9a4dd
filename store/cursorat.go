package store

import (
	"context"
	"fmt"
)

// ListCursorAt returns the Next cursor of a page ending with the row at
// offset (0-based) of the contact or deal listing, found with OFFSET. It is
// slow at depth and serves only to set up benchmarks and the load test
// (loadtest/), which need a page deep in a listing without walking to it.
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
