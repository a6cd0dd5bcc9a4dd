package store

import (
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// exportCacheSize is the page cache (KiB) of the SQLite connections exports
// read through. An export reads every row of the team once, in list order:
// through the store's pool, whose connections keep 32 MiB of pages each for
// the searches' sake, the million-row export filled all four caches and the
// process's memory passed 200 MB. Pages read once gain nothing from a big
// cache; the operating system's file cache holds them anyway.
const exportCacheSize = "-2048"

// exportPool is a second, small pool on the same SQLite file with
// exportCacheSize caches, opened at the first export. Two connections: two
// exports at once each get one, a third waits for a page's statement.
type exportPool struct {
	dsn  string
	mu   sync.Mutex
	db   *bun.DB
	fail error
}

func (p *exportPool) open() (*bun.DB, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db != nil || p.fail != nil {
		return p.db, p.fail
	}
	sqldb, err := sql.Open("sqlite", p.dsn)
	if err != nil {
		p.fail = fmt.Errorf("open the export pool: %w", err)
		return nil, p.fail
	}
	sqldb.SetMaxOpenConns(2)
	sqldb.SetMaxIdleConns(2)
	// Idle connections close a minute after the last export: their pages
	// are of no use to anything else.
	sqldb.SetConnMaxIdleTime(time.Minute)
	p.db = bun.NewDB(sqldb, sqlitedialect.New())
	return p.db, nil
}

func (p *exportPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db == nil {
		return nil
	}
	return p.db.Close()
}

// exportStore is the store an export reads through: on a SQLite file, a
// copy of s whose DB is the export pool, so every statement of the walk
// (the list's pages and their rows) goes through the small caches; on MySQL
// (the cache is the server's) and in-memory databases, s itself. Only reads
// may go through it.
func (s *Store) exportStore() (*Store, error) {
	if s.exports == nil {
		return s, nil
	}
	db, err := s.exports.open()
	if err != nil {
		return nil, err
	}
	es := *s
	es.DB = db
	es.exports = nil
	return &es, nil
}
