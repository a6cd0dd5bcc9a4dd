package views

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"sherpa/store"
)

// Column is one column a list table can show. The contacts and deals tables
// are drawn from their column lists (ContactColumns, DealColumns): header,
// cell, phone label, sort and the column chooser all come from one entry, so
// a new column is one more entry there.
type Column struct {
	Key   string // stable name: the column chooser and the stored choice use it
	Label string // header, phone-width label and chooser entry
	Sort  string // the sort this header sets; "" for a column that does not sort
	// Width is the column's CSS width in the fixed table layout; "" shares
	// what the fixed columns leave equally with the other flexible ones.
	Width string
	Class string // extra cell class ("num")
	// Fixed columns are always shown; the chooser does not offer them.
	Fixed bool
	// Default: shown when the user has not chosen columns.
	Default bool
	// Wide: a default column only shown on wide screens (see app.css
	// .col-wide); a column the user chose is shown at every width.
	Wide bool
}

// ContactColumn is a column of the contacts table and how it draws a cell.
type ContactColumn struct {
	Column
	Cell func(store.Contact) templ.Component
}

// DealColumn is a column of the deals table and how it draws a cell.
type DealColumn struct {
	Column
	Cell func(store.Deal, func(int64) string) templ.Component
}

// ContactColumns are the contacts table's columns, in display order.
var ContactColumns = []ContactColumn{
	{Column{Key: "name", Label: "Name", Sort: "name", Fixed: true, Default: true}, contactNameCell},
	{Column{Key: "email", Label: "Email", Sort: "email", Default: true}, contactEmailCell},
	// Phone gives way to Next step at 1280 px: the back burner and the
	// next steps are what a team works the list by.
	{Column{Key: "phone", Label: "Phone", Sort: "phone", Width: "9.5rem", Default: true, Wide: true}, contactPhoneCell},
	{Column{Key: "company", Label: "Company", Sort: "company", Default: true}, contactCompanyCell},
	{Column{Key: "status", Label: "Status", Sort: "status", Width: "7.5rem", Default: true}, contactStatusCell},
	{Column{Key: "owner", Label: "Owner", Sort: "owner", Width: "9rem", Default: true}, contactOwnerCell},
	{Column{Key: "updated", Label: "Updated", Sort: "updated", Width: "8.5rem", Default: true}, contactUpdatedCell},
	{Column{Key: "created", Label: "Created", Sort: "created", Width: "8.5rem", Default: true, Wide: true}, contactCreatedCell},
	{Column{Key: "last_contacted", Label: "Last contacted", Sort: "last_contacted", Width: "10.5rem", Default: true}, contactLastContactedCell},
	{Column{Key: "next_step", Label: "Next step", Sort: "next_step", Width: "11rem", Default: true}, contactNextStepCell},
}

// DealColumns are the deals table's columns, in display order.
var DealColumns = []DealColumn{
	{Column{Key: "name", Label: "Deal", Sort: "name", Fixed: true, Default: true}, dealNameCell},
	{Column{Key: "contact", Label: "Contact", Sort: "contact", Default: true}, dealContactCell},
	{Column{Key: "company", Label: "Company", Sort: "company"}, dealCompanyCell},
	{Column{Key: "stage", Label: "Stage", Sort: "stage", Width: "8.5rem", Default: true}, dealStageCell},
	{Column{Key: "goal", Label: "Goal", Sort: "goal", Width: "8rem", Class: "num", Default: true}, dealGoalCell},
	{Column{Key: "amount", Label: "Amount", Sort: "amount", Width: "8rem", Class: "num", Default: true}, dealAmountCell},
	{Column{Key: "close_date", Label: "Close date", Sort: "close_date", Width: "7.5rem", Default: true}, dealCloseCell},
	{Column{Key: "owner", Label: "Owner", Sort: "owner", Width: "9rem", Default: true}, dealOwnerCell},
	{Column{Key: "updated", Label: "Updated", Sort: "updated", Width: "8.5rem", Default: true, Wide: true}, dealUpdatedCell},
	{Column{Key: "created", Label: "Created", Sort: "created", Width: "8.5rem"}, dealCreatedCell},
}

// ColumnChoice is which columns a table shows: the user's own choice, or
// the defaults (with the wide-screen ones) when Chosen is false.
type ColumnChoice struct {
	Keys   []string
	Chosen bool
}

// shown reports whether col is on the table and whether only wide screens
// show it.
func (ch ColumnChoice) shown(col Column) (on, wideOnly bool) {
	if col.Fixed {
		return true, false
	}
	if !ch.Chosen {
		return col.Default, col.Wide
	}
	return slices.Contains(ch.Keys, col.Key), false
}

