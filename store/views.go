package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Saved views
//
// A saved view is a named query string of a table page (filters, sort,
// columns): the handler reads it back as it reads a URL, so a view can hold
// anything a URL can, and a filter added later needs nothing here. A view is
// private to its creator or shared with the team; only owners and admins
// share (and edit shared ones). Tabs show the viewer's private views and the
// team's shared ones by position.

// Lists a saved view or bulk change belongs to.
const (
	ListContacts = "contacts"
	ListDeals    = "deals"
)

// Limits of saved views.
const (
	MaxViewNameLen  = 60
	MaxViewQueryLen = 4000
	maxViewsPerList = 30
)

// SavedView is a named filter, sort and columns of a list.
type SavedView struct {
	bun.BaseModel `bun:"table:saved_views,alias:sv"`

	ID        int64     `bun:"id,pk,autoincrement"`
	TeamID    int64     `bun:"team_id,notnull"`
	UserID    int64     `bun:"user_id,notnull"`
	List      string    `bun:"list,notnull"`
	Name      string    `bun:"name,notnull"`
	Query     string    `bun:"query,notnull"`
	Shared    bool      `bun:"shared,notnull"`
	Position  int       `bun:"position,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`

	CreatorName string `bun:"creator_name,scanonly"`
}

// CanEdit reports whether user may rename, move, share or delete the view:
// its creator while it is private; owners and admins (and its creator) once
// it is shared.
func (v *SavedView) CanEdit(user *User) bool {
	if user == nil || user.TeamID != v.TeamID {
		return false
	}
	if v.Shared {
		return user.CanManage() || user.ID == v.UserID
	}
	return user.ID == v.UserID
}

// visibleTo is whether user sees the view at all.
func (v *SavedView) visibleTo(user *User) bool {
	return user != nil && user.TeamID == v.TeamID && (v.Shared || v.UserID == user.ID)
}

func validList(list string) bool { return list == ListContacts || list == ListDeals }

// ValidateViewName checks a saved view's name; the field is "name".
func ValidateViewName(name string) FieldErrors {
	fe := FieldErrors{}
	name = strings.TrimSpace(name)
	if name == "" {
		fe["name"] = "Give the view a name."
	} else {
		checkText(fe, "name", "A view's name", name, MaxViewNameLen, false)
	}
	return fe
}

// SavedViews lists the views of a list that user sees, in tab order.
func (s *Store) SavedViews(ctx context.Context, teamID int64, user *User, list string) ([]SavedView, error) {
	if err := checkActor(user, teamID); err != nil {
		return nil, err
	}
	var rows []SavedView
	err := s.DB.NewSelect().Model(&rows).ColumnExpr("sv.*").ColumnExpr("u.name AS creator_name").
		Join("LEFT JOIN users AS u ON u.id = sv.user_id").
		Where("sv.team_id = ?", teamID).Where("sv.list = ?", list).
		Where("(sv.shared = ? OR sv.user_id = ?)", true, user.ID).
		OrderExpr("sv.position, sv.id").Limit(2 * maxViewsPerList).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("saved views of team %d: %w", teamID, err)
	}
	return rows, nil
}

// SavedView loads one view user sees; ErrNotFound for another team's, or
// another member's private view.
func (s *Store) SavedView(ctx context.Context, teamID int64, user *User, id int64) (*SavedView, error) {
	return s.savedView(ctx, s.DB, teamID, user, id)
}

func (s *Store) savedView(ctx context.Context, db bun.IDB, teamID int64, user *User, id int64) (*SavedView, error) {
	if err := checkActor(user, teamID); err != nil {
		return nil, err
	}
	v := new(SavedView)
	if err := db.NewSelect().Model(v).Where("team_id = ?", teamID).Where("id = ?", id).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load saved view %d: %w", id, err)
	}
	if !v.visibleTo(user) {
		return nil, ErrNotFound
	}
	return v, nil
}

