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

// touchEvent is one logged activity as the test remembers it.
type touchEvent struct {
	seq         int
	contact     int64
	user        int64
	typ, desc   string
	at, due     time.Time
	userName    string
	completedBy int // seq of the task_completed event that closed a task, 0 if open
}

// wantTouch works out last contacted and next step from the events alone,
// the way the product describes them, with none of the store's SQL.
func wantTouch(events []touchEvent, contact int64, now time.Time) (lastAt time.Time, lastBy string, nextAt time.Time, nextLabel string) {
	var last, next *touchEvent
	for i := range events {
		e := &events[i]
		if e.contact != contact {
			continue
		}
		switch e.typ {
		case store.ActivityEmail, store.ActivityMeeting, store.ActivityNote:
			if last == nil || !e.at.Before(last.at) {
				last = e
			}
		}
		open := e.typ == store.ActivityMeeting
		if e.typ == store.ActivityTask {
			// A task is closed by a later "Task completed: <its title>".
			title := strings.TrimPrefix(e.desc, "Task: ")
			if i := strings.LastIndex(title, " (due "); i >= 0 {
				title = title[:i]
			}
			open = true
			for _, d := range events[i+1:] {
				if d.contact == contact && d.typ == store.ActivityTaskCompleted && d.desc == "Task completed: "+title {
					open = false
				}
			}
		}
		if open && !e.due.IsZero() && e.due.After(now) && (next == nil || e.due.Before(next.due)) {
			next = e
		}
	}
	if last != nil {
		lastAt, lastBy = last.at, last.userName
	}
	if next != nil {
		nextAt, nextLabel = next.due, next.desc
	}
	return
}

// TestLastContactedAndNextStepFollowTheActivities logs random emails,
// meetings, notes, tasks and completed tasks by several members over
// simulated weeks and checks, after every write, each contact's columns
// against wantTouch.
func TestLastContactedAndNextStepFollowTheActivities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, admin, member := teamOf(t, s)
		users := []*store.User{owner, admin, member}
		var contacts []*store.Contact
		for i := range 4 {
			contacts = append(contacts, addContact(t, s, team, owner, store.ContactInput{Name: fmt.Sprintf("Touch %d", i)}))
		}
		r := rand.New(rand.NewPCG(7, 13))
		titles := []string{"Call back", "Send offer", "Call back (urgent)"}
		var events []touchEvent
		for step := range 80 {
			clk.t = clk.t.Add(time.Duration(1+r.IntN(40)) * time.Hour)
			c := contacts[r.IntN(len(contacts))]
			u := users[r.IntN(len(users))]
			e := touchEvent{seq: step + 1, contact: c.ID, user: u.ID, userName: u.Name, at: clk.t.UTC().Truncate(time.Microsecond)}
			var err error
			switch r.IntN(6) {
			case 0:
				e.typ, e.desc = store.ActivityNote, fmt.Sprintf("note %d", step)
				_, err = s.AddNote(ctx, team.ID, u, c.ID, e.desc)
			case 1:
				e.typ, e.desc = store.ActivityEmail, fmt.Sprintf("Email sent: hello %d", step)
				_, err = s.LogActivity(ctx, team.ID, c.ID, u.ID, e.typ, e.desc)
			case 2:
				e.typ, e.desc = store.ActivityMeeting, fmt.Sprintf("Meeting: review %d", step)
				e.due = e.at.Add(time.Duration(r.IntN(96)-24) * time.Hour) // some already behind
				_, err = s.LogScheduled(ctx, team.ID, c.ID, u.ID, e.typ, e.desc, e.due)
			case 3, 4:
				title := titles[r.IntN(len(titles))]
				e.typ, e.desc = store.ActivityTask, "Task: "+title
				if r.IntN(3) > 0 {
					e.due = e.at.Add(time.Duration(1+r.IntN(72)) * time.Hour)
					e.desc += " (due " + e.due.Format("2 Jan 2006") + ")"
				}
				_, err = s.LogScheduled(ctx, team.ID, c.ID, u.ID, e.typ, e.desc, e.due)
			default:
				e.typ, e.desc = store.ActivityTaskCompleted, "Task completed: "+titles[r.IntN(len(titles))]
				_, err = s.LogActivity(ctx, team.ID, c.ID, u.ID, e.typ, e.desc)
			}
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
			// Next steps of the other contacts may have passed meanwhile.
			if _, err := s.AdvanceNextSteps(ctx, team.ID); err != nil {
				t.Fatal(err)
			}
			for _, c := range contacts {
				got, err := s.ContactByID(ctx, team.ID, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				lastAt, lastBy, nextAt, nextLabel := wantTouch(events, c.ID, clk.t)
				if !got.LastContactedAt.Equal(lastAt) || got.LastContactedName != lastBy {
					t.Fatalf("step %d, contact %d: last contacted %v by %q, want %v by %q", step, c.ID, got.LastContactedAt, got.LastContactedName, lastAt, lastBy)
				}
				if !got.NextStepAt.Equal(nextAt) || got.NextStepLabel != nextLabel {
					t.Fatalf("step %d, contact %d: next step %v %q, want %v %q", step, c.ID, got.NextStepAt, got.NextStepLabel, nextAt, nextLabel)
				}
			}
		}

		// Time passes beyond every next step; advancing moves them on.
		clk.t = clk.t.Add(30 * 24 * time.Hour)
		if _, err := s.AdvanceNextSteps(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range contacts {
			got, _ := s.ContactByID(ctx, team.ID, c.ID)
			if !got.NextStepAt.IsZero() || got.NextStepLabel != "" {
				t.Errorf("contact %d: next step %v %q after every step passed", c.ID, got.NextStepAt, got.NextStepLabel)
			}
		}
	})
}

