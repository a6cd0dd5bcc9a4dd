package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

var userSeq atomic.Int64

// newUser creates an account with a unique email.
func newUser(t *testing.T, s *store.Store, name string) *store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, fmt.Sprintf("%s.%d@Example.com", name, userSeq.Add(1)), "hash")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func reload(t *testing.T, s *store.Store, u *store.User) *store.User {
	t.Helper()
	got, err := s.UserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEmailsAreUniqueCaseInsensitively(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.CreateUser(ctx, "Ann", "Ann@Example.com", "h"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "Ann 2", "ann@example.COM", "h"); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("second signup with the same email: err = %v, want ErrDuplicate", err)
		}
		u, err := s.UserByEmail(ctx, " ANN@example.com ")
		if err != nil || u.Name != "Ann" || u.Email != "ann@example.com" {
			t.Errorf("UserByEmail = %+v, %v", u, err)
		}
	})
}

func TestCreateTeamMakesOwnerOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := newUser(t, s, "owner")
		team, err := s.CreateTeam(ctx, u.ID, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		u = reload(t, s, u)
		if u.TeamID != team.ID || u.Role != store.RoleOwner {
			t.Errorf("after CreateTeam user = team %d role %q", u.TeamID, u.Role)
		}
		if team.Currency != "EUR" || team.TimeZone != "UTC" {
			t.Errorf("team defaults = %s %s", team.Currency, team.TimeZone)
		}
		if _, err := s.CreateTeam(ctx, u.ID, "Second"); !errors.Is(err, store.ErrAlreadyInTeam) {
			t.Errorf("second team: err = %v, want ErrAlreadyInTeam", err)
		}
		var teams int
		s.DB.NewRaw("SELECT COUNT(*) FROM teams WHERE name = 'Second'").Scan(ctx, &teams)
		if teams != 0 {
			t.Errorf("refused team was still inserted")
		}
	})
}

// teamOf builds a team with an owner, an admin and a member.
func teamOf(t *testing.T, s *store.Store) (team *store.Team, owner, admin, member *store.User) {
	t.Helper()
	ctx := context.Background()
	owner = newUser(t, s, "owner")
	team, err := s.CreateTeam(ctx, owner.ID, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	join := func(name string) *store.User {
		u := newUser(t, s, name)
		inv, err := s.CreateInvitation(ctx, team.ID, owner.ID, u.Email, "hash-"+u.Email, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, inv.TokenHash, u.ID); err != nil {
			t.Fatal(err)
		}
		return reload(t, s, u)
	}
	admin, member = join("admin"), join("member")
	if err := s.SetMemberRole(ctx, team.ID, admin.ID, store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return team, reload(t, s, owner), reload(t, s, admin), member
}

func TestRolesAndMembership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		members, err := s.TeamMembers(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != 3 || members[0].ID != owner.ID || members[1].ID != admin.ID || members[2].ID != member.ID {
			t.Fatalf("members = %+v, want owner, admin, member", members)
		}
		if err := s.SetMemberRole(ctx, team.ID, owner.ID, store.RoleMember); !errors.Is(err, store.ErrCannotChangeOwner) {
			t.Errorf("demote owner: %v", err)
		}
		if err := s.SetMemberRole(ctx, team.ID, member.ID, store.RoleOwner); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("set role owner directly: %v", err)
		}
		// An admin may not remove another admin or the owner; the owner may.
		if err := s.RemoveMember(ctx, team.ID, admin, owner.ID); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("admin removes owner: %v", err)
		}
		if err := s.RemoveMember(ctx, team.ID, member, admin.ID); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member removes admin: %v", err)
		}
		if err := s.RemoveMember(ctx, team.ID, admin, member.ID); err != nil {
			t.Errorf("admin removes member: %v", err)
		}
		if got := reload(t, s, member); got.TeamID != 0 || got.Role != "" {
			t.Errorf("removed member still has team %d role %q", got.TeamID, got.Role)
		}
		// The owner cannot leave while others remain.
		if _, err := s.LeaveTeam(ctx, team.ID, owner.ID); !errors.Is(err, store.ErrOwnerMustHandOver) {
			t.Errorf("owner leaves: %v", err)
		}
		if err := s.TransferOwnership(ctx, team.ID, owner.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		if a, o := reload(t, s, admin), reload(t, s, owner); a.Role != store.RoleOwner || o.Role != store.RoleAdmin {
			t.Errorf("after handover admin=%s owner=%s", a.Role, o.Role)
		}
		if deleted, err := s.LeaveTeam(ctx, team.ID, owner.ID); err != nil || deleted {
			t.Errorf("former owner leaves: deleted=%v err=%v", deleted, err)
		}
		// The last member leaving deletes the team.
		if deleted, err := s.LeaveTeam(ctx, team.ID, admin.ID); err != nil || !deleted {
			t.Errorf("last member leaves: deleted=%v err=%v", deleted, err)
		}
		if _, err := s.TeamByID(ctx, team.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("team still there after its last member left: %v", err)
		}
	})
}

