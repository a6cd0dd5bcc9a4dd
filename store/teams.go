package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // team time zones work on hosts without a zone database

	"github.com/uptrace/bun"

	"sherpa/money"
)

// Team is a company's shared workspace.
type Team struct {
	bun.BaseModel `bun:"table:teams"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Name      string    `bun:"name,notnull"`
	Currency  string    `bun:"currency,notnull"`
	TimeZone  string    `bun:"time_zone,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// Membership rule violations, worded for the person who caused them.
var (
	ErrAlreadyInTeam     = errors.New("you are already in a team")
	ErrOwnerMustHandOver = errors.New("the owner must hand ownership to another member before leaving")
	ErrCannotChangeOwner = errors.New("the owner's role changes only by handing ownership over")
	ErrNotAllowed        = errors.New("your role does not allow this")
)

// CreateTeam makes a team with userID as its owner. ErrAlreadyInTeam if the
// user already belongs to one.
func (s *Store) CreateTeam(ctx context.Context, userID int64, name string) (*Team, error) {
	team := &Team{Name: name, Currency: "EUR", TimeZone: "UTC", CreatedAt: s.now()}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(team).Exec(ctx); err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		res, err := tx.NewUpdate().Model((*User)(nil)).
			Set("team_id = ?", team.ID).Set("role = ?", RoleOwner).Set("updated_at = ?", s.now()).
			Where("id = ?", userID).Where("team_id IS NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("make user %d owner: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrAlreadyInTeam
		}
		return s.recordChange(ctx, tx, Change{TeamID: team.ID, NewTeam: true})
	})
	if err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return team, nil
}

// TeamByID loads a team.
func (s *Store) TeamByID(ctx context.Context, id int64) (*Team, error) {
	t := new(Team)
	if err := s.DB.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load team %d: %w", id, err)
	}
	return t, nil
}

// TeamMembers lists a team's members: owner first, then admins, then
// members, each group by name.
func (s *Store) TeamMembers(ctx context.Context, teamID int64) ([]User, error) {
	var users []User
	err := s.DB.NewSelect().Model(&users).Where("team_id = ?", teamID).
		OrderExpr("CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END").
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members of team %d: %w", teamID, err)
	}
	return users, nil
}

// TeamMember loads one member of a team; ErrNotFound if the user is not in it.
func (s *Store) TeamMember(ctx context.Context, teamID, userID int64) (*User, error) {
	u := new(User)
	if err := s.DB.NewSelect().Model(u).Where("id = ?", userID).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load member %d of team %d: %w", userID, teamID, err)
	}
	return u, nil
}

// SetMemberRole makes a member an admin or an admin a member. The owner's
// role is not changed here (see TransferOwnership).
func (s *Store) SetMemberRole(ctx context.Context, teamID, userID int64, role string) error {
	if role != RoleAdmin && role != RoleMember {
		return fmt.Errorf("set role %q: %w", role, ErrNotAllowed)
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // members and settings show on the list pages
			return err
		}
		target, err := s.memberForUpdate(ctx, tx, teamID, userID)
		if err != nil {
			return err
		}
		if target.Role == RoleOwner {
			return ErrCannotChangeOwner
		}
		_, err = tx.NewUpdate().Model((*User)(nil)).Set("role = ?", role).Set("updated_at = ?", s.now()).
			Where("id = ?", userID).Where("team_id = ?", teamID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set role of user %d: %w", userID, err)
		}
		return nil
	})
}

// TransferOwnership makes toID the owner and the current owner fromID an
// admin, in one transaction.
func (s *Store) TransferOwnership(ctx context.Context, teamID, fromID, toID int64) error {
	if fromID == toID {
		return fmt.Errorf("hand ownership to yourself: %w", ErrNotAllowed)
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // members and settings show on the list pages
			return err
		}
		from, err := s.memberForUpdate(ctx, tx, teamID, fromID)
		if err != nil {
			return err
		}
		if from.Role != RoleOwner {
			return ErrNotAllowed
		}
		if _, err := s.memberForUpdate(ctx, tx, teamID, toID); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("role = ?", RoleAdmin).Set("updated_at = ?", now).
			Where("id = ?", fromID).Exec(ctx); err != nil {
			return fmt.Errorf("demote old owner %d: %w", fromID, err)
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("role = ?", RoleOwner).Set("updated_at = ?", now).
			Where("id = ?", toID).Exec(ctx); err != nil {
			return fmt.Errorf("promote new owner %d: %w", toID, err)
		}
		return nil
	})
}

