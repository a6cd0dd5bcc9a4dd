package handlers

import (
	"slices"
	"sync"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// versionCache keeps one value per key as it was read at a team's list
// version. Every write the value depends on moves that version
// (store/listversion.go), and a request reads the version with its session
// before it reads anything else. So an entry holds at least every write up
// to its version, on any instance. The team's member list (teamMembers) and
// each user's column choice and saved-view tabs (prefsKey) use it: without
// them a list page ran four statements (session, columns, saved views,
// rows) for data that changes only when somebody clicks (BENCHMARKS.md,
// "Round 6 — search").
type versionCache[K comparable, V any] struct {
	mu  sync.Mutex
	max int // entries; beyond it an arbitrary one goes
	m   map[K]versionEntry[V]
}

type versionEntry[V any] struct {
	version int64
	value   V
}

func newVersionCache[K comparable, V any](max int) *versionCache[K, V] {
	return &versionCache[K, V]{max: max, m: map[K]versionEntry[V]{}}
}

// get is k's value read at version: from the cache, or read with read and
// kept. Version 0 (unknown) always reads. The value is shared: read only.
func (vc *versionCache[K, V]) get(k K, version int64, read func() (V, error)) (V, error) {
	if version <= 0 {
		return read()
	}
	vc.mu.Lock()
	e, ok := vc.m[k]
	vc.mu.Unlock()
	if ok && e.version == version {
		return e.value, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.m) >= vc.max {
		for other := range vc.m {
			delete(vc.m, other)
			break
		}
	}
	if cur, ok := vc.m[k]; !ok || cur.version <= version {
		vc.m[k] = versionEntry[V]{version: version, value: v}
	}
	return v, nil
}

// prefsKey names a user's preferences for one list ("contacts", "deals").
type prefsKey struct {
	team, user int64
	list       string
}

// prefsCacheEntries bounds each preferences cache.
const prefsCacheEntries = 16384

// requestPrefsKey is the cache key of the request's user and list, with
// the list version the request read (0: do not cache). Only a GET uses
// the cache. A POST that saves columns or a view and answers with the
// redrawn table moves the version after its session read it, so the
// version it holds would find the choice from before.
func requestPrefsKey(c *fiber.Ctx, list string) (prefsKey, int64) {
	version, _ := listVersions(c) // an import's batches change no choice or view
	me, team := currentUser(c), currentTeam(c)
	if me == nil || team == nil || c.Method() != fiber.MethodGet {
		return prefsKey{}, 0
	}
	return prefsKey{team: team.ID, user: me.ID, list: list}, version
}

// cachedColumns is the user's column choice for list, from the cache or
// read with read (a copy: the caller may change it).
func (s *Server) cachedColumns(c *fiber.Ctx, list string, read func() (views.ColumnChoice, error)) (views.ColumnChoice, error) {
	k, version := requestPrefsKey(c, list)
	cols, err := s.columns.get(k, version, read)
	cols.Keys = slices.Clone(cols.Keys)
	return cols, err
}

// cachedSavedViews is the saved views the user sees on list, from the
// cache or read with read (a copy).
func (s *Server) cachedSavedViews(c *fiber.Ctx, list string, read func() ([]store.SavedView, error)) ([]store.SavedView, error) {
	k, version := requestPrefsKey(c, list)
	rows, err := s.savedViews.get(k, version, read)
	return slices.Clone(rows), err
}
