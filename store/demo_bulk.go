package store

import (
	"context"
	"fmt"
	"strings"
)

// bulkLoad prepares MySQL tables for a big load: it drops their foreign
// keys and secondary indexes, so that rows written in primary-key order are
// appended instead of updating a dozen random-order B-trees each (with
// MariaDB's default 128 MB buffer pool that is the difference between
// minutes and hours). The returned function adds them back exactly as SHOW
// CREATE TABLE had them — indexes built by sorting, then foreign keys without
// re-checking rows the seeder made consistent — and must be called even when
// the load fails. Nothing else may write to the tables meanwhile.
func (s *Store) bulkLoad(ctx context.Context, tables []string) (restore func(context.Context) error, err error) {
	type dropped struct {
		table     string
		keys, fks []string // definitions as SHOW CREATE TABLE prints them
	}
	var done []dropped
	restore = func(ctx context.Context) error {
		conn, err := s.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("restore indexes: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET SESSION foreign_key_checks = 0"); err != nil {
			return fmt.Errorf("restore indexes: %w", err)
		}
		defer conn.ExecContext(ctx, "SET SESSION foreign_key_checks = 1")
		add := func(table string, defs []string) error {
			if len(defs) == 0 {
				return nil
			}
			clauses := make([]string, len(defs))
			for i, d := range defs {
				clauses[i] = "ADD " + d
			}
			if _, err := conn.ExecContext(ctx, "ALTER TABLE `"+table+"` "+strings.Join(clauses, ", ")); err != nil {
				return fmt.Errorf("restore indexes of %s: %w", table, err)
			}
			return nil
		}
		for _, d := range done {
			if err := add(d.table, d.keys); err != nil {
				return err
			}
		}
		for _, d := range done {
			if err := add(d.table, d.fks); err != nil {
				return err
			}
		}
		done = nil
		return nil
	}
	alter := func(table string, clauses []string) error {
		if len(clauses) == 0 {
			return nil
		}
		if _, err := s.DB.ExecContext(ctx, "ALTER TABLE `"+table+"` "+strings.Join(clauses, ", ")); err != nil {
			return fmt.Errorf("drop indexes of %s: %w", table, err)
		}
		return nil
	}
	for _, table := range tables {
		var name, ddl string
		if err := s.DB.QueryRowContext(ctx, "SHOW CREATE TABLE `"+table+"`").Scan(&name, &ddl); err != nil {
			return restore, fmt.Errorf("read definition of %s: %w", table, err)
		}
		var keys, fks, dropKeys, dropFKs []string
		for _, line := range strings.Split(ddl, "\n") {
			line = strings.TrimSuffix(strings.TrimSpace(line), ",")
			_, rest, _ := strings.Cut(line, "`")
			ident, _, _ := strings.Cut(rest, "`")
			switch {
			case strings.HasPrefix(line, "KEY "), strings.HasPrefix(line, "UNIQUE KEY "):
				keys = append(keys, line)
				dropKeys = append(dropKeys, "DROP INDEX `"+ident+"`")
			case strings.HasPrefix(line, "CONSTRAINT ") && strings.Contains(line, " FOREIGN KEY "):
				fks = append(fks, line)
				dropFKs = append(dropFKs, "DROP FOREIGN KEY `"+ident+"`")
			}
		}
		// Foreign keys first: MySQL keeps an index a foreign key needs.
		if err := alter(table, dropFKs); err != nil {
			return restore, err
		}
		done = append(done, dropped{table: table, fks: fks})
		if err := alter(table, dropKeys); err != nil {
			return restore, err
		}
		done[len(done)-1].keys = keys
	}
	return restore, nil
}