// RemoveMember takes a member out of a team on an owner's or admin's behalf.
// The owner can remove anyone but themself; an admin can remove members only.
func (s *Store) RemoveMember(ctx context.Context, teamID int64, actor *User, userID int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // members and settings show on the list pages
			return err
		}
		target, err := s.memberForUpdate(ctx, tx, teamID, userID)
		if err != nil {
			return err
		}
		switch {
		case target.ID == actor.ID, target.Role == RoleOwner:
			return ErrNotAllowed
		case actor.Role == RoleAdmin && target.Role != RoleMember:
			return ErrNotAllowed
		case actor.Role != RoleOwner && actor.Role != RoleAdmin:
			return ErrNotAllowed
		}
		return s.detachMember(ctx, tx, teamID, userID)
	})
}

// LeaveTeam takes userID out of their team. The owner may leave only as the
// last member, and then the team is deleted with everything in it.
// It reports whether the team was deleted.
func (s *Store) LeaveTeam(ctx context.Context, teamID, userID int64) (teamDeleted bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // members and settings show on the list pages
			return err
		}
		teamDeleted = false
		me, err := s.memberForUpdate(ctx, tx, teamID, userID)
		if err != nil {
			return err
		}
		if me.Role == RoleOwner {
			others, err := tx.NewSelect().Model((*User)(nil)).Where("team_id = ?", teamID).Where("id <> ?", userID).Count(ctx)
			if err != nil {
				return fmt.Errorf("count other members: %w", err)
			}
			if others > 0 {
				return ErrOwnerMustHandOver
			}
			if err := s.detachMember(ctx, tx, teamID, userID); err != nil {
				return err
			}
			teamDeleted = true
			return s.deleteTeam(ctx, tx, teamID)
		}
		return s.detachMember(ctx, tx, teamID, userID)
	})
	return teamDeleted, err
}

// detachMember clears a user's membership. Records the user owned stay with
// the team, unassigned.
func (s *Store) detachMember(ctx context.Context, tx bun.Tx, teamID, userID int64) error {
	_, err := tx.NewUpdate().Model((*User)(nil)).
		Set("team_id = NULL").Set("role = ''").Set("updated_at = ?", s.now()).
		Where("id = ?", userID).Where("team_id = ?", teamID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("detach user %d from team %d: %w", userID, teamID, err)
	}
	for _, table := range ownedRecordTables {
		if _, err := tx.NewUpdate().Table(table).Set("owner_id = NULL").
			Where("team_id = ?", teamID).Where("owner_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("unassign %s of user %d: %w", table, userID, err)
		}
	}
	return s.recordChange(ctx, tx, Change{TeamID: teamID, Past: true}) // the member's activities leave the charts
}

// ownedRecordTables lists the tables whose rows have an owner_id that must be
// cleared when the owner leaves the team.
var ownedRecordTables = []string{"contacts", "deals"}

// deleteTeam removes a team that has no members left; foreign keys cascade
// to its records.
func (s *Store) deleteTeam(ctx context.Context, tx bun.Tx, teamID int64) error {
	if _, err := tx.NewDelete().Model((*Team)(nil)).Where("id = ?", teamID).Exec(ctx); err != nil {
		return fmt.Errorf("delete team %d: %w", teamID, err)
	}
	return nil
}

// memberForUpdate loads a team member and, on MySQL, locks the row for the
// rest of the transaction. SQLite transactions here are IMMEDIATE, which
// already serialises writers.
func (s *Store) memberForUpdate(ctx context.Context, tx bun.Tx, teamID, userID int64) (*User, error) {
	u := new(User)
	if err := s.forUpdate(tx.NewSelect().Model(u).Where("id = ?", userID).Where("team_id = ?", teamID)).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load member %d of team %d: %w", userID, teamID, err)
	}
	return u, nil
}

