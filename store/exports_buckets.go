package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// A big export on MySQL
//
// One statement in the list's order reads the sort index and looks every
// row up by primary key: a million random lookups, which MariaDB's 128 MB
// buffer pool mostly misses (1M contacts by name: 113 s at load 6), while
// the same million read in primary-key order take 3 s and the name index
// alone 1 s. So a big listing is exported in three steps, all in one
// read-only snapshot on the export's connection:
//
//  1. the listing's ids, in order, from the sort index alone (the
//     segments' statements with the id as their only column);
//  2. the first exportBatch rows by id at once, so that the first records
//     go out within milliseconds;
//  3. the rest by passes over the team's rows in primary-key order, each
//     pass keeping the rows of the next exportBucketRows places in the
//     list (the ids sorted by id with their place, merged with the pass),
//     which it then emits in list order.
//
// Memory: 16 bytes per listed row for the ids with their places, and one
// bucket's records packed in a byte arena (about 100 bytes a contact):
// 16 MB + 20 MB at a million. A listing of at most exportBucketMin rows is
// read by id, exportPageSize ids a statement, instead of by passes.

var (
	exportBucketRows = 200_000
	exportBucketMin  = 20_000
)

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

func (sp *listSpec) bucketExport(ctx context.Context, s *Store, teamID int64, lp listPlan, desc bool, bc bucketCols, emit func([][]string) error) error {
	return s.exportConn(ctx, func(ctx context.Context, cancel context.CancelFunc, conn bun.Conn) error {
		// One snapshot for the ids and every pass: a row changed meanwhile
		// is exported as it was when the export started, in its place then.
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
		// The listing's ids with their places, in list order; the part
		// after the first batch is sorted by id below.
		// readIDs reads the listing's ids from the sort index, up to limit
		// (negative: all), skipping the first skip, with their places.
		readIDs := func(limit, skip int) ([]idRank, error) {
			var out []idRank
			seen := 0
			for _, g := range lp.segs {
				need := -1
				if limit >= 0 {
					if need = limit - seen; need <= 0 {
						break
					}
				}
				query, args := sp.segmentSelect(s, teamID, g, nil, nil, lp.plan, need, desc, "r.id", "")
				if err := s.streamStmt(ctx, cancel, conn, exportStmt{query, args}, func(rows *sql.Rows) error {
					var id int64
					if err := rows.Scan(&id); err != nil {
						return err
					}
					if seen >= skip {
						out = append(out, idRank{id, int32(seen - skip)})
					}
					seen++
					return nil
				}); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		raw := make([]sql.RawBytes, bc.n)
		dest := make([]any, bc.n+1)
		var id int64
		dest[0] = &id
		for i := range raw {
			dest[i+1] = &raw[i]
		}
		b := newExportBatcher(ctx, emit)
		byID := "SELECT r.id, " + bc.cols + " FROM " + sp.table + " AS r" + s.indexHint(primaryKey) + " WHERE r.team_id = ? AND r.id IN (?)"
		var rawBytes, rawRows int // the rows' size so far: the arena's
		// byIDs emits the rows of ids (in list order), read by id.
		byIDs := func(ids []idRank) error {
			for i := 0; i < len(ids); i += exportPageSize {
				chunk := make([]int64, 0, min(exportPageSize, len(ids)-i))
				for _, p := range ids[i:min(i+exportPageSize, len(ids))] {
					chunk = append(chunk, p.id)
				}
				got := make(map[int64][]string, len(chunk))
				if err := s.streamStmt(ctx, cancel, conn, exportStmt{byID, []any{teamID, bun.In(chunk)}}, func(rows *sql.Rows) error {
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
				for _, id := range chunk {
					if rec, ok := got[id]; ok {
						b.records = append(b.records, rec)
						if err := b.maybeFlush(); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}
		// The first batch at once: its ids alone first (a range of the
		// sort index), then its rows.
		head, err := readIDs(exportBatch, 0)
		if err != nil {
			return err
		}
		if err := byIDs(head); err != nil {
			return err
		}
		if len(head) < exportBatch {
			return done(b.flush())
		}
		// Then every id after it (the same snapshot: the same places).
		pairs, err := readIDs(-1, len(head))
		if err != nil {
			return err
		}
		if len(pairs) <= exportBucketMin {
			if err := byIDs(pairs); err != nil {
				return err
			}
			pairs = nil
		}
		slices.SortFunc(pairs, func(a, b idRank) int { return cmpInt64(a.id, b.id) })
		scan := "SELECT r.id, " + bc.cols + " FROM " + sp.table + " AS r" + s.indexHint(primaryKey) +
			" WHERE r.team_id = ? AND r.id BETWEEN ? AND ? ORDER BY r.id"
		var arena []byte
		if rawRows > 0 && len(pairs) > 0 {
			// Sized once, a tenth over the first rows' average: grown by
			// doubling, the arena's garbage took 30 MB more at a million.
			arena = make([]byte, 0, rawBytes/rawRows*min(exportBucketRows, len(pairs))*11/10)
		}
		for lo := 0; lo < len(pairs); lo += exportBucketRows {
			hi := int32(min(lo+exportBucketRows, len(pairs)))
			lo32 := int32(lo)
			var minID, maxID int64 = -1, -1
			for _, p := range pairs {
				if p.rank >= lo32 && p.rank < hi {
					if minID < 0 {
						minID = p.id
					}
					maxID = p.id
				}
			}
			at := make([]int32, hi-lo32)
			for i := range at {
				at[i] = -1
			}
			arena = arena[:0]
			j := 0
			if err := s.streamStmt(ctx, cancel, conn, exportStmt{scan, []any{teamID, minID, maxID}}, func(rows *sql.Rows) error {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				for j < len(pairs) && pairs[j].id < id {
					j++
				}
				if j == len(pairs) || pairs[j].id != id || pairs[j].rank < lo32 || pairs[j].rank >= hi {
					return nil
				}
				at[pairs[j].rank-lo32] = int32(len(arena))
				for _, v := range raw {
					arena = binary.AppendUvarint(arena, uint64(len(v)))
					arena = append(arena, v...)
				}
				return nil
			}); err != nil {
				return err
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
