package store_test

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkSearchAll is the top bar's search as it types (five contacts and
// five deals per word list of benchSearches, plus the short prefixes a
// person types on the way): run it on a seeded database of each dialect,
//
//	SHERPA_BENCH_URL=… go test ./store -run '^$' -bench BenchmarkSearchAll -benchtime 200x
func BenchmarkSearchAll(b *testing.B) {
	s, teamID, _ := benchStore(b)
	ctx := context.Background()
	words := append([]string{"m", "mü", "mül", "anna m", "kow"}, benchSearches...)
	for _, q := range words {
		b.Run(strings.ReplaceAll(q, " ", "_"), func(b *testing.B) {
			f, err := s.SearchAll(ctx, teamID, q, 5)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(f.Contacts)+len(f.Deals)), "found")
			measure(b, func() error { _, err := s.SearchAll(ctx, teamID, q, 5); return err })
		})
	}
}
