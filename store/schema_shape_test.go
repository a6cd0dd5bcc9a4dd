package store_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// schemaShape is what a schema is made of, engine-neutral: per table its
// columns in order, its keys (name: columns in order) and its foreign keys
// (name: columns → table(columns) and the delete rule).
type schemaShape map[string]*tableShape

type tableShape struct {
	Columns []string
	Keys    map[string]string
	FKs     map[string]string
}

func (s schemaShape) table(name string) *tableShape {
	if s[name] == nil {
		s[name] = &tableShape{Keys: map[string]string{}, FKs: map[string]string{}}
	}
	return s[name]
}

var (
	shapeTable  = regexp.MustCompile("^CREATE TABLE `([^`]+)`")
	shapeColumn = regexp.MustCompile("^  `([^`]+)` ")
	shapeKey    = regexp.MustCompile("^  (PRIMARY KEY|UNIQUE KEY `([^`]+)`|KEY `([^`]+)`) \\(([^)]*)\\)")
	shapeFK     = regexp.MustCompile("^  CONSTRAINT `([^`]+)` FOREIGN KEY \\(([^)]*)\\) REFERENCES `([^`]+)` \\(([^)]*)\\)(?: ON DELETE (CASCADE|SET NULL|RESTRICT|NO ACTION))?")
)

func unquoteList(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "`", ""), " ", "") }

// shapeOfSchemaSQL reads schema.sql (MariaDB's SHOW CREATE TABLE output).
func shapeOfSchemaSQL(t *testing.T) schemaShape {
	t.Helper()
	b, err := os.ReadFile("../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := schemaShape{}
	var cur *tableShape
	for _, line := range strings.Split(string(b), "\n") {
		if m := shapeTable.FindStringSubmatch(line); m != nil {
			cur = out.table(m[1])
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case shapeColumn.MatchString(line):
			cur.Columns = append(cur.Columns, shapeColumn.FindStringSubmatch(line)[1])
		case shapeKey.MatchString(line):
			m := shapeKey.FindStringSubmatch(line)
			name := cmpOr(m[2], m[3], "PRIMARY")
			cur.Keys[name] = unquoteList(m[4])
		case shapeFK.MatchString(line):
			m := shapeFK.FindStringSubmatch(line)
			cur.FKs[m[1]] = fmt.Sprintf("%s→%s(%s) %s", unquoteList(m[2]), m[3], unquoteList(m[4]), cmpOr(m[5], "RESTRICT"))
		case strings.HasPrefix(line, ")"):
			cur = nil
		}
	}
	return out
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// shapeOfDatabase reads the same from information_schema, which every
// MySQL-dialect engine fills the same way (unlike SHOW CREATE TABLE, whose
// text TiDB writes its own way).
func shapeOfDatabase(t *testing.T, s *store.Store) schemaShape {
	t.Helper()
	ctx := context.Background()
	out := schemaShape{}
	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	if err := s.DB.NewRaw(`SELECT table_name AS table_name, column_name AS column_name FROM information_schema.columns
WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`).Scan(ctx, &cols); err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		out.table(c.Table).Columns = append(out.table(c.Table).Columns, c.Column)
	}
	var keys []struct {
		Table  string `bun:"table_name"`
		Index  string `bun:"index_name"`
		Column string `bun:"column_name"`
	}
	if err := s.DB.NewRaw(`SELECT table_name AS table_name, index_name AS index_name, column_name AS column_name FROM information_schema.statistics
WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index`).Scan(ctx, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		tb := out.table(k.Table)
		if tb.Keys[k.Index] != "" {
			tb.Keys[k.Index] += ","
		}
		tb.Keys[k.Index] += k.Column
	}
	var fks []struct {
		Table      string `bun:"table_name"`
		Name       string `bun:"constraint_name"`
		Column     string `bun:"column_name"`
		RefTable   string `bun:"referenced_table_name"`
		RefColumn  string `bun:"referenced_column_name"`
		DeleteRule string `bun:"delete_rule"`
	}
	if err := s.DB.NewRaw(`SELECT k.table_name AS table_name, k.constraint_name AS constraint_name, k.column_name AS column_name,
  k.referenced_table_name AS referenced_table_name, k.referenced_column_name AS referenced_column_name, r.delete_rule AS delete_rule
FROM information_schema.key_column_usage AS k
JOIN information_schema.referential_constraints AS r
  ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name
WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL
ORDER BY k.table_name, k.constraint_name, k.ordinal_position`).Scan(ctx, &fks); err != nil {
		t.Fatal(err)
	}
	type fkCols struct{ cols, ref []string }
	acc := map[[2]string]*fkCols{}
	var order [][2]string
	for _, f := range fks {
		k := [2]string{f.Table, f.Name}
		if acc[k] == nil {
			acc[k] = &fkCols{}
			order = append(order, k)
		}
		acc[k].cols = append(acc[k].cols, f.Column)
		acc[k].ref = append(acc[k].ref, f.RefColumn)
	}
	for _, f := range fks {
		k := [2]string{f.Table, f.Name}
		if c := acc[k]; c != nil {
			out.table(f.Table).FKs[f.Name] = fmt.Sprintf("%s→%s(%s) %s", strings.Join(c.cols, ","), f.RefTable, strings.Join(c.ref, ","), f.DeleteRule)
			delete(acc, k)
		}
	}
	return out
}

// checkSchemaShape compares the database's shape with schema.sql's: the
// schema test's property (the migrations make the documented schema) on an
// engine whose SHOW CREATE TABLE text differs from MariaDB's.
func checkSchemaShape(t *testing.T, s *store.Store) {
	t.Helper()
	want, got := shapeOfSchemaSQL(t), shapeOfDatabase(t, s)
	names := func(m schemaShape) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if w, g := names(want), names(got); !slices.Equal(w, g) {
		t.Fatalf("tables: schema.sql has %v, the database %v", w, g)
	}
	var keys, fks int
	for _, w := range want {
		keys, fks = keys+len(w.Keys), fks+len(w.FKs)
	}
	if len(want) < 10 || keys < 50 || fks < 10 {
		t.Fatalf("schema.sql read as %d tables, %d keys, %d foreign keys", len(want), keys, fks)
	}
	for name, w := range want {
		g := got[name]
		if !slices.Equal(w.Columns, g.Columns) {
			t.Errorf("%s columns: schema.sql %v, database %v", name, w.Columns, g.Columns)
		}
		if fmt.Sprint(w.Keys) != fmt.Sprint(g.Keys) {
			t.Errorf("%s keys:\n schema.sql %v\n database   %v", name, w.Keys, g.Keys)
		}
		if fmt.Sprint(w.FKs) != fmt.Sprint(g.FKs) {
			t.Errorf("%s foreign keys:\n schema.sql %v\n database   %v", name, w.FKs, g.FKs)
		}
	}
}

// TestSchemaShapeMatchesSchemaSQL runs the engine-neutral comparison on
// whatever MySQL-dialect server the tests use (on MariaDB it proves the
// comparison itself reads both sides right).
func TestSchemaShapeMatchesSchemaSQL(t *testing.T) {
	checkSchemaShape(t, storetest.Open(t, store.MySQL))
}
