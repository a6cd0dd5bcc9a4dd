package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"sherpa/store"
)

// statementCounter counts the statements a store runs (a bun query hook).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	c.n.Add(1)
	if os.Getenv("SHERPA_BENCH_SQL") == "1" {
		fmt.Println(e.Query)
	}
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

var benchCounter struct {
	c     *statementCounter
	added bool
}

// BenchmarkSearchPage is the store's part of the table searches of the
// load test (loadtest/search.go), warm: the search cache built before the
// timing (store tests build it at once), the list version given as the
// session gives it. It reports the statements per page (stmts/op), so a
// change of plan shows as fewer round trips, not only as time.
//
//	SHERPA_BENCH_OWNER=demo@sherpa.test SHERPA_BENCH_URL=… go test ./store -run '^$' -bench BenchmarkSearchPage -benchtime 200x
func BenchmarkSearchPage(b *testing.B) {
	s, teamID, _ := benchStore(b)
	if !benchCounter.added {
		benchCounter.c = &statementCounter{}
		s.DB.AddQueryHook(benchCounter.c)
		benchCounter.added = true
	}
	versions, err := s.SearchVersions(context.Background(), teamID)
	if err != nil {
		b.Fatal(err)
	}
	ctx := store.WithSearchVersions(context.Background(), teamID, versions)
	type scenario struct {
		name string
		q    store.ContactQuery
		page bool // the next page
	}
	var scenarios []scenario
	for _, sortKey := range store.ContactSorts {
		scenarios = append(scenarios, scenario{"anna/" + sortKey, store.ContactQuery{Search: "anna", Sort: sortKey}, false},
			scenario{"anna/" + sortKey + "/page2", store.ContactQuery{Search: "anna", Sort: sortKey}, true})
	}
	for _, q := range []string{"anna", "müller"} {
		scenarios = append(scenarios, scenario{q + "/name/desc", store.ContactQuery{Search: q, Sort: "name", Desc: true}, false})
	}
	for _, q := range []string{"müller", "schmidt", "anna müller", "laura kowalczyk", "anna m", "a", "m", "y", "kow", "1711", "brenneranalytics"} {
		scenarios = append(scenarios, scenario{q, store.ContactQuery{Search: q}, false})
	}
	for _, sc := range scenarios {
		b.Run(strings.ReplaceAll(sc.name, " ", "_"), func(b *testing.B) {
			q := sc.q
			if sc.page {
				p, err := s.ListContacts(ctx, teamID, q)
				if err != nil {
					b.Fatal(err)
				}
				q.Cursor = p.Next
			}
			for range 2 { // the cache's sets, dense sets and ordered sets
				if _, err := s.ListContacts(ctx, teamID, q); err != nil {
					b.Fatal(err)
				}
			}
			if os.Getenv("SHERPA_BENCH_SQL") == "1" {
				fmt.Println("-- timed:", sc.name)
			}
			before := benchCounter.c.n.Load()
			measure(b, func() error { _, err := s.ListContacts(ctx, teamID, q); return err })
			b.ReportMetric(float64(benchCounter.c.n.Load()-before)/float64(b.N), "stmts/op")
		})
	}
}
