package store

import (
	"context"
	"strings"
	"time"

	"sherpa/money"
)

// The JSON shapes of records, shared by the API's answers and the webhooks'
// payloads, so a script sees one representation of a contact wherever it
// meets one. The OpenAPI document (handlers/api_openapi.go) describes them.

// ContactJSON is a contact as the API shows it.
type ContactJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	Company   string    `json:"company"`
	Status    string    `json:"status"`
	OwnerID   *int64    `json:"owner_id"`
	OwnerName string    `json:"owner_name"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// JSON is the contact's API representation.
func (c *Contact) JSON() ContactJSON {
	return ContactJSON{ID: c.ID, Name: c.Name, Email: c.Email, Phone: c.Phone, Company: c.Company, Status: c.Status,
		OwnerID: optID(c.OwnerID), OwnerName: c.OwnerName, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// DealJSON is a deal as the API shows it. Amounts come twice: as a decimal
// string in the team's currency ("1234.50", what the forms accept) and in
// integer minor units.
type DealJSON struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Stage       string     `json:"stage"`
	Currency    string     `json:"currency"`
	Goal        string     `json:"goal"`
	GoalMinor   int64      `json:"goal_minor"`
	Amount      string     `json:"amount"`
	AmountMinor int64      `json:"amount_minor"`
	CloseDate   *string    `json:"close_date"`
	OwnerID     *int64     `json:"owner_id"`
	OwnerName   string     `json:"owner_name"`
	ContactID   int64      `json:"contact_id"`
	ContactName string     `json:"contact_name"`
	Company     string     `json:"company"`
	LostReason  string     `json:"lost_reason"`
	LostNote    string     `json:"lost_note"`
	ClosedAt    *time.Time `json:"closed_at"`
	Version     int        `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// JSON is the deal's API representation in the team's currency.
func (d *Deal) JSON(currency string) DealJSON {
	j := DealJSON{ID: d.ID, Name: d.Name, Stage: d.Stage, Currency: currency,
		Goal: decimal(d.Goal, currency), GoalMinor: d.Goal, Amount: decimal(d.Amount, currency), AmountMinor: d.Amount,
		OwnerID: optID(d.OwnerID), OwnerName: d.OwnerName, ContactID: d.ContactID, ContactName: d.ContactName,
		Company: d.Company, LostReason: d.LostReason, LostNote: d.LostNote, Version: d.Version,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if !d.CloseDate.IsZero() {
		s := d.CloseDate.Format(time.DateOnly)
		j.CloseDate = &s
	}
	if !d.ClosedAt.IsZero() {
		t := d.ClosedAt
		j.ClosedAt = &t
	}
	return j
}

// decimal writes minor units as a plain decimal number: "1234.50".
func decimal(minor int64, currency string) string {
	return strings.ReplaceAll(money.FormatPlain(minor, currency), ",", "")
}

// NoteJSON is a note as the API shows it.
type NoteJSON struct {
	ID         int64     `json:"id"`
	ContactID  int64     `json:"contact_id"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// JSON is the note's API representation.
func (n *Note) JSON() NoteJSON {
	return NoteJSON{ID: n.ID, ContactID: n.ContactID, AuthorID: n.AuthorID, AuthorName: n.AuthorName, Body: n.Body, CreatedAt: n.CreatedAt}
}

// ActivityJSON is an activity as the API shows it.
type ActivityJSON struct {
	ID          int64      `json:"id"`
	ContactID   int64      `json:"contact_id"`
	UserID      int64      `json:"user_id"`
	UserName    string     `json:"user_name"`
	Type        string     `json:"type"`
	Description string     `json:"description"`
	At          time.Time  `json:"at"`
	DueAt       *time.Time `json:"due_at"`
}

// JSON is the activity's API representation.
func (a *Activity) JSON() ActivityJSON {
	j := ActivityJSON{ID: a.ID, ContactID: a.ContactID, UserID: a.UserID, UserName: a.UserName, Type: a.Type,
		Description: a.Description, At: a.At}
	if !a.DueAt.IsZero() {
		t := a.DueAt
		j.DueAt = &t
	}
	return j
}

// MemberJSON is a team member as the API shows them.
type MemberJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// MemberJSON is the user's API representation as a team member.
func (u *User) MemberJSON() MemberJSON {
	return MemberJSON{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}
}

// StageLogJSON is one row of a deal's stage history.
type StageLogJSON struct {
	FromStage string    `json:"from_stage"`
	ToStage   string    `json:"to_stage"`
	Kind      string    `json:"kind"`
	UserID    int64     `json:"user_id"`
	UserName  string    `json:"user_name"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"`
	Note      string    `json:"note"`
}

// JSON is the stage-log row's API representation.
func (l *StageLog) JSON() StageLogJSON {
	return StageLogJSON{FromStage: l.FromStage, ToStage: l.ToStage, Kind: l.Kind, UserID: l.UserID, UserName: l.UserName,
		At: l.At, Reason: l.Reason, Note: l.Note}
}

func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// ContactCursorOK reports whether a cursor was made by ListContacts for the
// query's sort and direction; the API refuses one that was not (the tables
// quietly show the first page).
func ContactCursorOK(q ContactQuery) bool { return contactList.cursorOK(q.Cursor, q.Sort, q.Desc) }

// DealCursorOK is ContactCursorOK for deals.
func DealCursorOK(q DealQuery) bool { return dealList.cursorOK(q.Cursor, q.Sort, q.Desc) }

func (sp *listSpec) cursorOK(c, sort string, desc bool) bool {
	if c == "" {
		return true
	}
	cur, ok := decodeCursor(c)
	return ok && cur.Sort == sp.sortDef(sort).key && cur.Desc == desc
}

// TeamCurrency is the currency the team keeps its amounts in.
func (s *Store) TeamCurrency(ctx context.Context, teamID int64) (string, error) {
	return s.teamCurrency(ctx, teamID)
}
