package store

import (
	"context"
	"fmt"
)

// SetImportJobBatch changes the rows per transaction of import jobs, the
// pipelined ones too (for tests and benchmarks); it returns a function that restores it.
func SetImportJobBatch(n int) (restore func()) {
	old, oldPipe := importJobBatch, importPipeBatch
	importJobBatch, importPipeBatch = n, n
	return func() { importJobBatch, importPipeBatch = old, oldPipe }
}

// The rows per statement of an import job while the app serves requests,
// and the most one of its transactions holds for them.
const (
	ImportPacedRows       = importPacedRows
	ImportPacedRowsSQLite = importPacedRowsSQLite
	ImportPacedTerms      = importPacedTerms
	ImportInsertTerms     = importInsertTerms
	ImportPacedLookups    = importPacedLookups
	ImportPacedDeletes    = importPacedDeletes
	ImportPacedUndo       = importPacedUndo
	ImportTxHold          = importTxHold
)

// UndoImport queues an import's undo and runs it at once, in the caller's
// time, under a lease of its own (for tests; the app queues it for its
// worker, QueueUndo). An undo already running elsewhere is left to its
// worker (ErrImportState).
func (s *Store) UndoImport(ctx context.Context, teamID, id int64, actor *User) (*Import, error) {
	owner := "undo-inline"
	im, err := s.queueUndo(ctx, teamID, id, actor, owner)
	if err != nil {
		return nil, err
	}
	if im.LeaseOwner != owner {
		return nil, fmt.Errorf("undo import %d: run by %q: %w", id, im.LeaseOwner, ErrImportState)
	}
	if err := s.RunUndoPaced(ctx, im, owner, nil); err != nil {
		return nil, err
	}
	return s.ImportByID(ctx, teamID, id)
}
