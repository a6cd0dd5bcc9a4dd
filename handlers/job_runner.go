package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// jobRunner runs one kind of database job queue (imports, bulk changes) in
// this process. kick starts a goroutine that calls next until it finds no
// job; a kick that comes while it runs makes it look once more before it
// stops, so no kick is lost and at most one goroutine runs.
type jobRunner struct {
	// next claims and runs one job, and reports whether there was one; an
	// error in claiming stops the goroutine until the next kick.
	next    func(ctx context.Context) (found bool, err error)
	mu      sync.Mutex
	running bool
	pending bool
}

func (r *jobRunner) kick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = true
	if r.running {
		return
	}
	r.running = true
	go r.loop()
}

func (r *jobRunner) loop() {
	ctx := context.Background()
	for {
		r.mu.Lock()
		r.pending = false
		r.mu.Unlock()
		found, err := r.next(ctx)
		if found {
			continue
		}
		r.mu.Lock()
		if !r.pending || err != nil {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

// workerName names this process's claims on a job queue (its leases), e.g.
// "instance-3f2a9c01b7d4".
func workerName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
