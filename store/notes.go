package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Note is a free-text note a member wrote about a contact.
type Note struct {
	bun.BaseModel `bun:"table:notes,alias:n"`

	ID        int64     `bun:"id,pk,autoincrement"`
	TeamID    int64     `bun:"team_id,notnull"`
	ContactID int64     `bun:"contact_id,notnull"`
	AuthorID  int64     `bun:"author_id,notnull"`
	Body      string    `bun:"body,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`

	AuthorName string `bun:"author_name,scanonly"`
}

// CanDelete reports whether user may remove the note: its author, or an
// owner or admin of the team.
func (n *Note) CanDelete(user *User) bool {
	return user != nil && user.TeamID == n.TeamID && (user.ID == n.AuthorID || user.CanManage())
}

// ValidateNote checks a note's body; the field is "body".
func ValidateNote(body string) FieldErrors {
	fe := FieldErrors{}
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		fe["body"] = "Write something first."
	default:
		checkText(fe, "body", "A note", body, MaxNoteLen, true)
	}
	return fe
}

// AddNote saves a note on a contact of the team and logs a "note" activity
// in the same transaction. ErrNotFound if the team has no such contact.
func (s *Store) AddNote(ctx context.Context, teamID int64, actor *User, contactID int64, body string) (*Note, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if err := ValidateNote(body).err(); err != nil {
		return nil, err
	}
	n := &Note{TeamID: teamID, ContactID: contactID, AuthorID: actor.ID, Body: strings.TrimSpace(body), CreatedAt: s.now()}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contactExists(ctx, tx, teamID, contactID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(n).Exec(ctx); err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		a, err := s.logActivity(ctx, tx, teamID, contactID, actor.ID, ActivityNote, n.Body, n.CreatedAt, time.Time{})
		if err != nil {
			return err
		}
		return s.recordChange(ctx, tx, Change{TeamID: teamID, Activities: activitiesInserted([]Activity{*a})})
	})
	if err != nil {
		return nil, fmt.Errorf("add note to contact %d: %w", contactID, err)
	}
	n.AuthorName = actor.Name
	return n, nil
}

// ListNotes returns a contact's notes, newest first, with their authors'
// names (at most 500). ErrNotFound if the team has no such contact.
func (s *Store) ListNotes(ctx context.Context, teamID, contactID int64) ([]Note, error) {
	if err := contactExists(ctx, s.DB, teamID, contactID); err != nil {
		return nil, err
	}
	var rows []Note
	err := s.selectNotes(s.DB).Where("n.team_id = ?", teamID).Where("n.contact_id = ?", contactID).
		OrderExpr("n.created_at DESC, n.id DESC").Limit(500).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("list notes of contact %d: %w", contactID, err)
	}
	return rows, nil
}

func (s *Store) selectNotes(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Model((*Note)(nil)).ColumnExpr("n.*").ColumnExpr("u.name AS author_name").
		Join("LEFT JOIN users AS u ON u.id = n.author_id")
}

// NoteByID loads a note on a contact of the team.
func (s *Store) NoteByID(ctx context.Context, teamID, contactID, noteID int64) (*Note, error) {
	n := new(Note)
	err := s.selectNotes(s.DB).Where("n.team_id = ?", teamID).Where("n.contact_id = ?", contactID).Where("n.id = ?", noteID).Scan(ctx, n)
	if err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load note %d: %w", noteID, err)
	}
	return n, nil
}

// DeleteNote removes a note from a contact. Only its author or an owner or
// admin of the team may (ErrNotAllowed otherwise); ErrNotFound if the team
// has no such note on that contact. The "note" activity stays: the
// interaction happened.
func (s *Store) DeleteNote(ctx context.Context, teamID int64, actor *User, contactID, noteID int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	n, err := s.NoteByID(ctx, teamID, contactID, noteID)
	if err != nil {
		return fmt.Errorf("delete note: %w", err)
	}
	if !n.CanDelete(actor) {
		return fmt.Errorf("delete note %d: %w", noteID, ErrNotAllowed)
	}
	if _, err := s.DB.NewDelete().Model((*Note)(nil)).Where("team_id = ?", teamID).Where("id = ?", noteID).Exec(ctx); err != nil {
		return fmt.Errorf("delete note %d: %w", noteID, err)
	}
	return nil
}
