package store

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The search set cache: each search word's matching ids (what termIDs
// reads from the word's term range, up to setCap+1 rows: 17 ms on MariaDB
// and 7 ms on SQLite for "anna" at 1M contacts, on every request before)
// are kept in memory, keyed by the store, the term table, the team, the
// word's prefixes and the team's terms version (listversion.go). Every
// write that can change a term (a contact's or deal's name, email, phone,
// company, a deal's contact, a record created or deleted) moves the terms
// version in its own transaction — TestEveryTermWriteMovesTheTermsVersion
// — so a set is never used under a version newer than the data it was
// read from, on any instance: the version is read before the terms, so the
// set holds at least every write up to that version. The other writes (a
// status, an owner, a note, a next step) move the list version only, and
// the sets stay (round 5 keyed them by the list version: every write
// emptied the team's cache, and the next searches were cold).
//
// What also depends on other columns (an ordered set by status, a set's
// rows in the "mine" view) is keyed by the list version instead
// (searchPlan.keyVersion).
//
// The same key caches whether a name-sorted search may keep to the index
// range of names starting with its first word (narrowToPrefix), which
// otherwise reads that range (12,500 entries for "anna") on every request.
//
// It also keeps, read in the background (build) so that no request waits
// for them, the id sets of dense words (denseSet in search.go: a bitmap
// of the team's ids) and a set's rows in a sort's order (search_order.go),
// under the same key rules.
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
	v     any           // []int64 (set, narrow), *idSet (dense), *orderedSet (order)
	ok    bool          // set: the word's term rows fit setCap; narrow: the range holds the set
	size  int           // bytes the value holds
	err   error
}

type searchCache struct {
	mu sync.Mutex
	m  map[searchCacheKey]*searchCacheEntry
	// latest is, per key without its version, the newest version loaded
	// (search_patch.go carries a value over from it).
	latest   map[searchCacheKey]int64
	bytes    int
	maxBytes int
	// builds bounds the loads started in the background (build): one at
	// a time, so that the searches of a busy team never queue more than
	// one extra read of their sets behind the requests.
	builds chan struct{}
	// loads counts the values read into the cache, per kind prefix
	// ("set", "dense", "t:order", "l:order", ...): tests check which
	// entries a write leaves warm.
	loads sync.Map // string → *atomic.Int64
}

// countLoad counts one value read for the key's kind ("set", "dense",
// "t:order", "l:narrow").
func (c *searchCache) countLoad(k searchCacheKey) { c.count(loadKind(k)) }

