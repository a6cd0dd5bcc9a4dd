package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// A big export on MySQL
//
// One statement in the list's order reads the sort index and looks every
// row up by primary key: a million random lookups, which MariaDB's 128 MB
// buffer pool mostly misses (1M contacts by name: 113 s at load 6), while
// the same million read in primary-key order take 3 s and the name index
// alone 1 s. So a big listing is exported bucket by bucket, all in one
// read-only snapshot on the export's connection:
//
//  1. the first exportBatch rows by id at once (their ids from the sort
//     index first), so that the first records go out within milliseconds;
//  2. then, over and over, the next exportBucketRows ids of the listing
//     from the sort index alone, a keyset cursor (the segment, its sort
//     value and the id) taking up where the bucket before ended; those ids
//     sorted by id with their places; their rows read in primary-key order
//     (a pass over the bucket's id range, or lookups of its ids when they
//     are sparse in it: bucketRead) into a byte arena; and the bucket
//     emitted in list order.
//
// Memory is one bucket's, whatever the listing's size: its ids with their
// places (16 bytes a row), its records packed in the arena (about 100 bytes
// a contact) and the places' offsets (4 bytes), every buffer reused from
// one bucket to the next (Go's heap grows to twice what is live before it
// collects, so a buffer allocated per bucket costs more than its size).
// Round 5 read all the ids first and then passed over the team once per
// 200,000 places: +50 MB at a million (BENCHMARKS.md, round 8).

var (
	// exportBucketRows is a bucket's rows: about 18 MB of buffers at
	// 120 bytes a contact. Each bucket reads about the whole table (its
	// rows are spread over it), so fewer rows make more buckets: 1M
	// contacts by name took 12–17 s with 100,000 (RSS +1 MB), 11–13 s
	// with 150,000 or 200,000 (+9, +12 MB; BENCHMARKS.md, round 8).
	exportBucketRows = 150_000
	// exportBucketMin is the fewest rows a bucket must hold to be read by
	// a pass over its id range (when they are dense in it); a smaller one
	// (the last of a listing, say) is looked up by id, a few statements
	// whatever its spread.
	exportBucketMin = 5_000
)

// bucketLookup is how many ids one statement of a bucket's lookups asks
// for, in IN lists of bucketIn OR-ed (under 1,000 values: MariaDB's
// in_predicate_conversion_threshold, see segmentSelect); variables for
// tests.
var bucketLookup, bucketIn = 5 * 999, 999

// bucketDense: a bucket whose rows are at least one in bucketDense of the
// ids in its range is read by a pass over the range; a sparser one by
// lookups. Measured at 1M contacts by name on MariaDB (a bucket's rows
// spread over the whole table): with a fifth of the table a bucket, passes
// and lookups took the same time (9.2 and 9.0 s in all); with a tenth,
// the passes took twice as long.
var bucketDense = 3

// bucketCols are the columns of a bucket export (after r.id) and how a row
// of them, as raw bytes, becomes a record.
type bucketCols struct {
	cols   string
	n      int
	record func(raw []sql.RawBytes) ([]string, error)
}

type idRank struct {
	id   int64
	rank int32
}

// idWalk reads a listing's ids from its sort index, limit at a time, each
// read starting after the last id of the one before: in segment seg, after
// the row (after, cur.ID) when cur is set, else at the segment's start.
type idWalk struct {
	sp     *listSpec
	s      *Store
	teamID int64
	lp     listPlan
	desc   bool
	seg    int
	cur    *cursor
	after  any
}

