package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/store"
)

// seed creates the demo team (and a smaller second team beside it) and
// prints the demo login at loginBase (the URL Sherpa is reached at).
func seed(ctx context.Context, cfg Config, log zerolog.Logger, stdout io.Writer, loginBase string) error {
	cfg.DatabaseURL = seedDatabaseURL(cfg.DatabaseURL)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := cfg.Seed
	if sc.Deals < 0 {
		sc.Deals = sc.Contacts / 5
	}
	if len(sc.Password) < 10 {
		return fmt.Errorf("seed: the demo password must have at least 10 characters")
	}
	started := time.Now()
	last := map[string]time.Time{}
	res, err := st.Seed(ctx, store.SeedOptions{
		OwnerEmail:   sc.Email,
		PasswordHash: handlers.HashPassword(handlers.DefaultPasswordParams, sc.Password),
		Contacts:     sc.Contacts,
		Deals:        sc.Deals,
		Progress: func(stage string, done, total int) {
			if done == total || time.Since(last[stage]) > 2*time.Second {
				last[stage] = time.Now()
				fmt.Fprintf(stdout, "  %-10s %9d / %d\n", stage, done, total)
			}
		},
	})
	if errors.Is(err, store.ErrSeeded) {
		return fmt.Errorf("seed: %w. Seed a fresh database instead (for example --database-url sqlite:sherpa-demo-2.db), or log in to the demo that is there", err)
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "\nSeeded %q in %s: %d contacts, %d deals (%d stage changes), %d notes, %d activities.\n",
		res.TeamName, time.Since(started).Round(time.Second), res.Contacts, res.Deals, res.StageLogs, res.Notes, res.Activities)
	if res.Second != nil {
		fmt.Fprintf(stdout, "A second team %q sits beside it (%d contacts), to show that teams never see each other's data.\n", res.Second.TeamName, res.Second.Contacts)
	}
	fmt.Fprintf(stdout, "\nLog in at %s/login as %s with the password %q\n(teammates: %s, same password).\n",
		strings.TrimRight(loginBase, "/"), res.OwnerEmail, sc.Password, strings.Join(res.MemberEmails, ", "))
	return nil
}

// seedDatabaseURL gives a MySQL URL a read timeout of an hour unless it sets
// its own: rebuilding the indexes of a million-row seed is one ALTER TABLE
// that runs for minutes, longer than the driver's default backstop.
func seedDatabaseURL(u string) string {
	if !strings.HasPrefix(u, "mysql://") || strings.Contains(u, "readTimeout=") {
		return u
	}
	if strings.Contains(u, "?") {
		return u + "&readTimeout=1h"
	}
	return u + "?readTimeout=1h"
}
