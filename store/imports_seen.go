package store

import (
	"cmp"
	"slices"
)

// emailSeen is a dry run's set of the file's emails so far, each a 64-bit
// hash with the line it was first seen on ("the same email as line N of
// the file"), in 12 bytes an email: recent ones in a small map, the rest in
// sorted runs of hashes and lines (parallel slices) merged as a binary
// counter merges its carries, so at most one run of each power-of-two
// size. A map[uint64]uint32 took ~35 bytes an email at a million (its
// table doubled at the end: ~50 MB while it grew), the most memory the
// dry run of a big file held.
type emailSeen struct {
	recent map[uint64]uint32
	runs   []seenRun // largest first
}

type seenRun struct {
	hash []uint64 // sorted
	line []uint32
}

// seenRecent is how many emails the map holds before they are sorted into
// a run.
const seenRecent = 1 << 14

func newEmailSeen() *emailSeen {
	return &emailSeen{recent: make(map[uint64]uint32, seenRecent)}
}

// lookup returns the line an email's hash was first added with.
func (s *emailSeen) lookup(h uint64) (uint32, bool) {
	if line, ok := s.recent[h]; ok {
		return line, true
	}
	for _, r := range s.runs {
		if i, ok := slices.BinarySearch(r.hash, h); ok {
			return r.line[i], true
		}
	}
	return 0, false
}

// add adds a hash that lookup did not find.
func (s *emailSeen) add(h uint64, line uint32) {
	s.recent[h] = line
	if len(s.recent) < seenRecent {
		return
	}
	type pair struct {
		h    uint64
		line uint32
	}
	ps := make([]pair, 0, len(s.recent))
	for h, l := range s.recent {
		ps = append(ps, pair{h, l})
	}
	clear(s.recent)
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.h, b.h) })
	r := seenRun{hash: make([]uint64, len(ps)), line: make([]uint32, len(ps))}
	for i, p := range ps {
		r.hash[i], r.line[i] = p.h, p.line
	}
	s.runs = append(s.runs, r)
	for n := len(s.runs); n >= 2 && len(s.runs[n-1].hash) >= len(s.runs[n-2].hash); n = len(s.runs) {
		s.runs[n-2] = mergeRuns(s.runs[n-2], s.runs[n-1])
		s.runs = s.runs[:n-1]
	}
}

// len is the number of hashes held.
func (s *emailSeen) len() int {
	n := len(s.recent)
	for _, r := range s.runs {
		n += len(r.hash)
	}
	return n
}

func mergeRuns(a, b seenRun) seenRun {
	n := len(a.hash) + len(b.hash)
	out := seenRun{hash: make([]uint64, 0, n), line: make([]uint32, 0, n)}
	i, j := 0, 0
	for i < len(a.hash) && j < len(b.hash) {
		if a.hash[i] <= b.hash[j] {
			out.hash, out.line = append(out.hash, a.hash[i]), append(out.line, a.line[i])
			i++
		} else {
			out.hash, out.line = append(out.hash, b.hash[j]), append(out.line, b.line[j])
			j++
		}
	}
	out.hash, out.line = append(out.hash, a.hash[i:]...), append(out.line, a.line[i:]...)
	out.hash, out.line = append(out.hash, b.hash[j:]...), append(out.line, b.line[j:]...)
	return out
}
