package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// eventsAfter lists the team's outbox events after id as "type kind#id",
// in order, and the last id.
func eventsAfter(t *testing.T, s *store.Store, teamID, after int64, names map[string]string) ([]string, int64) {
	t.Helper()
	var evs []store.WebhookEvent
	if err := s.DB.NewSelect().Model(&evs).Where("team_id = ?", teamID).Where("id > ?", after).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		n := names[ev.RecordKind+fmt.Sprint(ev.RecordID)]
		if n == "" {
			n = fmt.Sprint(ev.RecordID)
		}
		out[i] = ev.Type + " " + n
		after = ev.ID
	}
	return out, after
}

func sameEvents(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: events\n got %s\nwant %s", what, strings.Join(g, ", "), strings.Join(w, ", "))
	}
}

func contactsByName(t *testing.T, s *store.Store, teamID int64) map[string]int64 {
	t.Helper()
	var cs []store.Contact
	if err := s.DB.NewSelect().Model(&cs).Where("team_id = ?", teamID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cs {
		out[c.Name] = c.ID
	}
	return out
}

// TestOutboxAnnouncesImportsAndTheirUndo: an import announces every record
// it creates or updates (imported deals their stage too), and its undo every
// record it deletes or restores; a team without endpoints gets no outbox row.
func TestOutboxAnnouncesImportsAndTheirUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		quiet := newImportTeam(t, s, "Quiet")
		importAll(t, s, quiet, store.ImportContacts, "Email,Name\nq1@example.com,Q1\nq2@example.com,Q2\n", nil)
		if n := countRows(t, s, "webhook_events") + countRows(t, s, "webhook_deliveries"); n != 0 {
			t.Fatalf("%d outbox rows from an import of a team without endpoints", n)
		}

		it := newImportTeam(t, s, "Loud")
		a := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Alpha", Email: "a@example.com"})
		if _, err := s.CreateWebhookEndpoint(ctx, it.team.ID, it.owner, "https://example.com/all", store.WebhookEvents); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWebhookEndpoint(ctx, it.team.ID, it.owner, "https://example.com/won", []string{store.EventDealWon}); err != nil {
			t.Fatal(err)
		}
		_, last := eventsAfter(t, s, it.team.ID, 0, nil)
		im := importAll(t, s, it, store.ImportContacts, "Email,Name\na@example.com,Alpha New\nc@example.com,Gamma\n",
			func(m *store.ImportMapping) { m.Mode = store.ModeUpsert })
		if im.Created != 1 || im.Updated != 1 {
			t.Fatalf("import %+v", im)
		}
		names := map[string]string{}
		for n, id := range contactsByName(t, s, it.team.ID) {
			names["contact"+fmt.Sprint(id)] = n
		}
		names["contact"+fmt.Sprint(a.ID)] = "Alpha"
		got, last := eventsAfter(t, s, it.team.ID, last, names)
		sameEvents(t, "contact import", got, "contact.created Gamma", "contact.updated Alpha")

		if _, err := s.UndoImport(ctx, it.team.ID, im.ID, it.owner); err != nil {
			t.Fatal(err)
		}
		got, last = eventsAfter(t, s, it.team.ID, last, names)
		sameEvents(t, "contact import undo", got, "contact.deleted Gamma", "contact.updated Alpha")

		file := "Deal - Title,Deal - Stage,Deal - Value,Person - Email\nOpen one,Qualified to buy,10,a@example.com\nWon one,Closed Won,20,a@example.com\n"
		dim := importAll(t, s, it, store.ImportDeals, file, nil)
		if dim.Created != 2 {
			t.Fatalf("deal import %+v", dim)
		}
		var ds []store.Deal
		if err := s.DB.NewSelect().Model(&ds).Where("team_id = ?", it.team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			names["deal"+fmt.Sprint(d.ID)] = d.Name
		}
		got, last = eventsAfter(t, s, it.team.ID, last, names)
		sameEvents(t, "deal import", got, "deal.created Open one", "deal.stage_changed Open one",
			"deal.created Won one", "deal.stage_changed Won one", "deal.won Won one")
		var won store.WebhookEvent
		if err := s.DB.NewSelect().Model(&won).Where("team_id = ?", it.team.ID).Where("type = ?", store.EventDealWon).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(won.Payload, `"to_stage":"`+store.StageWon+`"`) || !strings.Contains(won.Payload, "Won one") {
			t.Errorf("won payload %s", won.Payload)
		}
		if _, err := s.UndoImport(ctx, it.team.ID, dim.ID, it.owner); err != nil {
			t.Fatal(err)
		}
		got, _ = eventsAfter(t, s, it.team.ID, last, names)
		sameEvents(t, "deal import undo", got, "deal.deleted Open one", "deal.deleted Won one")
		// A deleted record's payload is the record as it was.
		var del store.WebhookEvent
		if err := s.DB.NewSelect().Model(&del).Where("team_id = ?", it.team.ID).Where("type = ?", store.EventContactDeleted).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(del.Payload, "Gamma") {
			t.Errorf("deleted payload %s", del.Payload)
		}
		// Deliveries: one per event to "all", and the one won to "won".
		var evs, deliveries int
		evs = countTeam(t, s, "webhook_events", it.team.ID)
		deliveries = countTeam(t, s, "webhook_deliveries", it.team.ID)
		if deliveries != evs+1 {
			t.Errorf("%d deliveries for %d events", deliveries, evs)
		}
	})
}

