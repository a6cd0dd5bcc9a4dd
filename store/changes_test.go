package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// recountTotals sums a team's deals per close month and stage and its
// activities per UTC day, member and type, in Go from the rows themselves:
// a recount independent of the store's SQL. Keys are the ones totalsOf
// writes.
func recountTotals(t *testing.T, s *store.Store, teamID int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	var deals []store.Deal
	if err := s.DB.NewSelect().Model(&deals).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var acts []store.Activity
	if err := s.DB.NewSelect().Model(&acts).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	months := map[string][3]int64{}
	stages := map[string][2]int64{} // the board's deal_stage_totals
	for _, d := range deals {
		sv := stages["stage "+d.Stage]
		stages["stage "+d.Stage] = [2]int64{sv[0] + 1, sv[1] + d.Amount}
		if d.CloseDate.IsZero() {
			continue
		}
		k := "month " + d.CloseDate.UTC().Format("2006-01") + " " + d.Stage
		v := months[k]
		months[k] = [3]int64{v[0] + 1, v[1] + d.Amount, v[2] + d.Goal}
	}
	days := map[string]int64{}
	for _, a := range acts {
		days[fmt.Sprintf("day %s %d %s", a.At.UTC().Format(time.DateOnly), a.UserID, a.Type)]++
	}
	out := map[string]string{}
	for k, v := range months {
		out[k] = fmt.Sprint(v)
	}
	for k, n := range days {
		out[k] = fmt.Sprint(n)
	}
	if hasStageTotals(t, s) {
		for k, v := range stages {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// hasStageTotals tells whether the board's deal_stage_totals exists yet
// (upgrade tests read totals before migration 0024).
func hasStageTotals(t *testing.T, s *store.Store) bool {
	t.Helper()
	var n int
	return s.DB.NewRaw("SELECT COUNT(*) FROM deal_stage_totals WHERE 1 = 0").Scan(context.Background(), &n) == nil
}

// totalsOf reads a team's stored totals, leaving out rows that sum to
// nothing (what is left of a month whose deals all went).
func totalsOf(t *testing.T, s *store.Store, teamID int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	var months []struct {
		Month  time.Time `bun:"month"`
		Stage  string    `bun:"stage"`
		Deals  int64     `bun:"deals"`
		Amount int64     `bun:"amount"`
		Goal   int64     `bun:"goal"`
	}
	if err := s.DB.NewRaw("SELECT month, stage, deals, amount, goal FROM deal_month_totals WHERE team_id = ?", teamID).Scan(ctx, &months); err != nil {
		t.Fatal(err)
	}
	var days []struct {
		Day    time.Time `bun:"day"`
		UserID int64     `bun:"user_id"`
		Type   string    `bun:"type"`
		N      int64     `bun:"n"`
	}
	if err := s.DB.NewRaw("SELECT day, user_id, type, n FROM activity_day_totals WHERE team_id = ?", teamID).Scan(ctx, &days); err != nil {
		t.Fatal(err)
	}
	var stages []struct {
		Stage  string `bun:"stage"`
		Deals  int64  `bun:"deals"`
		Amount int64  `bun:"amount"`
	}
	if hasStageTotals(t, s) {
		if err := s.DB.NewRaw("SELECT stage, deals, amount FROM deal_stage_totals WHERE team_id = ?", teamID).Scan(ctx, &stages); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	for _, st := range stages {
		if st.Deals != 0 || st.Amount != 0 {
			out["stage "+st.Stage] = fmt.Sprint([2]int64{st.Deals, st.Amount})
		}
	}
	for _, m := range months {
		if m.Deals != 0 || m.Amount != 0 || m.Goal != 0 {
			out["month "+m.Month.UTC().Format("2006-01")+" "+m.Stage] = fmt.Sprint([3]int64{m.Deals, m.Amount, m.Goal})
		}
	}
	for _, d := range days {
		if d.N != 0 {
			out[fmt.Sprintf("day %s %d %s", d.Day.UTC().Format(time.DateOnly), d.UserID, d.Type)] = fmt.Sprint(d.N)
		}
	}
	return out
}

// diffTotals lists the keys where two totals maps differ.
func diffTotals(got, want map[string]string) []string {
	var out []string
	for k, g := range got {
		if want[k] != g {
			out = append(out, fmt.Sprintf("%s: stored %q, recount %q", k, g, want[k]))
		}
	}
	for k, w := range want {
		if _, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("%s: stored nothing, recount %q", k, w))
		}
	}
	slices.Sort(out)
	return out
}

// TestEveryWriteKeepsTheTotals runs every store method that writes deals,
// stage-log rows, activities, contacts with what hangs on them, members or
// team settings, and after each one compares the dashboard's stored totals
// with an independent recount (and checks the change counter moved when
// they changed). The totals are kept by the write methods themselves (see
// store/changes.go), so this is the guard that no write forgets them.
func TestEveryWriteKeepsTheTotals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		other, otherOwner, _, _ := teamOf(t, s)
		teams := []*store.Team{team, other}
		lastTotals := map[int64]map[string]string{}
		lastVersion := map[int64]store.TeamVersion{}
		for _, tm := range teams {
			lastTotals[tm.ID] = totalsOf(t, s, tm.ID)
			v, err := s.TeamVersion(ctx, tm.ID)
			if err != nil {
				t.Fatal(err)
			}
			lastVersion[tm.ID] = v
		}
		steps := 0
		check := func(step string) {
			t.Helper()
			steps++
			for _, tm := range teams {
				got, want := totalsOf(t, s, tm.ID), recountTotals(t, s, tm.ID)
				if d := diffTotals(got, want); len(d) > 0 {
					t.Errorf("after %s, team %d's totals differ from a recount:\n  %s", step, tm.ID, strings.Join(d, "\n  "))
				}
				v, err := s.TeamVersion(ctx, tm.ID)
				if err != nil {
					t.Fatal(err)
				}
				if len(diffTotals(got, lastTotals[tm.ID])) > 0 && v.All == lastVersion[tm.ID].All {
					t.Errorf("after %s, team %d's totals changed but its version did not", step, tm.ID)
				}
				lastTotals[tm.ID], lastVersion[tm.ID] = got, v
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		mustDeal := func(d *store.Deal, err error) *store.Deal {
			t.Helper()
			must(err)
			return d
		}

		c1 := addContact(t, s, team, owner, store.ContactInput{Name: "Cy One", Company: "Acme"})
		c2 := addContact(t, s, team, member, store.ContactInput{Name: "Cy Two"})
		oc := addContact(t, s, other, otherOwner, store.ContactInput{Name: "Oz"})
		check("creating contacts")

		d1 := mustDeal(s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "D1", Goal: "1000", Amount: "400", CloseDate: "2026-03-20", ContactID: c1.ID}))
		d2 := mustDeal(s.CreateDeal(ctx, team.ID, member, store.DealInput{Name: "D2", Goal: "50", Stage: store.StageContractSent, CloseDate: "2026-04-01", ContactID: c2.ID}))
		d3 := mustDeal(s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "D3", Goal: "70", Amount: "70", Stage: store.StageWon, CloseDate: "2026-02-28", ClosedOn: "2026-02-28", ContactID: c1.ID}))
		d4 := mustDeal(s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "D4 no date", Goal: "5", ContactID: c2.ID}))
		mustDeal(s.CreateDeal(ctx, other.ID, otherOwner, store.DealInput{Name: "Other", Goal: "9", CloseDate: "2026-03-02", ContactID: oc.ID}))
		check("CreateDeal")

		d1 = mustDeal(s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1", Goal: "1200", Amount: "450", CloseDate: "2026-05-02", ContactID: c1.ID}))
		check("UpdateDeal of amounts and close date")
		d1 = mustDeal(s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1 renamed", Goal: "1200", Amount: "450", CloseDate: "2026-05-02", ContactID: c1.ID}))
		check("UpdateDeal of the name only")
		d4 = mustDeal(s.UpdateDeal(ctx, team.ID, owner, d4.ID, d4.Version, store.DealInput{Name: "D4", Goal: "5", Stage: store.StageQualified, CloseDate: "2026-06-06", ContactID: c2.ID}))
		check("UpdateDeal moving the stage and setting a close date")
		d4 = mustDeal(s.UpdateDeal(ctx, team.ID, owner, d4.ID, d4.Version, store.DealInput{Name: "D4", Goal: "5", ContactID: c1.ID}))
		check("UpdateDeal clearing the close date and changing the contact")
		mustDeal(s.AssignDeal(ctx, team.ID, owner, d2.ID, admin.ID))
		check("AssignDeal")

		d2 = mustDeal(s.MoveDeal(ctx, team.ID, admin, d2.ID, store.MoveInput{Stage: store.StageAppointment}))
		check("MoveDeal forward")
		d2 = mustDeal(s.MoveDeal(ctx, team.ID, admin, d2.ID, store.MoveInput{Stage: store.StageWon, Amount: "33", ClosedOn: "2026-04-15"}))
		check("MoveDeal to Closed Won")
		lostReasons, err := s.LostReasons(ctx, team.ID)
		must(err)
		d4 = mustDeal(s.MoveDeal(ctx, team.ID, owner, d4.ID, store.MoveInput{Stage: store.StageLost, ClosedOn: "2026-01-31", LostReason: lostReasons[0]}))
		check("MoveDeal to Closed Lost")
		d2 = mustDeal(s.ReopenDeal(ctx, team.ID, owner, d2.ID))
		check("ReopenDeal of a won deal")
		mustDeal(s.ReopenDeal(ctx, team.ID, owner, d4.ID))
		check("ReopenDeal of a lost deal")
		d1 = mustDeal(s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1", Goal: "1200", Amount: "460", Stage: store.StageWon, ClosedOn: "2026-05-03", ContactID: c1.ID}))
		check("UpdateDeal closing as won")

		_, err = s.LogActivity(ctx, team.ID, c1.ID, member.ID, store.ActivityEmail, "hello")
		must(err)
		_, err = s.LogScheduled(ctx, team.ID, c2.ID, owner.ID, store.ActivityMeeting, "meet", time.Now().Add(48*time.Hour))
		must(err)
		check("LogActivity and LogScheduled")
		n, err := s.AddNote(ctx, team.ID, admin, c1.ID, "a note")
		must(err)
		check("AddNote")
		must(s.DeleteNote(ctx, team.ID, admin, c1.ID, n.ID))
		check("DeleteNote (its activity stays)")
		must(s.InsertActivityForTest(ctx, &store.Activity{TeamID: team.ID, ContactID: c2.ID, UserID: member.ID, Type: store.ActivityTask, At: time.Now().UTC().AddDate(0, -2, 0)}))
		check("an activity dated two months back")

		c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: "Cy Renamed", Email: c1.Email, Company: "Acme"})
		must(err)
		check("UpdateContact renaming a contact with deals")
		_, err = s.AssignContact(ctx, team.ID, owner, c2.ID, member.ID)
		must(err)
		check("AssignContact")

		must(s.UpdateUserName(ctx, member.ID, "Member Renamed"))
		check("UpdateUserName")

		must(s.DeleteDeal(ctx, team.ID, owner, d3.ID))
		check("DeleteDeal")
		must(s.DeleteContact(ctx, team.ID, owner, c1.ID))
		check("DeleteContact with deals, notes and activities")

		_, err = s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "Europe/Berlin", Currency: "JPY"})
		must(err)
		check("UpdateTeamSettings to a currency without minor units")
		_, err = s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "Europe/Berlin", Currency: "KWD"})
		must(err)
		check("UpdateTeamSettings to a currency with three minor digits")

		must(s.RemoveMember(ctx, team.ID, owner, member.ID))
		check("RemoveMember")
		_, err = s.LeaveTeam(ctx, team.ID, admin.ID)
		must(err)
		check("LeaveTeam")

		// Imports: contacts, deals in several stages, then undo of both.
		it := newImportTeamFor(team, owner)
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := range 12 {
			fmt.Fprintf(&b, "imp%d@example.com,Imp %d\n", i, i)
		}
		ic := importAll(t, s, it, store.ImportContacts, b.String(), nil)
		check("a contacts import")
		b.Reset()
		b.WriteString("Name,Stage,Goal,Amount,Close date,Contact email\n")
		for i := range 30 {
			fmt.Fprintf(&b, "ID%d,%s,%d,%d,2026-%02d-1%d,imp%d@example.com\n", i, store.Stages[i%len(store.Stages)], 10+i, i, 1+i%12, i%9, i%12)
		}
		id := importAll(t, s, it, store.ImportDeals, b.String(), nil)
		if id.Created != 30 {
			t.Fatalf("deals import created %d of 30: %+v", id.Created, id.PreviewInfo())
		}
		check("a deals import")
		_, err = s.UndoImport(ctx, team.ID, id.ID, owner)
		must(err)
		check("UndoImport of deals")
		_, err = s.UndoImport(ctx, team.ID, ic.ID, owner)
		must(err)
		check("UndoImport of contacts")

		// The demo seed's transactions, in both of its modes.
		for _, bulk := range []bool{false, true} {
			if bulk {
				defer store.SetSeedBulkThreshold(1)()
			}
			res, err := s.Seed(ctx, store.SeedOptions{OwnerEmail: fmt.Sprintf("owner@seed-%v.example.com", bulk), PasswordHash: "x",
				TeamName: fmt.Sprintf("Seeded %v", bulk), Contacts: 300, Deals: 120, Now: time.Now().UTC(), Rand: rand.New(rand.NewPCG(1, 2)), NoSecondTeam: true})
			must(err)
			seeded, err := s.TeamByID(ctx, res.TeamID)
			must(err)
			teams = append(teams, seeded)
			lastTotals[seeded.ID] = map[string]string{}
			check(fmt.Sprintf("Seed (bulk %v)", bulk))
		}

		// Finally a team whose owner leaves last: the team and its totals go.
		must(s.DeleteContact(ctx, other.ID, otherOwner, oc.ID))
		check("DeleteContact in the other team")
		if steps < 30 {
			t.Fatalf("only %d steps ran", steps)
		}
	})
}

