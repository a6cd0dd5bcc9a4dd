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

func TestSeedMakesConsistentDemoData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Take MySQL's bulk path even with little data.
		defer store.SetSeedBulkThreshold(100)()
		now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		// The seed's last step works out next steps on the store's clock.
		defer s.SetClock(func() time.Time { return now })()
		var stages []string
		res, err := s.Seed(ctx, store.SeedOptions{
			PasswordHash: "hash", Contacts: 600, Deals: 300, Members: 5, Now: now, Rand: rand.New(rand.NewPCG(1, 2)),
			Progress: func(stage string, done, total int) {
				if done == total && !slices.Contains(stages, stage) {
					stages = append(stages, stage)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var rows int
		s.DB.NewRaw("SELECT COUNT(*) FROM activities WHERE team_id = ?", res.TeamID).Scan(ctx, &rows)
		// 200 activities and the completions of the tasks done.
		if res.Contacts != 600 || res.Deals != 300 || res.Notes != 60 || res.Activities != rows || rows <= 60+200 || len(res.MemberEmails) != 5 {
			t.Errorf("result %+v, %d activity rows", res, rows)
		}
		if res.Second == nil || res.Second.TeamID == res.TeamID || res.Second.Contacts != 50 || res.Second.Deals != 10 {
			t.Errorf("second team %+v", res.Second)
		}
		for _, st := range []string{"contacts", "deals", "notes", "activities"} {
			if !slices.Contains(stages, st) {
				t.Errorf("no progress reported for %s (got %v)", st, stages)
			}
		}
		owner, err := s.UserByEmail(ctx, "demo@sherpa.test")
		if err != nil || owner.TeamID != res.TeamID || owner.Role != store.RoleOwner {
			t.Fatalf("demo login %+v, %v", owner, err)
		}
		members, _ := s.TeamMembers(ctx, res.TeamID)
		if len(members) != 6 || members[1].Role != store.RoleAdmin {
			t.Errorf("members %+v", members)
		}

		// Contacts: owners, statuses and search terms.
		var assigned, total int
		s.DB.NewRaw("SELECT COUNT(owner_id), COUNT(*) FROM contacts WHERE team_id = ?", res.TeamID).Scan(ctx, &assigned, &total)
		if total != 600 || assigned < 360 || assigned > 500 {
			t.Errorf("%d of %d contacts assigned, want about 70%%", assigned, total)
		}
		var statuses int
		s.DB.NewRaw("SELECT COUNT(DISTINCT status) FROM contacts WHERE team_id = ?", res.TeamID).Scan(ctx, &statuses)
		if statuses != len(store.ContactStatuses) {
			t.Errorf("%d statuses used", statuses)
		}
		p, err := s.ListContacts(ctx, res.TeamID, store.ContactQuery{Sort: "created", Desc: true})
		if err != nil || len(p.Rows) != 25 || p.Rows[0].CreatedAt.After(now) || p.Rows[0].CreatedAt.Before(now.AddDate(0, -1, 0)) {
			t.Fatalf("newest contacts: %v", err)
		}
		c := p.Rows[3]
		if got := searchContacts(t, s, res.TeamID, c.Email); !slices.Contains(got, c.ID) {
			t.Errorf("seeded contact %s not found by its email", c.Email)
		}

		// Deals: every history starts with Created, only moves forward and
		// ends in the deal's stage; won deals have an amount and a date.
		var deals []store.Deal
		if err := s.DB.NewSelect().Model(&deals).Where("team_id = ?", res.TeamID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		var logs []store.StageLog
		if err := s.DB.NewSelect().Model(&logs).Where("team_id = ?", res.TeamID).Order("deal_id", "at", "id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		byDeal := map[int64][]store.StageLog{}
		for _, l := range logs {
			byDeal[l.DealID] = append(byDeal[l.DealID], l)
		}
		final := map[string]int{}
		for _, d := range deals {
			h := byDeal[d.ID]
			if len(h) == 0 || h[0].FromStage != "" || h[0].ToStage != store.StageCreated || !h[0].At.Equal(d.CreatedAt) {
				t.Fatalf("deal %d history starts %+v", d.ID, h)
			}
			for i := 1; i < len(h); i++ {
				if h[i].FromStage != h[i-1].ToStage || !store.CanMove(h[i].FromStage, h[i].ToStage) || h[i].At.Before(h[i-1].At) || h[i].At.After(now) {
					t.Fatalf("deal %d: bad step %+v after %+v", d.ID, h[i], h[i-1])
				}
			}
			if last := h[len(h)-1]; last.ToStage != d.Stage || d.StageRank != store.StageIndex(d.Stage) {
				t.Fatalf("deal %d in %s, history ends in %s", d.ID, d.Stage, last.ToStage)
			}
			if d.Stage == store.StageWon && (d.Amount <= 0 || d.CloseDate.IsZero() || d.ClosedAt.IsZero()) {
				t.Errorf("won deal without amount or date: %+v", d)
			}
			if d.CreatedAt.Before(now.AddDate(0, -13, -5)) {
				t.Errorf("deal %d created %s, more than 13 months ago", d.ID, d.CreatedAt)
			}
			final[d.Stage]++
		}
		for _, st := range store.Stages {
			if final[st] == 0 {
				t.Errorf("no seeded deal ends in %s: %v", st, final)
			}
		}
		var types []string
		s.DB.NewRaw("SELECT DISTINCT type FROM activities WHERE team_id = ? ORDER BY type", res.TeamID).Scan(ctx, &types)
		if want := slices.Sorted(slices.Values(store.ActivityTypes)); !slices.Equal(types, want) {
			t.Errorf("activity types %v, want %v", types, want)
		}
		checkSeededTasks(t, s, res.TeamID, now)
		if dp, err := s.ListDeals(ctx, res.TeamID, store.DealQuery{Search: deals[0].ContactName}); err != nil || len(dp.Rows) == 0 {
			t.Errorf("seeded deal not found by its contact's name: %v", err)
		}
		// The bulk load put every index and foreign key back.
		if s.Dialect == store.MySQL {
			fresh := storetest.Open(t, store.MySQL)
			if got, want := dumpSchema(t, s), dumpSchema(t, fresh); got != want {
				t.Errorf("schema after a bulk seed differs from the migrations':\n%s", got)
			}
		}
		// Seeding only the second team needs its own emails.
		if _, err := s.SeedSecondTeam(ctx, store.SeedOptions{PasswordHash: "h", OwnerEmail: "other@example.com", Contacts: 100, Deals: 10}); err != nil {
			t.Errorf("SeedSecondTeam: %v", err)
		}
	})
}

// A second seed on the same database refuses with ErrSeeded, writing nothing.
func TestSeedTwiceSaysTheDatabaseIsSeeded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		opt := store.SeedOptions{PasswordHash: "hash", Contacts: 20, Deals: 5, Members: 1, NoSecondTeam: true, Rand: rand.New(rand.NewPCG(3, 4))}
		if _, err := s.Seed(ctx, opt); err != nil {
			t.Fatal(err)
		}
		_, err := s.Seed(ctx, opt)
		if !errors.Is(err, store.ErrSeeded) {
			t.Fatalf("second seed: %v, want ErrSeeded", err)
		}
		var teams int
		s.DB.NewRaw("SELECT COUNT(*) FROM teams").Scan(ctx, &teams)
		if teams != 1 {
			t.Errorf("%d teams after the refused seed, want 1", teams)
		}
	})
}

