package handlers

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// listCache keeps the contacts and deals tables as rendered (full page or
// htmx fragment), so that a list page asked for again costs the session's
// one statement and a copy.
//
// Correctness rests on the key, not on expiry:
//   - the team's list version (store/listversion.go), read from the
//     database with the session on every request: any write that can change
//     what a list shows moves it in the write's own transaction, whichever
//     instance made it, so the next request on every instance misses;
//   - the team, the user and their role (another team's or another user's
//     page is never served; a role change takes effect at once), and the
//     session itself is checked by the same statement (a logout, an ended
//     session or a removal from the team is seen by the next request);
//   - the whole request URI (list, view, search, sort, cursor, filters,
//     saved view) and whether htmx asked for the fragment.
//
// Each team's pages are of one list version, the newest seen (teamPages).
//
// An entry also ages out after listCacheTTL, because a few things move
// with the clock and not with a write: the back-burner view (not contacted
// for N days), and next steps whose time passed (advanceNextSteps moves
// them once a minute, which is a write). A page whose session holds a flash
// message, or whose answer changed the session or set a cookie, is never
// stored.
//
// A request with Cache-Control: no-cache is drawn afresh and not kept.
// SHERPA_LIST_CACHE=off (or --list-cache=false) turns the cache off.
type listCache struct {
	mu sync.Mutex
	// teams holds each team's pages, all of one list version: the newest
	// the cache has seen for the team.
	teams map[int64]*teamPages
	bytes int
	// maxBytes bounds the memory the bodies take; beyond it arbitrary
	// entries go.
	maxBytes int
	now      func() time.Time
}

// teamPages are one team's cached pages, all rendered at version.
//
// A team's list version only moves up (every write adds one in its own
// transaction, on every instance), so once a request brings a newer one,
// no request that reads the version afterwards can ask for an older
// page: the team's pages of older versions are dropped at once (an import
// moves the version about once a second for minutes; before, each
// version's pages stayed until the byte bound pushed them out, 64 MB of
// dead pages). A request that read the version just before a write and
// comes in after a newer one was seen neither finds nor stores a page.
type teamPages struct {
	version int64
	entries map[string]*listEntry
}

type listEntry struct {
	at   time.Time
	body []byte
}

// listKey names a page: the team and its list version, and the rest of
// the key (user, role, fragment or page, request URI).
type listKey struct {
	team, version int64
	page          string
}

const (
	// listCacheTTL bounds how far behind the clock a cached page may be.
	listCacheTTL = time.Minute
	// defaultListCacheBytes is the cache's memory bound (a full contacts
	// page is ~40 kB, a fragment ~25 kB).
	defaultListCacheBytes = 64 << 20
	// listCacheTeams bounds the team slots kept; beyond it the empty ones
	// (a version seen, no page kept) go.
	listCacheTeams = 1 << 16
)

func newListCache(maxBytes int) *listCache {
	if maxBytes <= 0 {
		return nil
	}
	return &listCache{teams: map[int64]*teamPages{}, maxBytes: maxBytes, now: time.Now}
}

// pages is the team's slot for version, emptied of older versions' pages
// first (the slot then remembers the newer version, so that a page
// rendered at an older one is not stored after it); nil when the cache
// has seen a newer version of the team than this one, or when it holds no
// slot for the team and create is false. lc.mu is held.
func (lc *listCache) pages(team, version int64, create bool) *teamPages {
	tp := lc.teams[team]
	switch {
	case tp != nil && tp.version == version:
		return tp
	case tp != nil && tp.version > version:
		return nil
	case tp != nil: // the version moved: the older pages can't be asked for again
		for _, e := range tp.entries {
			lc.bytes -= len(e.body)
		}
		clear(tp.entries)
		tp.version = version
		return tp
	case !create:
		return nil
	}
	if len(lc.teams) >= listCacheTeams { // bound the empty slots too
		for id, other := range lc.teams {
			if len(other.entries) == 0 {
				delete(lc.teams, id)
			}
		}
	}
	tp = &teamPages{version: version, entries: map[string]*listEntry{}}
	lc.teams[team] = tp
	return tp
}

// seen notes that a request of the team read version (the version moved
// when it is newer than the cached pages'), whether or not it then uses
// the cache.
func (lc *listCache) seen(team, version int64) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	lc.pages(team, version, false)
}

func (lc *listCache) get(k listKey) ([]byte, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	tp := lc.pages(k.team, k.version, false)
	if tp == nil {
		return nil, false
	}
	e := tp.entries[k.page]
	if e == nil {
		return nil, false
	}
	if age := lc.now().Sub(e.at); age < 0 || age >= listCacheTTL {
		lc.drop(tp, k.page)
		return nil, false
	}
	return e.body, true
}

