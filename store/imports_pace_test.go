package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// statementCount counts the job's contact and contact-term inserts, and
// tells whether a transaction is open (BEGIN to COMMIT or ROLLBACK).
type statementCount struct {
	mu              sync.Mutex
	contacts, terms int
	inTx            bool
	txn             int // transactions begun
}

func (h *statementCount) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := e.Query
	switch {
	case strings.HasPrefix(q, "BEGIN"):
		h.inTx = true
		h.txn++
	case q == "COMMIT" || q == "ROLLBACK":
		h.inTx = false
	case strings.HasPrefix(q, "INSERT INTO contact_terms"):
		h.terms++
	case strings.HasPrefix(q, "INSERT INTO ") && strings.Contains(q[:30], "contacts") && !strings.Contains(q[:30], "contact_"):
		h.contacts++
	}
	return ctx
}

func (h *statementCount) AfterQuery(ctx context.Context, e *bun.QueryEvent) {}

// reset starts the counts of inserts again.
func (h *statementCount) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.contacts, h.terms = 0, 0
}

func (h *statementCount) counts() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.contacts, h.terms
}

// open is the transaction open now (0: none).
func (h *statementCount) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inTx {
		return 0
	}
	return h.txn
}

func contactsFile(n int) string {
	var b strings.Builder
	b.WriteString("Email,Name,Company\n")
	for i := range n {
		fmt.Fprintf(&b, "p%d@example.com,Person %d Paced,Company %d\n", i, i, i%7)
	}
	return b.String()
}

// claimStarted starts an import and claims its job.
func claimStarted(t *testing.T, s *store.Store, it importTeam, im *store.Import) *store.Import {
	t.Helper()
	ctx := context.Background()
	if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
		t.Fatal(err)
	}
	job, err := s.ClaimImport(ctx, "pace-test")
	if err != nil || job == nil {
		t.Fatalf("claim: %v %v", err, job)
	}
	return job
}

func teamTerms(t *testing.T, s *store.Store, teamID int64) int {
	t.Helper()
	n, err := s.DB.NewSelect().TableExpr("contact_terms").Where("team_id = ?", teamID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestImportWritesShortStatementsWhileTheAppServes: while the pacer says
// the app served requests lately, a batch's contacts and terms go in
// statements of ImportPaced* rows (so that a hold finds none of the job's
// running); with no pacer, in the long statements of before. The rows are
// the same.
func TestImportWritesShortStatementsWhileTheAppServes(t *testing.T) {
	const n = 230 // one batch
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := &statementCount{}
		s.DB.AddQueryHook(h)
		paced := store.ImportPacedRows
		if s.Dialect == store.SQLite {
			paced = store.ImportPacedRowsSQLite
		}
		for _, c := range []struct {
			name           string
			pace           store.ImportPacer
			contacts, per  int
			termsPerInsert int
		}{{"recent", recentPacer{}, (n + paced - 1) / paced, paced, store.ImportPacedTerms}, {"idle", nil, 1, n, store.ImportInsertTerms}} {
			it := newImportTeam(t, s, "Short "+c.name)
			im := preview(t, s, it, upload(t, s, it, store.ImportContacts, "short.csv", []byte(contactsFile(n))), nil)
			job := claimStarted(t, s, it, im)
			h.reset()
			// With no pacer, as RunImport.
			if err := s.RunImportPaced(ctx, job, "pace-test", c.pace); err != nil {
				t.Fatal(err)
			}
			contacts, terms := h.counts()
			if got := len(teamContacts(t, s, it.team.ID)); got != n {
				t.Fatalf("%s: %d contacts, want %d", c.name, got, n)
			}
			nt := teamTerms(t, s, it.team.ID)
			if want := (nt + c.termsPerInsert - 1) / c.termsPerInsert; contacts != c.contacts || terms != want {
				t.Errorf("%s: %d contact inserts and %d term inserts (%d terms), want %d (%d a statement) and %d",
					c.name, contacts, terms, nt, c.contacts, c.per, want)
			}
		}
	})
}

