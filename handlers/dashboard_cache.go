package handlers

import (
	"fmt"
	"sync"
)

// dashboardCache keeps each team's last drawn charts, in two halves (see
// dashboardAt), each with the key it was drawn for. The keys hold the team's
// change counters, which every instance reads from the database, so an
// entry is never stale: a change anywhere makes a new key, and the half is
// drawn again on the next request. Requests that want the same drawing at
// once wait for one of them to make it.
type dashboardCache struct {
	mu      sync.Mutex
	entries map[dashKey]*dashEntry
}

// dashKey names one half of one team's dashboard.
type dashKey struct {
	teamID int64
	half   string
}

type dashEntry struct {
	key   string
	ready chan struct{} // closed when drawn and err are set
	drawn drawnCharts
	err   error
}

// dashCacheEntries bounds the cache; beyond it an arbitrary entry goes.
const dashCacheEntries = 4000

func newDashboardCache() *dashboardCache {
	return &dashboardCache{entries: map[dashKey]*dashEntry{}}
}

func (dc *dashboardCache) get(slot dashKey, key string, draw func() (drawnCharts, error)) (drawnCharts, error) {
	dc.mu.Lock()
	e := dc.entries[slot]
	if e != nil && e.key == key {
		dc.mu.Unlock()
		<-e.ready
		return e.drawn, e.err
	}
	e = &dashEntry{key: key, ready: make(chan struct{})}
	if len(dc.entries) >= dashCacheEntries {
		for k := range dc.entries {
			delete(dc.entries, k)
			break
		}
	}
	dc.entries[slot] = e
	dc.mu.Unlock()

	func() {
		defer close(e.ready)
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("draw dashboard: panic: %v", r)
			}
		}()
		e.drawn, e.err = draw()
	}()
	if e.err != nil {
		dc.mu.Lock()
		if dc.entries[slot] == e {
			delete(dc.entries, slot)
		}
		dc.mu.Unlock()
	}
	return e.drawn, e.err
}
