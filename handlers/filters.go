package handlers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/money"
	"sherpa/store"
	"sherpa/views"
)

// Filters live in the URL (views.ContactFilterFields, DealFilterFields). A
// value that is not understood is left out of the filter and named under
// the form, so a hand-edited URL still shows a page.

// filterValues reads the filter fields of the query string, trimmed and
// without empty values.
func filterValues(c *fiber.Ctx, fields []string) url.Values {
	out := url.Values{}
	args := c.Context().QueryArgs()
	for _, f := range fields {
		for _, b := range args.PeekMulti(f) {
			if v := strings.TrimSpace(store.CleanText(string(b))); v != "" && len(out[f]) < 50 {
				out.Add(f, v)
			}
		}
	}
	return out
}

// filterReader turns filter values into typed values, dropping and naming
// what it cannot read.
type filterReader struct {
	vals     url.Values
	loc      *time.Location
	problems map[string]string
}

func (r *filterReader) drop(field, msg string) {
	r.vals.Del(field)
	r.problems[field] = msg
}

// day reads a date field as the start of that day in the team's zone; with
// next, the start of the day after (an inclusive "to").
func (r *filterReader) day(field string, next bool) time.Time {
	v := r.vals.Get(field)
	if v == "" {
		return time.Time{}
	}
	d, err := store.ParseDay(v, r.loc)
	if err != nil {
		r.drop(field, "Dates are written 2026-01-31; “"+v+"” was ignored.")
		return time.Time{}
	}
	if next {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// owners reads the owner field: members' ids and "none".
func (r *filterReader) owners() []int64 {
	var out []int64
	for _, v := range r.vals["owner"] {
		if v == views.OwnerNone {
			out = append(out, store.Unassigned)
			continue
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			r.drop("owner", "Choose owners from the list.")
			return nil
		}
		out = append(out, id)
	}
	return out
}

// oneOf keeps the values of field that are in allowed.
func (r *filterReader) oneOf(field string, allowed []string) []string {
	var out []string
	for _, v := range r.vals[field] {
		if !slices.Contains(allowed, v) {
			r.drop(field, "Choose from the list.")
			return nil
		}
		out = append(out, v)
	}
	return out
}

func newFilterReader(c *fiber.Ctx, fields []string) *filterReader {
	return &filterReader{vals: filterValues(c, fields), loc: teamLocation(currentTeam(c)), problems: map[string]string{}}
}

// contactFilter reads the contacts table's filter from the URL.
func contactFilter(c *fiber.Ctx) (store.ContactFilter, url.Values, map[string]string) {
	r := newFilterReader(c, views.ContactFilterFields)
	f := store.ContactFilter{
		Statuses: r.oneOf("status", store.ContactStatuses),
		Owners:   r.owners(),
		Company:  r.vals.Get("company"),
	}
	if len(f.Company) > store.MaxCompanyLen {
		r.drop("company", "A company name is at most 100 characters.")
		f.Company = ""
	}
	f.CreatedFrom, f.CreatedTo = r.day("created_from", false), r.day("created_to", true)
	f.UpdatedFrom, f.UpdatedTo = r.day("updated_from", false), r.day("updated_to", true)
	f.ContactedFrom, f.ContactedTo = r.day("contacted_from", false), r.day("contacted_to", true)
	return f, r.vals, r.problems
}

// dealFilter reads the deals table's filter from the URL; amounts are read
// in the team's currency.
func dealFilter(c *fiber.Ctx) (store.DealFilter, url.Values, map[string]string) {
	r := newFilterReader(c, views.DealFilterFields)
	f := store.DealFilter{Stages: r.oneOf("stage", store.Stages), Owners: r.owners()}
	// Close dates are days, not instants: read them in UTC.
	r.loc = time.UTC
	f.CloseFrom, f.CloseTo = r.day("close_from", false), r.day("close_to", false)
	currency := currentTeam(c).Currency
	for _, a := range []struct {
		field string
		dst   **int64
	}{{"amount_min", &f.AmountMin}, {"amount_max", &f.AmountMax}} {
		v := r.vals.Get(a.field)
		if v == "" {
			continue
		}
		n, err := money.Parse(v, currency)
		if err != nil {
			r.drop(a.field, "Amounts are written like "+money.Example(currency)+"; “"+v+"” was ignored.")
			continue
		}
		*a.dst = &n
	}
	return f, r.vals, r.problems
}
