package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// stageRules is the rule of PRODUCT.md section 4 written out in full:
// allowed[from] lists every stage a deal may move to.
var stageRules = map[string][]string{
	store.StageCreated:      {store.StageQualified, store.StageContractSent, store.StageAppointment, store.StageWon, store.StageLost},
	store.StageQualified:    {store.StageContractSent, store.StageAppointment, store.StageWon, store.StageLost},
	store.StageContractSent: {store.StageAppointment, store.StageWon, store.StageLost},
	store.StageAppointment:  {store.StageWon, store.StageLost},
	store.StageWon:          {},
	store.StageLost:         {},
}

func TestStageRules(t *testing.T) {
	if len(store.Stages) != 6 || store.Stages[0] != "Created" || store.Stages[4] != "Closed Won" || store.Stages[5] != "Closed Lost" {
		t.Fatalf("Stages = %v", store.Stages)
	}
	for _, from := range store.Stages {
		for _, to := range store.Stages {
			want := slices.Contains(stageRules[from], to)
			if got := store.CanMove(from, to); got != want {
				t.Errorf("CanMove(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
		next := store.NextStages(from)
		if want := append([]string{from}, stageRules[from]...); !slices.Equal(next, want) {
			t.Errorf("NextStages(%q) = %v, want %v", from, next, want)
		}
		if store.IsClosed(from) != (from == store.StageWon || from == store.StageLost) {
			t.Errorf("IsClosed(%q) wrong", from)
		}
	}
	if store.CanMove("Nope", store.StageWon) || store.CanMove(store.StageCreated, "Nope") || store.StageIndex("Nope") != -1 {
		t.Errorf("unknown stages accepted")
	}
	if got := store.NextStages(""); !slices.Equal(got, store.Stages) {
		t.Errorf("NextStages for a new deal = %v", got)
	}
}

func TestDealValidation(t *testing.T) {
	ok := store.DealInput{Name: "Pilot", Stage: "Created", Goal: "1,000", Amount: "500.50", CloseDate: "2026-04-30", ContactID: 1, Company: "Acme"}
	cases := []struct {
		name   string
		edit   func(in *store.DealInput)
		fields []string
		msg    string // part of the message on the first field
	}{
		{"valid", func(in *store.DealInput) {}, nil, ""},
		{"stage optional", func(in *store.DealInput) { in.Stage = "" }, nil, ""},
		{"stage in other case", func(in *store.DealInput) { in.Stage = "closed lost" }, nil, ""},
		{"money and date optional", func(in *store.DealInput) { in.Goal, in.Amount, in.CloseDate = "", "", "" }, nil, ""},
		{"won with amount and date", func(in *store.DealInput) { in.Stage = "Closed Won" }, nil, ""},
		{"name required", func(in *store.DealInput) { in.Name = " " }, []string{"name"}, "required"},
		{"name too long", func(in *store.DealInput) { in.Name = strings.Repeat("n", 101) }, []string{"name"}, "100"},
		{"unknown stage", func(in *store.DealInput) { in.Stage = "Won" }, []string{"stage"}, "stages"},
		{"bad goal", func(in *store.DealInput) { in.Goal = "lots" }, []string{"goal"}, "Goal"},
		{"negative amount", func(in *store.DealInput) { in.Amount = "-3" }, []string{"amount"}, "negative"},
		{"bad date", func(in *store.DealInput) { in.CloseDate = "30.04.2026" }, []string{"close_date"}, "YYYY-MM-DD"},
		{"impossible date", func(in *store.DealInput) { in.CloseDate = "2026-02-30" }, []string{"close_date"}, "YYYY-MM-DD"},
		{"far date", func(in *store.DealInput) { in.CloseDate = "3026-02-01" }, []string{"close_date"}, "between"},
		{"no contact", func(in *store.DealInput) { in.ContactID = 0 }, []string{"contact_id"}, "contact"},
		{"company too long", func(in *store.DealInput) { in.Company = strings.Repeat("c", 101) }, []string{"company"}, "100"},
		{"negative owner", func(in *store.DealInput) { in.OwnerID = -2 }, []string{"owner_id"}, "member"},
		{"won without amount", func(in *store.DealInput) { in.Stage, in.Amount = "Closed Won", "" }, []string{"amount"}, "amount above zero"},
		{"won with zero amount", func(in *store.DealInput) { in.Stage, in.Amount = "Closed Won", "0.00" }, []string{"amount"}, "amount above zero"},
		{"won without date is fine: it closes today", func(in *store.DealInput) { in.Stage, in.CloseDate = "Closed Won", "" }, nil, ""},
		{"won without either", func(in *store.DealInput) { in.Stage, in.Amount, in.CloseDate = "Closed Won", "", "" }, []string{"amount"}, "won"},
		{"bad closing day", func(in *store.DealInput) { in.Stage, in.ClosedOn = "Closed Won", "yesterday" }, []string{"closed_on"}, "YYYY-MM-DD"},
		{"lost note too long", func(in *store.DealInput) {
			in.Stage, in.LostReason, in.LostNote = "Closed Lost", "Price", strings.Repeat("n", 501)
		}, []string{"lost_note"}, "500"},
	}
	for _, c := range cases {
		in := ok
		c.edit(&in)
		fe := in.Validate()
		var got []string
		for k := range fe {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.fields) {
			t.Errorf("%s: errors %v, want on %v", c.name, fe, c.fields)
			continue
		}
		if len(c.fields) > 0 && !strings.Contains(fe[c.fields[0]], c.msg) {
			t.Errorf("%s: message %q does not mention %q", c.name, fe[c.fields[0]], c.msg)
		}
	}
}

func TestCreateDealLogsCreatedAndDefaultsCompany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, _, member := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Ann Lee", Company: "Acme GmbH"})
		d, err := s.CreateDeal(ctx, team.ID, member, store.DealInput{Name: "Pilot", Goal: "1,500", Amount: "1200.5", CloseDate: "2026-05-31", ContactID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := store.Deal{ID: d.ID, TeamID: team.ID, ContactID: c.ID, Name: "Pilot", Stage: "Created", StageRank: 0,
			Goal: 150000, Amount: 120050, CloseDate: time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC), OwnerID: member.ID,
			ContactName: "Ann Lee", Company: "Acme GmbH", Version: 1, CreatedAt: clk.t.Truncate(time.Microsecond),
			UpdatedAt: clk.t.Truncate(time.Microsecond), OwnerName: member.Name,
			LastTouchedAt: clk.t.Truncate(time.Microsecond), StageSince: clk.t.Truncate(time.Microsecond)}
		if utcDeal(*d) != utcDeal(want) {
			t.Errorf("created\n %+v\nwant\n %+v", *d, want)
		}
		log, err := s.DealStageLog(ctx, team.ID, d.ID)
		if err != nil || len(log) != 1 || log[0].FromStage != "" || log[0].ToStage != "Created" || log[0].UserID != member.ID ||
			log[0].UserName != member.Name || !log[0].At.Equal(want.CreatedAt) {
			t.Errorf("stage log = %+v, %v", log, err)
		}
		// A deal entered in a later stage logs Created and the move to it.
		won, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "Won at once", Stage: "Closed Won", Amount: "10", CloseDate: "2026-03-14", ContactID: c.ID, Company: "Other Co"})
		if err != nil {
			t.Fatal(err)
		}
		if won.Company != "Other Co" || won.ClosedAt.IsZero() || won.StageRank != 4 {
			t.Errorf("won deal %+v", won)
		}
		log, _ = s.DealStageLog(ctx, team.ID, won.ID)
		if len(log) != 2 || log[0].ToStage != "Created" || log[1].FromStage != "Created" || log[1].ToStage != "Closed Won" {
			t.Errorf("won deal's log = %+v", log)
		}
	})
}

