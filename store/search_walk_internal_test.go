package store

import "testing"

// TestWalkBatchSizes: the first batch is about three pages at the plan's
// density, bounded; the next doubles while nothing is found and keeps to
// about twice what the density seen needs for the rows still missing.
func TestWalkBatchSizes(t *testing.T) {
	span := func(n, every int64) []int64 {
		var ids []int64
		for i := int64(1); i <= n; i++ {
			ids = append(ids, i*every)
		}
		return ids
	}
	for _, c := range []struct {
		name  string
		plan  searchPlan
		limit int
		want  int
	}{
		{"a third of the team", searchPlan{set: span(1000, 3)}, 26, 234},
		{"every record", searchPlan{set: span(1000, 1)}, 26, 78},
		{"every record, a small page", searchPlan{set: span(1000, 1)}, 5, minSetBatch},
		{"one in 40", searchPlan{set: span(1000, 40)}, 26, maxFirstBatch},
		{"one in 20", searchPlan{set: span(1000, 20)}, 26, 1558},
	} {
		if got := c.plan.firstBatch(c.limit); got < c.want-1 || got > c.want+1 {
			t.Errorf("%s: first batch %d, want about %d", c.name, got, c.want)
		}
	}
	for _, c := range []struct{ batch, read, found, need, want int }{
		{512, 512, 0, 26, 1024},                  // nothing yet: double
		{maxSetBatch, 40000, 0, 26, maxSetBatch}, // at most maxSetBatch
		{512, 512, 12, 14, 1024},                 // half a page missing: double (the estimate is 1,194)
		{2048, 2048, 25, 1, 163},                 // one row missing at 1 in 82: twice 82
		{64, 64, 60, 1, minSetBatch},             // at least minSetBatch
	} {
		if got := nextBatch(c.batch, c.read, c.found, c.need); got != c.want {
			t.Errorf("nextBatch(%d, %d, %d, %d) = %d, want %d", c.batch, c.read, c.found, c.need, got, c.want)
		}
	}
}
