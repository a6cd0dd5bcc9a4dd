package store_test

import (
	"context"
	"errors"

	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// zonedTeam makes a team in a zone far from UTC, with the clock at a moment
// when the team's date is a day ahead of UTC's.
func zonedTeam(t *testing.T, s *store.Store) (*store.Team, *store.User, *store.User, *store.User, *clock) {
	t.Helper()
	clk := useClock(s)
	clk.t = time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC) // 1 April, 09:00 in Auckland
	team, owner, admin, member := teamOf(t, s)
	if _, err := s.UpdateTeamSettings(context.Background(), team.ID, owner, store.TeamSettings{TimeZone: "Pacific/Auckland", Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	return team, owner, admin, member, clk
}

func dateOf(d *store.Deal) string {
	if d.CloseDate.IsZero() {
		return ""
	}
	return d.CloseDate.Format(time.DateOnly)
}

func TestClosingSetsTheCloseDateToTheDayItClosed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _, clk := zonedTeam(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		loc, _ := time.LoadLocation("Pacific/Auckland")
		// Won in the table, with an expected close date far ahead and none given.
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "Far", Amount: "250", CloseDate: "2027-02-15"})
		in := store.DealInput{Name: "Far", Stage: store.StageWon, Amount: "250", CloseDate: "2027-02-15", ContactID: c.ID}
		won, err := s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := dateOf(won); got != "2026-04-01" {
			t.Errorf("won today: close date %s, want the team's today 2026-04-01", got)
		}
		months, err := s.ClosedVsGoal(ctx, team.ID, loc, clk.t)
		if err != nil {
			t.Fatal(err)
		}
		if last := months[len(months)-1]; last.Closed != 25000 {
			t.Errorf("this month's closed = %d, want the deal won today (25000)", last.Closed)
		}
		// Won without any close date: no message about a close date.
		d2 := addDeal(t, s, team, owner, c, store.DealInput{Name: "Undated", Amount: "10"})
		if _, err := s.UpdateDeal(ctx, team.ID, owner, d2.ID, d2.Version, store.DealInput{Name: "Undated", Stage: store.StageWon, Amount: "10", ContactID: c.ID}); err != nil {
			t.Errorf("won without a close date: %v", err)
		}
		// An edited day wins over today, for won and lost, in the table and on the board.
		d3 := addDeal(t, s, team, owner, c, store.DealInput{Name: "Edited", CloseDate: "2026-06-01"})
		lost, err := s.UpdateDeal(ctx, team.ID, owner, d3.ID, d3.Version, store.DealInput{Name: "Edited", Stage: store.StageLost,
			ContactID: c.ID, ClosedOn: "2026-03-28", LostReason: "Price", CloseDate: "2026-06-01"})
		if err != nil || dateOf(lost) != "2026-03-28" {
			t.Errorf("lost on an edited day: %v, %v", dateOf(lost), err)
		}
		d4 := addDeal(t, s, team, owner, c, store.DealInput{Name: "Board", CloseDate: "2025-01-01"})
		moved, err := s.MoveDeal(ctx, team.ID, owner, d4.ID, store.MoveInput{Stage: store.StageWon, Amount: "75"})
		if err != nil || dateOf(moved) != "2026-04-01" || moved.Amount != 7500 {
			t.Errorf("won on the board: %+v, %v", moved, err)
		}
		d5 := addDeal(t, s, team, owner, c, store.DealInput{Name: "Board 2"})
		moved, err = s.MoveDeal(ctx, team.ID, owner, d5.ID, store.MoveInput{Stage: store.StageLost, LostReason: "timing", ClosedOn: "2026-03-30"})
		if err != nil || dateOf(moved) != "2026-03-30" || moved.LostReason != "Timing" {
			t.Errorf("lost on the board: %+v, %v", moved, err)
		}
		// Created straight into Closed Won closes today too.
		created, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "Direct", Stage: store.StageWon, Amount: "5", CloseDate: "2030-01-01", ContactID: c.ID})
		if err != nil || dateOf(created) != "2026-04-01" {
			t.Errorf("created won: %v, %v", dateOf(created), err)
		}
	})
}

func TestLostReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		got, err := s.LostReasons(ctx, team.ID)
		if err != nil || !slices.Equal(got, store.DefaultLostReasons) {
			t.Fatalf("default reasons %v, %v", got, err)
		}
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "D"})
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageLost}); fieldErrors(t, err)["lost_reason"] == "" {
			t.Errorf("lost without a reason: %v", err)
		}
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageLost, LostReason: "Aliens"}); fieldErrors(t, err)["lost_reason"] == "" {
			t.Errorf("lost for an unknown reason: %v", err)
		}
		if _, err := s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, store.DealInput{Name: "D", Stage: store.StageLost, ContactID: c.ID}); fieldErrors(t, err)["lost_reason"] == "" {
			t.Errorf("lost in the table without a reason: %v", err)
		}
		// Members cannot edit the list; admins can.
		if err := s.SetLostReasons(ctx, team.ID, member, []string{"Mine"}); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member edits reasons: %v", err)
		}
		list, fe := store.ParseLostReasons("Too expensive\n\n  Bad   fit \ntoo expensive\n")
		if len(fe) != 0 || !slices.Equal(list, []string{"Too expensive", "Bad fit"}) {
			t.Fatalf("parse: %v %v", list, fe)
		}
		if _, fe := store.ParseLostReasons(" \n"); fe["lost_reasons"] == "" {
			t.Errorf("an empty list is accepted")
		}
		if err := s.SetLostReasons(ctx, team.ID, admin, list); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LostReasons(ctx, team.ID); !slices.Equal(got, list) {
			t.Errorf("saved reasons %v", got)
		}
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageLost, LostReason: "Price"}); fieldErrors(t, err)["lost_reason"] == "" {
			t.Errorf("a reason no longer in the list: %v", err)
		}
		lost, err := s.MoveDeal(ctx, team.ID, member, d.ID, store.MoveInput{Stage: store.StageLost, LostReason: "bad fit", LostNote: "  They build it themselves. "})
		if err != nil || lost.LostReason != "Bad fit" || lost.LostNote != "They build it themselves." {
			t.Fatalf("lost: %+v, %v", lost, err)
		}
		log, err := s.DealStageLog(ctx, team.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := log[len(log)-1]; last.ToStage != store.StageLost || last.Reason != "Bad fit" || last.Note != "They build it themselves." || last.UserID != member.ID {
			t.Errorf("log of the loss: %+v", last)
		}
		// Another team's list is its own.
		other := newUser(t, s, "other")
		team2, err := s.CreateTeam(ctx, other.ID, "Other")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LostReasons(ctx, team2.ID); !slices.Equal(got, store.DefaultLostReasons) {
			t.Errorf("other team's reasons %v", got)
		}
	})
}

func TestMoveDealRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "D", Stage: store.StageContractSent, OwnerID: owner.ID})
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageQualified}); fieldErrors(t, err)["stage"] == "" {
			t.Errorf("backwards: %v", err)
		}
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageWon}); !strings.Contains(fieldErrors(t, err)["amount"], "amount") {
			t.Errorf("won without an amount: %v", err)
		}
		if _, err := s.MoveDeal(ctx, team.ID, member, d.ID, store.MoveInput{Stage: store.StageAppointment}); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member moves the owner's deal: %v", err)
		}
		other := newUser(t, s, "other")
		team2, _ := s.CreateTeam(ctx, other.ID, "Other")
		other = reload(t, s, other)
		if _, err := s.MoveDeal(ctx, team2.ID, other, d.ID, store.MoveInput{Stage: store.StageAppointment}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another team's deal: %v", err)
		}
		// A member moves their own and unassigned deals; admins any.
		mine := addDeal(t, s, team, member, c, store.DealInput{Name: "Mine"})
		if _, err := s.MoveDeal(ctx, team.ID, member, mine.ID, store.MoveInput{Stage: store.StageQualified}); err != nil {
			t.Errorf("member moves own deal: %v", err)
		}
		free := addDeal(t, s, team, owner, c, store.DealInput{Name: "Free", OwnerID: 0})
		if _, err := s.MoveDeal(ctx, team.ID, member, free.ID, store.MoveInput{Stage: store.StageQualified}); err != nil {
			t.Errorf("member moves unassigned deal: %v", err)
		}
		if _, err := s.MoveDeal(ctx, team.ID, admin, d.ID, store.MoveInput{Stage: store.StageAppointment}); err != nil {
			t.Errorf("admin moves the owner's deal: %v", err)
		}
		// The same rule in the table.
		fresh, _ := s.DealByID(ctx, team.ID, d.ID)
		if _, err := s.UpdateDeal(ctx, team.ID, member, d.ID, fresh.Version, store.DealInput{Name: "D", Stage: store.StageWon, Amount: "4", ContactID: c.ID}); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member closes the owner's deal in the table: %v", err)
		}
		won, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageWon, Amount: "1,000"})
		if err != nil || won.Amount != 100000 {
			t.Fatalf("won: %+v %v", won, err)
		}
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageLost, LostReason: "Price"}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("move a closed deal: %v", err)
		}
	})
}

