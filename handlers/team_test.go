package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

func TestUserWithoutTeam(t *testing.T) {
	a := newSQLiteApp(t)
	c, _ := a.signup("Solo")
	r := c.get("/")
	expectStatus(t, r, http.StatusOK)
	if r.doc(t).Find("[data-testid=create-team-link]").Length() != 1 {
		t.Errorf("home without team offers no team creation")
	}
	for _, path := range []string{"/team", "/contacts", "/deals"} {
		expectRedirect(t, c.get(path), "/")
	}
	for _, path := range []string{"/team/invites", "/team/leave", "/team/members/1/role", "/team/invites/1/revoke"} {
		expectRedirect(t, c.post(path, form("email", "x@example.com", "confirm", "yes", "role", "admin")), "/")
	}
	// The redirect explains itself.
	if got := c.get("/").text(t, "[data-testid=flash]"); !strings.Contains(got, "Create a team or accept an invitation") {
		t.Errorf("flash after no-team redirect: %q", got)
	}
	expectStatus(t, c.get("/profile"), http.StatusOK)
	expectStatus(t, c.get("/team/new"), http.StatusOK)
}

func TestCreateTeamValidation(t *testing.T) {
	a := newSQLiteApp(t)
	c, email := a.signup("Cat")
	r := c.post("/team", form("name", "   "))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.text(t, "[data-testid=error-name]") != "Team name is required." {
		t.Errorf("blank team name: %q", r.text(t, "[data-testid=error-name]"))
	}
	expectStatus(t, c.post("/team", form("name", strings.Repeat("x", 101))), http.StatusUnprocessableEntity)
	expectRedirect(t, c.post("/team", form("name", "  Acme   Sales ")), "/team")
	u := a.user(email)
	team, _ := a.store.TeamByID(context.Background(), u.TeamID)
	if u.Role != store.RoleOwner || team.Name != "Acme Sales" {
		t.Errorf("after create: role %q team %q", u.Role, team.Name)
	}
	r = c.post("/team", form("name", "Second"))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.text(t, "[data-testid=form-error]"), "already in a team") {
		t.Errorf("second team message: %q", r.body)
	}
	expectRedirect(t, c.get("/team/new"), "/team")
}

func TestTeamPageAndRoles(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, ownerEmail := a.owner("Olga", "Acme")
		admin, adminEmail := a.member(owner, "Adam")
		member, memberEmail := a.member(owner, "Mia")
		adminID := a.user(adminEmail).ID
		memberID := a.user(memberEmail).ID
		ownerID := a.user(ownerEmail).ID

		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(adminID, 10)+"/role", form("role", "admin")), "/team")
		if a.user(adminEmail).Role != store.RoleAdmin {
			t.Fatalf("promote failed")
		}
		page := owner.get("/team")
		rows := page.doc(t).Find("[data-testid=members] tbody tr")
		if rows.Length() != 3 {
			t.Fatalf("team page lists %d members", rows.Length())
		}
		for _, want := range []string{"Olga", "Owner", adminEmail, "Admin", memberEmail, "Member"} {
			if !strings.Contains(rows.Text(), want) {
				t.Errorf("team page lacks %q", want)
			}
		}
		// Role checks on the server.
		forbidden := []struct {
			who  *client
			path string
		}{
			{member, "/team/invites"},
			{member, "/team/members/" + strconv.FormatInt(adminID, 10) + "/remove"},
			{member, "/team/members/" + strconv.FormatInt(memberID, 10) + "/role"},
			{admin, "/team/members/" + strconv.FormatInt(memberID, 10) + "/role"},
			{admin, "/team/members/" + strconv.FormatInt(memberID, 10) + "/owner"},
			{admin, "/team/members/" + strconv.FormatInt(ownerID, 10) + "/remove"},
			{owner, "/team/members/" + strconv.FormatInt(ownerID, 10) + "/remove"},
		}
		for _, f := range forbidden {
			r := f.who.post(f.path, form("email", "new@example.com", "role", "admin"))
			expectStatus(t, r, http.StatusForbidden)
			if r.doc(t).Find("[data-testid=error-page]").Length() != 1 {
				t.Errorf("403 for %s is not the friendly page", f.path)
			}
		}
		if a.user(memberEmail).Role != store.RoleMember || a.user(ownerEmail).TeamID == 0 {
			t.Errorf("a refused action changed something")
		}
		pending, _ := a.store.PendingInvitations(context.Background(), a.user(ownerEmail).TeamID)
		if len(pending) != 0 {
			t.Errorf("member's refused invite created an invitation")
		}
		// Members see no management buttons.
		if n := member.get("/team").doc(t).Find("[data-testid=remove-member], #invite").Length(); n != 0 {
			t.Errorf("member sees %d management controls", n)
		}
		// Bad ids and roles are refused cleanly.
		expectStatus(t, owner.post("/team/members/abc/role", form("role", "admin")), http.StatusNotFound)
		expectStatus(t, owner.post("/team/members/99999999/role", form("role", "admin")), http.StatusNotFound)
		expectStatus(t, owner.post("/team/members/"+strconv.FormatInt(memberID, 10)+"/role", form("role", "owner")), http.StatusBadRequest)

		// Admin removes a member; the member loses access.
		expectRedirect(t, admin.post("/team/members/"+strconv.FormatInt(memberID, 10)+"/remove", nil), "/team")
		expectRedirect(t, member.get("/team"), "/")
		// Hand over ownership, then the old owner can leave.
		r := owner.post("/team/leave", form("confirm", "yes"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.text(t, "[data-testid=form-error]"), "hand ownership") {
			t.Errorf("owner leaving: %q", r.text(t, "[data-testid=form-error]"))
		}
		expectRedirect(t, owner.post("/team/members/"+strconv.FormatInt(adminID, 10)+"/owner", nil), "/team")
		if a.user(adminEmail).Role != store.RoleOwner || a.user(ownerEmail).Role != store.RoleAdmin {
			t.Fatalf("handover: admin now %q, owner now %q", a.user(adminEmail).Role, a.user(ownerEmail).Role)
		}
		// Leaving needs the confirmation box.
		r = owner.post("/team/leave", nil)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if r.text(t, "[data-testid=error-confirm]") == "" || a.user(ownerEmail).TeamID == 0 {
			t.Errorf("leave without confirm: no message or left anyway")
		}
		expectRedirect(t, owner.post("/team/leave", form("confirm", "yes")), "/")
		if a.user(ownerEmail).TeamID != 0 {
			t.Errorf("still in team after leaving")
		}
	})
}

