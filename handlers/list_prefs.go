package handlers

import (
	"slices"
	"sync"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// prefsCache keeps, per team list version, what every list page reads
// besides its rows: the user's column choice and the saved-view tabs they
// see. Both are covered by the list version (store/listversion.go: saved
// views and column choices move it), and the version is read with the
// session before either is read, so an entry holds at least every write up
// to its version, on any instance — the memberCache argument. Without it a
// contacts search page ran two statements of its four (session, columns,
// saved views, rows) for data that changes only on a user's click; at 1M
// contacts with 8 clients on 2 cores the database's CPU per request sets
// the tail (BENCHMARKS.md, "Round 6 — search").
//
// The values are shared: read only (columnChoice and savedTabs copy what
// they hand on).
type prefsCache struct {
	mu sync.Mutex
	m  map[prefsKey]prefsEntry
}

type prefsKey struct {
	team, user int64
	list       string
	kind       byte // 'c' columns, 'v' saved views
}

type prefsEntry struct {
	version int64
	cols    views.ColumnChoice
	views   []store.SavedView
}

// prefsCacheEntries bounds the map; beyond it an arbitrary entry goes.
const prefsCacheEntries = 16384

func newPrefsCache() *prefsCache { return &prefsCache{m: map[prefsKey]prefsEntry{}} }

func (pc *prefsCache) get(k prefsKey, version int64) (prefsEntry, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[k]
	return e, ok && e.version == version
}

func (pc *prefsCache) put(k prefsKey, e prefsEntry) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.m) >= prefsCacheEntries {
		for other := range pc.m {
			delete(pc.m, other)
			break
		}
	}
	if cur, ok := pc.m[k]; !ok || cur.version <= e.version {
		pc.m[k] = e
	}
}

// requestPrefsKey is the cache key of the request's user and list, with
// the list version the request read (0: do not cache). Only a GET uses
// the cache: a POST that saves columns or a view and answers with the
// redrawn table moved the version after its session read it, so the
// version it holds would find the choice of before.
func requestPrefsKey(c *fiber.Ctx, list string, kind byte) (prefsKey, int64) {
	version, _ := c.Locals(localListVersion).(int64)
	me, team := currentUser(c), currentTeam(c)
	if me == nil || team == nil || c.Method() != fiber.MethodGet {
		return prefsKey{}, 0
	}
	return prefsKey{team: team.ID, user: me.ID, list: list, kind: kind}, version
}

// cachedColumns is the user's column choice for list from the cache, or
// read with read and kept.
func (s *Server) cachedColumns(c *fiber.Ctx, list string, read func() (views.ColumnChoice, error)) (views.ColumnChoice, error) {
	k, version := requestPrefsKey(c, list, 'c')
	if version <= 0 {
		return read()
	}
	if e, ok := s.prefs.get(k, version); ok {
		return views.ColumnChoice{Keys: slices.Clone(e.cols.Keys), Chosen: e.cols.Chosen}, nil
	}
	cols, err := read()
	if err != nil {
		return cols, err
	}
	s.prefs.put(k, prefsEntry{version: version, cols: views.ColumnChoice{Keys: slices.Clone(cols.Keys), Chosen: cols.Chosen}})
	return cols, nil
}

// cachedSavedViews is the saved views the user sees on list from the
// cache, or read with read and kept.
func (s *Server) cachedSavedViews(c *fiber.Ctx, list string, read func() ([]store.SavedView, error)) ([]store.SavedView, error) {
	k, version := requestPrefsKey(c, list, 'v')
	if version <= 0 {
		return read()
	}
	if e, ok := s.prefs.get(k, version); ok {
		return slices.Clone(e.views), nil
	}
	rows, err := read()
	if err != nil {
		return rows, err
	}
	s.prefs.put(k, prefsEntry{version: version, views: slices.Clone(rows)})
	return rows, nil
}
