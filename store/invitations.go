package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Invitation is a single-use, email-bound offer to join a team. Only a hash
// of its token is stored.
type Invitation struct {
	bun.BaseModel `bun:"table:invitations"`

	ID         int64     `bun:"id,pk,autoincrement"`
	TeamID     int64     `bun:"team_id,notnull"`
	Email      string    `bun:"email,notnull"`
	TokenHash  string    `bun:"token_hash,notnull"`
	InvitedBy  int64     `bun:"invited_by,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
	AcceptedAt time.Time `bun:"accepted_at,nullzero"`
	AcceptedBy int64     `bun:"accepted_by,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`

	TeamName    string `bun:"team_name,scanonly"`
	InviterName string `bun:"inviter_name,scanonly"`
}

// Reasons an invitation cannot be accepted.
var (
	ErrInviteExpired   = errors.New("this invitation has expired")
	ErrInviteUsed      = errors.New("this invitation has already been used")
	ErrInviteRevoked   = errors.New("this invitation was withdrawn by the team")
	ErrInviteWrongUser = errors.New("this invitation was sent to a different email address")
	ErrAlreadyMember   = errors.New("this person is already a member of the team")
)

// Problem says why the invitation cannot be used now, or nil if it can.
func (inv *Invitation) Problem(now time.Time) error {
	switch {
	case !inv.RevokedAt.IsZero():
		return ErrInviteRevoked
	case !inv.AcceptedAt.IsZero():
		return ErrInviteUsed
	case !now.Before(inv.ExpiresAt):
		return ErrInviteExpired
	}
	return nil
}

// CreateInvitation records a new invitation. A pending invitation to the same
// email in the same team is revoked, so only the newest link works.
func (s *Store) CreateInvitation(ctx context.Context, teamID, invitedBy int64, email, tokenHash string, validFor time.Duration) (*Invitation, error) {
	now := s.now()
	inv := &Invitation{TeamID: teamID, Email: NormalizeEmail(email), TokenHash: tokenHash, InvitedBy: invitedBy, CreatedAt: now, ExpiresAt: now.Add(validFor)}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		member, err := tx.NewSelect().Model((*User)(nil)).Where("email = ?", inv.Email).Where("team_id = ?", teamID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check membership: %w", err)
		}
		if member {
			return ErrAlreadyMember
		}
		if _, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", now).
			Where("team_id = ?", teamID).Where("email = ?", inv.Email).
			Where("accepted_at IS NULL").Where("revoked_at IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("revoke older invitations: %w", err)
		}
		if _, err := tx.NewInsert().Model(inv).Exec(ctx); err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("invite %s to team %d: %w", inv.Email, teamID, err)
	}
	return inv, nil
}

func (s *Store) selectInvitations(q bun.IDB) *bun.SelectQuery {
	return q.NewSelect().Model((*Invitation)(nil)).
		ColumnExpr("i.*").ColumnExpr("t.name AS team_name").ColumnExpr("u.name AS inviter_name").
		ModelTableExpr("invitations AS i").
		Join("JOIN teams AS t ON t.id = i.team_id").
		Join("LEFT JOIN users AS u ON u.id = i.invited_by")
}

// InvitationByTokenHash finds an invitation by the hash of its token,
// whatever its state; ErrNotFound if no such token was ever issued.
func (s *Store) InvitationByTokenHash(ctx context.Context, tokenHash string) (*Invitation, error) {
	inv := new(Invitation)
	if err := s.selectInvitations(s.DB).Where("i.token_hash = ?", tokenHash).Scan(ctx, inv); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load invitation: %w", err)
	}
	return inv, nil
}

// PendingInvitations lists a team's invitations that can still be accepted,
// newest first.
func (s *Store) PendingInvitations(ctx context.Context, teamID int64) ([]Invitation, error) {
	var out []Invitation
	err := s.selectInvitations(s.DB).Where("i.team_id = ?", teamID).
		Where("i.accepted_at IS NULL").Where("i.revoked_at IS NULL").Where("i.expires_at > ?", s.now()).
		OrderExpr("i.created_at DESC, i.id DESC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list invitations of team %d: %w", teamID, err)
	}
	return out, nil
}

// PendingInvitationsFor lists invitations addressed to an email that can
// still be accepted, for the no-team home page.
func (s *Store) PendingInvitationsFor(ctx context.Context, email string) ([]Invitation, error) {
	var out []Invitation
	err := s.selectInvitations(s.DB).Where("i.email = ?", NormalizeEmail(email)).
		Where("i.accepted_at IS NULL").Where("i.revoked_at IS NULL").Where("i.expires_at > ?", s.now()).
		OrderExpr("i.created_at DESC, i.id DESC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list invitations for %s: %w", email, err)
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation of the team.
func (s *Store) RevokeInvitation(ctx context.Context, teamID, id int64) error {
	res, err := s.DB.NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", s.now()).
		Where("id = ?", id).Where("team_id = ?", teamID).
		Where("accepted_at IS NULL").Where("revoked_at IS NULL").Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke invitation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// AcceptInvitation joins user to the invitation's team as a member and marks
// the invitation used, in one transaction; it returns the team's id. Every
// refusal leaves both untouched.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash string, userID int64) (int64, error) {
	var teamID int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inv := new(Invitation)
		if err := s.forUpdate(tx.NewSelect().Model(inv).Where("token_hash = ?", tokenHash)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load invitation: %w", err)
		}
		if err := inv.Problem(s.now()); err != nil {
			return err
		}
		user := new(User)
		if err := s.forUpdate(tx.NewSelect().Model(user).Where("id = ?", userID)).Scan(ctx); err != nil {
			return fmt.Errorf("load user %d: %w", userID, err)
		}
		if NormalizeEmail(user.Email) != inv.Email {
			return ErrInviteWrongUser
		}
		if user.TeamID != 0 {
			return ErrAlreadyInTeam
		}
		now := s.now()
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("team_id = ?", inv.TeamID).Set("role = ?", RoleMember).
			Set("updated_at = ?", now).Where("id = ?", userID).Where("team_id IS NULL").Exec(ctx); err != nil {
			return fmt.Errorf("join user %d to team %d: %w", userID, inv.TeamID, err)
		}
		if _, err := tx.NewUpdate().Model((*Invitation)(nil)).Set("accepted_at = ?", now).Set("accepted_by = ?", userID).
			Where("id = ?", inv.ID).Exec(ctx); err != nil {
			return fmt.Errorf("mark invitation %d used: %w", inv.ID, err)
		}
		teamID = inv.TeamID
		return s.recordChange(ctx, tx, Change{TeamID: inv.TeamID, Past: true}) // a new member on the charts
	})
	return teamID, err
}