func TestInvitationAcceptFlows(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		// Logged out, new person: sign up with the email prefilled, then join.
		newcomer := uniqueEmail("newcomer")
		path := a.invite(owner, newcomer)
		c := a.client()
		r := c.get(path)
		expectStatus(t, r, http.StatusOK)
		href, _ := r.doc(t).Find("[data-testid=invite-signup]").Attr("href")
		if !strings.Contains(href, "email=") || !strings.Contains(href, "next=%2Finvites%2F") {
			t.Fatalf("signup link %q lacks email and next", href)
		}
		r = c.get(href)
		if v, _ := r.doc(t).Find("#email").Attr("value"); v != newcomer {
			t.Errorf("signup email not prefilled: %q", v)
		}
		next, _ := r.doc(t).Find("input[name=next]").Attr("value")
		expectRedirect(t, c.post("/signup", form("name", "Nico", "email", newcomer, "password", testPassword, "next", next)), path)
		expectStatus(t, c.get(path), http.StatusOK)
		expectRedirect(t, c.post(path, nil), "/team")
		if a.user(newcomer).Role != store.RoleMember {
			t.Errorf("newcomer not a member")
		}
		// Logged out, existing account: log in with email prefilled, then join.
		_, existing := a.signup("Eve")
		path = a.invite(owner, existing)
		c = a.client()
		href, _ = c.get(path).doc(t).Find("[data-testid=invite-login]").Attr("href")
		if !strings.Contains(href, "/login?") {
			t.Fatalf("existing account offered %q", href)
		}
		expectRedirect(t, c.post("/login", form("email", existing, "password", testPassword, "next", path)), path)
		expectRedirect(t, c.post(path, nil), "/team")
		if a.user(existing).TeamID != a.user(newcomer).TeamID {
			t.Errorf("existing user not joined")
		}
		// The owner's team page lists everyone and no pending invitation.
		page := owner.get("/team")
		if page.doc(t).Find("[data-testid=members] tbody tr").Length() != 3 {
			t.Errorf("team page members: %s", page.doc(t).Find("[data-testid=members]").Text())
		}
		if page.doc(t).Find("[data-testid=no-invitations]").Length() != 1 {
			t.Errorf("accepted invitations still pending")
		}
	})
}

func TestInvitationRefusalsChangeNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga", "Acme")
		other, otherEmail := a.signup("Other")
		inTeam, inTeamEmail := a.owner("Busy", "Elsewhere")
		invited, invitedEmail := a.signup("Invited")

		check := func(name string, c *client, path string, wantStatus int, wantText string) {
			t.Helper()
			for _, r := range []*response{c.get(path), c.post(path, nil)} {
				if r.StatusCode != wantStatus {
					t.Errorf("%s: %s status %d, want %d", name, r.Request.Method, r.StatusCode, wantStatus)
				}
				if got := r.text(t, "[data-testid=invite-problem]"); !strings.Contains(got, wantText) {
					t.Errorf("%s: %s says %q, want %q", name, r.Request.Method, got, wantText)
				}
			}
		}
		// Someone else's invitation.
		path := a.invite(owner, invitedEmail)
		check("wrong user", other, path, http.StatusGone, "is for "+invitedEmail)
		// Already in a team.
		busyPath := a.invite(owner, inTeamEmail)
		check("in a team", inTeam, busyPath, http.StatusGone, "already in a team")
		// Unknown and malformed tokens.
		check("unknown", invited, "/invites/not-a-real-token", http.StatusNotFound, "not valid")
		check("odd characters", invited, "/invites/%3Cscript%3E", http.StatusNotFound, "not valid")
		// Revoked from the team page.
		ownerID := a.user(a.userEmailOf(owner)).TeamID
		pending, _ := a.store.PendingInvitations(context.Background(), ownerID)
		var invID int64
		for _, p := range pending {
			if p.Email == invitedEmail {
				invID = p.ID
			}
		}
		expectRedirect(t, owner.post("/team/invites/"+strconv.FormatInt(invID, 10)+"/revoke", nil), "/team#invite")
		check("revoked", invited, path, http.StatusGone, "withdrawn")
		// Used.
		path = a.invite(owner, invitedEmail)
		expectRedirect(t, invited.post(path, nil), "/team")
		expectRedirect(t, invited.post("/team/leave", form("confirm", "yes")), "/")
		check("used", invited, path, http.StatusGone, "already been used")
		// Expired.
		path = a.invite(owner, invitedEmail)
		restore := a.store.SetClock(func() time.Time { return time.Now().Add(7*24*time.Hour + time.Minute) })
		check("expired", invited, path, http.StatusGone, "expired")
		restore()
		// Nothing changed for the refused people.
		if u := a.user(otherEmail); u.TeamID != 0 {
			t.Errorf("wrong user joined")
		}
		if u := a.user(inTeamEmail); u.Role != store.RoleOwner {
			t.Errorf("busy owner changed: %+v", u)
		}
		if u := a.user(invitedEmail); u.TeamID != 0 {
			t.Errorf("invited user joined through a refused link")
		}
		// Revoking another team's invitation is a 404.
		a.invite(owner, uniqueEmail("x"))
		pending, _ = a.store.PendingInvitations(context.Background(), ownerID)
		expectStatus(t, inTeam.post("/team/invites/"+strconv.FormatInt(pending[0].ID, 10)+"/revoke", nil), http.StatusNotFound)
		expectStatus(t, owner.post("/team/invites/abc/revoke", nil), http.StatusNotFound)
	})
}

func TestInviteValidation(t *testing.T) {
	a := newSQLiteApp(t)
	owner, ownerEmail := a.owner("Olga", "Acme")
	for email, want := range map[string]string{
		"":            "Email is required.",
		"nope":        "like name@company.com",
		ownerEmail:    "already a member",
		"a@b@c.com":   "like name@company.com",
		"x@localhost": "like name@company.com",
	} {
		r := owner.post("/team/invites", form("email", email))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if got := r.text(t, "[data-testid=error-email]"); !strings.Contains(got, want) {
			t.Errorf("invite %q: %q, want %q", email, got, want)
		}
	}
	pending, _ := a.store.PendingInvitations(context.Background(), a.user(ownerEmail).TeamID)
	if len(pending) != 0 {
		t.Errorf("%d invitations after refusals", len(pending))
	}
}

// userEmailOf asks the profile page which account a client is logged in as.
func (a *testApp) userEmailOf(c *client) string {
	a.t.Helper()
	r := c.get("/profile")
	return strings.TrimSpace(r.doc(a.t).Find(".page-head p").First().Text())
}
