package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"sherpa/store"
	"sherpa/store/storetest"
)

// Import and export benchmarks on a fresh database of each kind (MySQL
// through SHERPA_TEST_MYSQL_URL):
//
//	SHERPA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ go test ./store -run '^$' -bench 'Import|Export' -benchtime 1x -timeout 1h
//
// SHERPA_BENCH_IMPORT_ROWS sets the size (100,000 by default). Each reports
// the seconds of the measured step and the peak Go heap while it ran
// (sampled every 10 ms), and the process's peak RSS at the end.

// peakHeap samples the heap in use until stop is called.
func peakHeap() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// cpuTime is the CPU time this process has used (user and system): on a
// shared machine it says what a step cost apart from the wait for a core.
// (With MySQL it leaves out the server's own work.)
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's high-water resident set (Linux).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

func contactsCSV(n int, name string) []byte {
	var b bytes.Buffer
	b.Grow(n * 90)
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"First Name", "Last Name", "Email", "Phone Number", "Company Name", "Lead Status"})
	for i := 0; i < n; i++ {
		_ = w.Write([]string{name, fmt.Sprintf("Person%d", i), fmt.Sprintf("person%d@example%d.com", i, i%97),
			fmt.Sprintf("+49 30 %07d", i), fmt.Sprintf("Company %d GmbH", i%5000), store.ContactStatuses[i%len(store.ContactStatuses)]})
	}
	w.Flush()
	return b.Bytes()
}

// openImportBench opens a fresh migrated database of this track's own
// names: /tmp/sherpa_import_<hex>.db, or sherpa_import_<hex> on the MySQL
// server of SHERPA_TEST_MYSQL_URL (SHERPA_BENCH_DB_PREFIX replaces
// sherpa_import_); both are removed when the benchmark ends.
func openImportBench(b *testing.B, d store.Dialect) *store.Store {
	b.Helper()
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	prefix := "sherpa_import_"
	if p := os.Getenv("SHERPA_BENCH_DB_PREFIX"); p != "" {
		prefix = p // another track's own names
	}
	name := prefix + hex.EncodeToString(rnd[:])
	var u string
	if d == store.SQLite {
		path := filepath.Join(os.TempDir(), name+".db")
		u = "sqlite:" + path
		b.Cleanup(func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
		})
	} else {
		pu, err := url.Parse(os.Getenv(storetest.MySQLEnv))
		if err != nil {
			b.Fatal(err)
		}
		admin, err := sql.Open("mysql", pu.User.Username()+"@tcp("+pu.Host+")/")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
			admin.Close()
		})
		pu.Path = "/" + name
		u = pu.String()
	}
	s, err := store.Open(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("SHERPA_BENCH_STATEMENT_TIMES") != "" {
		h := &statementTimes{total: map[string]time.Duration{}, count: map[string]int{}}
		s.DB.AddQueryHook(h)
		b.Cleanup(func() { h.print(b) })
	}
	return s
}

// statementTimes (SHERPA_BENCH_STATEMENT_TIMES=1) adds up the time of the
// store's statements by their first words and prints the biggest at the
// end: which statement of an import the database spends its time on.
type statementTimes struct {
	mu    sync.Mutex
	total map[string]time.Duration
	count map[string]int
}

func (h *statementTimes) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *statementTimes) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	key := e.Query
	if i := strings.IndexAny(key, "(\n"); i > 0 && strings.HasPrefix(key, "INSERT") {
		key = key[:i]
	}
	key = key[:min(len(key), 70)]
	h.mu.Lock()
	h.total[key] += time.Since(e.StartTime)
	h.count[key]++
	h.mu.Unlock()
}

func (h *statementTimes) print(b *testing.B) {
	keys := make([]string, 0, len(h.total))
	for k := range h.total {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return h.total[keys[i]] > h.total[keys[j]] })
	for _, k := range keys[:min(len(keys), 12)] {
		b.Logf("%8.2f s %7d × %s", h.total[k].Seconds(), h.count[k], k)
	}
}

func benchEach(b *testing.B, fn func(b *testing.B, s *store.Store)) {
	// SHERPA_BENCH_IMPORT_BATCH: rows per transaction of the import job.
	if n := envInt("SHERPA_BENCH_IMPORT_BATCH", 0); n > 0 {
		defer store.SetImportJobBatch(n)()
	}
	for _, d := range []store.Dialect{store.SQLite, store.MySQL} {
		b.Run(string(d), func(b *testing.B) {
			if d == store.MySQL && os.Getenv("SHERPA_TEST_MYSQL_URL") == "" {
				b.Skip("set SHERPA_TEST_MYSQL_URL")
			}
			fn(b, openImportBench(b, d))
		})
	}
}

