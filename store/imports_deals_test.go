package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestImportClosedLostDealsGetALostReason: the board requires a Closed Lost
// deal to carry one of the team's lost reasons. An import maps a lost-reason
// column (HubSpot's and Pipedrive's headers), matches reasons by name
// (case and accents ignored), lets the mapping send unknown ones to a reason
// or reject them, and gives rows without one the team's fallback, saying so
// in the dry run. Closed deals without a date close today.
func TestImportClosedLostDealsGetALostReason(t *testing.T) {
	for kind, header := range map[string]string{
		"hubspot":   "Deal Name,Deal Stage,Amount,Close Date,Closed Lost Reason,Associated Contact Email",
		"pipedrive": "Deal - Title,Deal - Stage,Deal - Value,Deal - Close date,Deal - Lost reason,Person - Email",
	} {
		if got := store.AutoMap(store.ImportDeals, strings.Split(header, ",")); got[4] != "lost_reason" {
			t.Errorf("%s: %q is mapped to %q", kind, strings.Split(header, ",")[4], got[4])
		}
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Lost")
		importAll(t, s, it, store.ImportContacts, "Email,Name\na@example.com,A\nb@example.com,B\nc@example.com,C\nd@example.com,D\ne@example.com,E\n", nil)
		file := "Deal - Title,Deal - Stage,Deal - Value,Deal - Close date,Deal - Lost reason,Person - Email\n" +
			"Priced out,Closed Lost,100,2026-01-10,PRICE,a@example.com\n" +
			"Silent,closed lost,100,,,b@example.com\n" +
			"Too dear,Closed Lost,100,2026-01-12,Too expensive,c@example.com\n" +
			"Won one,Closed Won,100,,Price,d@example.com\n" +
			"Still open,Qualified to buy,100,2026-05-01,Timing,e@example.com\n"
		im := upload(t, s, it, store.ImportDeals, "deals.csv", []byte(file))
		if m := im.MappingInfo(); m.Columns[4] != "lost_reason" {
			t.Fatalf("mapping %v", m.Columns)
		}
		// Unknown reasons rejected: the row says which and why.
		im = preview(t, s, it, im, func(m *store.ImportMapping) { m.Unknown = store.UnknownReject })
		p := im.PreviewInfo()
		if p.Create != 4 || p.Reject != 1 || !strings.Contains(p.Samples["reject"][0].Reason, `Lost reason: "Too expensive" is not one of the team's lost reasons`) {
			t.Fatalf("preview with unknown reasons rejected: %+v", p)
		}
		// The default: the fallback, reported on the row.
		im = preview(t, s, it, im, func(m *store.ImportMapping) { m.Unknown = store.UnknownDefault })
		p = im.PreviewInfo()
		if p.Create != 5 || p.Reject != 0 {
			t.Fatalf("preview: %+v", p)
		}
		notes := map[string]string{}
		for _, r := range p.Samples["create"] {
			notes[strings.Fields(r.Label)[0]] = r.Reason
		}
		if !strings.Contains(notes["Silent"], "none given; it gets Other") || !strings.Contains(notes["Too"], `"Too expensive" is not one of the team's; it gets Other`) || notes["Priced"] != "" {
			t.Errorf("create notes %q", notes)
		}
		// A value mapped to one of the team's reasons.
		im = preview(t, s, it, im, func(m *store.ImportMapping) {
			m.Values = map[string]string{store.ValueKey("lost_reason", "too expensive"): "Price"}
		})
		today, err := s.TeamToday(ctx, it.team.ID)
		if err != nil {
			t.Fatal(err)
		}
		im = runImport(t, s, it, im)
		if im.Created != 5 {
			t.Fatalf("import %+v", im)
		}
		var ds []store.Deal
		if err := s.DB.NewSelect().Model(&ds).Where("team_id = ?", it.team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{ // reason, close date
			"Priced out": {"Price", "2026-01-10"}, "Silent": {"Other", today.Format(time.DateOnly)},
			"Too dear": {"Price", "2026-01-12"}, "Won one": {"", today.Format(time.DateOnly)}, "Still open": {"", "2026-05-01"},
		}
		for _, d := range ds {
			w := want[d.Name]
			if d.LostReason != w[0] || d.CloseDate.Format(time.DateOnly) != w[1] {
				t.Errorf("%s: reason %q, close date %s; want %v", d.Name, d.LostReason, d.CloseDate.Format(time.DateOnly), w)
			}
		}
		// The stage log's close carries the reason, as a close on the board does.
		var logs []store.StageLog
		if err := s.DB.NewSelect().Model(&logs).Where("team_id = ?", it.team.ID).Where("to_stage = ?", store.StageLost).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(logs) != 3 {
			t.Fatalf("%d Closed Lost log rows", len(logs))
		}
		for _, l := range logs {
			if l.Reason == "" || l.Kind != store.LogMove {
				t.Errorf("log row %+v", l)
			}
		}
	})
}