// chartState is every chart computed in Go from all the team's rows.
type chartState struct {
	closed   map[string]int64 // by close month
	goal     map[string]int64
	forecast map[string]int64 // this month, by stage
	funnel   []int            // last month, by pipeline stage
}

func computeCharts(t *testing.T, s *store.Store, teamID int64, loc *time.Location, now time.Time) chartState {
	t.Helper()
	ctx := context.Background()
	var deals []store.Deal
	if err := s.DB.NewSelect().Model(&deals).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	var logs []store.StageLog
	if err := s.DB.NewSelect().Model(&logs).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	st := chartState{closed: map[string]int64{}, goal: map[string]int64{}, forecast: map[string]int64{}, funnel: make([]int, len(store.PipelineStages))}
	thisMonth := store.MonthStart(now, loc).Format("2006-01")
	for _, d := range deals {
		if d.CloseDate.IsZero() {
			continue
		}
		m := d.CloseDate.Format("2006-01")
		st.goal[m] += d.Goal
		if d.Stage == store.StageWon {
			st.closed[m] += d.Amount
		}
		if m == thisMonth && d.Stage != store.StageLost {
			st.forecast[d.Stage] += d.Amount
		}
	}
	start := store.MonthStart(now, loc).AddDate(0, -1, 0)
	end := store.MonthStart(now, loc)
	level := map[int64]int{}
	for _, l := range logs {
		// Closes taken back and reopens reach nothing.
		if l.Kind == store.LogUndone || l.Kind == store.LogReopen || l.At.Before(start) || !l.At.Before(end) {
			continue
		}
		r := slices.Index(store.PipelineStages, l.ToStage)
		if r < 0 {
			continue
		}
		if old, ok := level[l.DealID]; !ok || r > old {
			level[l.DealID] = r
		}
	}
	for _, r := range level {
		for i := 0; i <= r; i++ {
			st.funnel[i]++
		}
	}
	return st
}

