package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Setting is one name/value pair of instance-wide configuration kept in the
// database, so that every instance on the database shares it.
type Setting struct {
	bun.BaseModel `bun:"table:settings"`

	Name  string `bun:"name,pk"`
	Value string `bun:"value,notnull"`
}

// EnsureSetting returns the stored value of name, first storing
// generate()'s result if there is none. Two instances racing here end up with
// the same value: the first insert wins and both read it back.
func (s *Store) EnsureSetting(ctx context.Context, name string, generate func() string) (string, error) {
	row := &Setting{Name: name, Value: generate()}
	if _, err := s.upsert(s.DB.NewInsert().Model(row), "name").Exec(ctx); err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	var value string
	if err := s.DB.NewSelect().TableExpr("settings").Column("value").Where("name = ?", name).Scan(ctx, &value); err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return value, nil
}
