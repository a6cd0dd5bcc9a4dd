package store_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// The dashboard tests build a team's raw rows here, keep a copy in Go, and
// compare every chart's numbers from the store's SQL with a computation over
// that copy written the plain way: by calendar month of each row in the
// team's zone, not by UTC ranges.

// funnelOrder is the pipeline of PRODUCT.md section 4, written out again
// rather than taken from the store.
var funnelOrder = []string{"Created", "Qualified To Buy", "Contract Sent", "Appointment Scheduled", "Closed Won"}

func funnelRank(stage string) int { return slices.Index(funnelOrder, stage) } // -1 for Closed Lost

// dashData is one team's raw chart rows as the test made them.
type dashData struct {
	team    *store.Team
	owner   *store.User
	contact *store.Contact
	members map[int64]string // current members: id → name
	deals   []store.Deal
	logs    []store.StageLog
	acts    []store.Activity
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.999999Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// newDashTeam makes a team with an owner and a contact.
func newDashTeam(t *testing.T, s *store.Store, owner string) *dashData {
	t.Helper()
	o := newUser(t, s, owner)
	team, err := s.CreateTeam(context.Background(), o.ID, owner+"'s team")
	if err != nil {
		t.Fatal(err)
	}
	o = reload(t, s, o)
	d := &dashData{team: team, owner: o, members: map[int64]string{o.ID: o.Name}}
	d.contact = addContact(t, s, team, o, store.ContactInput{Name: "Customer of " + owner})
	return d
}

// join adds a new member with this name to the team.
func (d *dashData) join(t *testing.T, s *store.Store, name string) *store.User {
	t.Helper()
	ctx := context.Background()
	u := newUser(t, s, "member")
	if err := s.UpdateUserName(ctx, u.ID, name); err != nil {
		t.Fatal(err)
	}
	inv, err := s.CreateInvitation(ctx, d.team.ID, d.owner.ID, u.Email, "hash-"+u.Email, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, inv.TokenHash, u.ID); err != nil {
		t.Fatal(err)
	}
	d.members[u.ID] = name
	return reload(t, s, u)
}

// deal inserts a deal with its stage path: stages[i] entered at times[i]
// (the first is Created, logged from "").
func (d *dashData) deal(t *testing.T, s *store.Store, goal, amount int64, closeDate time.Time, stages []string, times []time.Time) {
	t.Helper()
	ctx := context.Background()
	last := stages[len(stages)-1]
	row := store.Deal{
		TeamID: d.team.ID, ContactID: d.contact.ID, Name: fmt.Sprintf("Deal %d", len(d.deals)+1),
		Stage: last, StageRank: store.StageIndex(last), Goal: goal, Amount: amount, CloseDate: closeDate,
		ContactName: d.contact.Name, Version: 1, CreatedAt: times[0], UpdatedAt: times[len(times)-1],
	}
	from := ""
	var logs []store.StageLog
	for i, st := range stages {
		logs = append(logs, store.StageLog{TeamID: d.team.ID, FromStage: from, ToStage: st, UserID: d.owner.ID, At: times[i]})
		from = st
	}
	if err := s.InsertDealForTest(ctx, &row, logs); err != nil {
		t.Fatal(err)
	}
	d.logs = append(d.logs, logs...)
	d.deals = append(d.deals, row)
}

// activities inserts n activities of a user at the given times (cycled),
// types in turn.
func (d *dashData) activities(t *testing.T, s *store.Store, userID int64, n int, at ...time.Time) {
	t.Helper()
	for i := range n {
		a := store.Activity{TeamID: d.team.ID, ContactID: d.contact.ID, UserID: userID,
			Type: store.ActivityTypes[(i+int(userID))%len(store.ActivityTypes)], At: at[i%len(at)]}
		if err := s.InsertActivityForTest(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
		d.acts = append(d.acts, a)
	}
}

// forgetDeal drops a deleted deal and its stage log from the copy.
func (d *dashData) forgetDeal(id int64) {
	d.deals = slices.DeleteFunc(d.deals, func(dl store.Deal) bool { return dl.ID == id })
	d.logs = slices.DeleteFunc(d.logs, func(l store.StageLog) bool { return l.DealID == id })
}

// forgetContact drops a deleted contact's deals, their stage log and its
// activities from the copy.
func (d *dashData) forgetContact(id int64) {
	for _, dl := range slices.Clone(d.deals) {
		if dl.ContactID == id {
			d.forgetDeal(dl.ID)
		}
	}
	d.acts = slices.DeleteFunc(d.acts, func(a store.Activity) bool { return a.ContactID == id })
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Boundary instants: midnight of 1 November and 1 December 2026 in the zones
// under test, and a hair either side. Berlin left summer time on 25 October
// and New York leaves it at 2:00 on 1 November, so New York's 1 November
// starts at 04:00Z and its 1 December at 05:00Z.
var dashEdges = []time.Time{
	utc("2026-10-31T14:59:59.999999Z"), utc("2026-10-31T15:00:00Z"), // Tokyo, 1 Nov
	utc("2026-10-31T22:59:59.999999Z"), utc("2026-10-31T23:00:00Z"), // Berlin, 1 Nov
	utc("2026-10-31T23:30:00Z"),
	utc("2026-10-31T23:59:59.999999Z"), utc("2026-11-01T00:00:00Z"), // UTC, 1 Nov
	utc("2026-11-01T03:59:59.999999Z"), utc("2026-11-01T04:00:00Z"), // New York, 1 Nov
	utc("2026-10-31T18:14:59.999999Z"), utc("2026-10-31T18:15:00Z"), // Kathmandu, 1 Nov
	utc("2026-11-30T18:14:59.999999Z"), utc("2026-11-30T18:15:00Z"), // Kathmandu, 1 Dec
	utc("2026-11-30T14:59:59.999999Z"), utc("2026-11-30T15:00:00Z"), // Tokyo, 1 Dec
	utc("2026-11-30T22:59:59.999999Z"), utc("2026-11-30T23:00:00Z"), // Berlin, 1 Dec
	utc("2026-11-30T23:59:59.999999Z"), utc("2026-12-01T00:00:00Z"), // UTC, 1 Dec
	utc("2026-12-01T04:59:59.999999Z"), utc("2026-12-01T05:00:00Z"), // New York, 1 Dec
}

// dashEdgeDates are close dates at the edges of the 12-month windows and of
// the months the test's clocks fall in.
var dashEdgeDates = []string{
	"2025-11-30", "2025-12-01", "2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01",
	"2026-10-31", "2026-11-01", "2026-11-30", "2026-12-01", "2026-12-31", "2027-01-01",
}

// randomPath is a forward path through the stages starting at Created,
// skipping stages at random, sometimes ending in Closed Lost, with times
// from start on.
func randomPath(r *rand.Rand, start time.Time) ([]string, []time.Time) {
	stages, times := []string{"Created"}, []time.Time{start}
	at, rank := start, 0
	for rank < 4 && r.IntN(4) > 0 {
		at = at.Add(time.Duration(r.Int64N(int64(20 * 24 * time.Hour)))).Truncate(time.Microsecond)
		if r.IntN(6) == 0 {
			stages, times = append(stages, "Closed Lost"), append(times, at)
			break
		}
		rank += 1 + r.IntN(min(2, 4-rank)) // a step or a skip
		stages, times = append(stages, funnelOrder[rank]), append(times, at)
	}
	return stages, times
}

// buildDashTeam fills a team with deals, stage paths and activities: random
// ones around the months under test, plus rows on every boundary instant,
// close dates on every window edge, and members tied for fifth place.
func buildDashTeam(t *testing.T, s *store.Store, owner string, seed uint64) *dashData {
	t.Helper()
	ctx := context.Background()
	d := newDashTeam(t, s, owner)
	r := rand.New(rand.NewPCG(seed, 99))

	// Deals: random paths from mid-September 2026 to January 2027, and close
	// dates from October 2025 to February 2027 (a tenth without one).
	from, to := utc("2026-09-15T00:00:00Z"), utc("2027-01-15T00:00:00Z")
	for i := range 140 {
		start := from.Add(time.Duration(r.Int64N(int64(to.Sub(from))))).Truncate(time.Microsecond)
		stages, times := randomPath(r, start)
		var close time.Time
		switch {
		case i < len(dashEdgeDates):
			close = day(dashEdgeDates[i])
		case r.IntN(10) > 0:
			close = day("2025-10-20").AddDate(0, 0, r.IntN(480))
		}
		goal := int64(1+r.IntN(2000)) * 100
		amount := goal * int64(r.IntN(130)) / 100
		d.deal(t, s, goal, amount, close, stages, times)
	}
	// A deal whose whole life is on boundary instants, one per edge: each
	// reaches a different stage, by skipping.
	for i, at := range dashEdges {
		last := 1 + i%4
		d.deal(t, s, 1000, 500, time.Time{}, []string{"Created", funnelOrder[last]}, []time.Time{at, at})
	}
	// A deal lost at the first moment of November UTC, after it reached
	// Contract Sent at the end of October: the loss reaches nothing.
	d.deal(t, s, 5000, 0, day("2026-11-01"), []string{"Created", "Contract Sent", "Closed Lost"},
		[]time.Time{utc("2026-10-20T10:00:00Z"), utc("2026-10-31T12:00:00Z"), utc("2026-11-01T00:00:00Z")})

	// Members: four clear leaders, then three tied for fifth place in
	// November whatever the zone (two of them with the same name), the
	// owner behind them, and a member who leaves after being the busiest.
	mid := []time.Time{utc("2026-11-10T12:00:00Z"), utc("2026-11-15T08:00:00Z"), utc("2026-11-20T16:30:00Z")}
	counts := []struct {
		name string
		n    int
	}{{"Ann", 10}, {"Ben", 9}, {"Cat", 8}, {"Dan", 7}, {"Zed", 6}, {"Sam", 6}, {"Sam", 6}}
	var ann *store.User
	for _, c := range counts {
		u := d.join(t, s, c.name)
		d.activities(t, s, u.ID, c.n, mid...)
		if ann == nil {
			ann = u
		}
	}
	d.activities(t, s, d.owner.ID, 3, mid...)
	// Ann also works on every boundary instant, and in October and December.
	d.activities(t, s, ann.ID, len(dashEdges), dashEdges...)
	d.activities(t, s, ann.ID, 4, utc("2026-10-12T09:00:00Z"), utc("2026-12-12T09:00:00Z"))
	leaver := d.join(t, s, "Lea")
	d.activities(t, s, leaver.ID, 20, mid...)
	if _, err := s.LeaveTeam(ctx, d.team.ID, leaver.ID); err != nil {
		t.Fatal(err)
	}
	delete(d.members, leaver.ID)

	// Deals change after the fact: new close dates, amounts, goals and
	// stages written straight to the table, some deals deleted through the
	// store, and a contact deleted with its deals, their stage log and its
	// activities (a cascade, which MySQL runs without firing the deals'
	// triggers).
	for i := 0; i < 12; i++ {
		k := r.IntN(len(d.deals))
		dl := &d.deals[k]
		dl.Goal, dl.Amount = int64(1+r.IntN(900))*100, int64(r.IntN(900))*100
		switch i % 4 {
		case 0:
			dl.CloseDate = time.Time{}
		case 1:
			dl.CloseDate = day(dashEdgeDates[r.IntN(len(dashEdgeDates))])
		case 2:
			dl.CloseDate = day("2026-06-15")
		}
		if i%3 == 0 && !store.IsClosed(dl.Stage) {
			dl.Stage, dl.StageRank = "Closed Won", store.StageIndex("Closed Won")
		}
		if err := s.SetDealForTest(ctx, d.team.ID, dl.ID, dl.Stage, dl.Goal, dl.Amount, dl.CloseDate); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		k := r.IntN(len(d.deals))
		if err := s.DeleteDeal(ctx, d.team.ID, d.owner, d.deals[k].ID); err != nil {
			t.Fatal(err)
		}
		d.forgetDeal(d.deals[k].ID)
	}
	kept := d.contact
	d.contact = addContact(t, s, d.team, d.owner, store.ContactInput{Name: "Doomed customer of " + owner})
	for i := range 6 {
		at := dashEdges[i*2]
		d.deal(t, s, 7000, 6000, day(dashEdgeDates[i*2]), []string{"Created", "Closed Won"}, []time.Time{at, at})
	}
	d.activities(t, s, ann.ID, 5, mid...)
	if err := s.DeleteContact(ctx, d.team.ID, d.owner, d.contact.ID); err != nil {
		t.Fatal(err)
	}
	d.forgetContact(d.contact.ID)
	d.contact = kept

	// And one deal made and moved through the store's own write methods,
	// skipping from Created to Appointment Scheduled, then won.
	clk := useClock(s)
	defer s.SetClock(time.Now)
	clk.t = utc("2026-11-05T10:00:00Z")
	made := addDeal(t, s, d.team, d.owner, d.contact, store.DealInput{Name: "Written", Goal: "800", CloseDate: "2026-12-03"})
	clk.t = utc("2026-11-06T10:00:00Z")
	in := store.DealInput{Name: "Written", Stage: store.StageAppointment, Goal: "800", Amount: "700", CloseDate: "2026-12-03", ContactID: d.contact.ID}
	moved, err := s.UpdateDeal(ctx, d.team.ID, d.owner, made.ID, made.Version, in)
	if err != nil {
		t.Fatal(err)
	}
	clk.t = utc("2026-12-03T10:00:00Z")
	in.Stage = store.StageWon
	won, err := s.UpdateDeal(ctx, d.team.ID, d.owner, moved.ID, moved.Version, in)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := s.DealStageLog(ctx, d.team.ID, won.ID)
	if err != nil || len(logs) != 3 {
		t.Fatalf("stage log of the written deal: %d rows, %v", len(logs), err)
	}
	d.deals = append(d.deals, *won)
	d.logs = append(d.logs, logs...)
	return d
}

// The expected charts, computed over the rows in Go.

func sameMonth(t time.Time, y int, m time.Month) bool { return t.Year() == y && t.Month() == m }

func addMonths(y int, m time.Month, n int) (int, time.Month) {
	t := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return t.Year(), t.Month()
}

func wantClosedVsGoal(d *dashData, loc *time.Location, now time.Time) []store.MonthTotal {
	ny, nm, _ := now.In(loc).Date()
	var out []store.MonthTotal
	for i := -11; i <= 0; i++ {
		y, m := addMonths(ny, nm, i)
		mt := store.MonthTotal{Month: time.Date(y, m, 1, 0, 0, 0, 0, loc)}
		for _, dl := range d.deals {
			if dl.CloseDate.IsZero() || !sameMonth(dl.CloseDate.UTC(), y, m) {
				continue
			}
			mt.Goal += dl.Goal
			if dl.Stage == "Closed Won" {
				mt.Closed += dl.Amount
			}
		}
		out = append(out, mt)
	}
	return out
}

func wantForecast(d *dashData, loc *time.Location, now time.Time) []store.StageAmount {
	y, m, _ := now.In(loc).Date()
	var out []store.StageAmount
	for _, st := range funnelOrder {
		sa := store.StageAmount{Stage: st}
		for _, dl := range d.deals {
			if dl.Stage == st && !dl.CloseDate.IsZero() && sameMonth(dl.CloseDate.UTC(), y, m) {
				sa.Amount += dl.Amount
			}
		}
		out = append(out, sa)
	}
	return out
}

func wantFunnel(d *dashData, loc *time.Location, now time.Time) []store.StageCount {
	ny, nm, _ := now.In(loc).Date()
	y, m := addMonths(ny, nm, -1)
	var out []store.StageCount
	for k, st := range funnelOrder {
		reached := map[int64]bool{}
		for _, l := range d.logs {
			if sameMonth(l.At.In(loc), y, m) && funnelRank(l.ToStage) >= k {
				reached[l.DealID] = true
			}
		}
		out = append(out, store.StageCount{Stage: st, Count: len(reached)})
	}
	return out
}

func wantTeamActivity(d *dashData, loc *time.Location, now time.Time) []store.MemberActivity {
	ny, nm, _ := now.In(loc).Date()
	y, m := addMonths(ny, nm, -1)
	byUser := map[int64]*store.MemberActivity{}
	for _, a := range d.acts {
		name, member := d.members[a.UserID]
		if !member || !sameMonth(a.At.In(loc), y, m) {
			continue
		}
		ma := byUser[a.UserID]
		if ma == nil {
			ma = &store.MemberActivity{UserID: a.UserID, Name: name, Counts: map[string]int{}}
			byUser[a.UserID] = ma
		}
		ma.Counts[a.Type]++
		ma.Total++
	}
	var all []store.MemberActivity
	for _, ma := range byUser {
		all = append(all, *ma)
	}
	slices.SortFunc(all, func(a, b store.MemberActivity) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UserID, b.UserID))
	})
	out := all[:min(5, len(all))]
	if out == nil {
		out = []store.MemberActivity{}
	}
	return out
}