func countTeam(t *testing.T, s *store.Store, table string, teamID int64) int {
	t.Helper()
	n, err := s.DB.NewSelect().Table(table).Where("team_id = ?", teamID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestOutboxAnnouncesBulkJobsAndContactCascades: each bulk action (and its
// undo) announces every record it changes, and deleting a contact announces
// the deals it takes with it.
func TestOutboxAnnouncesBulkJobsAndContactCascades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		defer store.SetBulkBatch(2)()
		team, owner, _, member := teamOf(t, s)
		if _, err := s.CreateWebhookEndpoint(ctx, team.ID, owner, "https://example.com/all", store.WebhookEvents); err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		var cs []*store.Contact
		for i := range 3 {
			c := addContact(t, s, team, owner, store.ContactInput{Name: fmt.Sprintf("C%d", i), Status: store.StatusNew})
			cs = append(cs, c)
			names["contact"+fmt.Sprint(c.ID)] = c.Name
		}
		same := addContact(t, s, team, owner, store.ContactInput{Name: "Same", Status: store.StatusConnected})
		names["contact"+fmt.Sprint(same.ID)] = "Same"
		d0 := addDeal(t, s, team, owner, cs[0], store.DealInput{Name: "D0", Stage: store.StageCreated})
		d1 := addDeal(t, s, team, owner, cs[0], store.DealInput{Name: "D1", Stage: store.StageCreated})
		d2 := addDeal(t, s, team, owner, cs[1], store.DealInput{Name: "D2", Stage: store.StageCreated})
		d3 := addDeal(t, s, team, owner, cs[1], store.DealInput{Name: "D3", Stage: store.StageCreated})
		for _, d := range []*store.Deal{d0, d1, d2, d3} {
			names["deal"+fmt.Sprint(d.ID)] = d.Name
		}
		_, last := eventsAfter(t, s, team.ID, 0, nil)
		ids := []int64{cs[0].ID, cs[1].ID, cs[2].ID, same.ID}

		queue := func(list, action, value string, ids ...int64) *store.BulkJob {
			t.Helper()
			j, err := s.CreateBulkJob(ctx, team.ID, owner, list, action, value, store.BulkSelection{IDs: ids})
			if err != nil {
				t.Fatal(err)
			}
			runBulk(t, s)
			return bulkJob(t, s, team.ID, j.ID)
		}
		undo := func(j *store.BulkJob) {
			t.Helper()
			if _, err := s.QueueBulkUndo(ctx, team.ID, owner, j.ID); err != nil {
				t.Fatal(err)
			}
			runBulk(t, s)
		}
		var got []string
		j := queue(store.ListContacts, store.BulkStatus, store.StatusConnected, ids...)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk status", got, "contact.updated C0", "contact.updated C1", "contact.updated C2")
		undo(j)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk status undo", got, "contact.updated C0", "contact.updated C1", "contact.updated C2")

		j = queue(store.ListDeals, store.BulkAssign, fmt.Sprint(member.ID), d0.ID, d1.ID)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk assign", got, "deal.updated D0", "deal.updated D1")
		undo(j)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk assign undo", got, "deal.updated D0", "deal.updated D1")

		if j := queue(store.ListDeals, store.BulkStage, store.StageQualified, d2.ID); j.Changed != 1 {
			t.Fatalf("stage job %+v", j)
		}
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk stage", got, "deal.updated D2", "deal.stage_changed D2")

		queue(store.ListDeals, store.BulkDelete, "", d2.ID)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk delete deals", got, "deal.deleted D2")

		// Contacts: their deals go with them, announced as such.
		queue(store.ListContacts, store.BulkDelete, "", cs[1].ID, cs[2].ID)
		got, last = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "bulk delete contacts", got, "deal.deleted D3", "contact.deleted C1", "contact.deleted C2")

		if err := s.DeleteContact(ctx, team.ID, owner, cs[0].ID); err != nil {
			t.Fatal(err)
		}
		got, _ = eventsAfter(t, s, team.ID, last, names)
		sameEvents(t, "contact delete", got, "deal.deleted D0", "deal.deleted D1", "contact.deleted C0")
		var ev store.WebhookEvent
		if err := s.DB.NewSelect().Model(&ev).Where("team_id = ?", team.ID).Where("type = ?", store.EventDealDeleted).
			Where("record_id = ?", d0.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Payload, `"D0"`) {
			t.Errorf("cascaded deal's payload %s", ev.Payload)
		}
	})
}
