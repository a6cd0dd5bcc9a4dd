package views

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"

	"sherpa/store"
)

func foundSummary(f store.Found) string {
	more := func(b bool) string {
		if b {
			return "+"
		}
		return ""
	}
	return fmt.Sprintf("%d%s %s and %d%s %s", len(f.Contacts), more(f.MoreContacts), plural(len(f.Contacts), "contact", "contacts"),
		len(f.Deals), more(f.MoreDeals), plural(len(f.Deals), "deal", "deals"))
}

// joinDot joins the non-empty parts with " · ".
func joinDot(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// tabIndex puts the selected tab in the Tab order and leaves the others to
// the arrow keys (WAI-ARIA tabs pattern).
func tabIndex(selected bool) string {
	if selected {
		return "0"
	}
	return "-1"
}

// oobAttr marks an element for an out-of-band htmx swap.
func oobAttr(oob bool) templ.Attributes {
	if !oob {
		return nil
	}
	return templ.Attributes{"hx-swap-oob": "true"}
}