func TestDealMovesForwardOnlyAndLogsEachStage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := useClock(s)
		team, owner, admin, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "Pilot", Goal: "100"})
		in := store.DealInput{Name: "Pilot", Goal: "100", ContactID: c.ID}
		save := func(who *store.User, stage string) (*store.Deal, error) {
			clk.t = clk.t.Add(time.Hour)
			in.Stage = stage
			return s.UpdateDeal(ctx, team.ID, who, d.ID, d.Version, in)
		}
		// Skip Qualified: one row Created → Contract Sent.
		got, err := save(admin, store.StageContractSent)
		if err != nil {
			t.Fatal(err)
		}
		d = got
		// Back is refused and changes nothing.
		if _, err := save(owner, store.StageQualified); fieldErrors(t, err)["stage"] == "" {
			t.Errorf("moving back: %v", err)
		}
		// Saving without a stage change logs nothing.
		in.Name = "Pilot 2"
		if d, err = save(owner, ""); err != nil || d.Stage != store.StageContractSent || d.Name != "Pilot 2" {
			t.Fatalf("same stage: %+v, %v", d, err)
		}
		// Closed Won needs an amount; the close date is the day it closed.
		fe := fieldErrors(t, func() error { _, err := save(owner, store.StageWon); return err }())
		if !strings.Contains(fe["amount"], "amount") || fe["close_date"] != "" {
			t.Errorf("won without amount and date: %v", fe)
		}
		in.Amount = "90"
		in.CloseDate = "2026-03-15"
		in.ClosedOn = "2026-03-16"
		if d, err = save(owner, store.StageWon); err != nil {
			t.Fatal(err)
		}
		if got := d.CloseDate.Format(time.DateOnly); got != "2026-03-16" {
			t.Errorf("close date of the won deal = %s, want the day it closed", got)
		}
		if d.Amount != 9000 || d.ClosedAt.IsZero() || d.Stage != store.StageWon {
			t.Errorf("won deal %+v", d)
		}
		// Closed deals are read-only.
		in.Name = "Changed"
		if _, err := save(owner, store.StageWon); !errors.Is(err, store.ErrClosed) {
			t.Errorf("edit closed deal: %v", err)
		}
		if _, err := s.AssignDeal(ctx, team.ID, owner, d.ID, admin.ID); !errors.Is(err, store.ErrClosed) {
			t.Errorf("assign closed deal: %v", err)
		}
		log, err := s.DealStageLog(ctx, team.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, l := range log {
			steps = append(steps, l.FromStage+"→"+l.ToStage)
		}
		want := []string{"→Created", "Created→Contract Sent", "Contract Sent→Closed Won"}
		if !slices.Equal(steps, want) {
			t.Errorf("log = %v, want %v", steps, want)
		}
		if log[1].UserID != admin.ID || log[2].UserID != owner.ID || !log[2].At.After(log[1].At) {
			t.Errorf("log who/when: %+v", log)
		}
	})
}