// ShownColumn is a column as a table draws it.
type ShownColumn struct {
	Column
	WideOnly bool
	// open is the cell's opening tag, escaped once (cellOf).
	open string
}

func newShownColumn(c Column, wideOnly bool) ShownColumn {
	sc := ShownColumn{Column: c, WideOnly: wideOnly}
	sc.open = `<td class="` + templ.EscapeString(sc.cellClass()) + `" data-label="` + templ.EscapeString(c.Label) + `">`
	return sc
}

func (c ShownColumn) cellClass() string {
	cls := c.Class
	if c.WideOnly {
		if cls != "" {
			cls += " "
		}
		cls += "col-wide"
	}
	return cls
}

// ColumnKeys are the keys of every column of a list ("contacts", "deals")
// the chooser may switch, in order; nil for an unknown list.
func ColumnKeys(list string) []string {
	var keys []string
	switch list {
	case "contacts":
		for _, c := range ContactColumns {
			if !c.Fixed {
				keys = append(keys, c.Key)
			}
		}
	case "deals":
		for _, c := range DealColumns {
			if !c.Fixed {
				keys = append(keys, c.Key)
			}
		}
	}
	return keys
}

func contactShown(ch ColumnChoice) []ShownColumn {
	return shownColumns("contacts", ch, contactColumnList)
}

func dealShown(ch ColumnChoice) []ShownColumn {
	return shownColumns("deals", ch, dealColumnList)
}

// shownMemo keeps each column choice's shown columns: every row of a table
// asked for them (25 rows, each walking the columns and escaping their
// class and label, were 6% of a search page's CPU). The lists are shared:
// callers only read them. Choices are few (one per user and list at most),
// and the memo is emptied when it grows past shownMemoMax all the same.
var (
	shownMemoMu sync.Mutex
	shownMemo   = map[string][]ShownColumn{}
)

const shownMemoMax = 4096

// shownColumns is the list's columns that the choice shows (columns
// gives them all, in order), from the memo when it has them.
func shownColumns(list string, ch ColumnChoice, columns func() []Column) []ShownColumn {
	key := list + "|" + strconv.FormatBool(ch.Chosen) + "|" + strings.Join(ch.Keys, ",")
	shownMemoMu.Lock()
	defer shownMemoMu.Unlock()
	if cols, ok := shownMemo[key]; ok {
		return cols
	}
	if len(shownMemo) >= shownMemoMax {
		clear(shownMemo)
	}
	var cols []ShownColumn
	for _, c := range columns() {
		if on, wide := ch.shown(c); on {
			cols = append(cols, newShownColumn(c, wide))
		}
	}
	shownMemo[key] = cols
	return cols
}

func contactCell(key string) func(store.Contact) templ.Component {
	for _, c := range ContactColumns {
		if c.Key == key {
			return c.Cell
		}
	}
	return nil
}

func dealCell(key string) func(store.Deal, func(int64) string) templ.Component {
	for _, c := range DealColumns {
		if c.Key == key {
			return c.Cell
		}
	}
	return nil
}

// chooserColumns are the columns the chooser offers, with whether each is on.
type chooserColumn struct {
	Column
	On       bool
	WideOnly bool // on, but only wide screens show it (the defaults)
}

func chooser(cols []Column, ch ColumnChoice) []chooserColumn {
	var out []chooserColumn
	for _, c := range cols {
		if c.Fixed {
			continue
		}
		on, wide := ch.shown(c)
		out = append(out, chooserColumn{c, on, on && wide})
	}
	return out
}

func contactColumnList() []Column {
	out := make([]Column, len(ContactColumns))
	for i, c := range ContactColumns {
		out[i] = c.Column
	}
	return out
}

func dealColumnList() []Column {
	out := make([]Column, len(DealColumns))
	for i, c := range DealColumns {
		out[i] = c.Column
	}
	return out
}

// editSpan is how many cells an edit row's form spans: the columns every
// width shows and the actions. Each wide-screen-only column gets an empty
// cell of its own after it (wideOnly), shown only where the column is, so
// the row is exactly as wide as the table at every width.
func editSpan(cols []ShownColumn) string {
	n := 1
	for _, c := range cols {
		if !c.WideOnly {
			n++
		}
	}
	return idStr(int64(n))
}

func wideOnly(cols []ShownColumn) []ShownColumn {
	var out []ShownColumn
	for _, c := range cols {
		if c.WideOnly {
			out = append(out, c)
		}
	}
	return out
}
