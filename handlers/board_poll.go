package handlers

import (
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// pollGrants remembers, per session token, what the last full board
// request of that session established (store.PollGrant), so that the next
// polls can be answered 304 without loading the session and the user: one
// statement checks that all of it still holds and reads the team's data
// version. Anything else (no grant, a changed version, a grant no longer
// valid) goes the long way, which refreshes the grant.
type pollGrants struct {
	mu sync.Mutex
	m  map[string]store.PollGrant
}

// pollGrantsMax bounds the map; beyond it an arbitrary grant goes (its
// session's next poll takes the long way once).
const pollGrantsMax = 10_000

func (p *pollGrants) get(token string) (store.PollGrant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.m[token]
	return g, ok
}

func (p *pollGrants) put(g store.PollGrant) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]store.PollGrant{}
	}
	if _, ok := p.m[g.Token]; !ok && len(p.m) >= pollGrantsMax {
		for k := range p.m {
			delete(p.m, k)
			break
		}
	}
	p.m[g.Token] = g
}

// grantPolls records the request's session for quick polls (see
// boardPollQuick); called once the full chain has checked it.
func (s *Server) grantPolls(c *fiber.Ctx) {
	token := c.Cookies(sessionCookie)
	team, me := currentTeam(c), currentUser(c)
	if token == "" || team == nil || me == nil {
		return
	}
	login := s.sessions.GetInt64(c.UserContext(), keyLoginAt)
	s.polls.put(store.PollGrant{Token: token, UserID: me.ID, TeamID: team.ID, Role: me.Role,
		Currency: team.Currency, TimeZone: team.TimeZone, LoginAt: time.UnixMicro(login)})
}

// boardPollQuick answers a board poll whose ETag still holds with 304,
// before the session is loaded: the session's grant and one primary-key
// statement (store.BoardPollVersion) stand in for the session, user and
// version reads. Every other poll goes on to boardPoll.
func (s *Server) boardPollQuick(c *fiber.Ctx) error {
	inm := c.Get(fiber.HeaderIfNoneMatch)
	token := c.Cookies(sessionCookie)
	if inm == "" || token == "" {
		return c.Next()
	}
	g, ok := s.polls.get(token)
	if !ok {
		return c.Next()
	}
	version, ok, err := s.store.BoardPollVersion(c.UserContext(), g)
	if err != nil || !ok {
		return c.Next() // the long way says what is wrong, if anything
	}
	team := &store.Team{ID: g.TeamID, Currency: g.Currency, TimeZone: g.TimeZone}
	me := &store.User{ID: g.UserID, Role: g.Role, TeamID: g.TeamID}
	y, m, d := s.store.Now().In(teamLocation(team)).Date()
	etag := boardETag(team, me, store.TeamVersion{All: version}, boardFilter(c), time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	if !etagMatch(inm, etag) {
		return c.Next()
	}
	c.Append(fiber.HeaderVary, "Cookie")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderETag, etag)
	return c.SendStatus(fiber.StatusNotModified)
}
