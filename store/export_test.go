package store

import (
	"context"

	"github.com/uptrace/bun"
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