// SaveView saves a list's query string under a name, as the last tab.
// Sharing with the team takes an owner or admin (ErrNotAllowed).
func (s *Store) SaveView(ctx context.Context, teamID int64, actor *User, list, name, query string, shared bool) (*SavedView, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if !validList(list) {
		return nil, fmt.Errorf("save view: list %q: %w", list, ErrInvalid)
	}
	fe := ValidateViewName(name)
	if len(query) > MaxViewQueryLen {
		fe["query"] = "This view holds too many filters to save."
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if shared && !actor.CanManage() {
		return nil, ErrNotAllowed
	}
	now := s.now()
	v := &SavedView{TeamID: teamID, UserID: actor.ID, List: list, Name: strings.TrimSpace(name), Query: query, Shared: shared,
		CreatedAt: now, UpdatedAt: now}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		var stats []struct {
			N   int `bun:"n"`
			Max int `bun:"m"`
		}
		if err := tx.NewRaw("SELECT COUNT(*) AS n, COALESCE(MAX(position), 0) AS m FROM saved_views WHERE team_id = ? AND list = ?", teamID, list).
			Scan(ctx, &stats); err != nil {
			return fmt.Errorf("count views: %w", err)
		}
		if len(stats) == 1 && stats[0].N >= 2*maxViewsPerList {
			return FieldErrors{"name": fmt.Sprintf("The team has %d saved views of this list; delete one first.", stats[0].N)}
		}
		if len(stats) == 1 {
			v.Position = stats[0].Max + 1
		}
		_, err := tx.NewInsert().Model(v).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("save view: %w", err)
	}
	return v, nil
}

// editView loads a view for a change actor may make, in the transaction.
func (s *Store) editView(ctx context.Context, tx bun.Tx, teamID int64, actor *User, id int64) (*SavedView, error) {
	v, err := s.savedView(ctx, tx, teamID, actor, id)
	if err != nil {
		return nil, err
	}
	if !v.CanEdit(actor) {
		return nil, ErrNotAllowed
	}
	return v, nil
}

// RenameView renames a view actor may edit.
func (s *Store) RenameView(ctx context.Context, teamID int64, actor *User, id int64, name string) error {
	if err := ValidateViewName(name).err(); err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		if _, err := s.editView(ctx, tx, teamID, actor, id); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*SavedView)(nil)).Set("name = ?", strings.TrimSpace(name)).Set("updated_at = ?", s.now()).
			Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
		return err
	})
}

// UpdateViewQuery saves a new query string into a view actor may edit.
func (s *Store) UpdateViewQuery(ctx context.Context, teamID int64, actor *User, id int64, query string) error {
	if len(query) > MaxViewQueryLen {
		return FieldErrors{"query": "This view holds too many filters to save."}
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		if _, err := s.editView(ctx, tx, teamID, actor, id); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*SavedView)(nil)).Set("query = ?", query).Set("updated_at = ?", s.now()).
			Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
		return err
	})
}

// ShareView shares a view with the team or makes it private again (it then
// belongs to its creator). Only owners and admins may.
func (s *Store) ShareView(ctx context.Context, teamID int64, actor *User, id int64, shared bool) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		if _, err := s.editView(ctx, tx, teamID, actor, id); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model((*SavedView)(nil)).Set("shared = ?", shared).Set("updated_at = ?", s.now()).
			Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
		return err
	})
}

// DeleteView removes a view actor may edit.
func (s *Store) DeleteView(ctx context.Context, teamID int64, actor *User, id int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		if _, err := s.editView(ctx, tx, teamID, actor, id); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model((*SavedView)(nil)).Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx)
		return err
	})
}

// MoveView moves a view one tab left (delta < 0) or right among the tabs
// actor sees, swapping places with the nearest neighbour actor may also
// edit; at either end nothing changes.
func (s *Store) MoveView(ctx context.Context, teamID int64, actor *User, id int64, delta int) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.listChanged(ctx, tx, teamID); err != nil { // the lists show the saved views as tabs
			return err
		}
		v, err := s.editView(ctx, tx, teamID, actor, id)
		if err != nil {
			return err
		}
		var tabs []SavedView
		if err := tx.NewSelect().Model(&tabs).Where("team_id = ?", teamID).Where("list = ?", v.List).
			Where("(shared = ? OR user_id = ?)", true, actor.ID).OrderExpr("position, id").Scan(ctx); err != nil {
			return fmt.Errorf("load tabs: %w", err)
		}
		i := slices.IndexFunc(tabs, func(t SavedView) bool { return t.ID == id })
		step := 1
		if delta < 0 {
			step = -1
		}
		for j := i + step; j >= 0 && j < len(tabs); j += step {
			if !tabs[j].CanEdit(actor) {
				continue
			}
			// Renumber the tabs in their order with the two swapped, so
			// equal positions cannot make the swap a no-op.
			tabs[i], tabs[j] = tabs[j], tabs[i]
			for k, t := range tabs {
				if t.Position != k+1 {
					if _, err := tx.NewUpdate().Model((*SavedView)(nil)).Set("position = ?", k+1).
						Where("team_id = ?", teamID).Where("id = ?", t.ID).Exec(ctx); err != nil {
						return err
					}
				}
			}
			return nil
		}
		return nil
	})
}
