package handlers_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sherpa/handlers"
	"sherpa/store"
)

// BenchmarkBoardHTTP measures the pipeline board over real HTTP at 200,000
// deals: the first load of /deals/board (every column's totals and first
// 50 cards: from the board cache while the team's data is unchanged, read
// and drawn again after a change) and the live poll answered 304, for one and
// for eight clients. SHERPA_BENCH_BOARD_URL names the database, MySQL or
// SQLite; a database without the benchmark team is seeded first (50,000
// contacts, 200,000 deals with their stage logs, notes and activities):
//
//	SHERPA_BENCH_BOARD_URL=mysql://root@127.0.0.1:3306/sherpa_board_bench \
//	  go test ./handlers -run '^$' -bench BoardHTTP -benchtime 400x -timeout 1h
//	SHERPA_BENCH_BOARD_URL=sqlite:/tmp/sherpa_board_bench.db go test ./handlers -run '^$' -bench BoardHTTP -benchtime 400x -timeout 1h
func BenchmarkBoardHTTP(b *testing.B) {
	raw := os.Getenv("SHERPA_BENCH_BOARD_URL")
	if raw == "" {
		b.Skip("set SHERPA_BENCH_BOARD_URL to a database for the board benchmark (seeded on first use)")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, raw)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const ownerEmail = "board-bench@sherpa.test"
	owner, err := st.UserByEmail(ctx, ownerEmail)
	if err != nil {
		began := time.Now()
		if _, err := st.Seed(ctx, store.SeedOptions{
			TeamName: "Board Bench", OwnerEmail: ownerEmail, Contacts: 50_000, Deals: 200_000, NoSecondTeam: true,
			PasswordHash: handlers.HashPassword(handlers.PasswordParams{Memory: 64, Time: 1, Threads: 1}, "unused password"),
			Rand:         rand.New(rand.NewPCG(12, 12)),
		}); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded in %s", time.Since(began).Round(time.Second))
		if owner, err = st.UserByEmail(ctx, ownerEmail); err != nil {
			b.Fatal(err)
		}
	}
	teamID := owner.TeamID
	var deals int
	if err := st.DB.NewSelect().Table("deals").ColumnExpr("COUNT(*)").Where("team_id = ?", teamID).Scan(ctx, &deals); err != nil {
		b.Fatal(err)
	}

	base, hc := benchViewer(b, st, teamID, "Board Viewer")

	get := func(path string, headers ...string) (int, string, int) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Error(err)
			return 0, "", 0
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified {
			b.Errorf("GET %s: %d\n%.500s", path, resp.StatusCode, body)
		}
		return resp.StatusCode, resp.Header.Get("ETag"), strings.Count(string(body), `data-testid="board-card"`)
	}
	_, _, cards := get("/deals/board")
	b.Logf("%s: team %d has %d deals; the board shows %d cards", st.Dialect, teamID, deals, cards)

	b.Run("first_load_1_client", func(b *testing.B) {
		sequential(b, func() {}, func() { get("/deals/board") })
	})
	b.Run("first_load_8_clients", func(b *testing.B) {
		concurrent(b, 8, func() { get("/deals/board") })
	})
	// After a change: the team's data version moves before each load, so
	// the board cache (handlers/board_cache.go) misses and every column is
	// read and drawn again. With 8 clients the write is inside the timing.
	bump := func() {
		if _, err := st.DB.NewRaw("UPDATE team_changes SET version = version + 1 WHERE team_id = ?", teamID).Exec(ctx); err != nil {
			b.Error(err)
		}
	}
	b.Run("first_load_after_change_1_client", func(b *testing.B) {
		sequential(b, bump, func() { get("/deals/board") })
	})
	b.Run("first_load_after_change_8_clients", func(b *testing.B) {
		concurrent(b, 8, func() { bump(); get("/deals/board") })
	})
	b.Run("stale_only_after_change_1_client", func(b *testing.B) {
		sequential(b, bump, func() { get("/deals/board?stale=1") })
	})
	_, etag, _ := get("/deals/board/poll", "HX-Request", "true")
	b.Run("poll_304_1_client", func(b *testing.B) {
		sequential(b, func() {}, func() { get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag) })
	})
	b.Run("poll_304_8_clients", func(b *testing.B) {
		concurrent(b, 8, func() {
			if code, _, _ := get("/deals/board/poll", "HX-Request", "true", "If-None-Match", etag); code != http.StatusNotModified {
				b.Errorf("poll answered %d", code)
			}
		})
	})
}