// drop removes one page. lc.mu is held.
func (lc *listCache) drop(tp *teamPages, page string) {
	if e := tp.entries[page]; e != nil {
		lc.bytes -= len(e.body)
		delete(tp.entries, page)
	}
}

func (lc *listCache) put(k listKey, body []byte) {
	if len(body) > lc.maxBytes/4 {
		return
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	tp := lc.pages(k.team, k.version, true)
	if tp == nil { // rendered at a version older than one already seen
		return
	}
	if old := tp.entries[k.page]; old != nil {
		lc.bytes -= len(old.body)
		delete(tp.entries, k.page)
	}
	for team, other := range lc.teams {
		if lc.bytes+len(body) <= lc.maxBytes {
			break
		}
		for page := range other.entries {
			if lc.bytes+len(body) <= lc.maxBytes {
				break
			}
			lc.bytes -= len(other.entries[page].body)
			delete(other.entries, page)
		}
		if len(other.entries) == 0 && other != tp { // under memory pressure a team's slot goes too
			delete(lc.teams, team)
		}
	}
	tp.entries[k.page] = &listEntry{at: lc.now(), body: body}
	lc.bytes += len(body)
}

// stats are the number of pages, of teams with pages and the bytes the
// pages hold (tests).
func (lc *listCache) stats() (pages, teams, bytes int) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, tp := range lc.teams {
		if len(tp.entries) > 0 {
			pages += len(tp.entries)
			teams++
		}
	}
	return pages, teams, lc.bytes
}

// listCacheKey is the request's key; ok is false when the request must not
// use the cache.
func (s *Server) listCacheKey(c *fiber.Ctx) (k listKey, ok bool) {
	if s.listCache == nil || c.Method() != fiber.MethodGet {
		return k, false
	}
	me, team := currentUser(c), currentTeam(c)
	version, _ := c.Locals(localListVersion).(int64)
	if me == nil || team == nil || version <= 0 {
		return k, false
	}
	// Whatever this request does, a newer version than the cached pages'
	// ends them.
	s.listCache.seen(team.ID, version)
	// A flash is shown (and consumed) by the next full page.
	if s.sessions.Exists(c.UserContext(), keyFlashMsg) {
		return k, false
	}
	// A request with Cache-Control: no-cache (a browser's hard reload,
	// importload's uncached series) is drawn afresh and not kept.
	if bytes.Contains(c.Request().Header.Peek(fiber.HeaderCacheControl), []byte("no-cache")) {
		return k, false
	}
	frag := "p"
	if wantsFragment(c) {
		frag = "f"
	}
	b := make([]byte, 0, 128)
	b = strconv.AppendInt(b, me.ID, 10)
	b = append(b, '|')
	b = append(b, me.Role...)
	b = append(b, '|')
	b = append(b, frag...)
	b = append(b, '|')
	b = append(b, c.Request().URI().RequestURI()...)
	return listKey{team: team.ID, version: version, page: string(b)}, true
}

// cachedList serves a list page from the cache, or renders it with h and
// keeps the answer when it is a plain 200 page.
func (s *Server) cachedList(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, ok := s.listCacheKey(c)
		if !ok {
			return h(c)
		}
		if body, ok := s.listCache.get(key); ok {
			c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			return c.Send(body)
		}
		if err := h(c); err != nil {
			return err
		}
		resp := c.Response()
		if resp.StatusCode() != fiber.StatusOK || len(resp.Header.PeekCookie(sessionCookie)) > 0 ||
			s.sessions.Status(c.UserContext()) != scs.Unmodified {
			return nil
		}
		s.listCache.put(key, append([]byte(nil), resp.Body()...))
		return nil
	}
}

// memberCacheTeams bounds the member lists kept (versionCache): every
// change to a team's members moves its list version
// (store/listversion.go), so the list pages, whose owner filter and
// selects need the list, do not read it on every request.
const memberCacheTeams = 4096

// teamMembers is the current team's member list, from the cache when the
// request knows the team's list version. The slice is shared: read only.
func (s *Server) teamMembers(c *fiber.Ctx) ([]store.User, error) {
	team := currentTeam(c)
	version, _ := c.Locals(localListVersion).(int64)
	return s.members.get(team.ID, version, func() ([]store.User, error) {
		return s.store.TeamMembers(c.UserContext(), team.ID)
	})
}
