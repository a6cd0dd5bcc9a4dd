package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func loggedIn(t *testing.T, c *client) bool {
	t.Helper()
	return c.get("/profile").StatusCode == http.StatusOK
}

// sessionOf is the stored row of a client's session: its data and user.
func sessionOf(t *testing.T, a *testApp, c *client) (data []byte, userID int64) {
	t.Helper()
	var row struct {
		Data   []byte
		UserID *int64
	}
	if err := a.store.DB.NewRaw("SELECT data, user_id FROM sessions WHERE token = ?", c.cookies["sherpa_session"]).
		Scan(context.Background(), &row.Data, &row.UserID); err != nil {
		t.Fatalf("session row: %v", err)
	}
	if row.UserID != nil {
		userID = *row.UserID
	}
	return row.Data, userID
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		phone, email := a.signup("Pat")
		laptop := a.client()
		expectRedirect(t, laptop.post("/login", form("email", email, "password", testPassword)), "/")
		stranger, _ := a.signup("Stranger")
		if _, uid := sessionOf(t, a, laptop); uid != a.user(email).ID {
			t.Errorf("session records user %d, want %d", uid, a.user(email).ID)
		}

		r := phone.post("/profile", form("current_password", testPassword, "new_password", "a brand new secret"))
		expectRedirect(t, r, "/profile")
		if !loggedIn(t, phone) {
			t.Errorf("the session that changed the password was logged out")
		}
		if loggedIn(t, laptop) {
			t.Errorf("another session stayed logged in after the password change")
		}
		if !loggedIn(t, stranger) {
			t.Errorf("another user's session was logged out")
		}
		expectRedirect(t, a.client().post("/login", form("email", email, "password", "a brand new secret")), "/")
	})
}

func TestLogOutOtherDevices(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		phone, email := a.signup("Lou")
		laptop := a.client()
		expectRedirect(t, laptop.post("/login", form("email", email, "password", testPassword)), "/")
		if msg := phone.get("/profile").text(t, "[data-testid=other-sessions]"); !strings.Contains(msg, "1 other device") {
			t.Errorf("profile says %q, want one other device", msg)
		}
		oldData, _ := sessionOf(t, a, laptop)
		oldToken := laptop.cookies["sherpa_session"]

		expectRedirect(t, phone.post("/profile/sessions/end", nil), "/profile")
		page := phone.get("/profile")
		expectStatus(t, page, http.StatusOK)
		if msg := page.text(t, "[data-testid=other-sessions]"); !strings.Contains(msg, "not logged in anywhere else") {
			t.Errorf("profile says %q after ending the others", msg)
		}
		// A request of the laptop already in flight commits its session
		// again after the delete: it is still logged out.
		if err := a.store.Sessions(nil).CommitCtx(context.Background(), oldToken, oldData, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if loggedIn(t, laptop) {
			t.Errorf("the other device is still logged in")
		}
		if !loggedIn(t, phone) {
			t.Errorf("this device was logged out")
		}
		// Logging in again on the laptop works.
		expectRedirect(t, laptop.post("/login", form("email", email, "password", testPassword)), "/")
		if !loggedIn(t, laptop) {
			t.Errorf("a new login after ending sessions does not stick")
		}
	})
}
