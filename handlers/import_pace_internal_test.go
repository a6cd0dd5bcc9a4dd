package handlers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"sherpa/store"
	"sherpa/store/storetest"
)

// paceClock is a hand-moved clock for importPace.
type paceClock struct{ t time.Time }

func (c *paceClock) now() time.Time      { return c.t }
func (c *paceClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newPaceAt(c *paceClock) *importPace {
	p := newImportPace(importResponseTail)
	p.now = c.now
	return p
}
func (c *paceClock) request(p *importPace, took time.Duration) {
	p.begin(false)
	c.add(took)
	p.end(false)
}

// TestImportPaceHoldsBeforeTheNextRequestIsDue: with requests coming 20 ms
// apart, the job holds while each answer is on its way
// (importResponseTail), may then work until the median gap less the
// margin after the request's end, and holds for the rest of the gap; a
// request in flight always holds it; past importRecentWindow with no
// request it runs freely again.
func TestImportPaceHoldsBeforeTheNextRequestIsDue(t *testing.T) {
	c := &paceClock{t: time.Unix(1_000_000, 0)}
	p := newPaceAt(c)
	// at answers f as seen d from now, without moving the clock.
	at := func(d time.Duration, f func() bool) bool {
		p.now = func() time.Time { return c.t.Add(d) }
		defer func() { p.now = c.now }()
		return f()
	}
	if p.Busy() || p.Recent() {
		t.Fatal("no request yet: the job should neither hold nor count the app as in use")
	}
	c.request(p, time.Millisecond)
	if at(30*time.Millisecond, p.Busy) {
		t.Error("one request and no gap seen yet: no hold, only the request itself")
	}
	if !at(30*time.Millisecond, p.Recent) {
		t.Error("30 ms after a request the app counts as in use")
	}
	for range importPaceGaps {
		c.add(20 * time.Millisecond)
		c.request(p, time.Millisecond)
	}
	budget := 20*time.Millisecond - importPaceMargin
	for _, w := range []struct {
		after time.Duration
		busy  bool
	}{{0, true}, {importResponseTail - time.Microsecond, true}, {importResponseTail, false},
		{budget - time.Millisecond, false}, {budget, true}, {19 * time.Millisecond, true},
		{importRecentWindow - time.Millisecond, true}, {importRecentWindow, false}} {
		if got := at(w.after, p.Busy); got != w.busy {
			t.Errorf("%v after a request (budget %v): Busy %v, want %v", w.after, budget, got, w.busy)
		}
	}
	if at(importRecentWindow, p.Recent) {
		t.Errorf("%v after the last request the app no longer counts as in use", importRecentWindow)
	}
	p.begin(false)
	if !p.Busy() || !p.Recent() {
		t.Error("a request in flight holds the job")
	}
	p.end(false)
	// The app's own request (a background redraw) 12 ms after that one
	// holds the job while it runs, and leaves the next request due when
	// it was: 15 ms after the other one's end the job holds.
	c.add(12 * time.Millisecond)
	p.begin(true)
	if !p.Busy() {
		t.Error("the app's own request in flight holds the job")
	}
	c.add(2 * time.Millisecond)
	p.end(true)
	if at(budget-14*time.Millisecond, p.Busy) != true {
		t.Errorf("a redraw moved when the next request is due: %v after the last person's request the job works", budget)
	}
	if at(-time.Millisecond, p.Busy) {
		t.Error("a redraw moved when the next request is due: the job holds too early")
	}
}

// TestImportPaceGapsAreTheirMedian: one short gap among steady ones (a poll
// landing between two requests) leaves the budget where the steady gaps
// put it; gaps longer than importRecentWindow (someone thinking) are no
// pattern and leave it alone; once most recent gaps are short the budget
// follows them, down to none (hold at once).
func TestImportPaceGapsAreTheirMedian(t *testing.T) {
	c := &paceClock{t: time.Unix(1_000_000, 0)}
	p := newPaceAt(c)
	gap := func(d time.Duration) {
		c.add(d)
		c.request(p, time.Millisecond)
	}
	c.request(p, time.Millisecond)
	for range importPaceGaps {
		gap(40 * time.Millisecond)
	}
	gap(2 * time.Millisecond)
	if got, want := time.Duration(p.budget.Load()), 40*time.Millisecond-importPaceMargin; got != want {
		t.Errorf("budget after one short gap = %v, want %v", got, want)
	}
	for range importPaceGaps/2 + 1 {
		gap(2 * importRecentWindow)
	}
	if got, want := time.Duration(p.budget.Load()), 40*time.Millisecond-importPaceMargin; got != want {
		t.Errorf("budget after long pauses = %v, want %v (unchanged)", got, want)
	}
	for range importPaceGaps {
		gap(2 * time.Millisecond)
	}
	if got := time.Duration(p.budget.Load()); got != 0 {
		t.Errorf("budget with gaps below the margin = %v, want 0", got)
	}
	if !p.Busy() {
		t.Error("with no budget the job holds right after a request")
	}
}

// TestImportPaceWaitIsBounded: Wait returns once the request in flight
// ends, and after importStepAside even if requests never stop.
func TestImportPaceWaitIsBounded(t *testing.T) {
	p := newImportPace(importResponseTail)
	p.begin(false) // never ends: steady traffic
	start := time.Now()
	p.Wait(context.Background())
	if took := time.Since(start); took < importStepAside || took > 20*importStepAside {
		t.Errorf("Wait with a request always in flight took %v, want about %v", took, importStepAside)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(2 * time.Millisecond)
		p.end(false)
	}()
	// With no gap seen, the budget is the whole window: no hold once the
	// request's answer has gone (importResponseTail).
	start = time.Now()
	p.Wait(context.Background())
	wg.Wait()
	if took := time.Since(start); took >= importStepAside {
		t.Errorf("Wait for a request ending after 2 ms took %v", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.begin(false)
	start = time.Now()
	p.Wait(ctx)
	if took := time.Since(start); took >= importStepAside {
		t.Errorf("Wait with a cancelled context took %v", took)
	}
	p.end(false)
}

// TestImportWorkerHoldsAResponseTailOnSQLiteOnly: the job holds past a
// request's end where it runs in this process (SQLite), not where its
// statements run in the database server (MySQL).
func TestImportWorkerHoldsAResponseTailOnSQLiteOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		want := time.Duration(0)
		if s.Dialect == store.SQLite {
			want = importResponseTail
		}
		w := newImportWorker(s, zerolog.Nop())
		if w.tail != want {
			t.Errorf("tail %v, want %v", w.tail, want)
		}
		w.begin(false)
		w.end(false)
		if got := w.Busy(); got != (want > 0) {
			t.Errorf("right after a request's end Busy %v, want %v", got, want > 0)
		}
	})
}
