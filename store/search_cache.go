package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The search set cache: each search word's matching ids (what termIDs
// reads from the word's term range, up to setCap+1 rows: 17 ms on MariaDB
// and 7 ms on SQLite for "anna" at 1M contacts, on every request before)
// are kept in memory, keyed by the store, the term table, the team, the
// word's prefixes and the team's list version (listversion.go). Every write
// that can change a term (a contact's or deal's name, email, phone,
// company, a deal's contact) moves the list version in its own transaction
// — TestEveryWriteMovesTheListVersion — so a set is never used under a
// version newer than the data it was read from, on any instance: the
// version is read before the terms, so the set holds at least every write
// up to that version.
//
// The same key caches whether a name-sorted search may keep to the index
// range of names starting with its first word (narrowToPrefix), which
// otherwise reads that range (12,500 entries for "anna") on every request.
//
// Memory is bounded by SHERPA_SEARCH_CACHE_MB (default 64; 0 or "off"
// turns the cache off); beyond it arbitrary entries go. Concurrent misses
// of one key read the terms once (the others wait for that read).
//
// The cached slices are shared: nothing may change them (planSearch
// intersects into a copy).

type searchCacheKey struct {
	s       *Store
	kind    string // "set:contact_terms", "narrow:contacts:name"
	team    int64
	word    string
	version int64
}

type searchCacheEntry struct {
	ready chan struct{} // closed when the value is in
	ids   []int64
	ok    bool // set: the word's term rows fit setCap; narrow: the range holds the set
	err   error
}

type searchCache struct {
	mu       sync.Mutex
	m        map[searchCacheKey]*searchCacheEntry
	bytes    int
	maxBytes int
}

// searchSets is the process's cache; its bound is read once from the
// environment.
var searchSets = newSearchCache(searchCacheBytesFromEnv())

func searchCacheBytesFromEnv() int {
	v := strings.TrimSpace(os.Getenv("SHERPA_SEARCH_CACHE_MB"))
	if v == "" {
		return 64 << 20
	}
	if v == "off" {
		return 0
	}
	mb, err := strconv.Atoi(v)
	if err != nil || mb < 0 {
		return 64 << 20
	}
	return mb << 20
}

func newSearchCache(maxBytes int) *searchCache {
	return &searchCache{m: map[searchCacheKey]*searchCacheEntry{}, maxBytes: maxBytes}
}

// entryBytes is about what an entry holds in memory.
func entryBytes(k searchCacheKey, e *searchCacheEntry) int {
	return 8*cap(e.ids) + len(k.word) + 160
}

// get returns the key's value, computing it with load once however many
// callers ask at the same time. A failed load is not kept.
func (c *searchCache) get(k searchCacheKey, load func() ([]int64, bool, error)) ([]int64, bool, error) {
	if c == nil || c.maxBytes <= 0 || k.version <= 0 {
		return load()
	}
	c.mu.Lock()
	if e := c.m[k]; e != nil {
		c.mu.Unlock()
		<-e.ready
		if e.err == nil {
			return e.ids, e.ok, nil
		}
		return load() // the other caller's load failed (its context, say)
	}
	e := &searchCacheEntry{ready: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()

	e.ids, e.ok, e.err = load()
	close(e.ready)

	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		if c.m[k] == e {
			delete(c.m, k)
		}
		return e.ids, e.ok, e.err
	}
	n := entryBytes(k, e)
	if n > c.maxBytes {
		delete(c.m, k)
		return e.ids, e.ok, nil
	}
	for other, oe := range c.m {
		if c.bytes+n <= c.maxBytes {
			break
		}
		if other == k {
			continue
		}
		select {
		case <-oe.ready:
			c.bytes -= entryBytes(other, oe)
			delete(c.m, other)
		default: // still loading: its loader accounts for it
		}
	}
	c.bytes += n
	return e.ids, e.ok, nil
}

type searchVersionKey struct{}

type searchVersion struct {
	team    int64
	version int64
}

// WithListVersion tells the store the team's list version the request read
// with its session (FindRequest), so that a search need not read it again.
func WithListVersion(ctx context.Context, teamID, version int64) context.Context {
	return context.WithValue(ctx, searchVersionKey{}, searchVersion{teamID, version})
}

// searchCacheVersion is the team's list version for the search cache: the
// request's (WithListVersion) or read now; 0 means do not cache.
func (s *Store) searchCacheVersion(ctx context.Context, teamID int64) int64 {
	if searchSets == nil || searchSets.maxBytes <= 0 {
		return 0
	}
	if v, ok := ctx.Value(searchVersionKey{}).(searchVersion); ok && v.team == teamID {
		return v.version
	}
	v, err := s.ListVersion(ctx, teamID)
	if err != nil {
		return 0 // the search then reads its terms
	}
	return v
}

func wordKey(w searchWord) string { return strings.Join(w.prefixes, "\x00") }

func wordsKey(ws []searchWord) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = wordKey(w)
	}
	return strings.Join(parts, "\x01")
}