// TestImportHoldsATransactionBriefly: a job that is not pipelined (any job
// on SQLite, an upsert on MySQL) holds for the app's requests inside a
// transaction - whose locks a user's edit may wait for - for
// ImportTxHold at most in all, and keeps holding between its batches.
func TestImportHoldsATransactionBriefly(t *testing.T) {
	const step = 5 * time.Millisecond
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := &statementCount{}
		s.DB.AddQueryHook(h)
		it := newImportTeam(t, s, "Hold")
		im := preview(t, s, it, upload(t, s, it, store.ImportContacts, "hold.csv", []byte(contactsFile(230))),
			func(m *store.ImportMapping) { m.Mode = store.ModeUpsert })
		job := claimStarted(t, s, it, im)
		inTx := map[int]int{} // waits per transaction
		outside := 0
		err := s.RunImportPaced(ctx, job, "pace-test", busyPacer(func(ctx context.Context) {
			if tx := h.open(); tx != 0 {
				inTx[tx]++
			} else {
				outside++
			}
			time.Sleep(step)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(teamContacts(t, s, it.team.ID)); got != 230 {
			t.Fatalf("%d contacts, want 230", got)
		}
		most := 0
		for _, n := range inTx {
			most = max(most, n)
		}
		if limit := int(store.ImportTxHold/step) + 1; most == 0 || most > limit {
			t.Errorf("a transaction held %d times (%d ms each), want 1 to %d: %v", most, step.Milliseconds(), limit, inTx)
		}
		if outside == 0 {
			t.Error("the job never held outside its transactions")
		}
	})
}

// statementRows keeps, per kind of an update batch's statements, how many
// were run and the most rows one of them covered.
type statementRows struct {
	mu   sync.Mutex
	n    map[string]int
	most map[string]int
}

// inListLen is the length of the IN list after marker in q (0: none).
func inListLen(q, marker string) int {
	i := strings.Index(q, marker)
	if i < 0 {
		return 0
	}
	list := q[i+len(marker):]
	list = list[:strings.Index(list, ")")]
	return strings.Count(list, ",") + 1
}

func (h *statementRows) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	q, kind, rows := e.Query, "", 0
	switch {
	case strings.HasPrefix(q, "SELECT id, name, email") && strings.Contains(q, "FROM contacts"):
		kind, rows = "lookup by email", inListLen(q, "email IN (")
	case strings.HasPrefix(q, "SELECT contact_id, term FROM contact_terms"):
		kind, rows = "read terms", inListLen(q, "contact_id IN (")
	case strings.HasPrefix(q, "DELETE FROM contact_terms WHERE "):
		kind, rows = "delete terms", strings.Count(q, " OR ")+1
	default:
		return ctx
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[kind]++
	h.most[kind] = max(h.most[kind], rows)
	return ctx
}

func (h *statementRows) AfterQuery(ctx context.Context, e *bun.QueryEvent) {}

func (h *statementRows) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n, h.most = map[string]int{}, map[string]int{}
}

