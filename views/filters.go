package views

import (
	"net/url"
	"slices"
	"strconv"

	"sherpa/store"
)

// Filter fields of the tables' URLs. Several values of status, stage and
// owner combine with OR; fields combine with AND. An owner value is a
// member's id or "none" (unassigned).
var (
	ContactFilterFields = []string{"status", "owner", "company", "created_from", "created_to", "updated_from", "updated_to", "contacted_from", "contacted_to"}
	DealFilterFields    = []string{"stage", "owner", "close_from", "close_to", "amount_min", "amount_max"}
)

// OwnerNone is the owner filter value of "Unassigned".
const OwnerNone = "none"

// FilterBar is what the filter form of a table needs.
type FilterBar struct {
	List    ListState
	Target  string
	Members []store.User
	// Problems names filter fields whose value was not understood (and is
	// ignored), with why.
	Problems map[string]string
}

func (f FilterBar) value(name string) string { return url.Values(f.List.Filter).Get(name) }

func (f FilterBar) has(name, v string) bool { return slices.Contains(f.List.Filter[name], v) }

// Active counts the filter fields in use.
func (f FilterBar) Active() int {
	n := 0
	for _, vals := range f.List.Filter {
		if len(vals) > 0 {
			n++
		}
	}
	return n
}

func (f FilterBar) clearURL() string {
	n := f.List
	n.Filter, n.Cursor, n.Saved = nil, "", 0
	return n.url()
}

func ownerValue(id int64) string { return strconv.FormatInt(id, 10) }

// SavedTabs are a list's saved views as tabs, and the forms that save the
// page as a view and change the current one.
type SavedTabs struct {
	List    string // "contacts" or "deals"
	Path    string
	Views   []store.SavedView
	Current int64
	Me      *store.User
	// Query is the page's query string, which "Save view" keeps.
	Query string
}

func (t SavedTabs) url(v store.SavedView) string {
	u := t.Path + "?"
	if v.Query != "" {
		u += v.Query + "&"
	}
	return u + "saved=" + idStr(v.ID)
}

func (t SavedTabs) current() *store.SavedView {
	for i := range t.Views {
		if t.Views[i].ID == t.Current {
			return &t.Views[i]
		}
	}
	return nil
}

func (t SavedTabs) canShare() bool { return t.Me != nil && t.Me.CanManage() }

func sharedTitle(v store.SavedView) string {
	if v.Shared {
		return "Shared with the team by " + v.CreatorName
	}
	return "Only you see this view"
}

// shortLabel cuts a next step's description for its cell (the whole of it
// is the cell's title).
func shortLabel(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:39]) + "…"
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