// phases of the last benchImport: upload, dry run, job.
var benchPhases [3]time.Duration

func benchImport(b *testing.B, s *store.Store, it importTeam, data []byte, mode string) *store.Import {
	b.Helper()
	ctx := context.Background()
	t0 := time.Now()
	im, err := s.CreateImport(ctx, it.team.ID, it.owner, "bench.csv", store.ImportContacts, bytes.NewReader(data), 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	m := im.MappingInfo()
	m.Mode = mode
	if _, err := s.SaveImportMapping(ctx, it.team.ID, im.ID, m); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	if _, err := s.PreviewImport(ctx, it.team.ID, im.ID); err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
		b.Fatal(err)
	}
	job, err := s.ClaimImport(ctx, "bench")
	if err != nil || job == nil {
		b.Fatal(err)
	}
	before := serverStatus(b, s)
	if err := s.RunImport(ctx, job, "bench"); err != nil {
		b.Fatal(err)
	}
	printStatusDelta(b, before, serverStatus(b, s))
	benchPhases = [3]time.Duration{t1.Sub(t0), t2.Sub(t1), time.Since(t2)}
	im, _ = s.ImportByID(ctx, it.team.ID, im.ID)
	return im
}

// serverStatus (SHERPA_BENCH_STATEMENT_TIMES=1, MySQL) reads the server's
// InnoDB and handler counters, so that a job's page reads, log writes and
// row operations can be told apart. They are the whole server's: other
// databases' work on it counts too.
func serverStatus(b *testing.B, s *store.Store) map[string]int64 {
	if os.Getenv("SHERPA_BENCH_STATEMENT_TIMES") == "" || s.Dialect != store.MySQL {
		return nil
	}
	rows, err := s.DB.QueryContext(context.Background(), "SHOW GLOBAL STATUS")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := serverThreads()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			b.Fatal(err)
		}
		var n int64
		if _, err := fmt.Sscan(v, &n); err == nil {
			out[k] = n
		}
	}
	return out
}

// serverThreads is the CPU time (clock ticks) of each thread of the local
// mariadbd, as "task <tid>": the busiest one during a job is its
// connection's (one thread per connection), the rest flush and purge.
func serverThreads() map[string]int64 {
	out := map[string]int64{}
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		if c, _ := os.ReadFile(p); strings.TrimSpace(string(c)) != "mariadbd" {
			continue
		}
		tasks, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "task", "*", "stat"))
		for _, t := range tasks {
			st, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
			var u, k int64
			fmt.Sscan(f[11], &u)
			fmt.Sscan(f[12], &k)
			out["task "+filepath.Base(filepath.Dir(t))] = u + k
			// schedstat: ns on the CPU, ns waiting for one (runnable).
			if ss, err := os.ReadFile(filepath.Join(filepath.Dir(t), "schedstat")); err == nil {
				var on, wait int64
				fmt.Sscan(string(ss), &on, &wait)
				out["wait "+filepath.Base(filepath.Dir(t))] = wait
			}
		}
	}
	return out
}

func printStatusDelta(b *testing.B, before, after map[string]int64) {
	if before == nil {
		return
	}
	var tasks []string
	var total int64
	for k, v := range after {
		if strings.HasPrefix(k, "task ") {
			tasks = append(tasks, k)
			total += v - before[k]
		}
	}
	sort.Slice(tasks, func(i, j int) bool { return after[tasks[i]]-before[tasks[i]] > after[tasks[j]]-before[tasks[j]] })
	b.Logf("mariadbd CPU %.2f s in all threads", float64(total)/100)
	for _, k := range tasks[:min(4, len(tasks))] {
		w := "wait" + strings.TrimPrefix(k, "task")
		b.Logf("  %s: %.2f s on a CPU, %.2f s runnable waiting for one", k, float64(after[k]-before[k])/100, float64(after[w]-before[w])/1e9)
	}
	for _, k := range []string{"Innodb_buffer_pool_reads", "Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_write_requests",
		"Innodb_buffer_pool_pages_flushed", "Innodb_buffer_pool_wait_free", "Innodb_data_reads", "Innodb_data_writes",
		"Innodb_data_fsyncs", "Innodb_os_log_written", "Innodb_log_waits", "Innodb_checkpoint_age", "Innodb_rows_inserted",
		"Innodb_rows_updated", "Innodb_rows_read", "Handler_write", "Handler_read_key", "Com_insert", "Com_select", "Com_commit",
		"Questions"} {
		b.Logf("%-36s %14d", k, after[k]-before[k])
	}
}

