package handlers

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// importPace is how an import job steps aside for the requests this
// process serves (store.ImportPacer): accessLog calls begin and end around
// every request, and the job asks Busy and Recent between its statements.
//
// On two cores an import keeps the database server about one core busy
// (MariaDB, 100k contacts: 7.6 s of its CPU in a 9 s job). A request that
// arrives while one of the job's statements runs waits for a core at each
// of its hops, and a list page served from the cache (0.7 ms) took 3-4 ms
// at p95 during a 100k import, 3-4x its idle p95. Stepping aside only
// while a request is in flight comes too late: the statement already
// running goes on. So the job also anticipates the next request. While
// requests come (Recent), it works in the first part of the gap after
// each one - from its end (on SQLite, importResponseTail after it) until
// the usual gap of late (the median of the last importPaceGaps gaps) less
// importPaceMargin - and holds in the rest, until the next request has
// been served; each hold lasts at most importStepAside, so that steady
// traffic slows a job and never stops it (BENCHMARKS.md, rounds 9-10).
type importPace struct {
	// now is the clock (tests set it).
	now func() time.Time
	// requests counts the requests being served now.
	requests atomic.Int64
	// lastEnd is when the last request ended (unix nanoseconds, 0: none).
	lastEnd atomic.Int64
	// budget is how long after a request's end the job may still work
	// while requests come (nanoseconds): the usual gap less the margin.
	budget atomic.Int64
	// tail is how long after a request's end the job still holds
	// (importResponseTail, or none).
	tail time.Duration

	mu   sync.Mutex
	gaps []time.Duration // the last importPaceGaps gaps, oldest first
}

const (
	// importRecentWindow is how long after a request the job still counts
	// the app as in use (Recent): a pipelined job then runs one batch at a
	// time, writes in short statements, and anticipates the next request.
	// Short enough that the import page's progress poll (every second)
	// leaves the job at full speed most of the time; gaps longer than this
	// are a person thinking, not a pattern.
	importRecentWindow = 250 * time.Millisecond
	// importPaceGaps is how many recent gaps between requests the usual gap
	// is taken from.
	importPaceGaps = 8
	// importPaceMargin is how long before the next request is due the job
	// stops starting statements: a short statement (a few ms, see
	// store.importPacedRows) started just before it ends in time.
	importPaceMargin = 5 * time.Millisecond
	// importStepAside bounds each wait of the job: 20 ms a batch of 1,000
	// rows is at most 20 s over a million rows (a list page takes a few
	// ms); 100 ms, tried first, could cost 100 s of the five minutes a
	// million-row import is allowed.
	importStepAside = 20 * time.Millisecond
	// importResponseTail is how long after a request's end a job on SQLite
	// still holds: the handlers are done then, but the answer still leaves
	// through fasthttp and the loopback to the client, and a job that took
	// its core back at once (SQLite runs in this process) delayed those
	// last hops: list p95 during a 100k import x1.80 median of five
	// without the tail, x1.15 with it, the job as long. On MariaDB, whose
	// statements run in the database server, it made the job 25 % longer
	// and the list no faster (x1.86 against x1.58, four pairs): no tail
	// there (BENCHMARKS.md, round 10).
	importResponseTail = 1500 * time.Microsecond
)

// newImportPace makes a pace that holds tail past each request's end.
func newImportPace(tail time.Duration) *importPace {
	p := &importPace{now: time.Now, tail: tail}
	p.budget.Store(int64(importRecentWindow)) // no pattern seen yet: no hold
	return p
}

// begin notes a request's start. A request that finds none in flight
// ends a gap: one shorter than importRecentWindow joins the recent gaps.
// own says the request is the app's own (a list page's background redraw,
// started by a request as it was served): it holds the job while it runs
// but is not when the next request is due from, so it neither ends a gap
// nor starts one (after each redraw, every 0.5 s, the job would otherwise
// work into the next list request).
func (p *importPace) begin(own bool) {
	if p.requests.Add(1) != 1 || own {
		return
	}
	if gap, ok := p.sinceEnd(); ok && gap >= 0 && gap < importRecentWindow {
		p.noteGap(gap)
	}
}

// end notes the end of a request begun with the same own.
func (p *importPace) end(own bool) {
	if !own {
		p.lastEnd.Store(p.now().UnixNano())
	}
	p.requests.Add(-1)
}

// noteGap adds a gap and sets the budget from the median of the recent
// ones (a poll landing between two requests of a steady client is one
// short gap among them, not the pattern).
func (p *importPace) noteGap(gap time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.gaps) == importPaceGaps {
		p.gaps = p.gaps[1:]
	}
	p.gaps = append(p.gaps, gap)
	sorted := slices.Clone(p.gaps)
	slices.Sort(sorted)
	p.budget.Store(int64(max(0, sorted[len(sorted)/2]-importPaceMargin)))
}

// sinceEnd is the time since the last request ended (false: none yet).
func (p *importPace) sinceEnd() (time.Duration, bool) {
	last := p.lastEnd.Load()
	if last == 0 {
		return 0, false
	}
	return p.now().Sub(time.Unix(0, last)), true
}

// Busy says whether the job should hold now: a request is in flight or
// its answer on its way (tail), or requests come and the next one is due
// (store.ImportPacer).
func (p *importPace) Busy() bool {
	if p.requests.Load() > 0 {
		return true
	}
	since, ok := p.sinceEnd()
	if !ok || since >= importRecentWindow {
		return false
	}
	return since < p.tail || since >= time.Duration(p.budget.Load())
}

// Recent says whether a request is in flight or one ended within
// importRecentWindow (store.ImportPacer).
func (p *importPace) Recent() bool {
	if p.requests.Load() > 0 {
		return true
	}
	since, ok := p.sinceEnd()
	return ok && since < importRecentWindow
}

// Wait holds while Busy, for at most importStepAside, checking every
// millisecond (store.ImportPacer).
func (p *importPace) Wait(ctx context.Context) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	deadline := p.now().Add(importStepAside)
	for p.Busy() && p.now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