// TestImportUpdatesInShortStatementsWhileTheAppServes: an update batch's
// reads by email and of the stored terms, and its deletes of changed
// terms, cover at most ImportPacedLookups, half that and
// ImportPacedDeletes rows a statement while the pacer says the app served
// requests lately (on MariaDB 1,000 emails took up to 29 ms, 300 deletes
// 11 ms), and more with no pacer; the contacts end the same.
func TestImportUpdatesInShortStatementsWhileTheAppServes(t *testing.T) {
	const n = 230 // one batch
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := &statementRows{}
		h.reset()
		s.DB.AddQueryHook(h)
		limits := map[string]int{"lookup by email": store.ImportPacedLookups, "read terms": store.ImportPacedLookups / 2,
			"delete terms": store.ImportPacedDeletes}
		for _, c := range []struct {
			name string
			pace store.ImportPacer
		}{{"recent", recentPacer{}}, {"idle", nil}} {
			it := newImportTeam(t, s, "Update short "+c.name)
			importAll(t, s, it, store.ImportContacts, contactsFile(n), nil)
			renamed := strings.ReplaceAll(contactsFile(n), ",Person ", ",Other ")
			im := preview(t, s, it, upload(t, s, it, store.ImportContacts, "rename.csv", []byte(renamed)),
				func(m *store.ImportMapping) { m.Mode = store.ModeUpdate })
			job := claimStarted(t, s, it, im)
			h.reset()
			// With no pacer, as RunImport.
			if err := s.RunImportPaced(ctx, job, "pace-test", c.pace); err != nil {
				t.Fatal(err)
			}
			h.mu.Lock()
			runs, most := h.n, h.most
			h.mu.Unlock()
			for kind, limit := range limits {
				switch most := most[kind]; {
				case runs[kind] == 0:
					t.Errorf("%s: no %s statement", c.name, kind)
				case c.pace != nil && most > limit:
					t.Errorf("%s: a %s statement of %d rows, want at most %d", c.name, kind, most, limit)
				case c.pace == nil && most <= limit:
					t.Errorf("%s: %s statements of %d rows at most, want more than %d without a pacer", c.name, kind, most, limit)
				}
			}
			h.reset()
			for _, ct := range teamContacts(t, s, it.team.ID) {
				if !strings.HasPrefix(ct.Name, "Other ") {
					t.Fatalf("%s: contact %q not renamed", c.name, ct.Name)
				}
			}
		}
	})
}

// TestImportCheckStepsAsideForTheApp: a dry run run as a job (a large
// file's check) holds for the app's requests before each batch and between
// its statements, reads in ImportPacedLookups emails a statement while
// they come, and finds what the dry run in a request finds.
func TestImportCheckStepsAsideForTheApp(t *testing.T) {
	const n = 2500 // three batches
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Check paced")
		importAll(t, s, it, store.ImportContacts, contactsFile(n/2), nil) // half the file exists
		renamed := strings.ReplaceAll(contactsFile(n), ",Person ", ",Other ")
		im := upload(t, s, it, store.ImportContacts, "check.csv", []byte(renamed))
		m := im.MappingInfo()
		m.Mode = store.ModeUpsert
		if _, err := s.SaveImportMapping(ctx, it.team.ID, im.ID, m); err != nil {
			t.Fatal(err)
		}
		inline, err := s.PreviewImport(ctx, it.team.ID, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.QueueImportCheck(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job, err := s.ClaimImport(ctx, "pace-test")
		if err != nil || job == nil || job.Status != store.ImportChecking {
			t.Fatalf("claim: %+v %v", job, err)
		}
		h := &statementRows{}
		h.reset()
		s.DB.AddQueryHook(h)
		waits := 0
		if err := s.RunImportCheckPaced(ctx, job, "pace-test", busyPacer(func(ctx context.Context) { waits++ })); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		lookups, most := h.n["lookup by email"], h.most["lookup by email"]
		h.mu.Unlock()
		if want := n / store.ImportPacedLookups; lookups < want || most > store.ImportPacedLookups {
			t.Errorf("%d lookups by email of %d at most, want %d or more of %d at most", lookups, most, want, store.ImportPacedLookups)
		}
		if batches := (n + 999) / 1000; waits < batches+lookups {
			t.Errorf("the check held %d times, want one before each of its %d batches and each of its %d lookups", waits, batches, lookups)
		}
		cur, _ := s.ImportByID(ctx, it.team.ID, im.ID)
		got, want := cur.PreviewInfo(), inline.PreviewInfo()
		if cur.Status != store.ImportPreviewed || got.Create != n/2 || got.Update != n/2 || got.Create != want.Create || got.Update != want.Update {
			t.Fatalf("paced check %s %+v, in-request %+v", cur.Status, got, want)
		}
	})
}

