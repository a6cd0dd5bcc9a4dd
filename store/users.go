package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Roles a user can have in a team.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// User is an account. A user belongs to at most one team (TeamID 0 = none).
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email,notnull"`
	Name         string    `bun:"name,notnull"`
	PasswordHash string    `bun:"password_hash,notnull"`
	TeamID       int64     `bun:"team_id,nullzero"`
	Role         string    `bun:"role,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
	// SessionsSince, when set, is when the user last ended their other
	// sessions (a password change, "log out other devices"): a session
	// whose login is older is logged out.
	SessionsSince time.Time `bun:"sessions_since,nullzero"`
}

// CanManage reports whether the user may invite, assign and remove members.
func (u *User) CanManage() bool { return u.Role == RoleOwner || u.Role == RoleAdmin }

// NormalizeEmail is the one place emails are made comparable.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser adds an account; ErrDuplicate when the email is taken.
func (s *Store) CreateUser(ctx context.Context, name, email, passwordHash string) (*User, error) {
	now := s.now()
	u := &User{Name: name, Email: NormalizeEmail(email), PasswordHash: passwordHash, CreatedAt: now, UpdatedAt: now}
	if _, err := s.DB.NewInsert().Model(u).Exec(ctx); err != nil {
		if isDuplicate(err) {
			return nil, ErrDuplicate
		}
		return nil, fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return u, nil
}

// UserByID loads a user; ErrNotFound if there is none.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u := new(User)
	if err := s.DB.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail loads a user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u := new(User)
	if err := s.DB.NewSelect().Model(u).Where("email = ?", NormalizeEmail(email)).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load user by email: %w", err)
	}
	return u, nil
}

// UpdateUserName changes a user's display name.
func (s *Store) UpdateUserName(ctx context.Context, id int64, name string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u := new(User)
		if err := s.forUpdate(tx.NewSelect().Model(u).Column("team_id", "name").Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return nil
			}
			return err
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).
			Set("name = ?", name).Set("updated_at = ?", s.now()).
			Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		if u.TeamID == 0 || u.Name == name {
			return nil
		}
		return s.recordChange(ctx, tx, Change{TeamID: u.TeamID, Past: true}) // the charts show members by name
	})
	if err != nil {
		return fmt.Errorf("rename user %d: %w", id, err)
	}
	return nil
}

// UpdatePasswordHash stores a new password hash for a user.
func (s *Store) UpdatePasswordHash(ctx context.Context, id int64, hash string) error {
	_, err := s.DB.NewUpdate().Model((*User)(nil)).
		Set("password_hash = ?", hash).Set("updated_at = ?", s.now()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", id, err)
	}
	return nil
}

// UserAndTeam loads a user and, when they have one, their team, in one
// query: every request of a logged-in user needs both.
func (s *Store) UserAndTeam(ctx context.Context, id int64) (*User, *Team, error) {
	var row struct {
		User
		TeamName     string    `bun:"t_name"`
		TeamCurrency string    `bun:"t_currency"`
		TeamTimeZone string    `bun:"t_time_zone"`
		TeamCreated  time.Time `bun:"t_created_at"`
	}
	err := s.DB.NewSelect().Model((*User)(nil)).ColumnExpr("u.*").
		ColumnExpr("COALESCE(t.name, '') AS t_name, COALESCE(t.currency, '') AS t_currency, COALESCE(t.time_zone, '') AS t_time_zone").
		ColumnExpr("t.created_at AS t_created_at").
		ModelTableExpr("users AS u").Join("LEFT JOIN teams AS t ON t.id = u.team_id").
		Where("u.id = ?", id).Scan(ctx, &row)
	if notFound(err) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load user %d and team: %w", id, err)
	}
	u := row.User
	if u.TeamID == 0 {
		return &u, nil, nil
	}
	return &u, &Team{ID: u.TeamID, Name: row.TeamName, Currency: row.TeamCurrency, TimeZone: row.TeamTimeZone, CreatedAt: row.TeamCreated}, nil
}

// ChangePassword stores the user's new password hash and ends every other
// session of the user, in one transaction; keepToken is the session that
// made the change. It returns the moment the other sessions ended (see
// EndOtherSessions).
func (s *Store) ChangePassword(ctx context.Context, userID int64, hash, keepToken string) (time.Time, error) {
	now := s.now()
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("update password of user %d: %w", userID, err)
		}
		_, err := endSessions(ctx, tx, userID, keepToken, now)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	return now, nil
}
