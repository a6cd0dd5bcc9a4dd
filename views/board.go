package views

import (
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"sherpa/money"
	"sherpa/store"
)

// Closing is what a form needs to close a deal: today in the team's zone
// (the closing day's default) and the team's lost reasons, with the values
// as typed.
type Closing struct {
	Today      string
	Reasons    []string
	ClosedOn   string
	LostReason string
	LostNote   string
}

// BoardSettings is the team page's form of board settings (owners and
// admins): the lost reasons, one a line, and each open stage's win
// probability and stale threshold.
type BoardSettings struct {
	Reasons string
	Stages  []store.StageSetting
	Errors  Errors
}

// BoardFilter is the board's filter, as in its URL.
type BoardFilter struct {
	View    string // all, mine, owner
	OwnerID int64
	Q       string
	From    string // YYYY-MM-DD or ""
	To      string
	Stale   bool
	Stage   string // the column shown at phone width
}

// Values is the filter as URL query values.
func (f BoardFilter) Values() url.Values {
	v := url.Values{}
	if f.View != "" && f.View != store.ViewAll {
		v.Set("view", f.View)
	}
	if f.View == store.ViewOwner && f.OwnerID != 0 {
		v.Set("owner", strconv.FormatInt(f.OwnerID, 10))
	}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.From != "" {
		v.Set("close_from", f.From)
	}
	if f.To != "" {
		v.Set("close_to", f.To)
	}
	if f.Stale {
		v.Set("stale", "1")
	}
	if f.Stage != "" {
		v.Set("stage", f.Stage)
	}
	return v
}

// URL is path with the filter's query.
func (f BoardFilter) URL(path string) string {
	if q := f.Values().Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

// with returns the filter's query plus extra key/value pairs.
func (f BoardFilter) with(path string, kv ...string) string {
	v := f.Values()
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// Board is the pipeline board page and its live fragment.
type Board struct {
	Filter  BoardFilter
	Members []store.User
	Columns []store.BoardColumn
	Me      *store.User
	Now     time.Time
	// MonthLabel names the month the closed columns show without a range.
	MonthLabel string
	ETag       string
	Closing    Closing
	Message    string // a refused move's message
	Money      func(int64) string
	// Currency is the team's, for amounts in form fields.
	Currency string
	// Fragment, when set, is BoardFragment(b) already drawn (the handlers
	// keep it per data version); the page shows it instead of drawing.
	Fragment templ.Component
}

// BoardPollSeconds is how often an open board asks whether anything changed.
const BoardPollSeconds = 3

func (b Board) picked(stage string) bool {
	if b.Filter.Stage == "" {
		return stage == store.StageCreated
	}
	return b.Filter.Stage == stage
}

func stageKey(stage string) string {
	out := make([]rune, 0, len(stage))
	for _, r := range stage {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		case r >= 'a' && r <= 'z':
			out = append(out, r)
		default:
			out = append(out, '-')
		}
	}
	return string(out)
}

// moveTargets are the stages a card may be moved to.
func moveTargets(stage string) []string {
	var out []string
	for _, st := range store.NextStages(stage) {
		if st != stage {
			out = append(out, st)
		}
	}
	return out
}

// cardClass is a card's class list (a plain string: 300 cards a board,
// without templ's class merging).
func cardClass(stale, movable bool) string {
	switch {
	case stale && !movable:
		return "board-card stale locked"
	case stale:
		return "board-card stale"
	case !movable:
		return "board-card locked"
	}
	return "board-card"
}

// moveOptionsHTML holds, per stage, the "Move to…" options of its cards,
// drawn once: they depend on the stage alone, and stage names are the
// store's constants.
var moveOptionsHTML = func() map[string]templ.Component {
	out := map[string]templ.Component{}
	for _, stage := range store.Stages {
		html := `<option value="">Move to…</option>`
		for _, st := range moveTargets(stage) {
			esc := templ.EscapeString(st)
			html += `<option value="` + esc + `">` + esc + `</option>`
		}
		out[stage] = templ.Raw(html)
	}
	return out
}()

// moveOptions is moveOptionsHTML for a stage (none for an unknown one).
func moveOptions(stage string) templ.Component {
	if c, ok := moveOptionsHTML[stage]; ok {
		return c
	}
	return templ.Raw(`<option value="">Move to…</option>`)
}

func percent(n int) string { return strconv.Itoa(n) + " %" }

func daysLabel(n int) string {
	if n == 1 {
		return "1 day in stage"
	}
	return strconv.Itoa(n) + " days in stage"
}

func ownerLabel(d store.Deal) string {
	if d.OwnerName == "" {
		return "Unassigned"
	}
	return d.OwnerName
}

// moneyValue is an amount as a form field holds it ("" for none).
func moneyValue(minor int64, currency string) string {
	if minor == 0 {
		return ""
	}
	return money.FormatPlain(minor, currency)
}
