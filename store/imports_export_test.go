package store

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
