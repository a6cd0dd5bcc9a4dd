package store

import (
	"math/rand/v2"
	"testing"
)

// TestEmailSeen: the dry run's set of emails answers as a map does — the
// first line of every hash added, nothing for the others — across many
// runs and merges, with duplicates among the hashes looked up.
func TestEmailSeen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, want := newEmailSeen(), map[uint64]uint32{}
	const n = 5*seenRecent + 123
	for line := uint32(1); line <= n; line++ {
		h := rng.Uint64() % (3 * n) // about one in six seen before
		got, ok := s.lookup(h)
		w, wok := want[h]
		if ok != wok || got != w {
			t.Fatalf("line %d: lookup(%d) = %d, %v; want %d, %v", line, h, got, ok, w, wok)
		}
		if !ok {
			s.add(h, line)
			want[h] = line
		}
	}
	if s.len() != len(want) {
		t.Fatalf("%d hashes held, want %d", s.len(), len(want))
	}
	if len(s.runs) > 4 {
		t.Fatalf("%d runs for %d hashes: the merges do not keep one run a size", len(s.runs), len(want))
	}
	for i := 1; i < len(s.runs); i++ {
		if len(s.runs[i].hash) >= len(s.runs[i-1].hash) {
			t.Fatalf("run %d (%d) not smaller than run %d (%d)", i, len(s.runs[i].hash), i-1, len(s.runs[i-1].hash))
		}
	}
	for h, w := range want {
		if got, ok := s.lookup(h); !ok || got != w {
			t.Fatalf("lookup(%d) = %d, %v at the end; want %d", h, got, ok, w)
		}
	}
}
