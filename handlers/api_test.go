package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// apiTeam is a team with an owner, an admin and a member, each with a
// read-and-write key, and the owner with a read-only key too.
type apiTeam struct {
	owner, admin, member *client
	ownerKey, adminKey   *apiClient
	memberKey, readKey   *apiClient
	ownerEmail           string
	memberEmail          string
}

func (a *testApp) apiTeam(name string) *apiTeam {
	a.t.Helper()
	t := &apiTeam{}
	t.owner, t.ownerEmail = a.owner(name+" Owner", name)
	t.admin, _ = a.member(t.owner, name+" Admin")
	adminEmail := ""
	for _, m := range mustMembers(a, a.user(t.ownerEmail).TeamID) {
		if m.Role == store.RoleMember {
			adminEmail = m.Email
		}
	}
	u := a.user(adminEmail)
	if r := t.owner.post(fmt.Sprintf("/team/members/%d/role", u.ID), form("role", "admin")); r.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("make admin: %d", r.StatusCode)
	}
	t.member, t.memberEmail = a.member(t.owner, name+" Member")
	t.ownerKey = a.apiKey(t.owner, "owner key", "write")
	t.readKey = a.apiKey(t.owner, "read key", "read")
	t.adminKey = a.apiKey(t.admin, "admin key", "write")
	t.memberKey = a.apiKey(t.member, "member key", "write")
	return t
}

func mustMembers(a *testApp, teamID int64) []store.User {
	a.t.Helper()
	ms, err := a.store.TeamMembers(context.Background(), teamID)
	if err != nil {
		a.t.Fatal(err)
	}
	return ms
}

func TestAPIAuthentication(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Auth")
		anon := &apiClient{a: a}
		r := anon.get("/me").expect(http.StatusUnauthorized)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || r.str("code") != "unauthenticated" {
			t.Fatalf("no bearer challenge: %v %s", r.header, r.body)
		}
		(&apiClient{a: a, token: "sherpa_not-a-key"}).get("/me").expect(http.StatusUnauthorized)
		(&apiClient{a: a, token: "garbage"}).get("/contacts").expect(http.StatusUnauthorized)
		anon.get("/me", "Authorization", "Basic dXNlcjpwYXNz").expect(http.StatusUnauthorized)

		me := tm.ownerKey.get("/me").expect(http.StatusOK).obj()
		if me["user"].(map[string]any)["email"] != tm.ownerEmail || me["key"].(map[string]any)["scope"] != "write" {
			t.Fatalf("me: %v", me)
		}

		// The session cookie does not open the API.
		var cookie []string
		for k, v := range tm.owner.cookies {
			cookie = append(cookie, k+"="+v)
		}
		anon.get("/me", "Cookie", strings.Join(cookie, "; ")).expect(http.StatusUnauthorized)
		// And a key does not open pages: a page with only the key is a
		// visitor's, sent to log in.
		page := a.client().get("/contacts", "Authorization", "Bearer "+tm.ownerKey.token)
		expectStatus(t, page, http.StatusSeeOther)

		// Browsers' cross-site headers do not get in the way of API
		// clients (no cookies: nothing to forge).
		tm.ownerKey.call("POST", "/contacts", map[string]any{"name": "Cross", "email": "cross@example.com"},
			"Origin", "https://elsewhere.example", "Sec-Fetch-Site", "cross-site").expect(http.StatusCreated)

		// Read-only keys only read.
		tm.readKey.get("/contacts").expect(http.StatusOK)
		r = tm.readKey.call("POST", "/contacts", map[string]any{"name": "No", "email": "no@example.com"}).expect(http.StatusForbidden)
		if r.str("code") != "read_only_key" {
			t.Fatalf("read-only refusal: %s", r.body)
		}

		// Revoked on the profile page: refused from the next request on.
		keys, err := a.store.APIKeysOf(context.Background(), a.user(tm.ownerEmail).ID)
		if err != nil {
			t.Fatal(err)
		}
		var readID int64
		for _, k := range keys {
			if k.Name == "read key" {
				readID = k.ID
			}
		}
		expectRedirect(t, tm.owner.post(fmt.Sprintf("/profile/api-keys/%d/revoke", readID), nil), "/profile#api-keys")
		tm.readKey.get("/me").expect(http.StatusUnauthorized)
		// Another user's key id: not found, nothing revoked.
		expectStatus(t, tm.member.post(fmt.Sprintf("/profile/api-keys/%d/revoke", keys[0].ID), nil), http.StatusNotFound)
		tm.ownerKey.get("/me").expect(http.StatusOK)

		// A key is bound to its team membership: the member leaves, the
		// key stops.
		expectStatus(t, tm.member.post("/team/leave", form("confirm", "yes")), http.StatusSeeOther)
		tm.memberKey.get("/me").expect(http.StatusUnauthorized)
	})
}

