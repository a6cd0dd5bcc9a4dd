package handlers

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/views"
)

// TestUndoProgressCountsRecords: while an import is being undone, its
// progress card counts the records the undo went through against those the
// import created or updated, at their rate since the undo began, and
// offers no Cancel; a running import's card counts rows and has one.
func TestUndoProgressCountsRecords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		im     store.Import
		want   []string
		refuse []string
	}{
		{store.Import{ID: 7, Status: store.ImportUndoing, RowsDone: 900, RowsTotal: 1000, Created: 10, Updated: 5, UndoDone: 6,
			StartedAt: now.Add(-time.Hour), UndoneAt: now.Add(-2 * time.Second)},
			[]string{`data-testid="undo-progress"`, `value="6" max="15"`, `6</span> of 15 records`, "3 records/s", "less than a minute left"},
			[]string{`data-testid="import-cancel"`, "rows/s"}},
		{store.Import{ID: 8, Status: store.ImportRunning, RowsDone: 400, RowsTotal: 1000, StartedAt: now.Add(-4 * time.Second)},
			[]string{`data-testid="import-bar"`, `400</span> of 1,000 rows`, "100 rows/s", `data-testid="import-cancel"`},
			[]string{`data-testid="undo-progress"`}},
	} {
		var b bytes.Buffer
		if err := views.ImportProgress(progressView(&c.im, now)).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", c.im.Status, w, b.String())
			}
		}
		for _, r := range c.refuse {
			if strings.Contains(b.String(), r) {
				t.Errorf("%s: %q in\n%s", c.im.Status, r, b.String())
			}
		}
	}
}
