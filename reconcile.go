package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"
)

// ErrDrift is what `sherpa reconcile` returns when it found totals that
// differ from a recount and did not fix them, so that scripts see a
// non-zero exit.
var ErrDrift = fmt.Errorf("the dashboard totals differ from a recount: run sherpa reconcile -fix")

// reconcile recounts every team's dashboard totals (see store.Reconcile),
// prints what differs and, with -fix, replaces the drifted teams' totals by
// the recount.
func reconcile(ctx context.Context, cfg Config, log zerolog.Logger, stdout io.Writer) error {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Reconcile(ctx, cfg.Fix)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, d := range rep.Drift {
		fmt.Fprintln(stdout, d)
	}
	switch {
	case len(rep.Drift) == 0:
		fmt.Fprintf(stdout, "%d teams checked: every total matches a recount.\n", rep.Teams)
	case cfg.Fix:
		fmt.Fprintf(stdout, "%d teams checked: %d totals differed; %d teams recounted.\n", rep.Teams, len(rep.Drift), rep.Fixed)
	default:
		fmt.Fprintf(stdout, "%d teams checked: %d totals differ from a recount (nothing changed; -fix recounts them).\n", rep.Teams, len(rep.Drift))
		return ErrDrift
	}
	return nil
}
