package store_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// staleWant is the stale rule computed from the log and the activities
// themselves, not from the times the store keeps on the deal: an open deal
// is stale when no stage-log row of the deal and no activity of its
// contact is dated after now minus its stage's days, and no activity of its
// contact is due (or starts) at now or later.
type staleWant struct {
	last, due, since time.Time
}

func staleTruth(t *testing.T, s *store.Store, teamID int64) map[int64]staleWant {
	t.Helper()
	ctx := context.Background()
	var deals []store.Deal
	var logs []store.StageLog
	var acts []store.Activity
	if err := s.DB.NewSelect().Model(&deals).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.NewSelect().Model(&logs).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.NewSelect().Model(&acts).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	later := func(a, b time.Time) time.Time {
		if b.After(a) {
			return b
		}
		return a
	}
	out := map[int64]staleWant{}
	for _, d := range deals {
		w := staleWant{last: d.CreatedAt}
		for _, l := range logs {
			if l.DealID != d.ID {
				continue
			}
			w.last = later(w.last, l.At)
			if l.Kind != store.LogUndone {
				w.since = later(w.since, l.At)
			}
		}
		for _, a := range acts {
			if a.ContactID != d.ContactID {
				continue
			}
			w.last = later(w.last, a.At)
			w.due = later(w.due, a.DueAt)
		}
		out[d.ID] = w
	}
	return out
}

func (w staleWant) stale(d store.Deal, now time.Time, days int) bool {
	return !store.IsClosed(d.Stage) && w.last.Before(now.AddDate(0, 0, -days)) && w.due.Before(now)
}

// TestStaleRuleMatchesTheLog writes deals, moves, reopens, contact changes,
// notes, emails, tasks and meetings (some due ahead, some past) at random
// moments, then checks at several later moments that every card's stale
// flag and days in stage, and the "stale only" columns (count, amount and
// cards), agree with the rule computed from the log and activities alone.
func TestStaleRuleMatchesTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		clk.t = start
		team, owner, admin, _ := teamOf(t, s)
		if err := s.SetStageSettings(ctx, team.ID, admin, []store.StageSetting{{Stage: store.StageQualified, WinPercent: 20, StaleDays: 7}}); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 10))
		var contacts []*store.Contact
		for range 8 {
			contacts = append(contacts, addContact(t, s, team, owner, store.ContactInput{}))
		}
		var deals []*store.Deal
		for i := range 30 {
			clk.t = start.Add(time.Duration(r.IntN(40*24)) * time.Hour)
			deals = append(deals, addDeal(t, s, team, owner, contacts[r.IntN(len(contacts))], store.DealInput{Name: "Deal", Amount: []string{"", "5", "12.50"}[i%3]}))
		}
		for range 90 {
			clk.t = start.Add(time.Duration(r.IntN(60*24)) * time.Hour)
			c := contacts[r.IntN(len(contacts))]
			d := deals[r.IntN(len(deals))]
			var err error
			switch r.IntN(7) {
			case 0:
				_, err = s.AddNote(ctx, team.ID, owner, c.ID, "A note")
			case 1:
				_, err = s.LogActivity(ctx, team.ID, c.ID, owner.ID, store.ActivityEmail, "Email sent")
			case 2:
				_, err = s.LogScheduled(ctx, team.ID, c.ID, owner.ID, store.ActivityTask, "Task", clk.t.Add(time.Duration(r.IntN(30*24))*time.Hour))
			case 3:
				_, err = s.LogScheduled(ctx, team.ID, c.ID, owner.ID, store.ActivityMeeting, "Meeting", clk.t.Add(time.Duration(r.IntN(10*24))*time.Hour))
			case 4:
				cur, _ := s.DealByID(ctx, team.ID, d.ID)
				if store.IsClosed(cur.Stage) {
					_, err = s.ReopenDeal(ctx, team.ID, owner, d.ID)
					break
				}
				next := store.NextStages(cur.Stage)
				to := next[1+r.IntN(len(next)-1)]
				_, err = s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: to, Amount: "9", LostReason: "Other"})
			case 5:
				cur, _ := s.DealByID(ctx, team.ID, d.ID)
				if store.IsClosed(cur.Stage) {
					break
				}
				in := store.DealInput{Name: cur.Name, Stage: cur.Stage, ContactID: c.ID, Amount: "3"}
				_, err = s.UpdateDeal(ctx, team.ID, owner, d.ID, cur.Version, in)
			default:
				_, err = s.LogActivity(ctx, team.ID, c.ID, owner.ID, store.ActivityTaskCompleted, "Task completed")
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		truth := staleTruth(t, s, team.ID)
		settings, err := s.StageSettings(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		days := map[string]int{}
		for _, st := range settings {
			days[st.Stage] = st.StaleDays
		}
		var all []store.Deal
		if err := s.DB.NewSelect().Model(&all).Where("team_id = ?", team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		// The kept times are the log's.
		for _, d := range all {
			w := truth[d.ID]
			if !d.LastTouchedAt.Equal(w.last) || !d.NextDueAt.Equal(w.due) || !d.StageSince.Equal(w.since) {
				t.Errorf("deal %d keeps touched %v, due %v, since %v; the log says %v, %v, %v", d.ID, d.LastTouchedAt, d.NextDueAt, d.StageSince, w.last, w.due, w.since)
			}
		}
		for _, at := range []time.Duration{50, 62, 70, 80, 100} {
			now := start.Add(at * 24 * time.Hour)
			clk.t = now
			q := store.BoardQuery{Month: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), Limit: 200}
			cols, err := s.Board(ctx, team.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			q.StaleOnly = true
			only, err := s.Board(ctx, team.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			nStale := 0
			for i, col := range cols {
				var wantIDs []int64
				var n int
				var sum int64
				for _, d := range all {
					if d.Stage == col.Stage && truth[d.ID].stale(d, now, days[d.Stage]) {
						n++
						sum += d.Amount
						wantIDs = append(wantIDs, d.ID)
					}
				}
				nStale += n
				for _, c := range col.Cards {
					if want := truth[c.ID].stale(c.Deal, now, days[c.Stage]); c.Stale != want {
						t.Errorf("day %d: deal %d in %s stale %v, want %v (%+v)", at, c.ID, c.Stage, c.Stale, want, truth[c.ID])
					}
					if !c.Since.Equal(truth[c.ID].since) {
						t.Errorf("day %d: deal %d in stage since %v, the log says %v", at, c.ID, c.Since, truth[c.ID].since)
					}
				}
				var gotIDs []int64
				for _, c := range only[i].Cards {
					gotIDs = append(gotIDs, c.ID)
				}
				slices.Sort(gotIDs)
				slices.Sort(wantIDs)
				if only[i].Count != n || only[i].Amount != sum || !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("day %d: stale only %s: %d deals, %d, cards %v; want %d, %d, %v", at, col.Stage, only[i].Count, only[i].Amount, gotIDs, n, sum, wantIDs)
				}
			}
			t.Logf("day %d: %d stale deals", at, nStale)
		}
	})
}