// TestImportCheckRunsAsAJob: a large file's dry run is a job in the
// database: a worker claims it, saves its progress and the same preview
// the in-request dry run gives; a mapping saved meanwhile stops it without
// a preview, and a dead instance's check is taken over.
func TestImportCheckRunsAsAJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		s.SetClock(func() time.Time { return now })
		it := newImportTeam(t, s, "Check")
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := 0; i < 25000; i++ {
			fmt.Fprintf(&b, "c%d@example.com,C %d\n", i%24000, i) // 1,000 repeated emails
		}
		b.WriteString("not-an-email,Bad\n")
		im := upload(t, s, it, store.ImportContacts, "check.csv", []byte(b.String()))
		if _, err := s.SaveImportMapping(ctx, it.team.ID, im.ID, im.MappingInfo()); err != nil {
			t.Fatal(err)
		}
		inline, err := s.PreviewImport(ctx, it.team.ID, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		claim := func(owner string) *store.Import {
			t.Helper()
			job, err := s.ClaimImport(ctx, owner)
			if err != nil || job == nil || job.Status != store.ImportChecking {
				t.Fatalf("claim: %+v %v", job, err)
			}
			return job
		}
		// Stopped by a new mapping: no preview comes of it.
		if err := s.QueueImportCheck(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job := claim("w1")
		if _, err := s.SaveImportMapping(ctx, it.team.ID, im.ID, im.MappingInfo()); err != nil {
			t.Fatal(err)
		}
		if err := s.RunImportCheck(ctx, job, "w1"); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.ImportByID(ctx, it.team.ID, im.ID); cur.Status != store.ImportUploaded || cur.Preview != "" {
			t.Fatalf("after a new mapping: %s, preview %q", cur.Status, cur.Preview)
		}
		// Claimed by an instance that dies: another takes it once the
		// lease runs out, and gives the in-request dry run's answer.
		if err := s.QueueImportCheck(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		claim("dead")
		if again, _ := s.ClaimImport(ctx, "w2"); again != nil {
			t.Fatal("a leased check was claimed twice")
		}
		now = now.Add(2 * store.ImportLease)
		job = claim("w2")
		progress := &afterCommit{prefix: "rows_done = 20000", fn: func() {}}
		s.DB.AddQueryHook(progress)
		if err := s.RunImportCheck(ctx, job, "w2"); err != nil {
			t.Fatal(err)
		}
		if !progress.armed {
			t.Error("the check saved no progress at 20,000 rows")
		}
		cur, _ := s.ImportByID(ctx, it.team.ID, im.ID)
		if cur.Status != store.ImportPreviewed || cur.RowsTotal != 25001 || cur.RowsDone != 0 {
			t.Fatalf("checked: %s, %d rows, %d done", cur.Status, cur.RowsTotal, cur.RowsDone)
		}
		got, want := cur.PreviewInfo(), inline.PreviewInfo()
		if got.Create != 24000 || got.Skip != 1000 || got.Reject != 1 || got.Create != want.Create || got.Skip != want.Skip || got.Reject != want.Reject {
			t.Fatalf("job preview %+v, in-request %+v", got, want)
		}
		if n := len(teamContacts(t, s, it.team.ID)); n != 0 {
			t.Fatalf("the dry run wrote %d contacts", n)
		}
		// The import then runs as usual.
		if im = runImport(t, s, it, cur); im.Created != 24000 {
			t.Fatalf("import %+v", im)
		}
	})
}
