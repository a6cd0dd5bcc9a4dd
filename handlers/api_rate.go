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
	now := s.store.Now()
	rr := s.rateReserve
	if batch > 1 {
		rr.mu.Lock()
		if r := rr.keys[keyID]; r != nil && r.tokens > 0 && now.Before(r.until) {
			r.tokens--
			res := store.RateResult{Allowed: true, Limit: p.Burst, Remaining: r.remaining + r.tokens, Reset: r.reset}
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
		rr.mu.Lock()
		if len(rr.keys) > 10_000 {
			for id, r := range rr.keys {
				if !now.Before(r.until) {
					delete(rr.keys, id)
				}
			}
		}
		rr.keys[keyID] = &reserved{tokens: batch - 1, remaining: res.Remaining, reset: res.Reset, until: now.Add(reserveFor)}
		rr.mu.Unlock()
		res.Remaining += batch - 1
		return res, nil
	}
	return s.store.TakeRate(ctx, keyID, p)
}
