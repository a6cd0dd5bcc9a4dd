package handlers

import (
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
// An entry also ages out after listCacheTTL, because a few things move
// with the clock and not with a write: the back-burner view (not contacted
// for N days), and next steps whose time passed (advanceNextSteps moves
// them once a minute, which is a write). A page whose session holds a flash
// message, or whose answer changed the session or set a cookie, is never
// stored.
//
// SHERPA_LIST_CACHE=off (or --list-cache=false) turns the cache off.
type listCache struct {
	mu      sync.Mutex
	entries map[string]*listEntry
	bytes   int
	// maxBytes bounds the memory the bodies take; beyond it arbitrary
	// entries go.
	maxBytes int
	now      func() time.Time
}

type listEntry struct {
	at   time.Time
	body []byte
}

const (
	// listCacheTTL bounds how far behind the clock a cached page may be.
	listCacheTTL = time.Minute
	// defaultListCacheBytes is the cache's memory bound (a full contacts
	// page is ~40 kB, a fragment ~25 kB).
	defaultListCacheBytes = 64 << 20
)

func newListCache(maxBytes int) *listCache {
	if maxBytes <= 0 {
		return nil
	}
	return &listCache{entries: map[string]*listEntry{}, maxBytes: maxBytes, now: time.Now}
}

func (lc *listCache) get(key string) ([]byte, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	e := lc.entries[key]
	if e == nil {
		return nil, false
	}
	if age := lc.now().Sub(e.at); age < 0 || age >= listCacheTTL {
		lc.bytes -= len(e.body)
		delete(lc.entries, key)
		return nil, false
	}
	return e.body, true
}

func (lc *listCache) put(key string, body []byte) {
	if len(body) > lc.maxBytes/4 {
		return
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if old := lc.entries[key]; old != nil {
		lc.bytes -= len(old.body)
	}
	for k, e := range lc.entries {
		if lc.bytes+len(body) <= lc.maxBytes {
			break
		}
		lc.bytes -= len(e.body)
		delete(lc.entries, k)
	}
	lc.entries[key] = &listEntry{at: lc.now(), body: body}
	lc.bytes += len(body)
}

// len is the number of entries (tests).
func (lc *listCache) len() int {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return len(lc.entries)
}

// listCacheKey is the request's key, or "" when the request must not use
// the cache.
func (s *Server) listCacheKey(c *fiber.Ctx) string {
	if s.listCache == nil || c.Method() != fiber.MethodGet {
		return ""
	}
	me, team := currentUser(c), currentTeam(c)
	version, _ := c.Locals(localListVersion).(int64)
	if me == nil || team == nil || version <= 0 {
		return ""
	}
	// A flash is shown (and consumed) by the next full page.
	if s.sessions.Exists(c.UserContext(), keyFlashMsg) {
		return ""
	}
	frag := "p"
	if wantsFragment(c) {
		frag = "f"
	}
	b := make([]byte, 0, 128)
	b = strconv.AppendInt(b, team.ID, 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, version, 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, me.ID, 10)
	b = append(b, '|')
	b = append(b, me.Role...)
	b = append(b, '|')
	b = append(b, frag...)
	b = append(b, '|')
	b = append(b, c.Request().URI().RequestURI()...)
	return string(b)
}

// cachedList serves a list page from the cache, or renders it with h and
// keeps the answer when it is a plain 200 page.
func (s *Server) cachedList(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := s.listCacheKey(c)
		if key == "" {
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
