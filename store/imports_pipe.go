package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// A pipelined import job (MySQL, contacts, create only).
//
// A contacts batch keeps one MariaDB thread busy: its inserts (the contact
// with its twenty index entries, ten term rows with two each) are CPU work
// on the server, 12 s of it for 100,000 contacts, and the job's own work
// (reading and deciding the rows, writing the statements) waits for it. So
// two batches run at once, each in its own transaction on its own
// connection: batch k+1 reads, decides and writes its records while batch
// k is still writing its own, and only the end of a batch (lockJob and
// finishBatch: the job's row, import_changes, the team's counters, the
// events) waits until the batch before it has committed. Batches still
// commit one at a time and in file order, each one whole, so the job's
// offset, resume, undo and the counters are what a sequential job makes.
//
// What keeps two open batches from waiting on each other:
//   - READ COMMITTED: a batch's locking reads (contactBatch's FOR UPDATE)
//     lock the existing contacts they find and no gaps, so the next
//     batch's inserts never wait for them; and its reads see what the
//     batch before it committed.
//   - writeBatch writes only rows of the batch's own records; the rows
//     both write (the job's row, whose lock the foreign keys of
//     import_changes and import_rejects take too, and team_changes) are
//     written in finishBatch, after the wait.
//   - Two batches that share an email (a duplicate in the file across
//     their boundary) do not overlap: the second starts once the first
//     has committed, and sees it.
//
// Anything else that fails a pipelined batch (a deadlock, a lock-wait
// timeout, a duplicate key from a contact someone added meanwhile) rolls
// it back and the batches after it, and runs them again one at a time as
// a sequential job does (commitBatch, with inTx's retries).
//
// While the app serves requests (ImportPacer.Recent) the job keeps to one
// batch at a time, so the server's other core is left to the requests.

// errBatchBefore ends a pipelined batch whose predecessor failed: it is run
// again after it.
var errBatchBefore = errors.New("the batch before this one failed")

// pipeLockWait is the lock-wait timeout (seconds) of a pipelined batch's
// connection: a wait that the two batches' order would make endless ends
// soon, and the batches run again one at a time.
const pipeLockWait = 10

// pipedBatch is one batch in flight.
type pipedBatch struct {
	rows   []importRow
	start  int64
	emails map[string]bool
	locked chan struct{} // closed once its locking reads are done (or it ended)
	done   chan struct{} // closed when it has ended; err is then set
	err    error
}

// pipelined says whether the job runs its batches two at a time: a MySQL
// contacts import that only creates. Updates are left one at a time: two
// batches of them at once cost the server three times the CPU (46 s
// instead of 14 s for 100,000 updated contacts, round 6) and took longer.
func (r *importRun) pipelined() bool {
	return r.s.Dialect == MySQL && r.im.Kind == ImportContacts && r.m.Mode == ModeCreate
}

// emailKeys are the emails of a batch's rows as the unique index compares
// them (case and accents folded), for the overlap rule.
func (r *importRun) emailKeys(rows []importRow) map[string]bool {
	col := slices.Index(r.m.Columns, "email")
	out := make(map[string]bool, len(rows))
	if col < 0 {
		return out
	}
	for _, row := range rows {
		if col < len(row.rec) {
			out[fold(NormalizeEmail(UnneutralizeCell(row.rec[col])))] = true
		}
	}
	return out
}

func sharesKey(a, b map[string]bool) bool {
	if len(b) < len(a) {
		a, b = b, a
	}
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

// runPiped runs the job's batches two at a time (see above).
func (s *Store) runPiped(ctx context.Context, r *importRun, im *Import, owner string, pace ImportPacer) error {
	var conns [2]bun.Conn
	for i := range conns {
		c, err := s.DB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("import connection: %w", err)
		}
		conns[i] = c
		defer c.Close()
		if _, err := c.ExecContext(ctx, fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d", pipeLockWait)); err != nil {
			return fmt.Errorf("import connection: %w", err)
		}
		defer func() {
			// Pooled again afterwards: the server's default back.
			if _, err := c.ExecContext(context.WithoutCancel(ctx), "SET SESSION innodb_lock_wait_timeout = DEFAULT"); err != nil {
				_ = c.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	var flight []*pipedBatch // in file order
	defer func() {
		for _, b := range flight {
			<-b.done
		}
	}()
	launched := 0
	run := func(b *pipedBatch, prev *pipedBatch) {
		conn := conns[launched%2]
		launched++
		go func() {
			defer close(b.done)
			locked := false
			lock := func() {
				if !locked {
					locked = true
					close(b.locked)
				}
			}
			defer lock()
			b.err = conn.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, withListMarks(func(ctx context.Context, tx bun.Tx) error {
				w, err := r.writeBatch(ctx, tx, b.rows, lock)
				if err != nil {
					return err
				}
				if prev != nil {
					<-prev.done
					if prev.err != nil {
						return errBatchBefore
					}
				}
				if err := r.lockJob(ctx, tx, owner, b.start); err != nil {
					return err
				}
				return r.finishBatch(ctx, tx, b.rows, w)
			}))
		}()
	}
	// settle waits for the oldest batch in flight. When it failed, the ones
	// after it fail too (they wait for it); all of them run again, one at a
	// time.
	settle := func() error {
		b := flight[0]
		<-b.done
		if b.err == nil {
			flight = flight[1:]
			return nil
		}
		for _, o := range flight[1:] {
			<-o.done
		}
		again := flight
		flight = nil
		if errors.Is(b.err, errLeaseLost) || ctx.Err() != nil {
			return b.err
		}
		for _, o := range again {
			if err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				return r.commitBatch(ctx, tx, o.rows, owner, o.start)
			}); err != nil {
				return err
			}
		}
		return nil
	}
	next := im.RowsDone
	err := r.stream(ctx, im.RowsDone, func(rows []importRow) error {
		b := &pipedBatch{rows: slices.Clone(rows), start: next, locked: make(chan struct{}), done: make(chan struct{})}
		next += int64(len(rows))
		b.emails = r.emailKeys(b.rows)
		// Two batches at once, one while the app serves requests (Recent).
		limit := 2
		if pace != nil && pace.Recent() {
			limit = 1
		}
		for len(flight) >= limit {
			if err := settle(); err != nil {
				return err
			}
		}
		// Stepping aside leaves no batch of the job running.
		if pace != nil && pace.Busy() {
			for len(flight) > 0 {
				if err := settle(); err != nil {
					return err
				}
			}
			pace.Wait(ctx)
		}
		if len(flight) > 0 && sharesKey(flight[len(flight)-1].emails, b.emails) {
			if err := settle(); err != nil {
				return err
			}
		}
		var prev *pipedBatch
		if len(flight) > 0 {
			prev = flight[len(flight)-1]
			<-prev.locked
		}
		run(b, prev)
		flight = append(flight, b)
		return nil
	})
	for err == nil && len(flight) > 0 {
		err = settle()
	}
	return err
}
