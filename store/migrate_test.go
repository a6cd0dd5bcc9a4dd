package store_test

import (
	"reflect"
	"strings"
	"testing"

	"sherpa/store"
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
