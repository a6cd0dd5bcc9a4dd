package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestBoardPollVersions: one statement checks a batch of poll grants and
// reads their teams' versions; a grant whose session is gone or expired,
// whose user left the team, has another role or ended their sessions
// since, or whose team changed currency or zone, gets no version. The
// statement reads every table by its primary key (EXPLAIN on both
// databases).
func TestBoardPollVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		other, otherOwner, _, _ := teamOf(t, s)
		ss := s.Sessions(nil)
		hour := time.Now().Add(time.Hour)
		for _, tok := range []string{"owner", "admin", "member", "other", "expired", "stranger"} {
			exp := hour
			if tok == "expired" {
				exp = time.Now().Add(-time.Minute)
			}
			if err := ss.CommitCtx(ctx, tok, []byte(tok), exp); err != nil {
				t.Fatal(err)
			}
		}
		for tok, id := range map[string]int64{"owner": owner.ID, "admin": admin.ID, "member": member.ID, "other": otherOwner.ID, "expired": member.ID} {
			if _, err := s.DB.NewRaw("UPDATE sessions SET user_id = ? WHERE token = ?", id, tok).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		login := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
		grant := func(tok string, u *store.User, tm *store.Team) store.PollGrant {
			return store.PollGrant{Token: tok, UserID: u.ID, TeamID: tm.ID, Role: u.Role, Currency: tm.Currency, TimeZone: tm.TimeZone, LoginAt: login}
		}
		wrongRole := grant("admin", admin, team)
		wrongRole.Role = store.RoleMember
		wrongUser := grant("member", owner, team) // the member's session, claimed for the owner
		wrongTeam := grant("other", otherOwner, team)
		wrongZone := grant("owner", owner, team)
		wrongZone.TimeZone = "Europe/Berlin"
		grants := []store.PollGrant{grant("owner", owner, team), grant("member", member, team), grant("other", otherOwner, other),
			grant("expired", member, team), grant("missing", member, team), wrongRole, wrongUser, wrongTeam}
		log := &allQueries{}
		s.DB.AddQueryHook(log)
		got, err := s.BoardPollVersions(ctx, grants)
		if err != nil {
			t.Fatal(err)
		}
		queries := log.take()
		if len(queries) != 1 {
			t.Fatalf("%d statements for one batch", len(queries))
		}
		v, err := s.TeamVersion(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		ov, err := s.TeamVersion(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Map keys are tokens: the wrong grants share tokens with valid ones,
		// so they are checked one at a time below.
		if got["owner"] != v.All || got["member"] != v.All || got["other"] != ov.All || len(got) != 3 {
			t.Errorf("versions %v, want owner and member at %d, other at %d", got, v.All, ov.All)
		}
		for _, g := range []store.PollGrant{wrongRole, wrongUser, wrongTeam, wrongZone} {
			if got, err := s.BoardPollVersions(ctx, []store.PollGrant{g}); err != nil || len(got) != 0 {
				t.Errorf("grant %+v: %v %v, want none", g, got, err)
			}
		}
		// Ended their other sessions after this one logged in: over.
		if _, err := s.DB.NewRaw("UPDATE users SET sessions_since = ? WHERE id = ?", login.Add(time.Second), member.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := s.BoardPollVersions(ctx, []store.PollGrant{grant("member", member, team)}); err != nil || len(got) != 0 {
			t.Errorf("a session older than sessions_since: %v %v", got, err)
		}
		log.take()

		for _, q := range queries {
			if s.Dialect == store.SQLite {
				plan := sqlitePlan(t, s, q)
				for _, want := range []string{"SEARCH se USING INDEX sqlite_autoindex_sessions_1 (token=?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)",
					"SEARCH t USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH tc USING "} {
					if !strings.Contains(plan, want) {
						t.Errorf("plan %q lacks %q\n%s", plan, want, q)
					}
				}
				if strings.Contains(plan, "SCAN ") {
					t.Errorf("plan %q scans a table\n%s", plan, q)
				}
				continue
			}
			for _, r := range explain(t, sqlDB(s), q) {
				if r.key != "PRIMARY" || (r.typ != "range" && r.typ != "eq_ref" && r.typ != "const" && r.typ != "ref") {
					t.Errorf("plan row %+v: want a primary-key read\n%s", r, q)
				}
			}
		}
	})
}
