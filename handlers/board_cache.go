package handlers

import (
	"fmt"
	"sync"
	"time"

	"sherpa/views"
)

// boardCache keeps boards already loaded and drawn: per viewer and filter
// (the slot) the last board with the team's data version it was read at.
// The version comes from the database on every request, so a change made
// through any instance makes the next request load and draw again. An
// entry also ages out after boardCacheTTL, because days in stage and the
// stale flags move on with the clock. Requests that want the same board at
// once wait for one of them to load it.
type boardCache struct {
	mu      sync.Mutex
	entries map[string]*boardEntry
}

type boardEntry struct {
	version int64
	drawnAt time.Time
	ready   chan struct{} // closed when board and err are set
	board   views.Board
	err     error
}

const (
	// boardCacheEntries bounds the cache (a drawn board of 300 cards is
	// about 200 kB); beyond it an arbitrary entry goes.
	boardCacheEntries = 256
	// boardCacheTTL bounds how old a board's days in stage and stale flags
	// may be.
	boardCacheTTL = time.Minute
)

func newBoardCache() *boardCache {
	return &boardCache{entries: map[string]*boardEntry{}}
}

// get returns the slot's board at version, loading it with load when the
// slot holds another version, an error or an entry older than the TTL.
func (bc *boardCache) get(slot string, version int64, now time.Time, load func() (views.Board, error)) (views.Board, error) {
	bc.mu.Lock()
	e := bc.entries[slot]
	if e != nil && e.version == version && now.Sub(e.drawnAt) < boardCacheTTL && !now.Before(e.drawnAt) {
		bc.mu.Unlock()
		<-e.ready
		return e.board, e.err
	}
	e = &boardEntry{version: version, drawnAt: now, ready: make(chan struct{})}
	if len(bc.entries) >= boardCacheEntries {
		for k := range bc.entries {
			delete(bc.entries, k)
			break
		}
	}
	bc.entries[slot] = e
	bc.mu.Unlock()

	func() {
		defer close(e.ready)
		defer func() {
			if r := recover(); r != nil {
				e.err = fmt.Errorf("load board: panic: %v", r)
			}
		}()
		e.board, e.err = load()
	}()
	if e.err != nil {
		bc.mu.Lock()
		if bc.entries[slot] == e {
			delete(bc.entries, slot)
		}
		bc.mu.Unlock()
	}
	return e.board, e.err
}
