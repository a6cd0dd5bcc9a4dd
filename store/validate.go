package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"
)

// Errors of record writes, beside ErrNotFound, ErrConflict and ErrDuplicate.
var (
	// ErrInvalid is what FieldErrors match with errors.Is.
	ErrInvalid = errors.New("invalid input")
	// ErrClosed refuses changes to a deal that is Closed Won or Closed Lost.
	ErrClosed = errors.New("this deal is closed and can no longer be changed")
)

// FieldErrors maps a form field name (as in PRODUCT.md section 9) to a
// message for the person who filled it in. An empty FieldErrors means valid.
// As an error it matches ErrInvalid.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for field errors.
func (fe FieldErrors) Is(target error) bool { return target == ErrInvalid }

// err returns fe as an error, or nil when there is nothing in it.
func (fe FieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// DuplicateError refuses a contact whose email another contact of the team
// already has; ExistingID is that contact, for a link. It matches
// ErrDuplicate.
type DuplicateError struct{ ExistingID int64 }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("a contact with this email already exists (contact %d)", e.ExistingID)
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// checkActor makes sure the acting user belongs to the team the write is for.
func checkActor(actor *User, teamID int64) error {
	if actor == nil || actor.TeamID != teamID || teamID == 0 {
		return ErrNotAllowed
	}
	return nil
}

// isMember reports whether userID belongs to the team.
func isMember(ctx context.Context, db bun.IDB, teamID, userID int64) (bool, error) {
	ok, err := db.NewSelect().Model((*User)(nil)).Where("id = ?", userID).Where("team_id = ?", teamID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check member %d: %w", userID, err)
	}
	return ok, nil
}

// checkOwner validates an owner chosen in a form: 0 (unassigned) or a member
// of the team.
func checkOwner(ctx context.Context, db bun.IDB, teamID, ownerID int64) error {
	if ownerID == 0 {
		return nil
	}
	ok, err := isMember(ctx, db, teamID, ownerID)
	if err != nil {
		return err
	}
	if !ok {
		return FieldErrors{"owner_id": "Choose a member of your team."}
	}
	return nil
}
