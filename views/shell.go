// Package views holds Sherpa's templ components: a page is Layout around
// fragments, and each fragment that htmx swaps is its own component, so a
// handler renders exactly one of them. Views receive exactly the data they
// show; they import store for its model types only, never to query.
package views

import (
	"fmt"
	"net/url"
	"time"

	"sherpa/store"
)

// Shell is what the layout around every page needs to know.
type Shell struct {
	Title    string
	Active   string // the nav item to highlight: dashboard, contacts, deals, team, profile
	User     *store.User
	TeamName string
	Flash    *Flash
	Sandbox  bool
	// Scripts are extra files of static/ the page loads after app.js.
	Scripts []string
	// Search is what the top bar's search box holds (the search page).
	Search string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // success, error or info
	Message string
}

// Errors maps form field names to messages; the key "" is for the whole form.
type Errors map[string]string

// Has reports whether there is a message for field.
func (e Errors) Has(field string) bool { _, ok := e[field]; return ok }

// Any reports whether there is any message at all.
func (e Errors) Any() bool { return len(e) > 0 }

// invalid returns the aria-invalid attribute value for a field.
func (e Errors) invalid(field string) string {
	if e.Has(field) {
		return "true"
	}
	return ""
}

func roleLabel(role string) string {
	switch role {
	case store.RoleOwner:
		return "Owner"
	case store.RoleAdmin:
		return "Admin"
	case store.RoleMember:
		return "Member"
	}
	return "—"
}

// humanDate renders a time for people; times are shown in UTC until a user
// time zone exists (the browser's zone arrives with the contacts pages).
func humanDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

func daysLeft(until, now time.Time) string {
	d := until.Sub(now)
	switch days := int(d.Hours() / 24); {
	case d <= 0:
		return "expired"
	case days >= 1:
		return fmt.Sprintf("%d days left", days)
	default:
		return fmt.Sprintf("%d hours left", int(d.Hours())+1)
	}
}

func idStr(id int64) string { return fmt.Sprint(id) }

// withNext builds a login or sign-up link that keeps the "next" path and a
// prefilled email.
func withNext(path, next, email string) string {
	q := url.Values{}
	if next != "" {
		q.Set("next", next)
	}
	if email != "" {
		q.Set("email", email)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// canRemove mirrors store.RemoveMember's rule so the button shows only where
// the server will allow it.
func canRemove(me *store.User, m store.User) bool {
	if m.ID == me.ID || m.Role == store.RoleOwner {
		return false
	}
	return me.Role == store.RoleOwner || (me.Role == store.RoleAdmin && m.Role == store.RoleMember)
}

// timeValue is a moment shown in the viewer's time zone: the page carries
// it in UTC, and app.js rewrites it with the browser's zone. Style is
// "datetime" or "date".
type timeValue struct {
	T     time.Time
	Style string
}

func (t timeValue) ISO() string { return t.T.UTC().Format(time.RFC3339) }

func (t timeValue) Fallback() string {
	if t.Style == "date" {
		return t.T.UTC().Format("2 Jan 2006")
	}
	return humanDate(t.T)
}

func at(t time.Time) timeValue { return timeValue{T: t, Style: "datetime"} }
