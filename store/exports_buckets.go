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
		var ids []int64
		for _, g := range lp.segs {
			query, args := sp.segmentSelect(s, teamID, g, nil, nil, lp.plan, -1, desc, "r.id", "")
			if err := s.streamStmt(ctx, cancel, conn, exportStmt{query, args}, func(rows *sql.Rows) error {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
				return nil
			}); err != nil {
				return err
			}
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
		first := len(ids)
		if first > exportBucketMin {
			first = min(exportBatch, first)
		}
		for i := 0; i < first; i += exportPageSize {
			chunk := ids[i:min(i+exportPageSize, first)]
			got := make(map[int64][]string, len(chunk))
			if err := s.streamStmt(ctx, cancel, conn, exportStmt{byID, []any{teamID, bun.In(chunk)}}, func(rows *sql.Rows) error {
				if err := rows.Scan(dest...); err != nil {
					return err
				}
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
		rest := ids[first:]
		pairs := make([]idRank, len(rest))
		for i, id := range rest {
			pairs[i] = idRank{id, int32(i)}
		}
		ids, rest = nil, nil
		slices.SortFunc(pairs, func(a, b idRank) int { return cmpInt64(a.id, b.id) })
		scan := "SELECT r.id, " + bc.cols + " FROM " + sp.table + " AS r" + s.indexHint(primaryKey) +
			" WHERE r.team_id = ? AND r.id BETWEEN ? AND ? ORDER BY r.id"
		var arena []byte
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
		if err := b.flush(); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("export snapshot: %w", err)
		}
		return nil
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
