// Command importload measures CSV import and export on a running Sherpa
// instance the way issue 11 asks: the server process's memory (its VmRSS,
// sampled every 50 ms from /proc) while a file of -rows contacts is
// uploaded, dry-run and imported through the real pages and the instance's
// own import worker; the import's time; the contacts list page's latency
// (p50/p95) while idle and while the import runs; and an export's time to
// its first bytes and to its end.
//
//	go run . --database-url sqlite:/tmp/sherpa_import_1m.db --addr 127.0.0.1:8091 &
//	go run ./loadtest/importload -url http://127.0.0.1:8091 -pid $(pgrep -n sherpa) \
//	  -signup -rows 1000000
//
// -signup makes a new owner and team (a fresh team to import into) and
// prints its login; otherwise -email and -password log in (so a second run
// with -mode update -name Other against that login updates every contact
// the first one created).
//
// The list page is timed in two interleaved series, one request after
// the other: plain requests (served from the list cache when the server
// has it on and the team's list version did not move) and requests with
// Cache-Control: no-cache, which the server draws afresh (the list cache
// off). Each series is timed idle before the upload (the team as it was:
// empty after -signup), during the job, and idle after it (the same team at
// its new size), and the ratios of the p95s are printed both ways. The
// requests come 20 ms apart, or at random with -arrivals random. The
// list page is timed during the mapping and dry run too (against idle
// before: the team the dry run reads); -dry-only stops there. -export
// skips the import and measures the export of the team's contacts only. It
// sends traffic only to the URL given (use a local instance).
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8091", "running Sherpa instance")
	pid := flag.Int("pid", 0, "the instance's process id, to sample its memory")
	email := flag.String("email", "", "login (with -password), unless -signup")
	password := flag.String("password", "", "password")
	signup := flag.Bool("signup", false, "sign up a new owner with a new team")
	rows := flag.Int("rows", 100_000, "contacts in the imported file")
	mode := flag.String("mode", "create", "import mode: create, upsert or update")
	name := flag.String("name", "Imported", "first name of every row (a new one makes an update change every row)")
	exportOnly := flag.Bool("export", false, "measure the export only")
	thenExport := flag.Bool("then-export", false, "after the import, measure the export of the team's contacts")
	dryOnly := flag.Bool("dry-only", false, "stop after the dry run (the list page timed during it)")
	thenUndo := flag.Bool("then-undo", false, "at the end, undo the import (the list page timed during the undo)")
	listN := flag.Int("list", 200, "list requests measured while idle")
	flag.StringVar(&arrivals, "arrivals", "steady", "gaps between list requests: steady (20 ms) or random (exponential, 20 ms on average)")
	flag.Parse()
	if arrivals != "steady" && arrivals != "random" {
		fail(fmt.Errorf("-arrivals %q: steady or random", arrivals))
	}
	c, err := client(*base, *email, *password, *signup)
	if err != nil {
		fail(err)
	}
	mem := sampleMemory(*pid)
	if *exportOnly {
		exportRun(c, *base, mem)
		return
	}
	idle := latencies(c, *base, *listN, nil)
	idle.print("list page idle before the upload")
	mem.mark("upload")
	t0 := time.Now()
	path, err := upload(c, *base, *rows, *name)
	if err != nil {
		fail(err)
	}
	up := time.Since(t0)
	fmt.Printf("upload %d rows: %.1f s, peak RSS %.0f MB\n", *rows, up.Seconds(), mem.peakSince("upload"))
	mem.mark("dryrun")
	t1 := time.Now()
	checking := during(func() {
		if err := mapAndPreview(c, *base, path, *mode); err != nil {
			fail(err)
		}
	}, c, *base)
	dry := time.Since(t1)
	fmt.Printf("mapping + dry run: %.1f s, peak RSS %.0f MB\n", dry.Seconds(), mem.peakSince("dryrun"))
	if *dryOnly {
		printDryRun(checking, idle)
		return
	}
	mem.mark("import")
	t2 := time.Now()
	if err := post(c, *base+path+"/start", nil); err != nil {
		fail(err)
	}
	busy := during(func() {
		for {
			page, err := get(c, *base+path)
			if err != nil {
				fail(err)
			}
			if strings.Contains(page, `data-testid="result-created"`) || strings.Contains(page, "Failed") {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}, c, *base)
	took := time.Since(t2)
	page, _ := get(c, *base+path)
	fmt.Printf("import job: %.1f s (%.0f rows/s), peak RSS %.0f MB; result: created %s, updated %s, skipped %s, rejected %s\n",
		took.Seconds(), float64(*rows)/took.Seconds(), mem.peakSince("import"),
		testID(page, "result-created"), testID(page, "result-updated"), testID(page, "result-skipped"), testID(page, "result-rejected"))
	busy.print("list page during the import")
	after := latencies(c, *base, *listN, nil)
	after.print("list page idle after the import (same team, its new size)")
	for _, k := range []struct {
		name  string
		pick  func(series) []float64
		label string
	}{{"plain (list cache as the server has it)", func(s series) []float64 { return s.plain }, "plain"},
		{"no-cache (drawn afresh)", func(s series) []float64 { return s.fresh }, "fresh"}} {
		d, b, a := pct(k.pick(busy), 95), pct(k.pick(idle), 95), pct(k.pick(after), 95)
		fmt.Printf("p95 ratio %s: during/idle-after %.2f, during/idle-before %.2f\n", k.name, d/a, d/b)
	}
	fmt.Printf("p95 ratio during plain / idle-after no-cache %.2f\n", pct(busy.plain, 95)/pct(after.fresh, 95))
	printDryRun(checking, idle)
	fmt.Printf("whole run: peak RSS %.0f MB (at start %.0f MB)\n", mem.peak(), mem.first())
	if *thenExport {
		exportRun(c, *base, mem)
	}
	if *thenUndo {
		undoRun(c, *base, path, mem, after)
	}
}

// undoRun undoes the import at path and times it and the list page
// meanwhile, against idle after the import (the team the undo starts from).
func undoRun(c *http.Client, base, path string, mem *memory, idle series) {
	mem.mark("undo")
	t := time.Now()
	var page string
	busy := during(func() {
		if err := post(c, base+path+"/undo", nil); err != nil {
			fail(err)
		}
		for {
			var err error
			if page, err = get(c, base+path); err != nil {
				fail(err)
			}
			if !strings.Contains(page, `data-testid="undo-progress"`) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}, c, base)
	fmt.Printf("undo: %.1f s, peak RSS %.0f MB; %s\n", time.Since(t).Seconds(), mem.peakSince("undo"), undoOutcome(page))
	busy.print("list page during the undo")
	fmt.Printf("p95 ratio during the undo / idle-after the import: plain %.2f, no-cache %.2f\n",
		pct(busy.plain, 95)/pct(idle.plain, 95), pct(busy.fresh, 95)/pct(idle.fresh, 95))
}

func undoOutcome(page string) string {
	if strings.Contains(page, `data-testid="undo-done"`) {
		return "undone"
	}
	return "not undone"
}

// printDryRun prints the list page's latency during the mapping and dry
// run, against idle before the upload (the team the dry run reads).
func printDryRun(checking, idle series) {
	if len(checking.plain) == 0 {
		return
	}
	checking.print("list page during the mapping and dry run")
	fmt.Printf("p95 ratio during the dry run / idle-before: plain %.2f, no-cache %.2f\n",
		pct(checking.plain, 95)/pct(idle.plain, 95), pct(checking.fresh, 95)/pct(idle.fresh, 95))
}

// during times the list page while work runs (from its start to its end).
func during(work func(), c *http.Client, base string) series {
	stop := make(chan struct{})
	var s series
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s = latencies(c, base, 0, stop)
	}()
	work()
	close(stop)
	wg.Wait()
	return s
}

func testID(page, id string) string {
	re := regexp.MustCompile(`data-testid="` + id + `"[^>]*>([^<]*)<`)
	if m := re.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return "?"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "importload:", err)
	os.Exit(1)
}

