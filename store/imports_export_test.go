package store

// SetImportJobBatch changes the rows per transaction of import jobs (for
// benchmarks); it returns a function that restores it.
func SetImportJobBatch(n int) (restore func()) {
	old := importJobBatch
	importJobBatch = n
	return func() { importJobBatch = old }
}
