package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestStatementsSplitOnMarkerLines(t *testing.T) {
	sql := "-- a file comment\nCREATE TABLE a (x INT);\n-- split\n\n" +
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET n = n + 1;\nEND;\n" +
		"-- split\n-- only a comment\n-- split\nINSERT INTO a VALUES (1)\n"
	want := []string{
		"-- a file comment\nCREATE TABLE a (x INT)",
		"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET n = n + 1;\nEND",
		"INSERT INTO a VALUES (1)",
	}
	if got := store.Statements(sql); !reflect.DeepEqual(got, want) {
		t.Errorf("statements =\n%q\nwant\n%q", got, want)
	}
}

// Every migration file separates its statements with markers: no part
// holds two statements ended by a semicolon at the end of a line, unless it
// is a trigger, whose body keeps its own.
func TestMigrationsUseTheSplitMarker(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.MySQL} {
		ms, err := store.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			for _, stmt := range store.Statements(m.SQL) {
				if strings.Contains(stmt, ";\n") && !strings.Contains(stmt, "CREATE TRIGGER") {
					t.Errorf("%s %s: a part holds more than one statement:\n%s", d, m.Name, stmt)
				}
			}
		}
	}
}

// A migration that fails part way can be run again once fixed: on SQLite
// nothing of it stayed, on MySQL the statements that succeeded are skipped.
func TestMigrationRerunsAfterAPartialFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all, err := store.Migrations(s.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		broken := store.Migration{Version: 9999, Name: "9999_test.sql",
			SQL: "CREATE TABLE rerun_a (x INT);\n-- split\nCREATE TABLE rerun_a (x INT);\n"}
		if _, err := s.MigrateList(ctx, append(all, broken)); err == nil {
			t.Fatalf("a migration creating a table twice succeeded")
		}
		fixed := broken
		fixed.SQL = "CREATE TABLE rerun_a (x INT);\n-- split\nCREATE TABLE rerun_b (x INT);\n"
		n, err := s.MigrateList(ctx, append(all, fixed))
		if err != nil || n != 1 {
			t.Fatalf("re-run after the fix: %d applied, %v", n, err)
		}
		for _, table := range []string{"rerun_a", "rerun_b"} {
			var c int
			if err := s.DB.NewRaw("SELECT COUNT(*) FROM "+table).Scan(ctx, &c); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
		if n, err := s.MigrateList(ctx, append(all, fixed)); err != nil || n != 0 {
			t.Errorf("third run: %d applied, %v", n, err)
		}
	})
}
