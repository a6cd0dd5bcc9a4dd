package handlers_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// procStatusKB reads a field such as VmRSS or VmHWM of /proc/self/status.
func procStatusKB(b *testing.B, field string) int64 {
	b.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkLoginBurstRSS sends 1,000 parallel logins with the production
// argon2id cost (19 MiB each) and reports how much the process's peak RSS
// grew, with how many passwords were checked and the statuses. The address
// limit is lifted so that every login reaches the hashing pool.
//
//	go test ./handlers -run '^$' -bench LoginBurstRSS -benchtime 1x
func BenchmarkLoginBurstRSS(b *testing.B) {
	const n = 1000
	st := storetest.Open(b, store.SQLite)
	var checks atomic.Int64
	cfg := testConfig()
	cfg.Password = handlers.DefaultPasswordParams
	cfg.ThrottleIP.Limit = 1 << 30
	cfg.OnPasswordCheck = func() { checks.Add(1) }
	app := handlers.New(cfg, st, nil, zerolog.Nop())
	for i := 0; i < b.N; i++ {
		emails := make([]string, n)
		for j := range emails {
			emails[j] = uniqueEmail("burst")
		}
		checks.Store(0)
		// Reset the peak (VmHWM) to the current RSS.
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		before := procStatusKB(b, "VmRSS")
		statuses := burst(b, app, n, func(j int) string { return emails[j] })
		peak := procStatusKB(b, "VmHWM")
		b.ReportMetric(float64(peak-before)/1024, "MB-peak-rss-growth")
		b.ReportMetric(float64(checks.Load()), "checks")
		b.Logf("%d parallel logins: RSS %d MB before, peak %d MB (+%d MB); %d passwords checked; statuses %s",
			n, before/1024, peak/1024, (peak-before)/1024, checks.Load(), fmtStatuses(statuses))
	}
}

func fmtStatuses(m map[int]int) string {
	var parts []string
	for _, code := range []int{http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusInternalServerError, -1} {
		if m[code] > 0 {
			parts = append(parts, fmt.Sprintf("%d × %d", m[code], code))
		}
	}
	return strings.Join(parts, ", ")
}
