package store_test

import (
	"context"
	"testing"
	"time"

	"sherpa/store"
)

// BenchmarkBulkStatusChange changes the status of every contact of the
// bench team in one status (about an eighth of 1M, over 100,000) as one bulk
// job, "all matching" the status filter, then undoes it; it reports the
// seconds of each and the rows per second. The owner of the bench team
// (SHERPA_BENCH_OWNER) is the actor.
//
//	SHERPA_BENCH_URL=… go test ./store -run '^$' -bench BulkStatusChange -benchtime 1x -timeout 30m
func BenchmarkBulkStatusChange(b *testing.B) {
	s, teamID, user := benchStore(b)
	ctx := context.Background()
	from, to := store.StatusAttempted, store.StatusBadTiming
	for range b.N {
		sel := store.BulkSelection{All: true, Contacts: &store.ContactQuery{Filter: store.ContactFilter{Statuses: []string{from}}}}
		began := time.Now()
		j, err := s.CreateBulkJob(ctx, teamID, user, store.ListContacts, store.BulkStatus, to, sel)
		if err != nil {
			b.Fatal(err)
		}
		claimed, err := s.ClaimBulkJob(ctx, "bench")
		if err != nil || claimed == nil || claimed.ID != j.ID {
			b.Fatalf("claim: %v %v", claimed, err)
		}
		if err := s.RunBulkJob(ctx, claimed, "bench"); err != nil {
			b.Fatal(err)
		}
		run := time.Since(began)
		j, _ = s.BulkJob(ctx, teamID, j.ID)
		if j.Status != store.BulkDone || j.Changed < 100_000 {
			b.Fatalf("job %s changed %d of %d", j.Status, j.Changed, j.Total)
		}
		began = time.Now()
		if _, err := s.QueueBulkUndo(ctx, teamID, user, j.ID); err != nil {
			b.Fatal(err)
		}
		claimed, err = s.ClaimBulkJob(ctx, "bench")
		if err != nil || claimed == nil {
			b.Fatalf("claim undo: %v %v", claimed, err)
		}
		if err := s.RunBulkJob(ctx, claimed, "bench"); err != nil {
			b.Fatal(err)
		}
		undo := time.Since(began)
		j, _ = s.BulkJob(ctx, teamID, j.ID)
		if j.Status != store.BulkUndone || j.Kept != 0 {
			b.Fatalf("undo: %s, kept %d", j.Status, j.Kept)
		}
		b.ReportMetric(float64(j.Changed), "rows")
		b.ReportMetric(run.Seconds(), "change-s")
		b.ReportMetric(undo.Seconds(), "undo-s")
		b.ReportMetric(float64(j.Changed)/run.Seconds(), "rows/s")
		b.Logf("changed %d contacts in %s, undone in %s", j.Changed, run.Round(time.Millisecond), undo.Round(time.Millisecond))
	}
}
