package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one numbered schema change for one dialect.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations of a dialect in order.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations for %s: %w", d, err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", name)
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// statements splits a migration file on semicolons that end a line. Migration
// files keep one statement per semicolon-terminated block for this reason.
func statements(sql string) []string {
	var out []string
	for _, part := range strings.Split(sql, ";\n") {
		if s := strings.TrimSpace(part); s != "" {
			out = append(out, strings.TrimSuffix(s, ";"))
		}
	}
	return out
}

// Migrate applies every migration not yet recorded in schema_migrations and
// returns how many it applied. On MySQL a named lock keeps two instances that
// start at once from applying the same migration twice.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: get connection: %w", err)
	}
	defer conn.Close()
	if s.Dialect == MySQL {
		var got int
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('sherpa_migrate', 60)").Scan(&got); err != nil || got != 1 {
			return 0, fmt.Errorf("migrate: take lock (got %d): %v", got, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK('sherpa_migrate')")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  applied_at VARCHAR(40) NOT NULL
)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("migrate: scan version: %w", err)
		}
		applied[v] = true
	}
	rows.Close()

	all, err := Migrations(s.Dialect)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		// MySQL commits DDL implicitly, so a transaction would not make a
		// failed migration atomic there; each statement is applied in turn
		// and the version recorded last.
		for _, stmt := range statements(m.SQL) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return n, fmt.Errorf("migration %s: %w\n%s", m.Name, err, stmt)
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, s.Now().Format("2006-01-02T15:04:05Z")); err != nil {
			return n, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		n++
	}
	return n, s.Analyze(ctx)
}
