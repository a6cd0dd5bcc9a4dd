package handlers

import (
	"context"
	"strings"
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
//
// The checks of polls that arrive together share statements (pollBatcher):
// while one statement runs, the polls that arrive meanwhile wait and are
// checked together by the next one. Every answer still comes from a read
// that began after its poll arrived, so a change, a logout or a removal
// from the team made through any instance is seen exactly as if each poll
// ran its own statement; under load the database sees one statement at a
// time instead of one per poll.
type pollGrants struct {
	mu sync.Mutex
	m  map[string]store.PollGrant

	batches pollBatcher
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

// pollBatcher runs the quick polls' checks one statement at a time: a
// check joins the batch that starts next (never one already running, which
// may have read before the poll arrived).
type pollBatcher struct {
	mu      sync.Mutex
	running bool
	next    *pollBatch
}

type pollBatch struct {
	grants   map[string]store.PollGrant // by token
	done     chan struct{}              // closed when versions and err are set
	versions map[string]int64
	err      error
}

// pollCheckTimeout bounds one batch's statement (it serves many requests,
// so it runs under none of their contexts).
const pollCheckTimeout = 5 * time.Second

// version is store.BoardPollVersions for one grant, shared with the checks
// that arrive meanwhile.
func (b *pollBatcher) version(ctx context.Context, st *store.Store, g store.PollGrant) (int64, bool, error) {
	b.mu.Lock()
	if b.next == nil {
		b.next = &pollBatch{grants: map[string]store.PollGrant{}, done: make(chan struct{})}
	}
	batch := b.next
	if old, ok := batch.grants[g.Token]; ok && old != g {
		// The same session with another grant (it changed meanwhile): check
		// this one on its own.
		b.mu.Unlock()
		v, err := st.BoardPollVersions(ctx, []store.PollGrant{g})
		n, ok := v[g.Token]
		return n, ok, err
	}
	batch.grants[g.Token] = g
	if !b.running {
		b.running, b.next = true, nil
		b.mu.Unlock()
		b.run(st, batch)
	} else {
		b.mu.Unlock()
	}
	select {
	case <-batch.done:
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
	n, ok := batch.versions[g.Token]
	return n, ok, batch.err
}

// run checks a batch, then starts the one that gathered meanwhile on its
// own goroutine (the caller's request is answered without waiting for it).
func (b *pollBatcher) run(st *store.Store, batch *pollBatch) {
	grants := make([]store.PollGrant, 0, len(batch.grants))
	for _, g := range batch.grants {
		grants = append(grants, g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pollCheckTimeout)
	batch.versions, batch.err = st.BoardPollVersions(ctx, grants)
	cancel()
	close(batch.done)
	b.mu.Lock()
	next := b.next
	if next == nil {
		b.running = false
		b.mu.Unlock()
		return
	}
	b.next = nil
	b.mu.Unlock()
	go b.run(st, next)
}

// grantPolls records the request's session for quick polls (see
// boardPollQuick); called once the full chain has checked it.
func (s *Server) grantPolls(c *fiber.Ctx) {
	// A copy: fiber's value points into the request's buffer, which the
	// next request on the connection overwrites (the grant outlives it).
	token := strings.Clone(c.Cookies(sessionCookie))
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
// statement (store.BoardPollVersions, shared by the polls that arrive
// together) stand in for the session, user and version reads. Every other
// poll goes on to boardPoll.
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
	version, ok, err := s.polls.batches.version(c.UserContext(), s.store, g)
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
