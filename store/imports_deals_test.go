package store_test

import (
	"context"
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
