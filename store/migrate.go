package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
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

// splitMarker is the line that separates two statements of a migration
// file. A marker instead of semicolons lets a statement (a trigger body)
// hold semicolons of its own and span as many lines as reads well.
const splitMarker = "-- split"

// statements splits a migration file on its marker lines. A trailing
// semicolon is dropped, and a part holding nothing but comments is skipped.
func statements(sql string) []string {
	var out []string
	var part []string
	flush := func() {
		s := strings.TrimSpace(strings.Join(part, "\n"))
		part = part[:0]
		if s == "" || onlyComments(s) {
			return
		}
		out = append(out, strings.TrimSpace(strings.TrimSuffix(s, ";")))
	}
	for _, line := range strings.Split(strings.ReplaceAll(sql, "\r\n", "\n"), "\n") {
		if strings.TrimRight(line, " \t") == splitMarker {
			flush()
			continue
		}
		part = append(part, line)
	}
	flush()
	return out
}

// sqlOf is a statement without the comment lines before it.
func sqlOf(stmt string) string {
	lines := strings.Split(stmt, "\n")
	for i, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			return strings.TrimSpace(strings.Join(lines[i:], "\n"))
		}
	}
	return ""
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// Migrate applies every migration not yet recorded in schema_migrations and
// returns how many it applied. On MySQL a named lock keeps two instances that
// start at once from applying the same migration twice.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	all, err := Migrations(s.Dialect)
	if err != nil {
		return 0, err
	}
	return s.migrate(ctx, all)
}

func (s *Store) migrate(ctx context.Context, all []Migration) (int, error) {
	db := s.DB
	if s.migrateDSN != "" {
		sqldb, err := sql.Open("mysql", s.migrateDSN)
		if err != nil {
			return 0, fmt.Errorf("migrate: open a connection: %w", err)
		}
		db = bun.NewDB(sqldb, mysqldialect.New())
		defer db.Close()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: get connection: %w", err)
	}
	defer conn.Close()
	unlock, err := s.migrationLock(ctx, conn)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  applied_at VARCHAR(40) NOT NULL
)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	// The statements of a migration that failed part way, so that running
	// Migrate again after the fix goes on after them (MySQL; see below).
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migration_steps (
  version INT NOT NULL,
  step INT NOT NULL,
  PRIMARY KEY (version, step)
)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migration_steps: %w", err)
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

	return s.apply(ctx, conn, all, applied)
}

// apply runs the migrations not yet applied. On SQLite each one runs in a
// transaction: DDL is transactional there, so a failed migration leaves
// nothing behind. MySQL commits DDL implicitly, so there each statement
// that succeeds is recorded in schema_migration_steps, and a second run
// after a failure skips them instead of failing on "table exists".
func (s *Store) apply(ctx context.Context, conn bun.Conn, all []Migration, applied map[int]bool) (int, error) {
	n := 0
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		if err := s.applyOne(ctx, conn, m); err != nil {
			return n, err
		}
		n++
	}
	return n, s.Analyze(ctx)
}

func (s *Store) applyOne(ctx context.Context, conn bun.Conn, m Migration) error {
	record := func(db bun.IConn) error {
		if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, s.now().Format("2006-01-02T15:04:05Z")); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		return nil
	}
	if s.Dialect == SQLite {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: begin: %w", m.Name, err)
		}
		defer tx.Rollback()
		for _, stmt := range statements(m.SQL) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %s: %w\n%s", m.Name, err, stmt)
			}
		}
		if err := record(tx); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: commit: %w", m.Name, err)
		}
		return nil
	}
	done := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT step FROM schema_migration_steps WHERE version = ?", m.Version)
	if err != nil {
		return fmt.Errorf("migration %s: read steps: %w", m.Name, err)
	}
	for rows.Next() {
		var step int
		if err := rows.Scan(&step); err != nil {
			rows.Close()
			return fmt.Errorf("migration %s: scan step: %w", m.Name, err)
		}
		done[step] = true
	}
	rows.Close()
	for i, stmt := range statements(m.SQL) {
		if done[i] {
			continue
		}
		if s.tidb && strings.HasPrefix(strings.ToUpper(sqlOf(stmt)), "DROP TRIGGER") {
			// TiDB has no triggers (nor DROP TRIGGER): none to drop. The
			// step is recorded like any other.
		} else if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %s, statement %d: %w\n%s", m.Name, i+1, err, stmt)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migration_steps (version, step) VALUES (?, ?)", m.Version, i); err != nil {
			return fmt.Errorf("migration %s: record step %d: %w", m.Name, i+1, err)
		}
	}
	if err := record(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM schema_migration_steps WHERE version = ?", m.Version); err != nil {
		return fmt.Errorf("migration %s: forget steps: %w", m.Name, err)
	}
	return nil
}