// next reads the next ids (up to limit) into out, ranked from 0 in list
// order; fewer than limit only at the listing's end.
func (w *idWalk) next(ctx context.Context, cancel context.CancelFunc, conn bun.Conn, limit int, out []idRank) ([]idRank, error) {
	out = out[:0]
	for w.seg < len(w.lp.segs) && len(out) < limit {
		g := w.lp.segs[w.seg]
		need := limit - len(out)
		sel := "r.id"
		var str sql.RawBytes
		var tm time.Time
		var n int64
		var id int64
		dest := []any{&id}
		if g.col != "" {
			sel += ", r." + g.col
			switch g.kind {
			case kindInt:
				dest = append(dest, &n)
			case kindTime, kindDate:
				dest = append(dest, &tm)
			default:
				dest = append(dest, &str)
			}
		}
		query, args := w.sp.segmentSelect(w.s, w.teamID, g, w.cur, w.after, w.lp.plan, need, w.desc, sel, "")
		got := 0
		if err := w.s.streamStmt(ctx, cancel, conn, exportStmt{query, args}, func(rows *sql.Rows) error {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			out = append(out, idRank{id, int32(len(out))})
			got++
			if got == need && g.col != "" {
				// The cursor's value: only the bucket's last row's is kept.
				switch g.kind {
				case kindInt:
					w.after = n
				case kindTime:
					w.after = tm
				case kindDate:
					w.after = tm.Format(time.DateOnly) // as cursorArg gives it on MySQL
				default:
					w.after = string(str)
				}
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if got < need {
			// The segment's end: the next one from its start.
			w.seg, w.cur, w.after = w.seg+1, nil, nil
			continue
		}
		w.cur = &cursor{ID: id}
	}
	return out, nil
}

func (sp *listSpec) bucketExport(ctx context.Context, s *Store, teamID int64, lp listPlan, desc bool, bc bucketCols, emit func([][]string) error) error {
	return s.exportConn(ctx, func(ctx context.Context, cancel context.CancelFunc, conn bun.Conn) error {
		// One snapshot for every read: a row changed meanwhile is exported
		// as it was when the export started, in its place then.
		if _, err := conn.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return fmt.Errorf("export snapshot: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT"); err != nil {
			return fmt.Errorf("export snapshot: %w", err)
		}
		// done ends the snapshot after the last records (read only: nothing
		// to keep). After an error the connection is not reused.
		done := func(err error) error {
			if err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				return fmt.Errorf("export snapshot: %w", err)
			}
			return nil
		}
		walk := &idWalk{sp: sp, s: s, teamID: teamID, lp: lp, desc: desc}
		raw := make([]sql.RawBytes, bc.n)
		dest := make([]any, bc.n+1)
		var id int64
		dest[0] = &id
		for i := range raw {
			dest[i+1] = &raw[i]
		}
		b := newExportBatcher(ctx, emit)
		cols := "SELECT r.id, " + bc.cols + " FROM " + sp.table + " AS r" + s.indexHint(primaryKey) + " WHERE r.team_id = ? AND "

		// The first batch at once: its ids alone first (a range of the sort
		// index), then its rows by id, in list order.
		head, err := walk.next(ctx, cancel, conn, exportBatch, nil)
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(head))
		for _, p := range head {
			ids = append(ids, p.id)
		}
		got := make(map[int64][]string, len(head))
		var rawBytes, rawRows int // the first rows' size: the arena's
		for i := 0; i < len(ids); i += exportPageSize {
			chunk := ids[i:min(i+exportPageSize, len(ids))]
			if err := s.streamStmt(ctx, cancel, conn, exportStmt{cols + "r.id IN (?)", []any{teamID, bun.In(chunk)}}, func(rows *sql.Rows) error {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				for _, v := range raw {
					rawBytes += len(v) + 1
				}
				rawRows++
				rec, err := bc.record(raw)
				got[id] = rec
				return err
			}); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if rec, ok := got[id]; ok {
				b.records = append(b.records, rec)
				if err := b.maybeFlush(); err != nil {
					return err
				}
			}
		}
		if len(head) < exportBatch {
			return done(b.flush())
		}
		got = nil

		// Then bucket by bucket, every buffer kept for the next one.
		var arena []byte
		var pairs []idRank
		var at []int32
		var query []byte
		for {
			if pairs, err = walk.next(ctx, cancel, conn, exportBucketRows, pairs); err != nil {
				return err
			}
			if len(pairs) == 0 {
				break
			}
			if arena == nil && rawRows > 0 {
				// Sized once, for the first (the largest) bucket, a tenth
				// over the first rows' average: grown by doubling, the
				// arena's garbage took 30 MB more at a million.
				arena = make([]byte, 0, rawBytes/rawRows*len(pairs)*11/10)
			}
			slices.SortFunc(pairs, func(a, b idRank) int { return cmpInt64(a.id, b.id) })
			at = at[:0]
			for range pairs {
				at = append(at, -1)
			}
			arena = arena[:0]
			// keep files a row of the bucket (id, at pairs[j]) in the arena.
			keep := func(j int) {
				at[pairs[j].rank] = int32(len(arena))
				for _, v := range raw {
					arena = binary.AppendUvarint(arena, uint64(len(v)))
					arena = append(arena, v...)
				}
			}
			minID, maxID := pairs[0].id, pairs[len(pairs)-1].id
			if len(pairs) >= exportBucketMin && uint64(maxID-minID) < uint64(len(pairs))*uint64(bucketDense) {
				// Dense: one pass over the range, merged with the ids.
				j := 0
				st := exportStmt{cols + "r.id BETWEEN ? AND ? ORDER BY r.id", []any{teamID, minID, maxID}}
				if err := s.streamStmt(ctx, cancel, conn, st, func(rows *sql.Rows) error {
					if err := rows.Scan(dest...); err != nil {
						return err
					}
					for j < len(pairs) && pairs[j].id < id {
						j++
					}
					if j < len(pairs) && pairs[j].id == id {
						keep(j)
					}
					return nil
				}); err != nil {
					return err
				}
			} else {
				// Sparse: the ids looked up, bucketLookup a statement, in
				// primary-key order (each page of the table read once).
				for lo := 0; lo < len(pairs); lo += bucketLookup {
					chunk := pairs[lo:min(lo+bucketLookup, len(pairs))]
					query = append(query[:0], cols...)
					query = append(query, '(')
					for i, p := range chunk {
						switch {
						case i == 0:
							query = append(query, "r.id IN ("...)
						case i%bucketIn == 0:
							query = append(query, ") OR r.id IN ("...)
						default:
							query = append(query, ',')
						}
						query = strconv.AppendInt(query, p.id, 10)
					}
					query = append(query, "))"...)
					if err := s.streamStmt(ctx, cancel, conn, exportStmt{string(query), []any{teamID}}, func(rows *sql.Rows) error {
						if err := rows.Scan(dest...); err != nil {
							return err
						}
						if j, ok := slices.BinarySearchFunc(chunk, id, func(p idRank, id int64) int { return cmpInt64(p.id, id) }); ok {
							keep(lo + j)
						}
						return nil
					}); err != nil {
						return err
					}
				}
			}
			for _, off := range at {
				if off < 0 {
					continue // not in the snapshot's table: cannot happen
				}
				p := arena[off:]
				for i := range raw {
					n, w := binary.Uvarint(p)
					raw[i], p = p[w:w+int(n)], p[w+int(n):]
				}
				rec, err := bc.record(raw)
				if err != nil {
					return err
				}
				b.records = append(b.records, rec)
				if err := b.maybeFlush(); err != nil {
					return err
				}
			}
			if len(pairs) < exportBucketRows {
				break
			}
		}
		return done(b.flush())
	})
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