// TimeZones is the curated list of IANA zones the team settings offer, UTC
// first, then roughly west to east. Any zone the Go time package knows is
// accepted (see UpdateTeamSettings); this list is what the form shows.
var TimeZones = []string{
	"UTC",
	"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver", "America/Tijuana",
	"America/Denver", "America/Phoenix", "America/Edmonton", "America/Chicago", "America/Mexico_City",
	"America/Winnipeg", "America/New_York", "America/Toronto", "America/Bogota", "America/Lima",
	"America/Caracas", "America/Halifax", "America/Santiago", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"America/St_Johns", "Atlantic/Azores", "Atlantic/Reykjavik", "Europe/London", "Europe/Dublin",
	"Europe/Lisbon", "Africa/Casablanca", "Africa/Lagos", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Brussels", "Europe/Madrid", "Europe/Paris", "Europe/Rome", "Europe/Stockholm",
	"Europe/Oslo", "Europe/Copenhagen", "Europe/Vienna", "Europe/Zurich", "Europe/Warsaw",
	"Europe/Prague", "Europe/Budapest", "Europe/Athens", "Europe/Helsinki", "Europe/Kyiv",
	"Europe/Bucharest", "Europe/Istanbul", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
	"Europe/Moscow", "Asia/Jerusalem", "Asia/Riyadh", "Asia/Dubai", "Asia/Tehran",
	"Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok",
	"Asia/Jakarta", "Asia/Ho_Chi_Minh", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila",
	"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei", "Australia/Perth", "Asia/Seoul",
	"Asia/Tokyo", "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
	"Pacific/Auckland",
}

// Currencies are the currencies a team may keep its amounts in. Amounts are
// stored in each one's own minor units (see package money): cents, whole
// yen, fils.
var Currencies = []string{"EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "AUD", "NZD", "JPY", "KWD"}

// TeamSettings are the team-wide settings the owner edits.
type TeamSettings struct {
	TimeZone string // an IANA zone name, e.g. Europe/Berlin
	Currency string // one of Currencies
}

// LoadTimeZone returns the location of an IANA zone name, refusing the
// empty name and "Local" (the server's zone, which means nothing to a
// team).
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// Validate checks the settings; the messages are for the settings form.
func (ts TeamSettings) Validate() FieldErrors {
	fe := FieldErrors{}
	if _, err := LoadTimeZone(ts.TimeZone); err != nil {
		fe["time_zone"] = "Choose a time zone from the list."
	}
	if !slices.Contains(Currencies, ts.Currency) {
		fe["currency"] = "Choose a currency from the list."
	}
	return fe
}

// UpdateTeamSettings saves the team's time zone and currency. Only the
// owner may (ErrNotAllowed); invalid settings are FieldErrors and change
// nothing. Amounts are not converted: a new currency relabels them.
func (s *Store) UpdateTeamSettings(ctx context.Context, teamID int64, actor *User, ts TeamSettings) (*Team, error) {
	if err := checkActor(actor, teamID); err != nil || actor.Role != RoleOwner {
		return nil, fmt.Errorf("update settings of team %d: %w", teamID, ErrNotAllowed)
	}
	ts.TimeZone, ts.Currency = strings.TrimSpace(ts.TimeZone), strings.ToUpper(strings.TrimSpace(ts.Currency))
	if err := ts.Validate().err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // members and settings show on the list pages
			return err
		}
		var old string
		if err := tx.NewSelect().Model((*Team)(nil)).Column("currency").Where("id = ?", teamID).Scan(ctx, &old); err != nil {
			return fmt.Errorf("load currency: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*Team)(nil)).Set("time_zone = ?", ts.TimeZone).Set("currency = ?", ts.Currency).
			Where("id = ?", teamID).Exec(ctx); err != nil {
			return err
		}
		return s.rescaleAmounts(ctx, tx, teamID, money.Digits(ts.Currency)-money.Digits(old))
	})
	if err != nil {
		return nil, fmt.Errorf("update settings of team %d: %w", teamID, err)
	}
	return s.TeamByID(ctx, teamID)
}

// rescaleAmounts keeps the team's amounts the same numbers when its new
// currency has more or fewer minor digits (€1,234.56 becomes ¥1,235, not
// ¥123,456), rounding half up; the deals' versions move so that an edit form
// opened before the change is refused rather than saved in the old units.
func (s *Store) rescaleAmounts(ctx context.Context, tx bun.Tx, teamID int64, shift int) error {
	if shift == 0 {
		return nil
	}
	f := int64(1)
	for range max(shift, -shift) {
		f *= 10
	}
	q := tx.NewUpdate().Model((*Deal)(nil)).Where("team_id = ?", teamID).Set("version = version + 1")
	if shift > 0 {
		q = q.Set("goal = goal * ?", f).Set("amount = amount * ?", f)
	} else {
		// Integer division written out, as "/" gives a decimal on MySQL.
		half := f / 2
		q = q.Set("goal = (goal + ? - ((goal + ?) % ?)) / ?", half, half, f, f).
			Set("amount = (amount + ? - ((amount + ?) % ?)) / ?", half, half, f, f)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("rescale amounts by 10^%d: %w", shift, err)
	}
	return s.recordChange(ctx, tx, Change{TeamID: teamID, Recount: true})
}
