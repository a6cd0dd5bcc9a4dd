package store

// SetFilterCap changes filterCap (see filters.go), so that tests take both
// filter plans; it returns a function that restores it.
func SetFilterCap(n int) (restore func()) {
	old := filterCap
	filterCap = n
	return func() { filterCap = old }
}

// SetNarrowCap changes the range size up to which a combination of filters
// is read from its smallest filter's range.
func SetNarrowCap(n int) (restore func()) {
	old := narrowCap
	narrowCap = n
	return func() { narrowCap = old }
}

// SetBulkBatch changes the records per bulk transaction.
func SetBulkBatch(n int) (restore func()) {
	old := bulkBatch
	bulkBatch = n
	return func() { bulkBatch = old }
}
