package store_test

import (
	"context"
	"database/sql"
	"os"
	"regexp"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

const schemaHeader = `-- Sherpa's current MySQL/MariaDB schema, for humans and DBAs.
-- Generated from the migrations in store/migrations/mysql; do not edit by hand.
-- Regenerate: SHERPA_UPDATE_SCHEMA=1 SHERPA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ go test ./store -run TestSchemaSQL

`

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

// dumpSchema prints SHOW CREATE TABLE for every table, in name order.
func dumpSchema(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	if err := s.DB.NewRaw("SHOW TABLES").Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(schemaHeader)
	for _, name := range tables {
		var tbl, ddl string
		if err := s.DB.QueryRowContext(ctx, "SHOW CREATE TABLE `"+name+"`").Scan(&tbl, &ddl); err != nil {
			t.Fatal(err)
		}
		b.WriteString(autoIncrement.ReplaceAllString(ddl, "") + ";\n\n")
	}
	// Triggers (the dashboard's change counters and totals), without the
	// definer, which names whoever ran the migration.
	var triggers []string
	if err := s.DB.NewRaw("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name").
		Scan(ctx, &triggers); err != nil {
		t.Fatal(err)
	}
	for _, name := range triggers {
		rows, err := s.DB.QueryContext(ctx, "SHOW CREATE TRIGGER `"+name+"`")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		for i, c := range cols {
			if c == "SQL Original Statement" {
				b.WriteString(definer.ReplaceAllString(vals[i].String, "CREATE ") + ";\n\n")
			}
		}
	}
	return b.String()
}

var definer = regexp.MustCompile("^CREATE DEFINER=`[^`]*`@`[^`]*` ")

func TestSchemaSQLMatchesMigrations(t *testing.T) {
	s := storetest.Open(t, store.MySQL)
	if s.TiDB() {
		// TiDB writes SHOW CREATE TABLE its own way (clustered-index
		// comments, no triggers section): compare what the schema is made
		// of instead.
		checkSchemaShape(t, s)
		return
	}
	got := dumpSchema(t, s)
	if os.Getenv("SHERPA_UPDATE_SCHEMA") == "1" {
		if err := os.WriteFile("../schema.sql", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("../schema.sql")
	if err != nil {
		t.Fatalf("read schema.sql: %v", err)
	}
	if string(want) != got {
		t.Errorf("schema.sql differs from what the migrations produce; regenerate it (see its header).\n--- migrations produce:\n%s", got)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		n, err := s.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("second Migrate applied %d migrations, want 0", n)
		}
		all, _ := store.Migrations(s.Dialect)
		var count int
		if err := s.DB.NewRaw("SELECT COUNT(*) FROM schema_migrations").Scan(context.Background(), &count); err != nil {
			t.Fatal(err)
		}
		if count != len(all) || count == 0 {
			t.Errorf("schema_migrations has %d rows, want %d", count, len(all))
		}
	})
}

func TestBothDialectsHaveTheSameMigrations(t *testing.T) {
	my, err := store.Migrations(store.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(my) != len(lite) {
		t.Fatalf("mysql has %d migrations, sqlite %d", len(my), len(lite))
	}
	for i := range my {
		if my[i].Name != lite[i].Name {
			t.Errorf("migration %d: mysql %s, sqlite %s", i, my[i].Name, lite[i].Name)
		}
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		in      string
		dialect store.Dialect
		wantErr bool
		contain string
	}{
		{"sqlite:sherpa.db", store.SQLite, false, "file:sherpa.db?"},
		{"sqlite:/tmp/x.db", store.SQLite, false, "file:/tmp/x.db?"},
		{"mysql://root@127.0.0.1:3306/sherpa", store.MySQL, false, "root@tcp(127.0.0.1:3306)/sherpa"},
		{"mysql://u:p%40ss@db/sherpa?tls=true", store.MySQL, false, "u:p@ss@tcp(db:3306)/sherpa"},
		{"mysql://root@127.0.0.1:3306/", "", true, ""},
		{"sqlite:", "", true, ""},
		{"postgres://x", "", true, ""},
	}
	for _, c := range cases {
		d, dsn, err := store.ParseURL(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseURL(%q) error = %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if d != c.dialect || !strings.Contains(dsn, c.contain) {
			t.Errorf("ParseURL(%q) = %s %q, want %s containing %q", c.in, d, dsn, c.dialect, c.contain)
		}
	}
}