func TestMembershipIsScopedToTheTeam(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		teamA, ownerA, _, _ := teamOf(t, s)
		_, _, _, memberB := teamOf(t, s)
		if err := s.SetMemberRole(ctx, teamA.ID, memberB.ID, store.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("promote other team's member: %v", err)
		}
		if err := s.RemoveMember(ctx, teamA.ID, ownerA, memberB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("remove other team's member: %v", err)
		}
		if err := s.TransferOwnership(ctx, teamA.ID, ownerA.ID, memberB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("hand over to other team's member: %v", err)
		}
		if got := reload(t, s, memberB); got.Role != store.RoleMember {
			t.Errorf("other team's member changed: %+v", got)
		}
	})
}

func TestInvitationRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		guest := newUser(t, s, "guest")
		stranger := newUser(t, s, "stranger")

		if _, err := s.CreateInvitation(ctx, team.ID, owner.ID, member.Email, "x1", time.Hour); !errors.Is(err, store.ErrAlreadyMember) {
			t.Errorf("invite a member: %v", err)
		}
		if _, err := s.CreateInvitation(ctx, team.ID, owner.ID, guest.Email, "tok-1", 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := s.InvitationByTokenHash(ctx, "tok-1")
		if err != nil || got.TeamName != "Acme" || got.InviterName != "owner" {
			t.Fatalf("InvitationByTokenHash = %+v, %v", got, err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-1", stranger.ID); !errors.Is(err, store.ErrInviteWrongUser) {
			t.Errorf("accept as someone else: %v", err)
		}
		if _, err := s.AcceptInvitation(ctx, "nope", guest.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		// Re-inviting revokes the first link.
		if _, err := s.CreateInvitation(ctx, team.ID, owner.ID, guest.Email, "tok-2", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-1", guest.ID); !errors.Is(err, store.ErrInviteRevoked) {
			t.Errorf("accept replaced link: %v", err)
		}
		pending, _ := s.PendingInvitations(ctx, team.ID)
		if len(pending) != 1 || pending[0].TokenHash != "tok-2" {
			t.Errorf("pending = %+v", pending)
		}
		if teamID, err := s.AcceptInvitation(ctx, "tok-2", guest.ID); err != nil || teamID != team.ID {
			t.Fatalf("accept: %d %v", teamID, err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-2", guest.ID); !errors.Is(err, store.ErrInviteUsed) {
			t.Errorf("accept twice: %v", err)
		}
		// Expired.
		late := newUser(t, s, "late")
		s.CreateInvitation(ctx, team.ID, owner.ID, late.Email, "tok-3", time.Hour)
		restore := s.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
		if _, err := s.AcceptInvitation(ctx, "tok-3", late.ID); !errors.Is(err, store.ErrInviteExpired) {
			t.Errorf("accept expired: %v", err)
		}
		restore()
		// Already in a team.
		_, otherOwner, _, _ := teamOf(t, s)
		s.CreateInvitation(ctx, team.ID, owner.ID, otherOwner.Email, "tok-4", time.Hour)
		if _, err := s.AcceptInvitation(ctx, "tok-4", otherOwner.ID); !errors.Is(err, store.ErrAlreadyInTeam) {
			t.Errorf("accept while in a team: %v", err)
		}
		// Revoked through the team page; another team cannot revoke it.
		s.CreateInvitation(ctx, team.ID, owner.ID, stranger.Email, "tok-5", time.Hour)
		inv5, _ := s.InvitationByTokenHash(ctx, "tok-5")
		otherTeam, _, _, _ := teamOf(t, s)
		if err := s.RevokeInvitation(ctx, otherTeam.ID, inv5.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke from other team: %v", err)
		}
		if err := s.RevokeInvitation(ctx, team.ID, inv5.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, "tok-5", stranger.ID); !errors.Is(err, store.ErrInviteRevoked) {
			t.Errorf("accept revoked: %v", err)
		}
		if got := reload(t, s, stranger); got.TeamID != 0 {
			t.Errorf("refused acceptance joined the team")
		}
	})
}

func TestSessionsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ss := s.Sessions(nil)
		if _, found, err := ss.FindCtx(ctx, "missing"); found || err != nil {
			t.Errorf("missing session: found=%v err=%v", found, err)
		}
		exp := time.Now().Add(time.Hour)
		if err := ss.CommitCtx(ctx, "tok", []byte("one"), exp); err != nil {
			t.Fatal(err)
		}
		if err := ss.CommitCtx(ctx, "tok", []byte("two"), exp); err != nil {
			t.Fatal(err)
		}
		b, found, err := ss.FindCtx(ctx, "tok")
		if err != nil || !found || string(b) != "two" {
			t.Errorf("find = %q %v %v", b, found, err)
		}
		ss.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Minute))
		if _, found, _ := ss.FindCtx(ctx, "old"); found {
			t.Errorf("expired session found")
		}
		if n, err := ss.DeleteExpired(ctx); err != nil || n != 1 {
			t.Errorf("DeleteExpired = %d, %v", n, err)
		}
		ss.DeleteCtx(ctx, "tok")
		if _, found, _ := ss.FindCtx(ctx, "tok"); found {
			t.Errorf("deleted session found")
		}
	})
}

func TestEnsureSettingKeepsTheFirstValue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.EnsureSetting(ctx, "secret", func() string { return "first" })
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.EnsureSetting(ctx, "secret", func() string { return "second" })
		if a != "first" || b != "first" {
			t.Errorf("EnsureSetting = %q then %q", a, b)
		}
	})
}