// checkDashboard compares the store's four aggregates for d with the
// expected ones.
func checkDashboard(t *testing.T, s *store.Store, d *dashData, loc *time.Location, now time.Time) *store.Dashboard {
	t.Helper()
	got, err := s.LoadDashboard(context.Background(), d.team.ID, loc, now)
	if err != nil {
		t.Fatal(err)
	}
	what := fmt.Sprintf("%s at %s", loc, now.In(loc).Format(time.RFC3339))
	wantCG := wantClosedVsGoal(d, loc, now)
	if len(got.ClosedVsGoal) != 12 {
		t.Fatalf("%s: closed vs goal has %d months", what, len(got.ClosedVsGoal))
	}
	for i, w := range wantCG {
		g := got.ClosedVsGoal[i]
		if !g.Month.Equal(w.Month) || g.Month.Location().String() != loc.String() || g.Closed != w.Closed || g.Goal != w.Goal {
			t.Errorf("%s: closed vs goal month %d = %s %d/%d, want %s %d/%d", what, i,
				g.Month.Format(time.RFC3339), g.Closed, g.Goal, w.Month.Format(time.RFC3339), w.Closed, w.Goal)
		}
	}
	if w := wantForecast(d, loc, now); !reflect.DeepEqual(got.Forecast, w) {
		t.Errorf("%s: forecast\n got %v\nwant %v", what, got.Forecast, w)
	}
	if w := wantFunnel(d, loc, now); !reflect.DeepEqual(got.Funnel, w) {
		t.Errorf("%s: funnel\n got %v\nwant %v", what, got.Funnel, w)
	}
	if w := wantTeamActivity(d, loc, now); !reflect.DeepEqual(got.TeamActivity, w) {
		t.Errorf("%s: team activity\n got %+v\nwant %+v", what, got.TeamActivity, w)
	}
	return got
}