func benchTeam(b *testing.B, s *store.Store, name string) importTeam {
	b.Helper()
	ctx := context.Background()
	o, err := s.CreateUser(ctx, name, fmt.Sprintf("%s-%d@example.com", strings.ToLower(name), time.Now().UnixNano()), "hash")
	if err != nil {
		b.Fatal(err)
	}
	team, err := s.CreateTeam(ctx, o.ID, name)
	if err != nil {
		b.Fatal(err)
	}
	o, _ = s.UserByID(ctx, o.ID)
	return importTeam{team: team, owner: o}
}

// BenchmarkImportContacts: upload, dry run and import (create mode) of
// SHERPA_BENCH_IMPORT_ROWS new contacts.
func BenchmarkImportContacts(b *testing.B) {
	n := envInt("SHERPA_BENCH_IMPORT_ROWS", 100_000)
	data := contactsCSV(n, "Bench")
	benchEach(b, func(b *testing.B, s *store.Store) {
		for i := 0; i < b.N; i++ {
			it := benchTeam(b, s, fmt.Sprintf("Bench%d", i))
			runtime.GC()
			stop := peakHeap()
			start, cpu := time.Now(), cpuTime()
			im := benchImport(b, s, it, data, store.ModeCreate)
			secs := time.Since(start).Seconds()
			b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
			peak := stop()
			if im.Created != int64(n) {
				b.Fatalf("created %d of %d (%s %s)", im.Created, n, im.Status, im.Error)
			}
			b.ReportMetric(secs, "s/total")
			b.ReportMetric(benchPhases[0].Seconds(), "s/upload")
			b.ReportMetric(benchPhases[1].Seconds(), "s/dryrun")
			b.ReportMetric(benchPhases[2].Seconds(), "s/import")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(peakRSS(), "peak-rss-MB")
		}
	})
}

// BenchmarkImportUpdate: the same file again in update mode over the
// contacts the first import made (every row changes its name).
func BenchmarkImportUpdate(b *testing.B) {
	n := envInt("SHERPA_BENCH_IMPORT_ROWS", 100_000)
	benchEach(b, func(b *testing.B, s *store.Store) {
		for i := 0; i < b.N; i++ {
			it := benchTeam(b, s, fmt.Sprintf("Upd%d", i))
			benchImport(b, s, it, contactsCSV(n, "Before"), store.ModeCreate)
			data := contactsCSV(n, "After")
			runtime.GC()
			stop := peakHeap()
			start, cpu := time.Now(), cpuTime()
			im := benchImport(b, s, it, data, store.ModeUpdate)
			secs := time.Since(start).Seconds()
			b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
			peak := stop()
			if im.Updated != int64(n) {
				b.Fatalf("updated %d of %d (%s %s)", im.Updated, n, im.Status, im.Error)
			}
			b.ReportMetric(secs, "s/total")
			b.ReportMetric(benchPhases[1].Seconds(), "s/dryrun")
			b.ReportMetric(benchPhases[2].Seconds(), "s/import")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		}
	})
}

// BenchmarkExportContacts: time to the first page and to the end of an
// export of every contact of a team of SHERPA_BENCH_IMPORT_ROWS.
func BenchmarkExportContacts(b *testing.B) {
	n := envInt("SHERPA_BENCH_IMPORT_ROWS", 100_000)
	benchEach(b, func(b *testing.B, s *store.Store) {
		it := benchTeam(b, s, "Export")
		benchImport(b, s, it, contactsCSV(n, "Exp"), store.ModeCreate)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			runtime.GC()
			stop := peakHeap()
			w := csv.NewWriter(io.Discard)
			start, cpu := time.Now(), cpuTime()
			var first time.Duration
			rows := 0
			err := s.ExportContacts(context.Background(), it.team.ID, store.ContactQuery{Sort: "name"}, func(recs [][]string) error {
				if first == 0 {
					first = time.Since(start)
				}
				rows += len(recs)
				return w.WriteAll(recs)
			})
			secs := time.Since(start).Seconds()
			b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
			peak := stop()
			if err != nil || rows != n {
				b.Fatalf("%v, %d rows", err, rows)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "first-page-ms")
			b.ReportMetric(secs, "s/export")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		}
	})
}
