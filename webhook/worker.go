package webhook

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"sherpa/store"
)

// Config tunes the worker; zero fields take the defaults.
type Config struct {
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (self-hosted receivers on the same network; tests).
	AllowPrivate bool
	// Poll is how often an idle worker looks for due deliveries (default
	// 250 ms): the delay before a change is announced, at one indexed
	// query per interval per instance.
	Poll time.Duration
	// Senders is how many deliveries go out at once (default 64: a slow
	// receiver holds a sender up to Timeout).
	Senders int
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Lease is how long a claimed delivery is held before another instance
	// may take it (default 1 min; longer than Timeout).
	Lease time.Duration
	// Backoff is the wait after the first failure; it doubles with each
	// further one up to MaxBackoff (defaults 10 s and 1 h), jittered.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

func (c *Config) fill() {
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.Senders <= 0 {
		c.Senders = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Lease < 2*c.Timeout {
		c.Lease = 2 * c.Timeout
	}
	if c.Backoff <= 0 {
		c.Backoff = 10 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Hour
	}
}

// Worker delivers the queue's due webhooks. Every instance runs one; the
// leases in the database keep two from sending the same delivery at once.
type Worker struct {
	st     *store.Store
	log    zerolog.Logger
	cfg    Config
	client *http.Client
	owner  string
	kick   chan struct{}
	// lastWarn keeps a database outage from logging a line per poll.
	warnMu   sync.Mutex
	lastWarn time.Time
}

// warn logs at most one line per 10 s.
func (w *Worker) warn(err error, msg string) {
	w.warnMu.Lock()
	defer w.warnMu.Unlock()
	if time.Since(w.lastWarn) < 10*time.Second {
		return
	}
	w.lastWarn = time.Now()
	w.log.Warn().Err(err).Msg(msg)
}

// NewWorker makes a worker; Run starts it.
func NewWorker(st *store.Store, cfg Config, log zerolog.Logger) *Worker {
	cfg.fill()
	var b [6]byte
	_, _ = crand.Read(b[:])
	return &Worker{st: st, log: log, cfg: cfg, client: NewClient(cfg.Timeout, cfg.AllowPrivate),
		owner: "instance-" + hex.EncodeToString(b[:]), kick: make(chan struct{}, 1)}
}

// Kick makes an idle worker look for deliveries now instead of at its next
// poll (called after a change in this instance).
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; deliveries in flight then finish or, if
// cut off, are picked up again when their lease runs out. Senders run in
// parallel; one recorder writes their outcomes in batches (one commit for
// whatever finished meanwhile, not one per delivery).
func (w *Worker) Run(ctx context.Context) {
	results := make(chan outcome, w.cfg.Senders)
	var inflight atomic.Int64
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		w.record(results, func(n int) { inflight.Add(-int64(n)); w.Kick() })
	}()
	var wg sync.WaitGroup
	defer func() { wg.Wait(); close(results); <-recorded }()
	var seq int
	for {
		// Claim when a good part of the senders is free (or all are), so a
		// claim fetches a batch rather than one job at a time.
		free := w.cfg.Senders - int(inflight.Load())
		var jobs []store.DeliveryJob
		if free > 0 && (free >= w.cfg.Senders/4 || free == w.cfg.Senders) {
			seq++
			var err error
			jobs, err = w.st.ClaimDeliveries(ctx, w.owner+"-"+strconv.Itoa(seq), free, w.cfg.Lease)
			if err != nil && ctx.Err() == nil {
				w.warn(err, "webhooks: claim failed")
			}
		}
		inflight.Add(int64(len(jobs)))
		for i := range jobs {
			wg.Add(1)
			go func(job store.DeliveryJob) {
				defer wg.Done()
				results <- outcome{job, w.attempt(ctx, &job)}
			}(jobs[i])
		}
		if len(jobs) > 0 && len(jobs) == free {
			continue // a full batch: there may be more due
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-time.After(w.cfg.Poll):
		}
	}
}

type outcome struct {
	job store.DeliveryJob
	res store.DeliveryResult
}

// record writes outcomes as they come, batching those that arrive within
// a few milliseconds of each other; done is told how many were written.
func (w *Worker) record(results <-chan outcome, done func(int)) {
	for first := range results {
		batch := []outcome{first}
		timeout := time.After(5 * time.Millisecond)
	collect:
		for len(batch) < 64 {
			select {
			case o, ok := <-results:
				if !ok {
					break collect
				}
				batch = append(batch, o)
			case <-timeout:
				break collect
			}
		}
		w.write(batch)
		done(len(batch))
	}
}

// write records a batch; it must not be cut short by a stopping instance,
// since the attempts happened.
func (w *Worker) write(batch []outcome) {
	jobs := make([]store.DeliveryJob, len(batch))
	res := make([]store.DeliveryResult, len(batch))
	for i, o := range batch {
		jobs[i], res[i] = o.job, o.res
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	disabled, err := w.st.RecordDeliveries(ctx, jobs, res)
	if err != nil {
		w.warn(err, "webhooks: could not record deliveries; they are sent again when their lease runs out")
		return
	}
	for _, id := range disabled {
		w.log.Warn().Int64("endpoint", id).Msg("webhooks: endpoint disabled after failing for a day")
	}
}

// RunOnce sends every delivery due now and waits for them (tests).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		jobs, err := w.st.ClaimDeliveries(ctx, w.owner+"-once", w.cfg.Senders, w.cfg.Lease)
		if err != nil || len(jobs) == 0 {
			return total, err
		}
		batch := make([]outcome, len(jobs))
		var wg sync.WaitGroup
		for i := range jobs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				batch[i] = outcome{jobs[i], w.attempt(ctx, &jobs[i])}
			}(i)
		}
		wg.Wait()
		w.write(batch)
		total += len(jobs)
	}
}

// attempt sends one delivery and says how it went, with the wait before
// the next attempt after a failure.
func (w *Worker) attempt(ctx context.Context, job *store.DeliveryJob) store.DeliveryResult {
	r := w.send(ctx, job)
	if !r.OK() {
		r.RetryIn = w.backoff(job.Attempts + 1)
	}
	return r
}

func (w *Worker) send(ctx context.Context, job *store.DeliveryJob) store.DeliveryResult {
	body := job.Event.Body()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, bytes.NewReader(body))
	if err != nil {
		return store.DeliveryResult{Err: "bad URL: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sherpa-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(job.Secret, w.st.Now(), body))
	req.Header.Set(EventHeader, job.Event.Type)
	req.Header.Set(EventIDHeader, "evt_"+strconv.FormatInt(job.EventID, 10))
	req.Header.Set(DeliveryHeader, strconv.FormatInt(job.ID, 10))
	resp, err := w.client.Do(req)
	r := store.DeliveryResult{Duration: time.Since(start)}
	if err != nil {
		r.Err = describe(err)
		return r
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	r.Code = resp.StatusCode
	if !r.OK() {
		r.Err = http.StatusText(resp.StatusCode)
		if len(snippet) > 0 {
			r.Err += ": " + string(snippet)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			r.Err = "redirects are not followed; register the final URL"
		}
	}
	return r
}

// describe words a transport error for the delivery log.
func describe(err error) string {
	switch {
	case errors.Is(err, ErrPrivateAddress):
		return ErrPrivateAddress.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within the timeout"
	}
	return fmt.Sprint(err)
}

// backoff is the wait before attempt n+1: Backoff·2^(n-1), at most
// MaxBackoff, jittered by ±20 %.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.Backoff
	for i := 1; i < n && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	return d*4/5 + rand.N(d*2/5+1)
}
