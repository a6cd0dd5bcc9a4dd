package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

// exportedColumn reads an export and returns one column of its rows
// (without the header).
func exportedColumn(t *testing.T, c *client, path string, col int) []string {
	t.Helper()
	r := c.get(path)
	expectStatus(t, r, http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, rec := range recs[1:] {
		if strings.HasPrefix(rec[0], "# export incomplete") {
			t.Fatalf("%s: %v", path, rec)
		}
		out = append(out, rec[col])
	}
	return out
}

// TestExportFollowsTheTablesFilters exports contacts and deals with the
// tables' filters (status, owner, company, created range; stage, owner,
// close dates, amounts), alone and through a saved view's link, and checks
// the exported rows are the filtered list's rows, in its order, and what
// the filter means.
func TestExportFollowsTheTablesFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		c, email := a.owner("Fay Filter", "Filter Co")
		me := a.user(email)
		_, memberEmail := a.member(c, "Mo Member")
		member := a.user(memberEmail)
		ctx := context.Background()
		owners := []int64{me.ID, member.ID, 0}
		statuses := []string{store.StatusNew, store.StatusOpen, store.StatusConnected}
		var contacts []*store.Contact
		for i := 0; i < 45; i++ {
			company := "Acme"
			if i%4 == 0 {
				company = "Other"
			}
			ct, err := a.store.CreateContact(ctx, me.TeamID, me, store.ContactInput{Name: fmt.Sprintf("Person %02d", 44-i),
				Email: fmt.Sprintf("f%02d@example.com", i), Company: company, Status: statuses[i%3], OwnerID: owners[(i/3)%3]})
			if err != nil {
				t.Fatal(err)
			}
			contacts = append(contacts, ct)
		}
		// The list the table shows for the same filter, every page.
		listed := func(f store.ContactFilter) []string {
			var out []string
			q := store.ContactQuery{UserID: me.ID, Sort: "name", Filter: f}
			for {
				page, err := a.store.ListContacts(ctx, me.TeamID, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Rows {
					out = append(out, r.Email)
				}
				if page.Next == "" {
					return out
				}
				q.Cursor = page.Next
			}
		}
		want := listed(store.ContactFilter{Statuses: []string{store.StatusOpen, store.StatusConnected}, Owners: []int64{me.ID, store.Unassigned}, Company: "acme"})
		var byHand []string
		for _, ct := range contacts {
			if (ct.Status == store.StatusOpen || ct.Status == store.StatusConnected) && (ct.OwnerID == me.ID || ct.OwnerID == 0) && ct.Company == "Acme" {
				byHand = append(byHand, ct.Email)
			}
		}
		if len(want) == 0 || len(want) != len(byHand) || len(want) == len(contacts) {
			t.Fatalf("filtered list has %d rows, %d by hand, of %d", len(want), len(byHand), len(contacts))
		}
		qs := url.Values{"status": {store.StatusOpen, store.StatusConnected}, "owner": {strconv.FormatInt(me.ID, 10), "none"},
			"company": {"acme"}, "sort": {"name"}, "dir": {"asc"}}
		got := exportedColumn(t, c, "/contacts/export.csv?"+qs.Encode(), 1)
		if !slices.Equal(got, want) {
			t.Fatalf("export %v\nlist   %v", got, want)
		}
		// A saved view's link carries its query (savedURL).
		v, err := a.store.SaveView(ctx, me.TeamID, me, store.ListContacts, "Mine and open", qs.Encode(), false)
		if err != nil {
			t.Fatal(err)
		}
		got = exportedColumn(t, c, "/contacts/export.csv?"+v.Query+"&saved="+strconv.FormatInt(v.ID, 10), 1)
		if !slices.Equal(got, want) {
			t.Fatalf("saved view export %v\nlist   %v", got, want)
		}
		// Date ranges: everything was created today, nothing before.
		yesterday := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
		if got := exportedColumn(t, c, "/contacts/export.csv?created_to="+yesterday, 1); len(got) != 0 {
			t.Fatalf("created before %s: %d rows exported", yesterday, len(got))
		}
		if got := exportedColumn(t, c, "/contacts/export.csv?updated_from="+yesterday, 1); len(got) != len(contacts) {
			t.Fatalf("updated since %s: %d rows exported, want %d", yesterday, len(got), len(contacts))
		}

		// Deals: stage, owner, close dates and amounts.
		stages := []string{store.StageCreated, store.StageQualified, store.StageAppointment}
		for i := 0; i < 30; i++ {
			if _, err := a.store.CreateDeal(ctx, me.TeamID, me, store.DealInput{Name: fmt.Sprintf("Deal %02d", i), Stage: stages[i%3],
				Amount: strconv.Itoa(100 * (i + 1)), CloseDate: fmt.Sprintf("2030-01-%02d", i+1), OwnerID: owners[(i/2)%3], ContactID: contacts[i].ID}); err != nil {
				t.Fatal(err)
			}
		}
		min, max := int64(500_00), int64(2500_00)
		df := store.DealFilter{Stages: []string{store.StageQualified, store.StageAppointment}, Owners: []int64{me.ID, member.ID},
			CloseFrom: time.Date(2030, 1, 3, 0, 0, 0, 0, time.UTC), CloseTo: time.Date(2030, 1, 28, 0, 0, 0, 0, time.UTC), AmountMin: &min, AmountMax: &max}
		var wantDeals []string
		q := store.DealQuery{UserID: me.ID, Sort: "amount", Desc: true, Filter: df}
		for {
			page, err := a.store.ListDeals(ctx, me.TeamID, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Rows {
				wantDeals = append(wantDeals, d.Name)
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		var byHandDeals int
		for i := 0; i < 30; i++ {
			amount := int64(100*(i+1)) * 100
			if i%3 != 0 && owners[(i/2)%3] != 0 && i+1 >= 3 && i+1 <= 28 && amount >= min && amount <= max {
				byHandDeals++
			}
		}
		if len(wantDeals) == 0 || len(wantDeals) != byHandDeals {
			t.Fatalf("filtered deals list has %d rows, %d by hand", len(wantDeals), byHandDeals)
		}
		dq := url.Values{"stage": {store.StageQualified, store.StageAppointment}, "owner": {strconv.FormatInt(me.ID, 10), strconv.FormatInt(member.ID, 10)},
			"close_from": {"2030-01-03"}, "close_to": {"2030-01-28"}, "amount_min": {"500"}, "amount_max": {"2,500"}, "sort": {"amount"}, "dir": {"desc"}}
		gotDeals := exportedColumn(t, c, "/deals/export.csv?"+dq.Encode(), 0)
		if !slices.Equal(gotDeals, wantDeals) {
			t.Fatalf("deals export %v\nlist %v", gotDeals, wantDeals)
		}
	})
}