func checkCharts(t *testing.T, s *store.Store, teamID int64, loc *time.Location, now time.Time, step string) *store.Dashboard {
	t.Helper()
	want := computeCharts(t, s, teamID, loc, now)
	got, err := s.LoadDashboard(context.Background(), teamID, loc, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got.ClosedVsGoal {
		k := m.Month.Format("2006-01")
		if m.Closed != want.closed[k] || m.Goal != want.goal[k] {
			t.Errorf("%s: closed vs goal %s = %d/%d, want %d/%d", step, k, m.Closed, m.Goal, want.closed[k], want.goal[k])
		}
	}
	for _, f := range got.Forecast {
		if f.Amount != want.forecast[f.Stage] {
			t.Errorf("%s: forecast %s = %d, want %d", step, f.Stage, f.Amount, want.forecast[f.Stage])
		}
	}
	for i, f := range got.Funnel {
		if f.Count != want.funnel[i] {
			t.Errorf("%s: funnel %s = %d, want %d", step, f.Stage, f.Count, want.funnel[i])
		}
	}
	return got
}

func TestReopenDeal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		lastMonth := time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)
		clk.t = lastMonth
		team, owner, admin, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		s.LogActivity(ctx, team.ID, c.ID, member.ID, store.ActivityNote, "call")
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "Big", Goal: "500", Amount: "400", CloseDate: "2026-03-20", OwnerID: member.ID})
		if _, err := s.MoveDeal(ctx, team.ID, member, d.ID, store.MoveInput{Stage: store.StageContractSent}); err != nil {
			t.Fatal(err)
		}
		won, err := s.MoveDeal(ctx, team.ID, member, d.ID, store.MoveInput{Stage: store.StageWon})
		if err != nil || dateOf(won) != "2026-02-10" {
			t.Fatalf("won: %v %v", dateOf(won), err)
		}
		lost := addDeal(t, s, team, owner, c, store.DealInput{Name: "Lost", Goal: "100", Amount: "80", CloseDate: "2026-03-05"})
		if _, err := s.MoveDeal(ctx, team.ID, owner, lost.ID, store.MoveInput{Stage: store.StageLost, LostReason: "Price", LostNote: "n"}); err != nil {
			t.Fatal(err)
		}
		loc := time.UTC
		now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
		clk.t = now
		before := checkCharts(t, s, team.ID, loc, now, "before reopen")
		if before.Funnel[len(before.Funnel)-1].Count != 1 || before.ClosedVsGoal[10].Closed != 40000 {
			t.Fatalf("before reopen the deal counts as won: %+v %+v", before.Funnel, before.ClosedVsGoal[10])
		}
		v0, _ := s.TeamVersion(ctx, team.ID)

		// Only owners and admins reopen, and only closed deals.
		if _, err := s.ReopenDeal(ctx, team.ID, member, d.ID); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member reopens: %v", err)
		}
		open := addDeal(t, s, team, owner, c, store.DealInput{Name: "Open"})
		if _, err := s.ReopenDeal(ctx, team.ID, admin, open.ID); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("reopen an open deal: %v", err)
		}
		other := newUser(t, s, "other")
		team2, _ := s.CreateTeam(ctx, other.ID, "Other")
		if _, err := s.ReopenDeal(ctx, team2.ID, reload(t, s, other), d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another team reopens: %v", err)
		}

		clk.t = now.Add(time.Minute)
		back, err := s.ReopenDeal(ctx, team.ID, admin, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if back.Stage != store.StageContractSent || dateOf(back) != "2026-03-20" || !back.ClosedAt.IsZero() {
			t.Errorf("reopened deal: %+v", back)
		}
		log, _ := s.DealStageLog(ctx, team.ID, d.ID)
		last := log[len(log)-1]
		if last.Kind != store.LogReopen || last.UserID != admin.ID || !last.At.Equal(clk.t.Truncate(time.Microsecond)) ||
			last.FromStage != store.StageWon || last.ToStage != store.StageContractSent {
			t.Errorf("reopen log %+v", last)
		}
		if log[len(log)-2].Kind != store.LogUndone {
			t.Errorf("the close is not marked undone: %+v", log[len(log)-2])
		}
		v1, _ := s.TeamVersion(ctx, team.ID)
		if v1.All <= v0.All || v1.Past <= v0.Past {
			t.Errorf("reopen did not move the versions: %+v → %+v", v0, v1)
		}
		after := checkCharts(t, s, team.ID, loc, now, "after reopen")
		if after.Funnel[len(after.Funnel)-1].Count != 0 || after.Funnel[2].Count != 1 {
			t.Errorf("funnel after reopen %+v: the deal no longer counts as won, but reached Contract Sent", after.Funnel)
		}
		if after.ClosedVsGoal[10].Closed != 0 || after.ClosedVsGoal[11].Goal != 50000 {
			t.Errorf("closed vs goal after reopen %+v %+v", after.ClosedVsGoal[10], after.ClosedVsGoal[11])
		}
		if !slices.EqualFunc(before.TeamActivity, after.TeamActivity, func(a, b store.MemberActivity) bool { return a.UserID == b.UserID && a.Total == b.Total }) {
			t.Errorf("team activity changed: %+v → %+v", before.TeamActivity, after.TeamActivity)
		}
		// The lost deal reopens to Created with its reason gone; closing again counts again.
		reLost, err := s.ReopenDeal(ctx, team.ID, owner, lost.ID)
		if err != nil || reLost.Stage != store.StageCreated || reLost.LostReason != "" || dateOf(reLost) != "2026-03-05" {
			t.Errorf("reopened lost deal %+v, %v", reLost, err)
		}
		checkCharts(t, s, team.ID, loc, now, "lost reopened")
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageWon, ClosedOn: "2026-03-14"}); err != nil {
			t.Fatal(err)
		}
		again := checkCharts(t, s, team.ID, loc, now, "won again")
		if again.ClosedVsGoal[11].Closed != 40000 || again.Forecast[4].Amount != 40000 {
			t.Errorf("won again: %+v %+v", again.ClosedVsGoal[11], again.Forecast)
		}
	})
}