func TestAPIKeysOnProfilePage(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	clock := useTestClock(t, st, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	a := newApp(t, st, nil, testConfig())
	c, email := a.owner("Keys Owner", "Keys")
	k := a.apiKey(c, "Zapier", "read")
	page := c.get("/profile")
	if strings.Contains(page.body, k.token) {
		t.Fatal("the token is shown again after it was made")
	}
	row := page.doc(t).Find(`[data-testid="api-key-Zapier"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "read only") || !strings.Contains(row.Text(), "never") {
		t.Fatalf("key row: %q", row.Text())
	}
	keys, _ := a.store.APIKeysOf(context.Background(), a.user(email).ID)
	if len(keys) != 1 || strings.Contains(keys[0].TokenHash, k.token) || len(keys[0].TokenHash) != 64 {
		t.Fatalf("stored key: %+v", keys)
	}
	// Refused forms keep what was typed.
	r := c.post("/profile/api-keys", form("name", "", "scope", "admin"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, store.NameError("Name", "")) || !strings.Contains(r.body, "Choose read-only or read and write.") {
		t.Fatalf("refusal messages missing:\n%s", r.body)
	}
	// Last used: written at the first use, then at most once a minute.
	clock.advance(time.Hour) // the key was made an hour ago
	now := clock.get()
	k.get("/me").expect(http.StatusOK)
	now = now.Add(30 * time.Second)
	clock.set(now)
	k.get("/me").expect(http.StatusOK)
	keys, _ = a.store.APIKeysOf(context.Background(), a.user(email).ID)
	if !keys[0].LastUsedAt.Equal(now.Add(-30 * time.Second)) {
		t.Fatalf("last used %v, want the first use", keys[0].LastUsedAt)
	}
	now = now.Add(31 * time.Second)
	clock.set(now)
	k.get("/me").expect(http.StatusOK)
	keys, _ = a.store.APIKeysOf(context.Background(), a.user(email).ID)
	if !keys[0].LastUsedAt.Equal(now) {
		t.Fatalf("last used %v, want %v", keys[0].LastUsedAt, now)
	}
	// Without a team there is no key to make.
	loner, _ := a.signup("Loner")
	expectStatus(t, loner.post("/profile/api-keys", form("name", "x", "scope", "read")), http.StatusUnprocessableEntity)
}

func TestAPIContacts(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Contacts")
		k := tm.ownerKey
		r := k.call("POST", "/contacts", map[string]any{"name": "Ada Lovelace", "email": "ADA@example.com", "phone": "+44 20 1234 5678",
			"company": "Engines", "status": "open"}).expect(http.StatusCreated)
		id := r.id("id")
		if r.header.Get("Location") != fmt.Sprintf("/api/v1/contacts/%d", id) || r.str("email") != "ada@example.com" || r.str("status") != "Open" {
			t.Fatalf("created: %v %s", r.header, r.body)
		}
		for _, n := range []string{"Bea", "Cy", "Di", "Ed"} {
			k.call("POST", "/contacts", map[string]any{"name": n, "email": strings.ToLower(n) + "@example.com"}).expect(http.StatusCreated)
		}
		got := k.get(fmt.Sprintf("/contacts/%d", id)).expect(http.StatusOK)
		if got.str("name") != "Ada Lovelace" || got.id("version") != 1 {
			t.Fatalf("get: %s", got.body)
		}

		// Paging with the tables' cursors, in the tables' order.
		var names []string
		next := ""
		for range 5 {
			page := k.get("/contacts?sort=name&dir=desc&limit=2" + next).expect(http.StatusOK)
			for _, row := range page.data() {
				names = append(names, row["name"].(string))
			}
			cur := page.str("next")
			if cur == "" {
				break
			}
			next = "&cursor=" + cur
		}
		if want := []string{"Ed", "Di", "Cy", "Bea", "Ada Lovelace"}; !slices.Equal(names, want) {
			t.Fatalf("paged %v, want %v", names, want)
		}
		// The same query as the table: search and views.
		if rows := k.get("/contacts?q=engines").expect(http.StatusOK).data(); len(rows) != 1 || rows[0]["name"] != "Ada Lovelace" {
			t.Fatalf("search: %v", rows)
		}
		if rows := tm.memberKey.get("/contacts?view=mine").expect(http.StatusOK).data(); len(rows) != 0 {
			t.Fatalf("member's own contacts: %v", rows)
		}
		if rows := k.get("/contacts?view=mine").expect(http.StatusOK).data(); len(rows) != 5 {
			t.Fatalf("owner's contacts: %d", len(rows))
		}
		k.get("/contacts?view=unassigned").expect(http.StatusOK)

		// Update with the version read; a stale version is a 409 with the
		// record as it is now.
		up := k.call("PATCH", fmt.Sprintf("/contacts/%d", id), map[string]any{"company": "Analytical Engines", "version": 1}).expect(http.StatusOK)
		if up.str("company") != "Analytical Engines" || up.str("name") != "Ada Lovelace" || up.id("version") != 2 {
			t.Fatalf("patched: %s", up.body)
		}
		stale := tm.adminKey.call("PATCH", fmt.Sprintf("/contacts/%d", id), map[string]any{"name": "Old", "version": 1}).expect(http.StatusConflict)
		cur := stale.obj()["current"].(map[string]any)
		if stale.str("code") != "version_conflict" || cur["company"] != "Analytical Engines" || cur["version"].(float64) != 2 {
			t.Fatalf("conflict: %s", stale.body)
		}
		k.call("PATCH", fmt.Sprintf("/contacts/%d", id), map[string]any{"name": "x"}).expect(http.StatusUnprocessableEntity)

		// The forms' messages, at their fields.
		bad := k.call("POST", "/contacts", map[string]any{"name": "", "email": "nope", "status": "Dead"}).expect(http.StatusUnprocessableEntity)
		if bad.fieldError("name") != store.NameError("Name", "") || bad.fieldError("email") != store.EmailError("nope") ||
			bad.fieldError("status") != "Choose one of the listed statuses." {
			t.Fatalf("field errors: %s", bad.body)
		}
		dup := k.call("POST", "/contacts", map[string]any{"name": "Ada again", "email": "ada@example.com"}).expect(http.StatusUnprocessableEntity)
		if dup.id("existing_id") != id || dup.fieldError("email") == "" {
			t.Fatalf("duplicate: %s", dup.body)
		}

		// Owners assign; a member's owner_id is ignored (as in the form).
		memberID := a.user(tm.memberEmail).ID
		as := k.call("PATCH", fmt.Sprintf("/contacts/%d", id), map[string]any{"owner_id": memberID, "version": 2}).expect(http.StatusOK)
		if as.id("owner_id") != memberID {
			t.Fatalf("assign: %s", as.body)
		}
		k.call("PATCH", fmt.Sprintf("/contacts/%d", id), map[string]any{"owner_id": 999999, "version": 3}).expect(http.StatusUnprocessableEntity)
		mine := tm.memberKey.call("POST", "/contacts", map[string]any{"name": "Mine", "email": "mine@example.com", "owner_id": nil}).expect(http.StatusCreated)
		if mine.id("owner_id") != memberID {
			t.Fatalf("member's new contact: %s", mine.body)
		}

		// Notes and activities.
		note := tm.memberKey.call("POST", fmt.Sprintf("/contacts/%d/notes", id), map[string]any{"body": "Called, likes the engine."}).expect(http.StatusCreated)
		if rows := k.get(fmt.Sprintf("/contacts/%d/notes", id)).expect(http.StatusOK).data(); len(rows) != 1 {
			t.Fatalf("notes: %v", rows)
		}
		acts := k.get(fmt.Sprintf("/contacts/%d/activities?limit=10", id)).expect(http.StatusOK).data()
		if len(acts) != 1 || acts[0]["type"] != "note" {
			t.Fatalf("activities: %v", acts)
		}
		k.call("POST", fmt.Sprintf("/contacts/%d/notes", id), map[string]any{"body": "  "}).expect(http.StatusUnprocessableEntity)
		// Only the author or an owner/admin removes a note.
		other := a.apiKey(mustJoin(a, tm), "other member", "write")
		other.call("DELETE", fmt.Sprintf("/contacts/%d/notes/%d", id, note.id("id")), nil).expect(http.StatusForbidden)
		tm.adminKey.call("DELETE", fmt.Sprintf("/contacts/%d/notes/%d", id, note.id("id")), nil).expect(http.StatusNoContent)
		k.call("DELETE", fmt.Sprintf("/contacts/%d/notes/%d", id, note.id("id")), nil).expect(http.StatusNotFound)

		k.get(fmt.Sprintf("/contacts/%d/deals", id)).expect(http.StatusOK)
		k.call("DELETE", fmt.Sprintf("/contacts/%d", id), nil).expect(http.StatusNoContent)
		k.get(fmt.Sprintf("/contacts/%d", id)).expect(http.StatusNotFound)
		k.call("DELETE", fmt.Sprintf("/contacts/%d", id), nil).expect(http.StatusNotFound)
	})
}

// mustJoin adds one more member to the team and returns their browser.
func mustJoin(a *testApp, tm *apiTeam) *client {
	c, _ := a.member(tm.owner, "Another Member")
	return c
}

func TestAPIOtherTeamsIDsAreNotFound(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		mine := a.apiTeam("Mine")
		theirs := a.apiTeam("Theirs")
		c := theirs.ownerKey.call("POST", "/contacts", map[string]any{"name": "Secret", "email": "secret@example.com"}).expect(http.StatusCreated).id("id")
		d := theirs.ownerKey.call("POST", "/deals", map[string]any{"name": "Secret deal", "contact_id": c}).expect(http.StatusCreated).id("id")
		n := theirs.ownerKey.call("POST", fmt.Sprintf("/contacts/%d/notes", c), map[string]any{"body": "hush"}).expect(http.StatusCreated).id("id")
		k := mine.ownerKey
		for _, p := range []string{
			fmt.Sprintf("/contacts/%d", c), fmt.Sprintf("/contacts/%d/notes", c), fmt.Sprintf("/contacts/%d/activities", c),
			fmt.Sprintf("/contacts/%d/deals", c), fmt.Sprintf("/deals/%d", d), fmt.Sprintf("/deals/%d/stages", d),
			fmt.Sprintf("/members/%d", a.user(theirs.ownerEmail).ID),
		} {
			if r := k.get(p); r.status != http.StatusNotFound || r.str("code") != "not_found" {
				t.Fatalf("GET %s: %d %s", p, r.status, r.body)
			}
		}
		k.call("PATCH", fmt.Sprintf("/contacts/%d", c), map[string]any{"name": "Mine now", "version": 1}).expect(http.StatusNotFound)
		k.call("PATCH", fmt.Sprintf("/deals/%d", d), map[string]any{"name": "Mine now", "version": 1}).expect(http.StatusNotFound)
		k.call("POST", fmt.Sprintf("/deals/%d/move", d), map[string]any{"stage": store.StageQualified}).expect(http.StatusNotFound)
		k.call("POST", fmt.Sprintf("/deals/%d/reopen", d), nil).expect(http.StatusNotFound)
		k.call("POST", fmt.Sprintf("/contacts/%d/notes", c), map[string]any{"body": "x"}).expect(http.StatusNotFound)
		k.call("DELETE", fmt.Sprintf("/contacts/%d/notes/%d", c, n), nil).expect(http.StatusNotFound)
		k.call("DELETE", fmt.Sprintf("/deals/%d", d), nil).expect(http.StatusNotFound)
		k.call("DELETE", fmt.Sprintf("/contacts/%d", c), nil).expect(http.StatusNotFound)
		// Another team's contact on a deal is a field error, as in the form.
		r := k.call("POST", "/deals", map[string]any{"name": "Poach", "contact_id": c}).expect(http.StatusUnprocessableEntity)
		if r.fieldError("contact_id") != "Choose one of your team's contacts." {
			t.Fatalf("foreign contact: %s", r.body)
		}
		// Nothing changed over there.
		if got := theirs.ownerKey.get(fmt.Sprintf("/contacts/%d", c)).expect(http.StatusOK); got.str("name") != "Secret" {
			t.Fatalf("changed: %s", got.body)
		}
		if rows := k.get("/contacts?q=secret").expect(http.StatusOK).data(); len(rows) != 0 {
			t.Fatalf("search leaks: %v", rows)
		}
	})
}
