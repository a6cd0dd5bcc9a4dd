package views

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// cellOf is one table cell around its content: the markup templ drew for
// `<td class={ c.cellClass() } data-label={ c.Label }>{ children... }</td>`,
// written directly. A table page has some 250 cells, and templ's class-list
// resolution and children context per cell were a sixth of a page's CPU.
func cellOf(c ShownColumn, inner templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		open := c.open
		if open == "" { // a column not made by newShownColumn
			open = newShownColumn(c.Column, c.WideOnly).open
		}
		if _, err := io.WriteString(w, open); err != nil {
			return err
		}
		if err := inner.Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, "</td>")
		return err
	})
}
