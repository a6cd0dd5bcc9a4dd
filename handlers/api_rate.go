package handlers

import (
	"context"
	"sync"
	"time"

	"sherpa/store"
)

// rateReserve spares the database a write per API request: an instance
// takes a few requests' worth of a key's tokens in one UPDATE and spends
// them locally for at most a second. Near the limit (the batch no longer
// fits) it takes one token per request, so the limit stays exact there;
// tokens an instance reserved and did not spend within the second are lost,
// which only errs on the strict side.
type rateReserve struct {
	mu   sync.Mutex
	keys map[int64]*reserved
}

type reserved struct {
	tokens    int // left to spend here
	remaining int // what the bucket held after the reservation
	reset     time.Duration
	until     time.Time
	refilling bool // a background reservation is under way
}

// rateBatch is how many tokens one reservation takes: a tenth of the burst,
// at most 10 (and 1 for small bursts, where every request is counted in
// the database).
func rateBatch(p store.RatePolicy) int { return min(max(p.Burst/10, 1), 10) }

const reserveFor = time.Second

func newRateReserve() *rateReserve { return &rateReserve{keys: map[int64]*reserved{}} }

func (s *Server) takeRate(ctx context.Context, keyID int64) (store.RateResult, error) {
	p := s.apiRate()
	batch := rateBatch(p)
	if batch == 1 {
		return s.store.TakeRate(ctx, keyID, p)
	}
	now := s.store.Now()
	rr := s.rateReserve
	rr.mu.Lock()
	if r := rr.keys[keyID]; r != nil && r.tokens > 0 && now.Before(r.until) {
		r.tokens--
		res := store.RateResult{Allowed: true, Limit: p.Burst, Remaining: r.remaining + r.tokens, Reset: r.reset}
		// Half spent: reserve the next batch in the background, so the
		// request that would have waited for the database does not.
		if r.tokens <= batch/2 && !r.refilling {
			r.refilling = true
			go s.refillRate(keyID, p, batch)
		}
		rr.mu.Unlock()
		return res, nil
	}
	rr.mu.Unlock()
	res, err := s.store.TakeRateN(ctx, keyID, p, batch)
	if err != nil || !res.Allowed {
		if err == nil {
			// The batch does not fit: count this request alone.
			res, err = s.store.TakeRate(ctx, keyID, p)
		}
		return res, err
	}
	rr.put(keyID, batch-1, res, now)
	res.Remaining += batch - 1
	return res, nil
}

// refillRate adds a batch to a key's reserve, if the bucket has one.
func (s *Server) refillRate(keyID int64, p store.RatePolicy, batch int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.store.TakeRateN(ctx, keyID, p, batch)
	rr := s.rateReserve
	rr.mu.Lock()
	defer rr.mu.Unlock()
	r := rr.keys[keyID]
	if r == nil {
		return
	}
	r.refilling = false
	if err != nil || !res.Allowed {
		return // the next request past the reserve asks the database itself
	}
	now := s.store.Now()
	if !now.Before(r.until) {
		r.tokens = 0
	}
	r.tokens += batch
	r.remaining, r.reset, r.until = res.Remaining, res.Reset, now.Add(reserveFor)
}

func (rr *rateReserve) put(keyID int64, tokens int, res store.RateResult, now time.Time) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if len(rr.keys) > 10_000 {
		for id, r := range rr.keys {
			if !now.Before(r.until) && !r.refilling {
				delete(rr.keys, id)
			}
		}
	}
	if r := rr.keys[keyID]; r != nil && r.refilling {
		// A refill is under way; it will add to this reserve.
		r.tokens, r.remaining, r.reset, r.until = tokens, res.Remaining, res.Reset, now.Add(reserveFor)
		return
	}
	rr.keys[keyID] = &reserved{tokens: tokens, remaining: res.Remaining, reset: res.Reset, until: now.Add(reserveFor)}
}