// TestSeededContactsCarryTheirTouches checks the bulk recomputation (the
// seeder's, the same statements as migration 0012's backfill) against each
// contact's activities read back one by one.
func TestSeededContactsCarryTheirTouches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC()
		owner := seededOwner(t, s, store.SeedOptions{PasswordHash: "x", Contacts: 150, Deals: 10, NoSecondTeam: true, Now: now})
		for _, round := range []string{"seeded", "migration 0012 backfill"} {
			if round != "seeded" {
				backfill0012(t, s)
			}
			checkSeededTouches(t, s, owner.TeamID, round)
		}
	})
}

// backfill0012 clears the columns and runs the UPDATE statements of
// migration 0012 again.
func backfill0012(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.DB.ExecContext(ctx, "UPDATE contacts SET last_contacted_at = NULL, last_contacted_by = NULL, next_step_at = NULL, next_step_label = ''"); err != nil {
		t.Fatal(err)
	}
	ms, err := store.Migrations(s.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, m := range ms {
		if m.Version != 12 {
			continue
		}
		for _, stmt := range strings.Split(m.SQL, "-- split") {
			stmt = strings.TrimSpace(stmt)
			if strings.HasPrefix(stmt, "UPDATE contacts") {
				if _, err := s.DB.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
				ran++
			}
		}
	}
	if ran != 2 {
		t.Fatalf("ran %d backfill statements of 0012, want 2", ran)
	}
}

func checkSeededTouches(t *testing.T, s *store.Store, teamID int64, round string) {
	t.Helper()
	ctx := context.Background()
	{
		page, err := s.ListContacts(ctx, teamID, store.ContactQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		withLast, withNext := 0, 0
		for _, c := range page.Rows {
			acts, err := s.ListActivities(ctx, teamID, c.ID, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var events []touchEvent
			for i, a := range slices.Backward(acts) { // oldest first
				events = append(events, touchEvent{seq: i, contact: c.ID, typ: a.Type, desc: a.Description, at: a.At, due: a.DueAt, userName: a.UserName})
			}
			lastAt, lastBy, nextAt, nextLabel := wantTouch(events, c.ID, time.Now())
			if !c.LastContactedAt.Equal(lastAt) || c.LastContactedName != lastBy {
				t.Errorf("%s: contact %d: last contacted %v by %q, want %v by %q", round, c.ID, c.LastContactedAt, c.LastContactedName, lastAt, lastBy)
			}
			if !c.NextStepAt.Equal(nextAt) || c.NextStepLabel != nextLabel {
				t.Errorf("%s: contact %d: next step %v %q, want %v %q", round, c.ID, c.NextStepAt, c.NextStepLabel, nextAt, nextLabel)
			}
			if !lastAt.IsZero() {
				withLast++
			}
			if !nextAt.IsZero() {
				withNext++
			}
		}
		if withLast == 0 || withNext == 0 {
			t.Errorf("%s: %d contacts with a last contact and %d with a next step: the check saw nothing", round, withLast, withNext)
		}
	}
}