func newImportTeamFor(team *store.Team, owner *store.User) importTeam {
	return importTeam{team: team, owner: owner}
}

// TestReconcileFindsAndRepairsDrift: totals changed behind the store's back
// are reported, and the fix makes them equal a recount again and moves the
// team's counters; a second run finds nothing.
func TestReconcileFindsAndRepairsDrift(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Cy"})
		addDeal(t, s, team, owner, c, store.DealInput{Name: "D", Goal: "100", Amount: "10", CloseDate: "2026-03-03"})
		if _, err := s.LogActivity(ctx, team.ID, c.ID, member.ID, store.ActivityEmail, "x"); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Reconcile(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drift) != 0 || rep.Teams != 1 {
			t.Fatalf("a consistent database: %+v", rep)
		}
		// Behind the store's back: a month's goal, a day's count, a row
		// that sums nothing real, and a deal's amount.
		for _, q := range []string{
			"UPDATE deal_month_totals SET goal = goal + 5 WHERE team_id = ?",
			"UPDATE activity_day_totals SET n = n + 2 WHERE team_id = ?",
			"UPDATE deals SET amount = amount + 1 WHERE team_id = ?",
		} {
			if _, err := s.DB.NewRaw(q, team.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		before, err := s.TeamVersion(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		rep, err = s.Reconcile(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drift) != 3 || rep.Fixed != 0 || !slices.ContainsFunc(rep.Drift, func(d store.Drift) bool { return d.Table == "deal_stage_totals" }) {
			t.Fatalf("drift %v, fixed %d; want a month, a day and the deal's stage (the board's totals)", rep.Drift, rep.Fixed)
		}
		if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) == 0 {
			t.Fatal("reporting repaired the totals")
		}
		rep, err = s.Reconcile(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Fixed != 1 {
			t.Fatalf("fixed %d teams, want 1: %v", rep.Fixed, rep.Drift)
		}
		if d := diffTotals(totalsOf(t, s, team.ID), recountTotals(t, s, team.ID)); len(d) > 0 {
			t.Fatalf("after the fix the totals still differ: %v", d)
		}
		after, err := s.TeamVersion(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.All == before.All || after.Past == before.Past {
			t.Errorf("the fix left the counters at %+v (were %+v): cached dashboards would not be drawn again", after, before)
		}
		rep, err = s.Reconcile(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Drift) != 0 {
			t.Errorf("drift after the fix: %v", rep.Drift)
		}
	})
}
