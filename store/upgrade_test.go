package store_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// oldMigrations are the migrations as a database made before migration
// 0016 ran them: 0005 with its triggers (kept in testdata), nothing from
// 0016 on.
func oldMigrations(t *testing.T, d store.Dialect) []store.Migration {
	t.Helper()
	all, err := store.Migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("testdata/0005_dashboard_with_triggers." + string(d) + ".sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Migration
	for _, m := range all {
		if m.Version >= 16 {
			continue
		}
		if m.Version == 5 {
			m.SQL = string(body)
		}
		out = append(out, m)
	}
	return out
}

func triggerCount(t *testing.T, s *store.Store) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"
	if s.Dialect == store.MySQL {
		q = "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
	}
	var n int
	if err := s.DB.NewRaw(q).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUpgradeFromTheTriggers: a database migrated with 0005 as it was (its
// triggers keeping the totals of rows written straight to the tables, as
// the app of that time did) migrates to the current schema: the triggers
// are gone, the totals it had are right, and the store's own writes keep
// them right from then on (with a trigger left, they would count twice).
func TestUpgradeFromTheTriggers(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			if d == store.MySQL && storetest.TiDB() {
				t.Skip("TiDB cannot run the triggers of 0005 as it was (the case is TestUpgradeAfterThePartFailedTriggers)")
			}
			ctx := context.Background()
			s, err := store.Open(ctx, storetest.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.MigrateList(ctx, oldMigrations(t, d)); err != nil {
				t.Fatalf("old migrations: %v", err)
			}
			if n := triggerCount(t, s); n != 12 {
				t.Fatalf("the old 0005 made %d triggers, want 12", n)
			}
			ok := func(_ sql.Result, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			// Rows as the app of that time wrote them, with the triggers
			// doing the rest.
			now := time.Now().UTC().Truncate(time.Second)
			team := &store.Team{Name: "Old", Currency: "EUR", TimeZone: "UTC", CreatedAt: now}
			ok(s.DB.NewInsert().Model(team).Exec(ctx))
			u := &store.User{Name: "Olga", Email: "olga@example.com", PasswordHash: "x", TeamID: team.ID, Role: store.RoleOwner, CreatedAt: now, UpdatedAt: now}
			ok(s.DB.NewInsert().Model(u).Exec(ctx))
			c := &store.Contact{TeamID: team.ID, Name: "Cy", Email: "cy@example.com", Status: "lead", Version: 1, CreatedAt: now, UpdatedAt: now}
			ok(s.DB.NewInsert().Model(c).Exec(ctx))
			for i, day := range []string{"2026-01-10", "2026-01-31", "2026-02-01"} {
				cd, _ := time.Parse(time.DateOnly, day)
				dl := &store.Deal{TeamID: team.ID, ContactID: c.ID, Name: "D", Stage: store.StageCreated, Goal: int64(100 * (i + 1)),
					Amount: int64(10 * (i + 1)), CloseDate: cd, ContactName: "Cy", Version: 1, CreatedAt: now, UpdatedAt: now}
				ok(s.DB.NewInsert().Model(dl).Exec(ctx))
				a := &store.Activity{TeamID: team.ID, ContactID: c.ID, UserID: u.ID, Type: store.ActivityEmail, At: cd.Add(9 * time.Hour)}
				ok(s.DB.NewInsert().Model(a).Exec(ctx))
			}
			if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) > 0 {
				t.Fatalf("the old triggers' totals: %v", d)
			}
			n, err := s.Migrate(ctx)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			if n == 0 {
				t.Fatal("the upgrade applied nothing")
			}
			if n := triggerCount(t, s); n != 0 {
				t.Errorf("%d triggers left after the upgrade", n)
			}
			if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) > 0 {
				t.Errorf("totals after the upgrade: %v", d)
			}
			owner, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			addDeal(t, s, team, owner, c, store.DealInput{Name: "New", Goal: "7", CloseDate: "2026-01-15"})
			if _, err := s.LogActivity(ctx, team.ID, c.ID, u.ID, store.ActivityNote, "n"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteContact(ctx, team.ID, owner, c.ID); err != nil {
				t.Fatal(err)
			}
			if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) > 0 {
				t.Errorf("totals after writes on the upgraded database: %v", d)
			}
			if n, err := s.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("migrating again: %d applied, %v", n, err)
			}
		})
	}
}

// TestUpgradeAfterThePartFailedTriggers is the database an engine without
// triggers (TiDB) left behind: migration 0005 as it was stopped at its
// first CREATE TRIGGER, after its three tables were made and recorded
// statement by statement (MySQL dialect). The current migrations go on from
// there: 0005 finishes without triggers and everything after it applies.
func TestUpgradeAfterThePartFailedTriggers(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.URL(t, store.MySQL))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := oldMigrations(t, store.MySQL)
	var upTo5 []store.Migration
	for _, m := range old {
		if m.Version < 5 {
			upTo5 = append(upTo5, m)
		}
		if m.Version == 5 {
			// What TiDB does with the first trigger: refuse it.
			i := strings.Index(m.SQL, "CREATE TRIGGER teams_ai_dashboard")
			m.SQL = m.SQL[:i] + "CREATE TRIGGER_IS_NOT_SUPPORTED" + m.SQL[i+len("CREATE TRIGGER"):]
			upTo5 = append(upTo5, m)
		}
	}
	if _, err := s.MigrateList(ctx, upTo5); err == nil {
		t.Fatal("the broken 0005 applied")
	}
	var steps int
	if err := s.DB.NewRaw("SELECT COUNT(*) FROM schema_migration_steps WHERE version = 5").Scan(ctx, &steps); err != nil {
		t.Fatal(err)
	}
	if steps != 3 {
		t.Fatalf("%d statements of 0005 recorded, want its 3 tables", steps)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("the current migrations after the part-applied 0005: %v", err)
	}
	if n := triggerCount(t, s); n != 0 {
		t.Errorf("%d triggers", n)
	}
	team, owner, _, _ := teamOf(t, s)
	c := addContact(t, s, team, owner, store.ContactInput{Name: "Cy"})
	addDeal(t, s, team, owner, c, store.DealInput{Name: "D", Goal: "10", CloseDate: "2026-02-02"})
	if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) > 0 {
		t.Errorf("totals: %v", d)
	}
	if _, err := s.TeamVersion(ctx, team.ID); err != nil {
		t.Errorf("team version: %v", err)
	}
}
