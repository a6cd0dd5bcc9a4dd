package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestReconcileCommand: `sherpa reconcile` reports drift with a non-zero
// exit and changes nothing; `-fix` recounts; then it reports none.
func TestReconcileCommand(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			s, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			u, err := s.CreateUser(ctx, "Olga", "olga@example.com", "x")
			if err != nil {
				t.Fatal(err)
			}
			team, err := s.CreateTeam(ctx, u.ID, "Acme")
			if err != nil {
				t.Fatal(err)
			}
			if u, err = s.UserByID(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			c, err := s.CreateContact(ctx, team.ID, u, store.ContactInput{Name: "Cy", Email: "cy@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateDeal(ctx, team.ID, u, store.DealInput{Name: "D", Goal: "10", CloseDate: "2026-04-04", ContactID: c.ID}); err != nil {
				t.Fatal(err)
			}
			reconcile := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(append([]string{"reconcile", "-database-url", url, "-log-level", "error"}, args...), &out, &errOut)
				return out.String(), err
			}
			out, err := reconcile()
			if err != nil || !strings.Contains(out, "1 teams checked: every total matches") {
				t.Fatalf("a consistent database: %v\n%s", err, out)
			}
			if _, err := s.DB.NewRaw("UPDATE deal_month_totals SET amount = amount + 99 WHERE team_id = ?", team.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			out, err = reconcile()
			if !errors.Is(err, ErrDrift) || !strings.Contains(out, "deal_month_totals [2026-04-01 Created]: stored 1 99 1000, counted 1 0 1000") {
				t.Fatalf("drift: %v\n%s", err, out)
			}
			out, err = reconcile("-fix")
			if err != nil || !strings.Contains(out, "1 teams recounted") {
				t.Fatalf("-fix: %v\n%s", err, out)
			}
			out, err = reconcile()
			if err != nil || !strings.Contains(out, "every total matches") {
				t.Fatalf("after -fix: %v\n%s", err, out)
			}
		})
	}
}