// boardWant computes a column's totals and order in Go from all the rows.
func boardWant(deals []store.Deal, q store.BoardQuery, stage string, match func(store.Deal) bool) (int, int64, []int64) {
	n, sum := 0, int64(0)
	var ids []int64
	var rows []store.Deal
	for _, d := range deals {
		if d.Stage != stage || !match(d) {
			continue
		}
		from, to := q.From, q.To
		if store.IsClosed(stage) && from.IsZero() && to.IsZero() {
			from, to = q.Month, q.Month.AddDate(0, 1, -1)
		}
		if (!from.IsZero() || !to.IsZero()) && d.CloseDate.IsZero() {
			continue
		}
		if !from.IsZero() && d.CloseDate.Before(from) || !to.IsZero() && d.CloseDate.After(to) {
			continue
		}
		n++
		sum += d.Amount
		rows = append(rows, d)
	}
	slices.SortFunc(rows, func(a, b store.Deal) int {
		switch {
		case !a.CloseDate.Equal(b.CloseDate):
			if a.CloseDate.Before(b.CloseDate) {
				return -1
			}
			return 1
		case a.Amount != b.Amount:
			return int(a.Amount - b.Amount)
		}
		return int(a.ID - b.ID)
	})
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return n, sum, ids
}

func TestBoardTotalsAndOrderMatchAnIndependentComputation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, admin, member := teamOf(t, s)
		if err := s.SetStageSettings(ctx, team.ID, admin, []store.StageSetting{{Stage: store.StageQualified, WinPercent: 35, StaleDays: 14}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStageSettings(ctx, team.ID, member, []store.StageSetting{{Stage: store.StageQualified, WinPercent: 50, StaleDays: 14}}); !errors.Is(err, store.ErrNotAllowed) {
			t.Errorf("member edits probabilities: %v", err)
		}
		r := rand.New(rand.NewPCG(7, 12))
		contacts := []*store.Contact{
			addContact(t, s, team, owner, store.ContactInput{Name: "Ada Lovelace", Email: "ada@x.test"}),
			addContact(t, s, team, owner, store.ContactInput{Name: "Bob Brown", Email: "bob@y.test"}),
		}
		owners := []int64{0, owner.ID, member.ID, admin.ID}
		dates := []string{"", "2026-03-01", "2026-03-14", "2026-03-31", "2026-02-28", "2026-04-02"}
		amounts := []string{"", "10", "10", "99.99", "1,000", "5"}
		names := []string{"Pilot", "Renewal", "Big order"}
		for i := range 90 {
			clk.t = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
			in := store.DealInput{Name: names[r.IntN(len(names))], Amount: amounts[r.IntN(len(amounts))], CloseDate: dates[r.IntN(len(dates))],
				OwnerID: owners[r.IntN(len(owners))], ContactID: contacts[r.IntN(2)].ID}
			d := addDeal(t, s, team, owner, contacts[0], in)
			stage := store.Stages[r.IntN(len(store.Stages))]
			if stage != store.StageCreated {
				mi := store.MoveInput{Stage: stage, Amount: "12", LostReason: "Other", ClosedOn: dates[1+r.IntN(len(dates)-1)]}
				if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, mi); err != nil {
					t.Fatal(err)
				}
			}
		}
		var all []store.Deal
		if err := s.DB.NewSelect().Model(&all).Where("team_id = ?", team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		yes := func(store.Deal) bool { return true }
		cases := []struct {
			name  string
			q     store.BoardQuery
			match func(store.Deal) bool
		}{
			{"all", store.BoardQuery{View: store.ViewAll, Month: march}, yes},
			{"mine", store.BoardQuery{View: store.ViewMine, UserID: member.ID, Month: march}, func(d store.Deal) bool { return d.OwnerID == member.ID }},
			{"an owner", store.BoardQuery{View: store.ViewOwner, OwnerID: admin.ID, Month: march}, func(d store.Deal) bool { return d.OwnerID == admin.ID }},
			{"search", store.BoardQuery{View: store.ViewAll, Search: "renew", Month: march}, func(d store.Deal) bool { return d.Name == "Renewal" }},
			{"search contact", store.BoardQuery{View: store.ViewAll, Search: "lovel", Month: march}, func(d store.Deal) bool { return d.ContactName == "Ada Lovelace" }},
			{"range", store.BoardQuery{View: store.ViewAll, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Month: march}, yes},
			{"last month's closed", store.BoardQuery{View: store.ViewAll, Month: march.AddDate(0, -1, 0)}, yes},
		}
		for _, tc := range cases {
			tc.q.Limit = 4
			cols, err := s.Board(ctx, team.ID, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(cols) != len(store.Stages) {
				t.Fatalf("%s: %d columns", tc.name, len(cols))
			}
			for _, col := range cols {
				n, sum, ids := boardWant(all, tc.q, col.Stage, tc.match)
				pct := map[string]int64{store.StageCreated: 10, store.StageQualified: 35, store.StageContractSent: 40, store.StageAppointment: 60, store.StageWon: 100, store.StageLost: 0}[col.Stage]
				if col.Count != n || col.Amount != sum || col.Weighted != (sum*pct+50)/100 {
					t.Errorf("%s %s: totals %d/%d/%d, want %d/%d/%d", tc.name, col.Stage, col.Count, col.Amount, col.Weighted, n, sum, (sum*pct+50)/100)
				}
				// Show more walks every card once, in order.
				var got []int64
				page := col
				for range 100 {
					for _, c := range page.Cards {
						got = append(got, c.ID)
					}
					if page.Next == "" {
						break
					}
					if page, err = s.BoardMore(ctx, team.ID, tc.q, col.Stage, page.Next); err != nil {
						t.Fatal(err)
					}
				}
				if !slices.Equal(got, ids) {
					t.Errorf("%s %s: cards %v, want %v", tc.name, col.Stage, got, ids)
				}
			}
		}
	})
}

