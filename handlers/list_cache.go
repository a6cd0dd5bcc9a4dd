package handlers

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sherpa/store"
)

// listCache keeps the contacts and deals tables as rendered (full page or
// htmx fragment), so that a list page asked for again costs the session's
// one statement and a copy.
//
// Correctness rests on the key, not on expiry:
//   - the team's list version less its import version
//     (store/listversion.go), read from the database with the session on
//     every request: any write that can change what a list shows moves the
//     list version in the write's own transaction, whichever instance made
//     it, and every write but an import job's batch leaves the import
//     version alone, so after a user's (or a teammate's, or the app's own)
//     write the next request on every instance misses;
//   - the team, the user and their role (another team's or another user's
//     page is never served; a role change takes effect at once), and the
//     session itself is checked by the same statement (a logout, an ended
//     session or a removal from the team is seen by the next request);
//   - the whole request URI (list, view, search, sort, cursor, filters,
//     saved view) and whether htmx asked for the fragment.
//
// Each team's pages are of one list version, the newest seen (teamPages).
//
// An import job's batch moves both versions by one: a page keeps its key,
// and the page remembers the import version it was drawn at. A request
// that reads a newer import version is still served the page while it is
// known current less than importStale ago (listEntry.current: the
// import's own rows show at most that late), and once that is more than
// importRefresh ago the first such request also
// starts redrawing it in the background (revalidate: one redraw of a page
// at a time, the request itself served at once). Past importStale the
// request draws the page afresh as on any miss. So during an import that
// commits a batch every second, the plain list requests are cache hits and
// the table catches up within a second.
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
	// redraws holds a token per background redraw running.
	redraws chan struct{}
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
	// at is when the request that drew the page read the versions (just
	// before its session statement, so before it read the rows).
	at   time.Time
	body []byte
	// imports is the import version the page was drawn at, and current
	// the last time a request read that same import version (at or later):
	// the import's next batch committed after it, so a request served the
	// page within importStale of current sees its rows at most that late.
	imports int64
	current time.Time
	// redrawing says a background redraw of the page runs (revalidate).
	redrawing bool
}

// listKey names a page: the team and its list version less its import
// version, and the rest of the key (user, role, fragment or page, request
// URI). imports and at are the request's import version and when it read
// it (just before its session statement): not part of the name, they say
// how fresh a page it needs.
type listKey struct {
	team, version int64
	page          string
	imports       int64
	at            time.Time
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
	// importStale bounds how long a page is served after import batches
	// committed since it was drawn: an import's rows show at most this
	// late. importRefresh is the age from which such a request starts a
	// background redraw of the page; below it, a page is served as it is
	// (a job commits a batch every 0.15–1 s: each one need not cost a
	// redraw).
	importStale   = time.Second
	importRefresh = importStale / 2
	// listRedraws bounds the background redraws running at once.
	listRedraws = 2
)

func newListCache(maxBytes int) *listCache {
	if maxBytes <= 0 {
		return nil
	}
	return &listCache{teams: map[int64]*teamPages{}, maxBytes: maxBytes, now: time.Now, redraws: make(chan struct{}, listRedraws)}
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

// get is the page k names when it may be served to k's request; redraw
// says the caller is to start a background redraw of it (the page was
// drawn before import batches that k's request saw, and is older than
// importRefresh): the page is marked as being redrawn until redrawn says
// it ended.
func (lc *listCache) get(k listKey) (body []byte, ok, redraw bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	tp := lc.pages(k.team, k.version, false)
	if tp == nil {
		return nil, false, false
	}
	e := tp.entries[k.page]
	if e == nil {
		return nil, false, false
	}
	age := lc.now().Sub(e.at)
	if age < 0 || age >= listCacheTTL {
		lc.drop(tp, k.page)
		return nil, false, false
	}
	if e.imports >= k.imports { // no import batch since the page was drawn
		if e.imports == k.imports && k.at.After(e.current) {
			e.current = k.at
		}
		return e.body, true, false
	}
	stale := lc.now().Sub(e.current)
	if stale >= importStale {
		return nil, false, false
	}
	if stale >= importRefresh && !e.redrawing {
		select {
		case lc.redraws <- struct{}{}:
			e.redrawing, redraw = true, true
		default: // enough redraws running: the next request tries again
		}
	}
	return e.body, true, redraw
}

// redrawn notes that a background redraw of k's page ended (whether or not
// it stored a page).
func (lc *listCache) redrawn(k listKey) {
	lc.mu.Lock()
	if tp := lc.teams[k.team]; tp != nil {
		if e := tp.entries[k.page]; e != nil {
			e.redrawing = false
		}
	}
	lc.mu.Unlock()
	<-lc.redraws
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
		if old.imports > k.imports { // a page of later import batches stays
			return
		}
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
	at := k.at
	if at.IsZero() {
		at = lc.now()
	}
	tp.entries[k.page] = &listEntry{at: at, body: body, imports: k.imports, current: at}
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
	version, imports := listVersions(c)
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
	at, _ := c.Locals(localVersionsReadAt).(time.Time)
	if at.IsZero() {
		at = s.listCache.now()
	}
	return listKey{team: team.ID, version: version, page: string(b), imports: imports, at: at}, true
}

// listVersions are the request's team list version less its import
// version (0: unknown, nothing is cached), and the import version
// (store/listversion.go), as the session's statement read them: the list
// cache and the member and preference caches key by the first, which
// moves with every write but an import job's batches.
func listVersions(c *fiber.Ctx) (version, imports int64) {
	list, _ := c.Locals(localListVersion).(int64)
	imports, _ = c.Locals(localImportVersion).(int64)
	if list <= 0 || imports < 0 || imports >= list {
		return 0, 0
	}
	return list - imports, imports
}

// listRedrawKey marks a background redraw's request (revalidate): it
// draws the page afresh and keeps it. A user value of the request, which no
// client can set.
type listRedrawKey struct{}

// revalidate redraws c's page k in the background: the request is copied
// and run through the app once more (its session read again, the page
// stored under the key that run computes), and the answer dropped. c is
// served the cached page meanwhile. The list cache allows a page one
// redraw at a time and listRedraws at once.
func (s *Server) revalidate(c *fiber.Ctx, k listKey) {
	req := new(fasthttp.Request)
	c.Request().CopyTo(req)
	addr := c.Context().RemoteAddr()
	go func() {
		defer s.listCache.redrawn(k)
		rc := new(fasthttp.RequestCtx)
		rc.Init(req, addr, nil)
		rc.SetUserValue(listRedrawKey{}, true)
		s.handler(rc)
	}()
}

// cachedList serves a list page from the cache, or renders it with h and
// keeps the answer when it is a plain 200 page.
func (s *Server) cachedList(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, ok := s.listCacheKey(c)
		if !ok {
			return h(c)
		}
		if c.Context().UserValue(listRedrawKey{}) == nil {
			if body, ok, redraw := s.listCache.get(key); ok {
				if redraw {
					s.revalidate(c, key)
				}
				c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
				return c.Send(body)
			}
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
	version, _ := listVersions(c) // an import's batches change no member
	return s.members.get(team.ID, version, func() ([]store.User, error) {
		return s.store.TeamMembers(c.UserContext(), team.ID)
	})
}