// TestBoardTimesBackfill runs migration 0010's backfill on deals whose kept
// times were cleared: it computes what the store keeps.
func TestBoardTimesBackfill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, _, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		d1 := addDeal(t, s, team, owner, c, store.DealInput{})
		d2 := addDeal(t, s, team, owner, addContact(t, s, team, owner, store.ContactInput{}), store.DealInput{})
		clk.t = clk.t.Add(48 * time.Hour)
		if _, err := s.LogScheduled(ctx, team.ID, c.ID, owner.ID, store.ActivityMeeting, "Meeting", clk.t.Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(time.Hour)
		if _, err := s.MoveDeal(ctx, team.ID, owner, d2.ID, store.MoveInput{Stage: store.StageWon, Amount: "5"}); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(time.Hour)
		if _, err := s.ReopenDeal(ctx, team.ID, owner, d2.ID); err != nil {
			t.Fatal(err)
		}
		load := func() map[int64]store.Deal {
			var rows []store.Deal
			if err := s.DB.NewSelect().Model(&rows).Where("team_id = ?", team.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			out := map[int64]store.Deal{}
			for _, r := range rows {
				out[r.ID] = r
			}
			return out
		}
		kept := load()
		if _, err := s.DB.NewRaw("UPDATE deals SET last_touched_at = NULL, next_due_at = NULL, stage_since = NULL WHERE team_id = ?", team.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		dir := "mysql"
		if s.Dialect == store.SQLite {
			dir = "sqlite"
		}
		b, err := os.ReadFile("migrations/" + dir + "/0010_board_touch.sql")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(string(b), "-- split")
		backfill := strings.TrimSpace(parts[len(parts)-1])
		if !strings.HasPrefix(backfill, "UPDATE deals SET") {
			t.Fatalf("the migration's last part is not the backfill: %s", backfill)
		}
		if _, err := s.DB.ExecContext(ctx, strings.TrimSuffix(backfill, ";")); err != nil {
			t.Fatal(err)
		}
		filled := load()
		for _, id := range []int64{d1.ID, d2.ID} {
			k, f := kept[id], filled[id]
			if k.LastTouchedAt.IsZero() || !k.LastTouchedAt.Equal(f.LastTouchedAt) || !k.NextDueAt.Equal(f.NextDueAt) || !k.StageSince.Equal(f.StageSince) {
				t.Errorf("deal %d: kept %v/%v/%v, backfilled %v/%v/%v", id, k.LastTouchedAt, k.NextDueAt, k.StageSince, f.LastTouchedAt, f.NextDueAt, f.StageSince)
			}
		}
		if kept[d1.ID].NextDueAt.IsZero() || !kept[d2.ID].NextDueAt.IsZero() {
			t.Errorf("due times: %v and %v", kept[d1.ID].NextDueAt, kept[d2.ID].NextDueAt)
		}
	})
}