func TestStaleDeals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		clk.t = start
		team, owner, admin, _ := teamOf(t, s)
		quiet := addContact(t, s, team, owner, store.ContactInput{Name: "Quiet", Email: "q@x.test"})
		called := addContact(t, s, team, owner, store.ContactInput{Name: "Called", Email: "c@x.test"})
		booked := addContact(t, s, team, owner, store.ContactInput{Name: "Booked", Email: "b@x.test"})
		past := addContact(t, s, team, owner, store.ContactInput{Name: "Past", Email: "p@x.test"})
		deals := map[string]*store.Deal{}
		for _, c := range []*store.Contact{quiet, called, booked, past} {
			deals[c.Name] = addDeal(t, s, team, owner, c, store.DealInput{Name: "Deal " + c.Name})
		}
		moved := addDeal(t, s, team, owner, quiet, store.DealInput{Name: "Deal Moved"})
		clk.t = start.AddDate(0, 0, 3)
		if _, err := s.LogScheduled(ctx, team.ID, past.ID, owner.ID, store.ActivityMeeting, "Meeting", start.AddDate(0, 0, 4)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LogScheduled(ctx, team.ID, booked.ID, owner.ID, store.ActivityTask, "Task", start.AddDate(0, 0, 40)); err != nil {
			t.Fatal(err)
		}
		clk.t = start.AddDate(0, 0, 15)
		if _, err := s.MoveDeal(ctx, team.ID, owner, moved.ID, store.MoveInput{Stage: store.StageQualified}); err != nil {
			t.Fatal(err)
		}
		clk.t = start.AddDate(0, 0, 16)
		if _, err := s.LogActivity(ctx, team.ID, called.ID, owner.ID, store.ActivityEmail, "Hi"); err != nil {
			t.Fatal(err)
		}
		clk.t = start.AddDate(0, 0, 20)
		stale := func(q store.BoardQuery) map[string]bool {
			cols, err := s.Board(ctx, team.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, col := range cols {
				for _, c := range col.Cards {
					out[c.Name] = c.Stale
				}
			}
			return out
		}
		want := map[string]bool{"Deal Quiet": true, "Deal Called": false, "Deal Booked": false, "Deal Past": true, "Deal Moved": false}
		if got := stale(store.BoardQuery{}); !maps(got, want) {
			t.Errorf("stale flags %v, want %v", got, want)
		}
		only := stale(store.BoardQuery{StaleOnly: true})
		if len(only) != 2 || !only["Deal Quiet"] || !only["Deal Past"] {
			t.Errorf("stale only: %v", only)
		}
		// A longer threshold for Created: nothing there is stale yet.
		if err := s.SetStageSettings(ctx, team.ID, admin, []store.StageSetting{{Stage: store.StageCreated, WinPercent: 10, StaleDays: 30}}); err != nil {
			t.Fatal(err)
		}
		if got := stale(store.BoardQuery{StaleOnly: true}); len(got) != 0 {
			t.Errorf("stale after 30 days: %v", got)
		}
		// Days in stage come from the stage log.
		cols, _ := s.Board(ctx, team.ID, store.BoardQuery{})
		for _, col := range cols {
			for _, c := range col.Cards {
				want := 20
				if c.Name == "Deal Moved" {
					want = 5
				}
				if c.DaysInStage(clk.t) != want {
					t.Errorf("%s: %d days in stage, want %d", c.Name, c.DaysInStage(clk.t), want)
				}
			}
		}
	})
}

func maps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