// TestUndoRunsAsAResumableJob: an undo is a job in the database: asked
// for, it waits for a worker (asking again changes nothing); the worker
// reverts a batch of changes a transaction - ImportPacedUndo while the app
// serves requests - counting them; a worker that stops midway leaves the
// rest to the next one once its lease runs out, which finishes the undo
// without doing a batch twice, and the first worker, back meanwhile, finds
// its lease gone and changes nothing; once undone, another undo is refused.
func TestUndoRunsAsAResumableJob(t *testing.T) {
	const n = 1200
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		s.SetClock(func() time.Time { return now })
		it := newImportTeam(t, s, "Undo job")
		im := importAll(t, s, it, store.ImportContacts, contactsFile(n), nil)
		if im.Created != n {
			t.Fatalf("imported %+v", im)
		}
		for range 2 {
			q, err := s.QueueUndo(ctx, it.team.ID, im.ID, it.owner)
			if err != nil || q.Status != store.ImportUndoing || q.UndoDone != 0 || q.LeaseOwner != "" {
				t.Fatalf("queue undo: %+v %v", q, err)
			}
		}
		claim := func(owner string) *store.Import {
			t.Helper()
			job, err := s.ClaimImport(ctx, owner)
			if err != nil || job == nil || job.ID != im.ID || job.Status != store.ImportUndoing {
				t.Fatalf("claim by %s: %+v %v", owner, job, err)
			}
			return job
		}
		// The first worker stops (its context ends) before its second batch.
		first := claim("w1")
		stop, cancel := context.WithCancel(ctx)
		waits := 0
		err := s.RunUndoPaced(stop, first, "w1", busyPacer(func(context.Context) {
			if waits++; waits == 2 {
				cancel()
			}
		}))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped undo: %v", err)
		}
		cur, _ := s.ImportByID(ctx, it.team.ID, im.ID)
		if cur.Status != store.ImportUndoing || cur.UndoDone != store.ImportPacedUndo {
			t.Fatalf("after one paced batch: %s, %d done, want %d", cur.Status, cur.UndoDone, store.ImportPacedUndo)
		}
		if left := len(teamContacts(t, s, it.team.ID)); left != n-store.ImportPacedUndo {
			t.Fatalf("%d contacts left after one batch, want %d", left, n-store.ImportPacedUndo)
		}
		if job, _ := s.ClaimImport(ctx, "w2"); job != nil {
			t.Fatal("a leased undo was claimed twice")
		}
		now = now.Add(2 * store.ImportLease)
		second := claim("w2")
		// The first worker, back before the second runs, finds its lease
		// gone and reverts nothing.
		if err := s.RunUndoPaced(ctx, first, "w1", nil); err != nil {
			t.Fatalf("the first worker back: %v", err)
		}
		if cur, _ = s.ImportByID(ctx, it.team.ID, im.ID); cur.UndoDone != store.ImportPacedUndo || len(teamContacts(t, s, it.team.ID)) != n-store.ImportPacedUndo {
			t.Fatalf("the first worker back went on: %d done", cur.UndoDone)
		}
		if err := s.RunUndoPaced(ctx, second, "w2", nil); err != nil {
			t.Fatal(err)
		}
		cur, _ = s.ImportByID(ctx, it.team.ID, im.ID)
		if cur.Status != store.ImportUndone || cur.UndoDone != n || cur.UndoKept != 0 || cur.LeaseOwner != "" {
			t.Fatalf("undone: %s, %d done, %d kept, lease %q", cur.Status, cur.UndoDone, cur.UndoKept, cur.LeaseOwner)
		}
		if left := len(teamContacts(t, s, it.team.ID)); left != 0 {
			t.Fatalf("%d contacts left after the undo", left)
		}
		if _, err := s.QueueUndo(ctx, it.team.ID, im.ID, it.owner); !errors.Is(err, store.ErrImportState) {
			t.Fatalf("a second undo: %v", err)
		}
	})
}
