package main

import (
	"context"
	"net/http"
	"net/url"

	"sherpa/store"
)

// searchScenarios are the search classes of issue 10 §2 and the top bar's
// search (issue 13): the most common first name under every sort of the
// table (first page, and with -db the next page by its keyset cursor),
// descending, a surname, two words, one letter, a rare word, phone digits,
// the deals table, and /search as the top bar's dropdown asks it (htmx,
// five of each).
func searchScenarios(ctx context.Context, st *store.Store, teamID int64, get func(string) func(*http.Client, int, int) (*http.Request, error)) []scenario {
	var out []scenario
	for _, sortKey := range store.ContactSorts {
		path := "/contacts?q=anna&sort=" + sortKey + "&dir=asc"
		out = append(out, scenario{"search anna sort=" + sortKey, get(path)})
		if st != nil {
			p, err := st.ListContacts(ctx, teamID, store.ContactQuery{Search: "anna", Sort: sortKey})
			if err == nil && p.Next != "" {
				out = append(out, scenario{"search anna sort=" + sortKey + " page 2", get(path + "&cursor=" + url.QueryEscape(p.Next))})
			}
		}
	}
	for _, q := range []string{"anna", "müller"} {
		out = append(out, scenario{"search " + q + " sort=name desc", get("/contacts?q=" + url.QueryEscape(q) + "&sort=name&dir=desc")})
	}
	for _, q := range []string{"müller", "laura kowalczyk", "anna m", "m", "y", "kow"} {
		out = append(out, scenario{"search " + q, get("/contacts?q=" + url.QueryEscape(q))})
	}
	for _, q := range []string{"anna", "müller", "renewal"} {
		out = append(out, scenario{"search deals " + q, get("/deals?q=" + url.QueryEscape(q))})
	}
	for _, q := range []string{"anna", "müller", "anna müller", "a", "m", "mü", "anna m", "brenneranalytics", "1711"} {
		out = append(out, scenario{"top-bar search " + q, get("/search?q=" + url.QueryEscape(q))})
	}
	return out
}
