package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// soak sends the scenarios mixed (request i is scenario i modulo their
// number) from every client for d, and at most maxRequests in all, then
// prints one line of totals: requests, errors (with the first reasons),
// p50/p95/p99 and the rate. scripts/rolling.sh runs it through a load
// balancer while it restarts an instance.
func soak(cs []*http.Client, scenarios []scenario, d time.Duration, maxRequests int) error {
	if len(scenarios) == 0 {
		return fmt.Errorf("no scenario to run")
	}
	var next, errs, sent atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var reasons []string
	fail := func(why string) {
		errs.Add(1)
		mu.Lock()
		if len(reasons) < 8 {
			reasons = append(reasons, time.Now().Format("15:04:05.000")+" "+why)
		}
		mu.Unlock()
	}
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for w, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				i := int(next.Add(1))
				if i > maxRequests {
					return
				}
				sc := scenarios[i%len(scenarios)]
				req, err := sc.request(c, w, i)
				if err != nil {
					fail(sc.name + ": " + err.Error())
					continue
				}
				t0 := time.Now()
				sent.Add(1)
				resp, err := c.Do(req)
				took := time.Since(t0)
				if err != nil {
					fail(sc.name + ": " + err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Sprintf("%s: status %d", sc.name, resp.StatusCode))
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{lat: lat, rate: float64(len(lat)) / elapsed.Seconds(), errors: errs.Load()}
	fmt.Printf("soak: %d requests in %s from %d clients, %d errors, p50 %s, p95 %s, p99 %s, max %s, %.0f req/s, load average %s\n",
		sent.Load(), elapsed.Round(time.Millisecond), len(cs), r.errors,
		ms(r.p(50)), ms(r.p(95)), ms(r.p(99)), ms(r.p(100)), r.rate, loadAvg())
	for _, why := range reasons {
		fmt.Println("  error:", why)
	}
	return nil
}