func TestDashboardMatchesAnIndependentComputation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a := buildDashTeam(t, s, "Alice", 1)
		// Team B has rows on the same days; none may leak into team A's
		// charts (the expected numbers come from team A's rows only).
		b := buildDashTeam(t, s, "Bob", 2)
		empty := newDashTeam(t, s, "Eve")

		nows := []time.Time{
			utc("2026-12-10T12:00:00Z"), // December everywhere
			utc("2026-11-30T23:30:00Z"), // November in UTC and New York, December in Berlin and Tokyo
			utc("2027-01-01T02:00:00Z"), // January, except in New York
		}
		// Kathmandu is 5:45 ahead of UTC: its months begin in the middle of
		// a UTC day.
		for _, zn := range []string{"UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Kathmandu"} {
			loc := zone(t, zn)
			for _, now := range nows {
				checkDashboard(t, s, a, loc, now)
				checkDashboard(t, s, b, loc, now)
				got := checkDashboard(t, s, empty, loc, now)
				for _, m := range got.ClosedVsGoal {
					if m.Closed != 0 || m.Goal != 0 {
						t.Errorf("empty team: closed vs goal %+v", m)
					}
				}
				if len(got.TeamActivity) != 0 {
					t.Errorf("empty team: activity %+v", got.TeamActivity)
				}
			}
		}

		// The comparison is not vacuous: in December, seen from Berlin,
		// every chart has numbers, and the fifth place goes to the first
		// of the two members named Sam (the tie of three at six activities
		// is broken by name, then by id).
		got := checkDashboard(t, s, a, zone(t, "Europe/Berlin"), nows[0])
		var closed, goal int64
		for _, m := range got.ClosedVsGoal {
			closed, goal = closed+m.Closed, goal+m.Goal
		}
		var forecast int64
		for _, f := range got.Forecast {
			forecast += f.Amount
		}
		if closed == 0 || goal == 0 || forecast == 0 || got.Funnel[0].Count == 0 || got.Funnel[4].Count == 0 {
			t.Errorf("test data too thin: closed %d, goal %d, forecast %d, funnel %v", closed, goal, forecast, got.Funnel)
		}
		var names []string
		for _, m := range got.TeamActivity {
			names = append(names, fmt.Sprintf("%s:%d", m.Name, m.Total))
		}
		if len(names) != 5 || names[0] != fmt.Sprintf("Ann:%d", got.TeamActivity[0].Total) ||
			!slices.Equal(names[1:], []string{"Ben:9", "Cat:8", "Dan:7", "Sam:6"}) {
			t.Errorf("top five %v", names)
		}
		var sams []int64
		for id, name := range a.members {
			if name == "Sam" {
				sams = append(sams, id)
			}
		}
		slices.Sort(sams)
		if got.TeamActivity[4].UserID != sams[0] {
			t.Errorf("fifth place went to user %d, want the first Sam %d (Sams: %v)", got.TeamActivity[4].UserID, sams[0], sams)
		}
	})
}