// TestEveryStageTransitionInTheStore tries each from → to pair on a saved
// deal and checks the store agrees with the rules and logs exactly the
// allowed moves.
func TestEveryStageTransitionInTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		in := store.DealInput{Name: "D", Amount: "5", CloseDate: "2026-01-01", ContactID: c.ID, LostReason: "Price"}
		for _, from := range store.Stages {
			for _, to := range store.Stages {
				in.Stage = from
				d, err := s.CreateDeal(ctx, team.ID, owner, in)
				if err != nil {
					t.Fatalf("create in %s: %v", from, err)
				}
				in.Stage = to
				_, err = s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, in)
				log, _ := s.DealStageLog(ctx, team.ID, d.ID)
				last := log[len(log)-1]
				switch {
				case store.IsClosed(from):
					if !errors.Is(err, store.ErrClosed) {
						t.Errorf("%s → %s: %v, want ErrClosed", from, to, err)
					}
				case from == to:
					if err != nil || last.ToStage != from {
						t.Errorf("%s → %s (no move): %v, last log %+v", from, to, err, last)
					}
				case store.CanMove(from, to):
					if err != nil || last.FromStage != from || last.ToStage != to {
						t.Errorf("%s → %s: %v, last log %+v", from, to, err, last)
					}
				default:
					if !errors.Is(err, store.ErrInvalid) || last.ToStage != from {
						t.Errorf("%s → %s: %v, last log %+v, want refusal", from, to, err, last)
					}
				}
			}
		}
	})
}

func TestUpdateDealRefusesALostUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{})
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "Pilot"})
		first, err := s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, store.DealInput{Name: "Pilot A", Stage: "Qualified To Buy", ContactID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := s.UpdateDeal(ctx, team.ID, admin, d.ID, d.Version, store.DealInput{Name: "Pilot B", Stage: "Closed Lost", ContactID: c.ID})
		if !errors.Is(err, store.ErrConflict) || fresh == nil || fresh.Name != "Pilot A" || fresh.Version != first.Version {
			t.Fatalf("second save: %+v, %v", fresh, err)
		}
		log, _ := s.DealStageLog(ctx, team.ID, d.ID)
		if len(log) != 2 {
			t.Errorf("conflicting save logged a stage: %+v", log)
		}
	})
}

func TestDealContactMustBeTheTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		teamB, ownerB, _, _ := teamOf(t, s)
		theirs := addContact(t, s, teamB, ownerB, store.ContactInput{})
		_, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "X", ContactID: theirs.ID})
		if fieldErrors(t, err)["contact_id"] == "" {
			t.Errorf("deal for another team's contact: %v", err)
		}
		mine := addContact(t, s, team, owner, store.ContactInput{})
		d := addDeal(t, s, team, owner, mine, store.DealInput{})
		_, err = s.UpdateDeal(ctx, team.ID, owner, d.ID, d.Version, store.DealInput{Name: "X", ContactID: theirs.ID})
		if fieldErrors(t, err)["contact_id"] == "" {
			t.Errorf("moving a deal to another team's contact: %v", err)
		}
	})
}

func TestRenamingAContactCarriesToItsDeals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Ann Lee", Email: "ann@example.com"})
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "Pilot"})
		if _, err := s.UpdateContact(ctx, team.ID, owner, c.ID, c.Version, store.ContactInput{Name: "Ann Zimmermann", Email: "ann@example.com"}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.DealByID(ctx, team.ID, d.ID)
		if got.ContactName != "Ann Zimmermann" {
			t.Errorf("deal's contact name = %q", got.ContactName)
		}
		for q, want := range map[string]int{"zimmer": 1, "lee": 0, "pilot ann": 1} {
			p, err := s.ListDeals(ctx, team.ID, store.DealQuery{Search: q})
			if err != nil || len(p.Rows) != want {
				t.Errorf("deal search %q: %d rows, %v; want %d", q, len(p.Rows), err, want)
			}
		}
	})
}