// checkSeededTasks checks the seeded tasks and meetings tell one story with
// the Next step column: every "task completed" closes a task of the same
// contact and title at its own time, every closed task has its completion,
// the demo has closed tasks, open ones ahead and upcoming meetings, and each
// contact's next step is its earliest open task or meeting ahead (worked
// out here from the rows, independently of the store's refresh).
func checkSeededTasks(t *testing.T, s *store.Store, teamID int64, now time.Time) {
	t.Helper()
	ctx := context.Background()
	var acts []store.Activity
	if err := s.DB.NewSelect().Model(&acts).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	type key struct {
		contact int64
		title   string
	}
	done := map[key][]time.Time{}
	var closed, openAhead, meetingsAhead int
	next := map[int64]time.Time{}
	for _, a := range acts {
		switch a.Type {
		case store.ActivityTask:
			if !a.DoneAt.IsZero() {
				closed++
				done[key{a.ContactID, strings.TrimPrefix(a.Description, "Task: ")}] = append(done[key{a.ContactID, strings.TrimPrefix(a.Description, "Task: ")}], a.DoneAt)
				if a.DoneAt.Before(a.At) || a.DoneAt.After(now) {
					t.Errorf("task %d done at %s, logged %s", a.ID, a.DoneAt, a.At)
				}
			} else if a.DueAt.After(now) {
				openAhead++
			}
		case store.ActivityMeeting:
			if a.DueAt.After(now) {
				meetingsAhead++
			}
		}
		if (a.Type == store.ActivityMeeting || (a.Type == store.ActivityTask && a.DoneAt.IsZero())) && a.DueAt.After(now) {
			if n, ok := next[a.ContactID]; !ok || a.DueAt.Before(n) {
				next[a.ContactID] = a.DueAt
			}
		}
	}
	completions := 0
	for _, a := range acts {
		if a.Type != store.ActivityTaskCompleted {
			continue
		}
		completions++
		title, ok := strings.CutPrefix(a.Description, "Task completed: ")
		if !ok || !slices.ContainsFunc(done[key{a.ContactID, title}], a.At.Equal) {
			t.Errorf("completion %q of contact %d at %s closes no task", a.Description, a.ContactID, a.At)
		}
	}
	if completions != closed || closed == 0 || openAhead == 0 || meetingsAhead == 0 {
		t.Errorf("%d completions for %d closed tasks, %d open tasks ahead, %d meetings ahead", completions, closed, openAhead, meetingsAhead)
	}
	var contacts []store.Contact
	if err := s.DB.NewSelect().Model(&contacts).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		want, ok := next[c.ID]
		got := c.NextStepAt
		if ok == got.IsZero() || (ok && !got.Equal(want)) {
			t.Errorf("contact %d next step %v, want %v (%v)", c.ID, got, want, ok)
		}
	}
}
