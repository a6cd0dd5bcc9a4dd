package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestTextRules(t *testing.T) {
	cases := []struct {
		in        string
		multiline bool
		want      string // part of the message; "" for fine
	}{
		{"Ann Archer", false, ""},
		{"Zoë 日本 🙂", false, ""},
		{"a\x00b", false, "control characters"},
		{"a\x1bb", false, "control characters"},
		{"a\x7fb", false, "control characters"},
		{"a\u009bb", false, "control characters"},
		{"a\tb", false, "control characters"},
		{"a\tb\r\nc", true, ""},
		{"a\x00b", true, "control characters"},
		{"a\x0bb", true, "control characters"},
		{"a\xffb", false, "not valid text"},
		{"a\xc3", true, "not valid text"},
		{strings.Repeat("é", 100), false, ""},
		{strings.Repeat("é", 101), false, "at most 100 characters"},
	}
	for _, c := range cases {
		got := store.TextError("Name", c.in, store.MaxNameLen, c.multiline)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("TextError(%q, multiline %v) = %q, want %q", c.in, c.multiline, got, c.want)
		}
	}
	if got := store.NameError("Team name", ""); got != "Team name is required." {
		t.Errorf("NameError of nothing: %q", got)
	}
	for in, want := range map[string]string{
		"ann@example.com": "", "": "required", "a\x00b@example.com": "control characters", "a\xffb@example.com": "not valid text",
		"Ann <ann@example.com>": "like name@company.com", "x@localhost": "like name@company.com", strings.Repeat("a", 250) + "@b.com": "at most 254",
	} {
		got := store.EmailError(in)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("EmailError(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"  Ann  ": "Ann", "a\x00b": "ab", "a\tb\nc": "a b c", "a\xffb": "ab", "\x1b[31mred": "[31mred",
		strings.Repeat("é", 250): strings.Repeat("é", store.MaxSearchLen),
	} {
		if got := store.CleanSearch(in, 0); got != want {
			t.Errorf("CleanSearch(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCurrencyChangeKeepsTheNumbers: amounts are minor units of the team's
// currency, so moving to a currency with other minor digits rescales them
// (rounding half up), and the dashboard's totals follow.
func TestCurrencyChangeKeepsTheNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		contact := addContact(t, s, team, owner, store.ContactInput{})
		d := addDeal(t, s, team, owner, contact, store.DealInput{Goal: "1,234.56", Amount: "0.50", Stage: store.StageWon, ClosedOn: "2026-05-01"})
		if d.Goal != 123456 || d.Amount != 50 {
			t.Fatalf("EUR deal: goal %d, amount %d", d.Goal, d.Amount)
		}
		steps := []struct {
			currency     string
			goal, amount int64
		}{
			{"JPY", 1235, 1},       // ¥1,235 and ¥1 (0.50 rounds up)
			{"KWD", 1235000, 1000}, // KWD 1,235.000
			{"USD", 123500, 100},   // $1,235.00
			{"CHF", 123500, 100},   // same minor digits: nothing moves
		}
		version := d.Version
		for _, st := range steps {
			if _, err := s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "UTC", Currency: st.currency}); err != nil {
				t.Fatal(err)
			}
			got, err := s.DealByID(ctx, team.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Goal != st.goal || got.Amount != st.amount {
				t.Errorf("after %s: goal %d, amount %d; want %d, %d", st.currency, got.Goal, got.Amount, st.goal, st.amount)
			}
			if st.currency != "CHF" && got.Version == version {
				t.Errorf("after %s the deal's version did not move", st.currency)
			}
			version = got.Version
			months, err := s.ClosedVsGoal(ctx, team.ID, time.UTC, time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if last := months[len(months)-1]; last.Closed != st.amount || last.Goal != st.goal {
				t.Errorf("after %s the dashboard says closed %d, goal %d", st.currency, last.Closed, last.Goal)
			}
		}
		// Amounts typed for a yen team are whole yen.
		if _, err := s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "UTC", Currency: "JPY"}); err != nil {
			t.Fatal(err)
		}
		y := addDeal(t, s, team, owner, contact, store.DealInput{Amount: "¥1,234"})
		if y.Amount != 1234 {
			t.Errorf("yen deal amount %d", y.Amount)
		}
		_, err := s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "Cents", ContactID: contact.ID, Amount: "12.50"})
		if fe := fieldErrors(t, err); !strings.Contains(fe["amount"], "no decimals") {
			t.Errorf("yen with cents: %v", err)
		}
	})
}
