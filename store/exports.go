package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"sherpa/money"
)

// Export
//
// An export walks the same keyset pages as the tables (same view, search and
// sort), exportPageSize rows at a time, and hands each page to the caller as CSV
// records, so memory stays flat whatever the team's size. The columns are
// the ones the importer matches automatically, so an exported file imports
// back into an empty team as the same records.

// ContactExportHeader is the header row of a contacts export.
var ContactExportHeader = []string{"Name", "Email", "Phone", "Company", "Status", "Owner"}

// DealExportHeader is the header row of a deals export.
var DealExportHeader = []string{"Name", "Stage", "Goal", "Amount", "Close date", "Owner", "Contact email", "Company"}

// memberEmails maps the team's member ids to their emails.
func (s *Store) memberEmails(ctx context.Context, teamID int64) (map[int64]string, error) {
	members, err := s.TeamMembers(ctx, teamID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(members))
	for _, m := range members {
		out[m.ID] = m.Email
	}
	return out, nil
}

// ExportContacts calls emit with the records of every contact the query
// lists, a page at a time, in the list's order (q.Cursor and q.Limit are
// ignored). A record follows ContactExportHeader; the owner is the member's
// email. emit must not keep the slice.
func (s *Store) ExportContacts(ctx context.Context, teamID int64, q ContactQuery, emit func(records [][]string) error) error {
	s, err := s.exportStore()
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	owners, err := s.memberEmails(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	q.Limit, q.bulk = exportPageSize, true
	list := func(cursor string) ([]Contact, string, error) {
		q.Cursor = cursor
		page, err := s.ListContacts(ctx, teamID, q)
		if err != nil {
			return nil, "", err
		}
		return page.Rows, page.Next, nil
	}
	record := func(rows []Contact, out [][]string) ([][]string, error) {
		for _, c := range rows {
			out = append(out, []string{c.Name, c.Email, c.Phone, c.Company, c.Status, owners[c.OwnerID]})
		}
		return out, nil
	}
	if err := exportPages(list, record, emit); err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	return nil
}

// ExportDeals is ExportContacts for deals; records follow DealExportHeader
// (money as 1,234.50, dates as YYYY-MM-DD, the contact by email).
func (s *Store) ExportDeals(ctx context.Context, teamID int64, q DealQuery, emit func(records [][]string) error) error {
	s, err := s.exportStore()
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	currency, err := s.teamCurrency(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	owners, err := s.memberEmails(ctx, teamID)
	if err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	q.Limit, q.bulk = exportPageSize, true
	list := func(cursor string) ([]Deal, string, error) {
		q.Cursor = cursor
		page, err := s.ListDeals(ctx, teamID, q)
		if err != nil {
			return nil, "", err
		}
		return page.Rows, page.Next, nil
	}
	record := func(rows []Deal, out [][]string) ([][]string, error) {
		emails, err := s.contactEmails(ctx, s.DB, teamID, rows)
		if err != nil {
			return nil, err
		}
		for _, d := range rows {
			date := ""
			if !d.CloseDate.IsZero() {
				date = d.CloseDate.UTC().Format(time.DateOnly)
			}
			out = append(out, []string{d.Name, d.Stage, money.FormatPlain(d.Goal, currency), money.FormatPlain(d.Amount, currency), date,
				owners[d.OwnerID], emails[d.ContactID], d.Company})
		}
		return out, nil
	}
	if err := exportPages(list, record, emit); err != nil {
		return fmt.Errorf("export deals: %w", err)
	}
	return nil
}

// exportPages walks a list from its first page to its last (list answers a
// page's rows and the next cursor, "" after the last), turning each page's
// rows into records and emitting them.
func exportPages[T any](list func(cursor string) ([]T, string, error), record func(rows []T, out [][]string) ([][]string, error), emit func([][]string) error) error {
	records := make([][]string, 0, exportPageSize)
	cursor := ""
	for {
		rows, next, err := list(cursor)
		if err != nil {
			return err
		}
		if records, err = record(rows, records[:0]); err != nil {
			return err
		}
		if len(records) > 0 {
			if err := emit(records); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// contactEmails maps the contact ids of deals to the contacts' emails.
func (s *Store) contactEmails(ctx context.Context, db bun.IDB, teamID int64, deals []Deal) (map[int64]string, error) {
	out := map[int64]string{}
	if len(deals) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(deals))
	for _, d := range deals {
		ids = append(ids, d.ContactID)
	}
	var rows []struct {
		ID    int64  `bun:"id"`
		Email string `bun:"email"`
	}
	if err := db.NewRaw("SELECT id, email FROM contacts WHERE team_id = ? AND id IN (?)", teamID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load contact emails: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Email
	}
	return out, nil
}

// NeutralizeCell makes a CSV cell safe to open in a spreadsheet: a cell that
// starts with =, +, -, @, a tab or a carriage return would be read as a
// formula, so it gets a leading apostrophe. The importer takes it off again
// (UnneutralizeCell).
func NeutralizeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// UnneutralizeCell undoes NeutralizeCell.
func UnneutralizeCell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}
