package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"strings"
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