func client(base, email, password string, signup bool) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if signup {
		email = fmt.Sprintf("importload-%d@sherpa.test", time.Now().UnixNano())
		password = "importload-password-1"
		if err := post(c, base+"/signup", url.Values{"name": {"Ida Importload"}, "email": {email}, "password": {password}}); err != nil {
			return nil, fmt.Errorf("sign up: %w", err)
		}
		if err := post(c, base+"/team", url.Values{"name": {"Importload Co"}}); err != nil {
			return nil, fmt.Errorf("create team: %w", err)
		}
		fmt.Printf("signed up: -email %s -password %s\n", email, password)
		return c, nil
	}
	if err := post(c, base+"/login", url.Values{"email": {email}, "password": {password}}); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	return c, nil
}

func send(c *http.Client, req *http.Request) (*http.Response, error) {
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	return c.Do(req)
}

// post sends a form and expects a redirect (or a 200 page).
func post(c *http.Client, u string, form url.Values) error {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := send(c, req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %.300s", u, resp.StatusCode, b)
	}
	return nil
}

func get(c *http.Client, u string) (string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	resp, err := send(c, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	if r := resp.Header.Get("HX-Redirect"); r != "" {
		return "HX-Redirect " + r, err
	}
	return string(b), err
}

// upload streams a generated HubSpot-style file as the upload form does.
func upload(c *http.Client, base string, rows int, name string) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("kind_choice", "contacts")
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("importload-%d.csv", rows))
		bw := bufio.NewWriterSize(fw, 64<<10)
		w := csv.NewWriter(bw)
		statuses := []string{"New", "Open", "In progress", "Connected", "Unqualified"}
		_ = w.Write([]string{"First Name", "Last Name", "Email", "Phone Number", "Company Name", "Lead Status"})
		for i := 0; i < rows; i++ {
			_ = w.Write([]string{name, "Person" + strconv.Itoa(i), fmt.Sprintf("person%d@example%d.com", i, i%97),
				fmt.Sprintf("+49 30 %07d", i), fmt.Sprintf("Company %d GmbH", i%5000), statuses[i%len(statuses)]})
		}
		w.Flush()
		_ = bw.Flush()
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/imports?kind=contacts", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := send(c, req)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/") {
		return "", fmt.Errorf("upload: %d %q %.500s", resp.StatusCode, loc, b)
	}
	return loc, nil
}

