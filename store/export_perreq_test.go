package store

import (
	"context"

	"github.com/uptrace/bun"
)

// FastContactRows and GeneralContactRows expose the two reads of a list
// page's rows (list_rows.go) for comparison.
func (s *Store) FastContactRows(ctx context.Context, teamID int64, ids []int64) ([]Contact, error) {
	return s.contactRows(ctx, teamID, ids)
}

func (s *Store) GeneralContactRows(ctx context.Context, teamID int64, ids []int64) ([]Contact, error) {
	var rows []Contact
	err := s.selectContacts(s.DB).Where("c.team_id = ?", teamID).Where("c.id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	return rows, err
}

func (s *Store) FastDealRows(ctx context.Context, teamID int64, ids []int64) ([]Deal, error) {
	return s.dealRows(ctx, teamID, ids)
}

func (s *Store) GeneralDealRows(ctx context.Context, teamID int64, ids []int64) ([]Deal, error) {
	var rows []Deal
	err := s.selectDeals(s.DB, primaryKey).Where("d.team_id = ?", teamID).Where("d.id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	return rows, err
}
