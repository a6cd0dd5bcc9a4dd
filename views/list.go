package views

import (
	"net/url"
	"time"

	"github.com/a-h/templ"

	"sherpa/store"
)

// ListState is where a table page stands: view, search, sort and position.
// It all lives in the URL, so a page can be bookmarked, shared, reloaded and
// walked with the back button; contacts and deals share it.
type ListState struct {
	Path   string // "/contacts" or "/deals"
	View   string
	Q      string
	Sort   string
	Desc   bool
	Cursor string
	Next   string // cursor of the next page, "" on the last
	Prev   string // cursor of the previous page, "" on the first
}

func (l ListState) values() url.Values {
	v := url.Values{}
	if l.View != "" && l.View != "all" {
		v.Set("view", l.View)
	}
	if l.Q != "" {
		v.Set("q", l.Q)
	}
	if l.Sort != "" {
		v.Set("sort", l.Sort)
		if l.Desc {
			v.Set("dir", "desc")
		} else {
			v.Set("dir", "asc")
		}
	}
	if l.Cursor != "" {
		v.Set("cursor", l.Cursor)
	}
	return v
}

func (l ListState) url() string {
	if q := l.values().Encode(); q != "" {
		return l.Path + "?" + q
	}
	return l.Path
}

// URL is the address of this exact page.
func (l ListState) URL() string { return l.url() }

// SortURL sorts by col: ascending first, flipped when col is already the
// sort column. Sorting starts again from the first page.
func (l ListState) SortURL(col string) string {
	n := l
	n.Cursor = ""
	if l.Sort == col {
		n.Desc = !l.Desc
	} else {
		n.Sort, n.Desc = col, false
	}
	return n.url()
}

// ViewURL switches the view, keeping search and sort.
func (l ListState) ViewURL(view string) string {
	n := l
	n.View, n.Cursor = view, ""
	return n.url()
}

// PageURL is the address of the page at cursor.
func (l ListState) PageURL(cursor string) string {
	n := l
	n.Cursor = cursor
	return n.url()
}

// SortArrow marks the sort column with its direction.
func (l ListState) SortArrow(col string) string {
	if l.Sort != col {
		return ""
	}
	if l.Desc {
		return "↓"
	}
	return "↑"
}

// AriaSort is the aria-sort value of a column header.
func (l ListState) AriaSort(col string) string {
	if l.Sort != col {
		return "none"
	}
	if l.Desc {
		return "descending"
	}
	return "ascending"
}

func viewOf(l ListState) string {
	if l.View == "" {
		return "all"
	}
	return l.View
}

func dirOf(l ListState) string {
	if l.Desc {
		return "desc"
	}
	return "asc"
}

func currentIf(b bool) string {
	if b {
		return "page"
	}
	return ""
}

func ownerName(members []store.User, id int64) string {
	if id == 0 {
		return "Unassigned"
	}
	for _, m := range members {
		if m.ID == id {
			return m.Name
		}
	}
	return "—"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func activityLabel(t string) string {
	switch t {
	case "note":
		return "Note"
	case "email":
		return "Email"
	case "task":
		return "Task"
	case "task_completed":
		return "Task done"
	case "meeting":
		return "Meeting"
	case "import":
		return "Import"
	}
	return t
}

func stageClass(stage string) string {
	switch stage {
	case "Closed Won":
		return "won"
	case "Closed Lost":
		return "lost"
	}
	return "open"
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2 Jan 2006")
}

// formAttr ties a control to a form elsewhere in the row; an empty form
// attribute would tie it to no form at all, so it is left out then.
func formAttr(id string) templ.Attributes {
	if id == "" {
		return nil
	}
	return templ.Attributes{"form": id}
}

// ColumnsURL is where the column chooser saves, keeping the list state.
func (l ListState) ColumnsURL() string {
	n := l
	n.Path = l.Path + "/columns"
	return n.url()
}

// colWidth is a fixed column's width as an inline style ("" for none).
func colWidth(w string) templ.SafeCSS {
	if w == "" {
		return ""
	}
	return templ.SafeCSS("width: " + w)
}