var (
	selectRe = regexp.MustCompile(`(?s)<select name="(col\d+)"[^>]*>(.*?)</select>`)
	chosenRe = regexp.MustCompile(`<option value="([^"]*)" selected`)
)

// mapAndPreview posts the proposed mapping with the mode: the dry run.
func mapAndPreview(c *http.Client, base, path, mode string) error {
	page, err := get(c, base+path)
	if err != nil {
		return err
	}
	f := url.Values{"mode": {mode}, "unknown": {"default"}, "unknown_owner": {"unassigned"}}
	for _, m := range selectRe.FindAllStringSubmatch(page, -1) {
		v := ""
		if o := chosenRe.FindStringSubmatch(m[2]); o != nil {
			v = o[1]
		}
		f.Set(m[1], v)
	}
	if len(f) < 5 {
		return fmt.Errorf("no mapping form on %s", path)
	}
	if err := post(c, base+path+"/mapping", f); err != nil {
		return err
	}
	for {
		page, err = get(c, base+path)
		if err != nil {
			return err
		}
		if strings.Contains(page, `data-testid="preview-create"`) {
			fmt.Printf("dry run: create %s, update %s, skip %s, reject %s\n", testID(page, "preview-create"),
				testID(page, "preview-update"), testID(page, "preview-skip"), testID(page, "preview-reject"))
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// series are list page latencies (ms): plain requests, and requests with
// Cache-Control: no-cache, interleaved.
type series struct{ plain, fresh []float64 }

func (s series) print(what string) {
	fmt.Printf("%s: plain p50 %.1f / p95 %.1f / p99 %.1f ms (%d); no-cache p50 %.1f / p95 %.1f / p99 %.1f ms (%d)\n", what,
		pct(s.plain, 50), pct(s.plain, 95), pct(s.plain, 99), len(s.plain), pct(s.fresh, 50), pct(s.fresh, 95), pct(s.fresh, 99), len(s.fresh))
}

// arrivals is -arrivals: how latencies spaces its requests.
var arrivals = "steady"

// listGap is the pause before the next list request: 20 ms, or with
// -arrivals random a pause drawn from an exponential distribution of
// mean 20 ms (requests arriving at random, as from many people at once:
// the server can't tell when the next one comes).
func listGap() time.Duration {
	if arrivals == "random" {
		return time.Duration(rand.ExpFloat64() * float64(20*time.Millisecond))
	}
	return 20 * time.Millisecond
}

// latencies times GET /contacts: n requests of each kind, or until stop is
// closed, one at a time, listGap apart, plain and no-cache in turn.
func latencies(c *http.Client, base string, n int, stop chan struct{}) series {
	var out series
	for i := 0; n == 0 || i < 2*n; i++ {
		if stop != nil {
			select {
			case <-stop:
				return out
			default:
			}
		}
		fresh := i%2 == 1
		t := time.Now()
		if _, err := getList(c, base+"/contacts", fresh); err != nil {
			fmt.Fprintln(os.Stderr, "list:", err)
		}
		ms := float64(time.Since(t).Microseconds()) / 1000
		if fresh {
			out.fresh = append(out.fresh, ms)
		} else {
			out.plain = append(out.plain, ms)
		}
		time.Sleep(listGap())
	}
	return out
}

func getList(c *http.Client, u string, fresh bool) (string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	if fresh {
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := send(c, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b), err
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// exportRun downloads /contacts/export.csv: time to the first body bytes,
// to the end, rows, and the server's memory meanwhile.
func exportRun(c *http.Client, base string, mem *memory) {
	mem.mark("export")
	t := time.Now()
	req, _ := http.NewRequest("GET", base+"/contacts/export.csv", nil)
	resp, err := send(c, req)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Errorf("export: %d", resp.StatusCode))
	}
	buf := make([]byte, 64<<10)
	var first, firstRow time.Duration
	var bytes, lines int64
	sum := sha256.New()
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && first == 0 {
			first = time.Since(t)
		}
		bytes += int64(n)
		lines += int64(strings.Count(string(buf[:n]), "\n"))
		sum.Write(buf[:n])
		if lines >= 2 && firstRow == 0 {
			firstRow = time.Since(t) // the header and the first record
		}
		if err != nil {
			break
		}
	}
	fmt.Printf("export: first bytes after %.0f ms, first record after %.0f ms, whole file %.1f s, %d lines, %.1f MB (sha256 %x); server RSS at start %.0f MB, peak %.0f MB\n",
		float64(first.Microseconds())/1000, float64(firstRow.Microseconds())/1000, time.Since(t).Seconds(), lines, float64(bytes)/(1<<20), sum.Sum(nil)[:8], mem.first(), mem.peakSince("export"))
}

// memory samples a process's VmRSS.
type memory struct {
	mu      sync.Mutex
	samples []float64
	marks   map[string]int
	on      atomic.Bool
}

func sampleMemory(pid int) *memory {
	m := &memory{marks: map[string]int{}}
	if pid == 0 {
		return m
	}
	read := func() float64 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
				return kb / 1024
			}
		}
		return 0
	}
	m.samples = append(m.samples, read())
	go func() {
		for {
			v := read()
			m.mu.Lock()
			m.samples = append(m.samples, v)
			m.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return m
}

func (m *memory) mark(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marks[name] = len(m.samples)
}

func (m *memory) peakSince(name string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := 0.0
	for _, v := range m.samples[min(m.marks[name], len(m.samples)):] {
		p = max(p, v)
	}
	return p
}

func (m *memory) peak() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := 0.0
	for _, v := range m.samples {
		p = max(p, v)
	}
	return p
}

func (m *memory) first() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return 0
	}
	return m.samples[0]
}
