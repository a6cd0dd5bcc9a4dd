package handlers

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// outageRetryAfter is what a 503 for an unavailable database tells clients
// (the Retry-After header, in seconds).
const outageRetryAfter = "5"

// outageLog writes at most one line per interval while the database is
// unavailable, with the number of failures it held back since the last line,
// so an outage under load is a few lines, not one per request.
type outageLog struct {
	mu    sync.Mutex
	every time.Duration
	last  time.Time
	held  int
}

func newOutageLog() *outageLog { return &outageLog{every: 10 * time.Second} }

// note logs err unless a line was written within the interval; it reports
// whether it wrote one.
func (o *outageLog) note(log zerolog.Logger, err error, requestID, what string) bool {
	o.mu.Lock()
	now := time.Now()
	if !o.last.IsZero() && now.Sub(o.last) < o.every {
		o.held++
		o.mu.Unlock()
		return false
	}
	held := o.held
	o.last, o.held = now, 0
	o.mu.Unlock()
	log.Error().Err(err).Str("request_id", requestID).Str("during", what).Int("suppressed", held).
		Msg("database unavailable (further failures within 10s are counted, not logged)")
	return true
}