// TestDashboardMonthBoundariesFollowTheTeamZone spells out one case by hand:
// a deal created and qualified at 2026-10-31 23:30 UTC was qualified in
// November in Berlin (00:30) and Tokyo (08:30), in October in UTC.
func TestDashboardMonthBoundariesFollowTheTeamZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		d := newDashTeam(t, s, "Tia")
		at := utc("2026-10-31T23:30:00Z")
		d.deal(t, s, 100, 50, day("2026-11-30"), []string{"Created", "Qualified To Buy"}, []time.Time{at, at})
		d.activities(t, s, d.owner.ID, 1, at)
		december := utc("2026-12-10T12:00:00Z")
		november := utc("2026-11-10T12:00:00Z")
		for _, c := range []struct {
			zone       string
			now        time.Time
			funnel     []int
			activities int
		}{
			{"Europe/Berlin", december, []int{1, 1, 0, 0, 0}, 1},
			{"Asia/Tokyo", december, []int{1, 1, 0, 0, 0}, 1},
			{"UTC", december, []int{0, 0, 0, 0, 0}, 0},
			{"UTC", november, []int{1, 1, 0, 0, 0}, 1},
			{"Europe/Berlin", november, []int{0, 0, 0, 0, 0}, 0},
		} {
			loc := zone(t, c.zone)
			f, err := s.Funnel(ctx, d.team.ID, loc, c.now)
			if err != nil {
				t.Fatal(err)
			}
			var counts []int
			for _, sc := range f {
				counts = append(counts, sc.Count)
			}
			if !slices.Equal(counts, c.funnel) {
				t.Errorf("%s, now %s: funnel %v, want %v", c.zone, c.now.Format(time.DateOnly), counts, c.funnel)
			}
			ta, err := s.TeamActivity(ctx, d.team.ID, loc, c.now)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(ta); n != c.activities {
				t.Errorf("%s, now %s: %d members with activity, want %d", c.zone, c.now.Format(time.DateOnly), n, c.activities)
			}
		}
		// The close date 30 November is this month at 23:30 UTC on the 30th
		// in UTC, and last month in Berlin, where it is already 1 December.
		lateNov := utc("2026-11-30T23:30:00Z")
		for zn, want := range map[string]int64{"UTC": 50, "Europe/Berlin": 0} {
			fc, err := s.Forecast(ctx, d.team.ID, zone(t, zn), lateNov)
			if err != nil {
				t.Fatal(err)
			}
			if fc[1].Stage != store.StageQualified || fc[1].Amount != want {
				t.Errorf("%s: forecast %v, want %d for Qualified To Buy", zn, fc, want)
			}
		}
	})
}

