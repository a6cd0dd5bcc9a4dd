package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
)

// statements counts the statements run on a store.
type statements struct{ n atomic.Int64 }

func (s *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	s.n.Add(1)
	return ctx
}
func (s *statements) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestBoardPollQuickAnswer: a poll with nothing new is answered 304 with
// one statement (no session or user load), and only while the session,
// the viewer's membership and role still hold: a logged-out session, a
// member removed from the team or given another role get the long answer.
func TestBoardPollQuickAnswer(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		member, memberEmail := a.member(owner, "Mia")
		memberID := a.user(memberEmail).ID
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		a.addDeal(owner, contactID, "name", "First deal", "amount", "100")
		count := &statements{}
		a.store.DB.AddQueryHook(count)
		etagOf := func(c *client) string {
			t.Helper()
			page := c.get("/deals/board")
			expectStatus(t, page, http.StatusOK)
			return page.doc(t).Find("#board").AttrOr("data-etag", "")
		}
		poll := func(c *client, etag string) *response {
			return c.get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag)
		}
		etag := etagOf(member)
		count.n.Store(0)
		if r := poll(member, etag); r.StatusCode != http.StatusNotModified || r.Header.Get("ETag") != etag {
			t.Fatalf("poll with nothing new: %d %q", r.StatusCode, r.Header.Get("ETag"))
		}
		if n := count.n.Load(); n != 1 {
			t.Errorf("a poll with nothing new ran %d statements, want 1", n)
		}
		// Another filter is another ETag: the long way answers it.
		if r := member.get("/deals/board/poll?view=mine", "HX-Request", "true", "If-None-Match", etag); r.StatusCode != http.StatusOK {
			t.Errorf("poll of another filter with this ETag: %d", r.StatusCode)
		}

		// A new role: the next poll draws the board again (drag rights).
		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(memberID, 10)+"/role", form("role", "admin")), "/team")
		if r := poll(member, etag); r.StatusCode != http.StatusOK {
			t.Errorf("poll after a role change: %d, want 200", r.StatusCode)
		}
		etag = etagOf(member)
		if r := poll(member, etag); r.StatusCode != http.StatusNotModified {
			t.Errorf("poll after the new board: %d, want 304", r.StatusCode)
		}

		// Logged out: the old cookie gets no 304.
		old := maps.Clone(member.cookies)
		expectRedirect(t, member.post("/logout", nil), "/login")
		member.cookies = old
		if r := poll(member, etag); r.StatusCode == http.StatusNotModified {
			t.Errorf("poll with a logged-out session: 304")
		}

		// Removed from the team: no 304 either.
		second, secondEmail := a.member(owner, "Sam")
		secondID := a.user(secondEmail).ID
		etag2 := etagOf(second)
		if r := poll(second, etag2); r.StatusCode != http.StatusNotModified {
			t.Fatalf("second member's poll: %d", r.StatusCode)
		}
		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(secondID, 10)+"/remove", form("confirm", "yes")), "/team")
		if r := poll(second, etag2); r.StatusCode == http.StatusNotModified || strings.Contains(r.body, "First deal") {
			t.Errorf("poll of a removed member: %d", r.StatusCode)
		}
	})
}

// TestBoardPollsTogether: polls that arrive at once share their checks
// (handlers/board_poll.go) and each still gets the answer its own check
// would give: members with nothing new get 304, a logged-out session never
// does, and after a move every poll sent afterwards gets the new board.
func TestBoardPollsTogether(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		contactID := a.addContact(owner, "Dina Deal", "dina@example.com")
		dealID := a.addDeal(owner, contactID, "name", "First deal", "amount", "100")
		type viewer struct {
			cookie, etag string
			loggedOut    bool
		}
		var clients []*client
		for _, name := range []string{"Mia", "Max", "Mo"} {
			c, _ := a.member(owner, name) // a new member is a change: all first
			clients = append(clients, c)
		}
		var viewers []*viewer
		for i, c := range clients {
			page := c.get("/deals/board")
			expectStatus(t, page, http.StatusOK)
			v := &viewer{etag: page.doc(t).Find("#board").AttrOr("data-etag", "")}
			for k, val := range c.cookies {
				v.cookie += k + "=" + val + "; "
			}
			if i == 2 {
				expectRedirect(t, c.post("/logout", nil), "/login")
				v.loggedOut = true
			}
			viewers = append(viewers, v)
		}
		// burst sends 8 polls per viewer at once and returns their statuses.
		burst := func() map[*viewer][]int {
			var mu sync.Mutex
			got := map[*viewer][]int{}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for _, v := range viewers {
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req := httptest.NewRequest("GET", "http://sherpa.test/deals/board/poll", nil)
						req.Header.Set("HX-Request", "true")
						req.Header.Set("If-None-Match", v.etag)
						req.Header.Set("Cookie", v.cookie)
						<-start
						resp, err := a.app.Test(req, -1)
						status := -1
						if err == nil {
							status = resp.StatusCode
							resp.Body.Close()
						}
						mu.Lock()
						got[v] = append(got[v], status)
						mu.Unlock()
					}()
				}
			}
			close(start)
			wg.Wait()
			return got
		}
		for round := range 3 {
			for v, statuses := range burst() {
				for _, st := range statuses {
					if v.loggedOut && st == http.StatusNotModified {
						t.Errorf("round %d: a logged-out session's poll got 304", round)
					}
					if !v.loggedOut && st != http.StatusNotModified {
						t.Errorf("round %d: a poll with nothing new got %d", round, st)
					}
				}
			}
		}
		expectStatus(t, owner.post("/deals/"+strconv.FormatInt(dealID, 10)+"/move", form("to", "Qualified To Buy")), http.StatusSeeOther)
		for v, statuses := range burst() {
			for _, st := range statuses {
				if st == http.StatusNotModified {
					t.Errorf("after a move, a poll (logged out: %v) got 304", v.loggedOut)
				}
			}
		}
	})
}
