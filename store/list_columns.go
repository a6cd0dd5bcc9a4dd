package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// listColumns is one user's column choice for one list table.
type listColumns struct {
	bun.BaseModel `bun:"table:list_columns"`

	UserID  int64  `bun:"user_id,pk"`
	List    string `bun:"list,pk"`
	Columns string `bun:"columns,notnull"`
}

// MaxListColumns bounds a stored column choice (keys joined by commas).
const MaxListColumns = 500

// ListColumns returns the column keys userID chose for list, and false when
// the user has not chosen (the table shows its defaults).
func (s *Store) ListColumns(ctx context.Context, userID int64, list string) ([]string, bool, error) {
	var cols string
	err := s.DB.NewSelect().TableExpr("list_columns").Column("columns").
		Where("user_id = ? AND list = ?", userID, list).Scan(ctx, &cols)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read columns of user %d for %s: %w", userID, list, err)
	}
	if cols == "" {
		return []string{}, true, nil
	}
	return strings.Split(cols, ","), true, nil
}

// SetListColumns stores userID's column choice for list; nil keys forget
// the choice (back to the defaults). The caller passes known keys only.
func (s *Store) SetListColumns(ctx context.Context, userID int64, list string, keys []string) error {
	if keys == nil {
		if _, err := s.DB.NewDelete().TableExpr("list_columns").Where("user_id = ? AND list = ?", userID, list).Exec(ctx); err != nil {
			return fmt.Errorf("reset columns of user %d for %s: %w", userID, list, err)
		}
		return s.userListChanged(ctx, userID)
	}
	joined := strings.Join(keys, ",")
	if len(joined) > MaxListColumns || len(list) > 20 {
		return fmt.Errorf("columns of user %d for %s: too long", userID, list)
	}
	row := &listColumns{UserID: userID, List: list, Columns: joined}
	if _, err := s.upsert(s.DB.NewInsert().Model(row), "user_id, list", "columns").Exec(ctx); err != nil {
		return fmt.Errorf("store columns of user %d for %s: %w", userID, list, err)
	}
	return s.userListChanged(ctx, userID)
}