func (c *searchCache) count(kind string) {
	n, _ := c.loads.LoadOrStore(kind, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// loadKind is the key's kind as loads counts it.
func loadKind(k searchCacheKey) string {
	kind, rest, _ := strings.Cut(k.kind, ":")
	if kind == "t" || kind == "l" { // keyed by the terms or the list version: keyVersion
		next, _, _ := strings.Cut(rest, ":")
		kind += ":" + next
	}
	return kind
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
	return &searchCache{m: map[searchCacheKey]*searchCacheEntry{}, latest: map[searchCacheKey]int64{}, maxBytes: maxBytes, builds: make(chan struct{}, 1)}
}

// entryBytes is about what an entry holds in memory.
func entryBytes(k searchCacheKey, e *searchCacheEntry) int {
	return e.size + len(k.word) + len(k.kind) + 160
}

func (c *searchCache) on(k searchCacheKey) bool {
	return c != nil && c.maxBytes > 0 && k.version > 0
}

// get returns the key's id set, computing it with load once however many
// callers ask at the same time. A failed load is not kept.
func (c *searchCache) get(k searchCacheKey, load func() ([]int64, bool, error)) ([]int64, bool, error) {
	v, ok, err := c.getAny(k, func() (any, bool, int, error) {
		ids, ok, err := load()
		return ids, ok, 8 * cap(ids), err
	})
	ids, _ := v.([]int64)
	return ids, ok, err
}

// getAny is get for any value; load also returns the value's size in
// bytes.
func (c *searchCache) getAny(k searchCacheKey, load func() (any, bool, int, error)) (any, bool, error) {
	if !c.on(k) {
		v, ok, _, err := load()
		return v, ok, err
	}
	c.mu.Lock()
	if e := c.m[k]; e != nil {
		c.mu.Unlock()
		<-e.ready
		if e.err == nil {
			return e.v, e.ok, nil
		}
		v, ok, _, err := load() // the other caller's load failed (its context, say)
		return v, ok, err
	}
	e := &searchCacheEntry{ready: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()
	c.fill(k, e, load)
	return e.v, e.ok, e.err
}

// fill runs the entry's load and accounts for it (or drops it when it
// failed or cannot fit).
func (c *searchCache) fill(k searchCacheKey, e *searchCacheEntry, load func() (any, bool, int, error)) {
	c.fillAs(k, e, "", load)
}

// fillAs is fill, counting the load under "label:kind" when label is not
// empty ("patch:set").
func (c *searchCache) fillAs(k searchCacheKey, e *searchCacheEntry, label string, load func() (any, bool, int, error)) {
	if label == "" {
		c.countLoad(k)
	} else {
		c.count(label + ":" + loadKind(k))
	}
	v, ok, size, err := load()
	c.mu.Lock()
	defer c.mu.Unlock()
	e.v, e.ok, e.size, e.err = v, ok, size, err
	close(e.ready)
	if e.err != nil {
		if c.m[k] == e {
			delete(c.m, k)
		}
		return
	}
	n := entryBytes(k, e)
	if n > c.maxBytes {
		if c.m[k] == e {
			delete(c.m, k)
		}
		return
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
	base := k
	base.version = 0
	if v, ok := c.latest[base]; !ok || v < k.version {
		if len(c.latest) >= latestMax {
			clear(c.latest) // a hint only: entries then start from scratch
		}
		c.latest[base] = k.version
	}
}

// latestMax bounds searchCache.latest.
const latestMax = 1 << 16

// peek returns the key's value when it is loaded, without waiting.
func (c *searchCache) peek(k searchCacheKey) (v any, ok, found bool) {
	if !c.on(k) {
		return nil, false, false
	}
	c.mu.Lock()
	e := c.m[k]
	c.mu.Unlock()
	if e == nil {
		return nil, false, false
	}
	select {
	case <-e.ready:
		if e.err != nil {
			return nil, false, false
		}
		return e.v, e.ok, true
	default:
		return nil, false, false
	}
}

// searchBuildAsync: build loads in the background (the request that
// asked goes on with its plan of before); false in store tests, so that
// each request sees the value built (deterministic plans).
var searchBuildAsync = true

// build returns the key's value when it is loaded; otherwise it starts
// load in the background (unless a build is already running: a later
// request asks again) and reports found false. The load must not use the
// request's context: it outlives the request. With searchBuildAsync off
// it loads now.
func (c *searchCache) build(k searchCacheKey, load func() (any, bool, int, error)) (v any, ok, found bool) {
	if !c.on(k) {
		return nil, false, false
	}
	if !searchBuildAsync {
		v, ok, err := c.getAny(k, load)
		return v, ok, err == nil
	}
	if v, ok, found := c.peek(k); found {
		return v, ok, true
	}
	select {
	case c.builds <- struct{}{}:
	default:
		return nil, false, false
	}
	c.mu.Lock()
	if c.m[k] != nil { // loading, or loaded meanwhile
		c.mu.Unlock()
		<-c.builds
		return nil, false, false
	}
	e := &searchCacheEntry{ready: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()
	go func() {
		defer func() { <-c.builds }()
		c.fill(k, e, load)
	}()
	return nil, false, false
}

type searchVersionKey struct{}

type searchVersion struct {
	team     int64
	versions SearchVersions
}

// WithSearchVersions tells the store the team's list and terms versions
// the request read with its session (FindRequest), so that a search need
// not read them again.
func WithSearchVersions(ctx context.Context, teamID int64, v SearchVersions) context.Context {
	return context.WithValue(ctx, searchVersionKey{}, searchVersion{teamID, v})
}

// searchCacheVersions are the team's list and terms versions for the
// search cache: the request's (WithSearchVersions) or read now; zero means
// do not cache.
func (s *Store) searchCacheVersions(ctx context.Context, teamID int64) SearchVersions {
	if searchSets == nil || searchSets.maxBytes <= 0 {
		return SearchVersions{}
	}
	if v, ok := ctx.Value(searchVersionKey{}).(searchVersion); ok && v.team == teamID {
		return v.versions
	}
	v, err := s.SearchVersions(ctx, teamID)
	if err != nil {
		return SearchVersions{} // the search then reads its terms
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