// TestTeamVersionCountsChartChanges: every write that can change a chart
// moves the team's version on, and those that can change a month already
// over move its past version too; writes elsewhere move neither.
func TestTeamVersionCountsChartChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		other, otherOwner, _, _ := teamOf(t, s)
		version := func(teamID int64) store.TeamVersion {
			t.Helper()
			v, err := s.TeamVersion(ctx, teamID)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		last := version(team.ID)
		step := func(what string, all, past bool) {
			t.Helper()
			v := version(team.ID)
			if (v.All != last.All) != all || (v.Past != last.Past) != past {
				t.Errorf("%s: version %+v → %+v, want a change of All: %v, of Past: %v", what, last, v, all, past)
			}
			last = v
		}
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Cy"})
		step("add a contact", false, false)
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "D", Goal: "100"})
		step("create a deal", true, false)
		in := store.DealInput{Name: "D renamed", Goal: "100", ContactID: c.ID}
		d, err := s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, in)
		if err != nil {
			t.Fatal(err)
		}
		step("rename a deal", false, false)
		in.Stage = store.StageContractSent
		if _, err = s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, in); err != nil {
			t.Fatal(err)
		}
		step("move a deal", true, false)
		if _, err := s.LogActivity(ctx, team.ID, c.ID, owner.ID, store.ActivityEmail, "hi"); err != nil {
			t.Fatal(err)
		}
		step("log an activity", true, false)
		old := store.Activity{TeamID: team.ID, ContactID: c.ID, UserID: owner.ID, Type: store.ActivityNote, At: time.Now().UTC().AddDate(0, 0, -40)}
		if err := s.InsertActivityForTest(ctx, &old); err != nil {
			t.Fatal(err)
		}
		step("an activity dated 40 days back", true, true)
		if err := s.UpdateUserName(ctx, member.ID, "New Name"); err != nil {
			t.Fatal(err)
		}
		step("rename a member", true, true)
		oc := addContact(t, s, other, otherOwner, store.ContactInput{Name: "Oz"})
		addDeal(t, s, other, otherOwner, oc, store.DealInput{Name: "Other"})
		step("another team's deal", false, false)
		if err := s.DeleteDeal(ctx, team.ID, owner, d.ID); err != nil {
			t.Fatal(err)
		}
		step("delete a deal", true, true)
		c2 := addContact(t, s, team, owner, store.ContactInput{Name: "Cy 2"})
		addDeal(t, s, team, owner, c2, store.DealInput{Name: "D2"})
		step("a deal for a second contact", true, false)
		// Deleting a contact cascades to its deals and activities, which
		// MySQL does without firing their triggers.
		if err := s.DeleteContact(ctx, team.ID, owner, c2.ID); err != nil {
			t.Fatal(err)
		}
		step("delete a contact with a deal", true, true)
		if _, err := s.TeamVersion(ctx, -1); err == nil {
			t.Errorf("version of a team that does not exist")
		}
	})
}

func TestTeamSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, _ := teamOf(t, s)
		got, err := s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "Europe/Berlin", Currency: "usd"})
		if err != nil || got.TimeZone != "Europe/Berlin" || got.Currency != "USD" {
			t.Fatalf("update settings: %+v, %v", got, err)
		}
		for _, bad := range []store.TeamSettings{
			{TimeZone: "Mars/Olympus_Mons", Currency: "EUR"},
			{TimeZone: "Local", Currency: "EUR"},
			{TimeZone: "", Currency: "EUR"},
			{TimeZone: "UTC", Currency: "XXX"},
		} {
			if _, err := s.UpdateTeamSettings(ctx, team.ID, owner, bad); len(fieldErrors(t, err)) != 1 {
				t.Errorf("settings %+v: %v", bad, err)
			}
		}
		if _, err := s.UpdateTeamSettings(ctx, team.ID, admin, store.TeamSettings{TimeZone: "UTC", Currency: "EUR"}); err == nil {
			t.Errorf("an admin changed the settings")
		}
		after, _ := s.TeamByID(ctx, team.ID)
		if after.TimeZone != "Europe/Berlin" || after.Currency != "USD" {
			t.Errorf("refused updates changed the team: %+v", after)
		}
		for _, zn := range store.TimeZones {
			if _, err := store.LoadTimeZone(zn); err != nil {
				t.Errorf("listed zone %s: %v", zn, err)
			}
		}
	})
}
