package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Contact statuses, in the order forms offer them.
const (
	StatusNew            = "New"
	StatusOpen           = "Open"
	StatusInProgress     = "In progress"
	StatusOpenDeal       = "Open deal"
	StatusUnqualified    = "Unqualified"
	StatusAttempted      = "Attempted to contact"
	StatusConnected      = "Connected"
	StatusBadTiming      = "Bad timing"
	DefaultContactStatus = StatusNew
)

// ContactStatuses lists every status, in form order.
var ContactStatuses = []string{
	StatusNew, StatusOpen, StatusInProgress, StatusOpenDeal,
	StatusUnqualified, StatusAttempted, StatusConnected, StatusBadTiming,
}

// Contact is a customer of a team.
type Contact struct {
	bun.BaseModel `bun:"table:contacts,alias:c"`

	ID          int64     `bun:"id,pk,autoincrement"`
	TeamID      int64     `bun:"team_id,notnull"`
	Name        string    `bun:"name,notnull"`
	Email       string    `bun:"email,notnull"`
	Phone       string    `bun:"phone,notnull"`
	PhoneDigits string    `bun:"phone_digits,notnull"`
	Company     string    `bun:"company,notnull"`
	Status      string    `bun:"status,notnull"`
	OwnerID     int64     `bun:"owner_id,nullzero"` // 0: unassigned
	Version     int       `bun:"version,notnull"`   // optimistic locking
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
	// Kept by touchContact (contact_touch.go) from the contact's activities.
	LastContactedAt time.Time `bun:"last_contacted_at,nullzero"`
	LastContactedBy int64     `bun:"last_contacted_by,nullzero"`
	NextStepAt      time.Time `bun:"next_step_at,nullzero"`
	NextStepLabel   string    `bun:"next_step_label,notnull"`

	OwnerName         string `bun:"owner_name,scanonly"`
	LastContactedName string `bun:"last_contacted_name,scanonly"`
}

// ContactInput is a contact form, parsed.
type ContactInput struct {
	Name    string
	Email   string
	Phone   string
	Company string
	Status  string // "" means New
	OwnerID int64  // 0: unassigned; only owners and admins may choose
}

// Normalized trims the fields, lower-cases the email and fills in the
// default status.
func (in ContactInput) Normalized() ContactInput {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = NormalizeEmail(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Company = strings.TrimSpace(in.Company)
	in.Status = strings.TrimSpace(in.Status)
	if in.Status == "" {
		in.Status = DefaultContactStatus
	}
	for _, st := range ContactStatuses {
		if strings.EqualFold(st, in.Status) {
			in.Status = st
		}
	}
	return in
}

// Validate checks every field and says what is wrong, per form field. Whether
// the owner is a member of the team is checked by the store when saving.
func (in ContactInput) Validate() FieldErrors {
	typedEmail := in.Email
	in = in.Normalized()
	fe := FieldErrors{}
	if msg := NameError("Name", in.Name); msg != "" {
		fe["name"] = msg
	}
	if msg := EmailError(typedEmail); msg != "" {
		fe["email"] = msg
	}
	if in.Phone != "" {
		msg := TextError("Phone", in.Phone, MaxPhoneLen, false)
		switch {
		case msg != "":
			fe["phone"] = msg
		case strings.Trim(in.Phone, "0123456789 +-()./") != "" && !extension(in.Phone):
			fe["phone"] = "Phone may contain digits, spaces and + - ( ) . / only."
		case len(digitsOf(in.Phone)) < MinPhoneDigits:
			fe["phone"] = fmt.Sprintf("Phone needs at least %d digits.", MinPhoneDigits)
		}
	}
	checkText(fe, "company", "Company", in.Company, MaxCompanyLen, false)
	if !slices.Contains(ContactStatuses, in.Status) {
		fe["status"] = "Choose one of the listed statuses."
	}
	if in.OwnerID < 0 {
		fe["owner_id"] = "Choose a member of your team."
	}
	return fe
}

// extension accepts a phone number followed by an extension: "… x12" or
// "… ext. 12".
func extension(phone string) bool {
	lower := strings.ToLower(phone)
	for _, sep := range []string{" ext. ", " ext ", " x"} {
		if number, ext, ok := strings.Cut(lower, sep); ok {
			return strings.Trim(number, "0123456789 +-()./") == "" && strings.Trim(ext, "0123456789 ") == ""
		}
	}
	return false
}

// contactList is how contacts are listed: sort keys, indexes and views.
var contactList = listSpec{
	table:       "contacts",
	terms:       contactTermSet,
	defaultSort: "name",
	views:       []string{ViewAll, ViewMine, ViewUnassigned},
	sorts: []sortDef{
		{key: "name", col: "name", index: "contacts_name", ownerIndex: "contacts_owner_name"},
		{key: "email", col: "email", unique: true, index: "contacts_email", ownerIndex: "contacts_owner_email"},
		{key: "phone", col: "phone_digits", index: "contacts_phone", ownerIndex: "contacts_owner_phone"},
		{key: "company", col: "company", index: "contacts_company", ownerIndex: "contacts_owner_company"},
		{key: "status", col: "status", index: "contacts_status", ownerIndex: "contacts_owner_status"},
		{key: "owner", col: "name", byOwner: true, index: "contacts_owner_name", ownerIndex: "contacts_owner_name"},
		{key: "created", col: "created_at", kind: kindTime, index: "contacts_created", ownerIndex: "contacts_owner_created"},
		{key: "updated", col: "updated_at", kind: kindTime, index: "contacts_updated", ownerIndex: "contacts_owner_updated"},
		{key: "last_contacted", col: "last_contacted_at", kind: kindTime, nullable: true, index: "contacts_last_contacted", ownerIndex: "contacts_owner_last_contacted"},
		{key: "next_step", col: "next_step_at", kind: kindTime, nullable: true, index: "contacts_next_step", ownerIndex: "contacts_owner_next_step"},
	},
}

// ContactSorts lists the sort keys ListContacts accepts, in column order.
// "phone" sorts by the number's digits; "owner" by the owner's name
// (unassigned last), then by contact name.
var ContactSorts = []string{"name", "email", "phone", "company", "status", "owner", "created", "updated", "last_contacted", "next_step"}

// ContactQuery asks for one page of a team's contacts.
type ContactQuery struct {
	View   string // ViewAll (default), ViewMine or ViewUnassigned
	UserID int64  // whose contacts ViewMine shows
	Search string // as typed in the search box
	Sort   string // one of ContactSorts; anything else sorts by name
	Desc   bool
	Cursor string // ContactPage.Next or .Prev of an earlier page; "" for the first
	Limit  int    // rows per page, PageSize when 0
	Filter ContactFilter
	bulk   bool // an export's walk: pages of up to exportPageSize
}

// ContactPage is one page of contacts with the cursors of its neighbours.
type ContactPage struct {
	Rows []Contact
	Next string // "" on the last page
	Prev string // "" on the first page
}

// ListContacts returns one page of the team's contacts in the asked view,
// search and order. A cursor that is not valid for the query shows the first
// page.
func (s *Store) ListContacts(ctx context.Context, teamID int64, q ContactQuery) (ContactPage, error) {
	p, ok, err := s.contactParams(ctx, teamID, q)
	if err != nil || !ok {
		return ContactPage{}, err
	}
	p.bulk = q.bulk
	res, err := contactList.listPage(ctx, s, teamID, p)
	if err != nil {
		return ContactPage{}, fmt.Errorf("list contacts of team %d: %w", teamID, err)
	}
	rows, err := s.contactsByIDs(ctx, teamID, res.ids)
	if err != nil {
		return ContactPage{}, err
	}
	return ContactPage{Rows: rows, Next: res.next, Prev: res.prev}, nil
}

// selectContacts reads contacts by id (every caller gives one or a few), so
// through the primary key.
func (s *Store) selectContacts(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Model((*Contact)(nil)).ModelTableExpr("contacts AS c" + s.indexHint(primaryKey)).
		ColumnExpr("c.*").ColumnExpr("u.name AS owner_name").
		Join("LEFT JOIN users AS u ON u.id = c.owner_id").
		ColumnExpr("lu.name AS last_contacted_name").Join("LEFT JOIN users AS lu ON lu.id = c.last_contacted_by")
}

// contactsByIDs loads contacts of the team in the order of ids.
func (s *Store) contactsByIDs(ctx context.Context, teamID int64, ids []int64) ([]Contact, error) {
	if len(ids) == 0 {
		return []Contact{}, nil
	}
	rows, err := rowsOrGeneral(func() ([]Contact, error) { return s.contactRows(ctx, teamID, ids) }, func() ([]Contact, error) {
		var rows []Contact
		err := s.selectContacts(s.DB).Where("c.team_id = ?", teamID).Where("c.id IN (?)", bun.In(ids)).Scan(ctx, &rows)
		return rows, err
	})
	if err != nil {
		return nil, fmt.Errorf("load contacts: %w", err)
	}
	return orderByIDs(rows, ids, func(c *Contact) int64 { return c.ID }), nil
}

// ContactByID loads one contact of the team with its owner's name;
// ErrNotFound if the team has no such contact.
func (s *Store) ContactByID(ctx context.Context, teamID, id int64) (*Contact, error) {
	return s.contactByID(ctx, s.DB, teamID, id)
}

func (s *Store) contactByID(ctx context.Context, db bun.IDB, teamID, id int64) (*Contact, error) {
	c := new(Contact)
	if err := s.selectContacts(db).Where("c.team_id = ?", teamID).Where("c.id = ?", id).Scan(ctx, c); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load contact %d: %w", id, err)
	}
	return c, nil
}

// contactIDByEmail finds the team's contact with an email, 0 if none.
func contactIDByEmail(ctx context.Context, db bun.IDB, teamID int64, email string) (int64, error) {
	var ids []int64
	if err := db.NewSelect().Model((*Contact)(nil)).Column("id").Where("team_id = ?", teamID).Where("email = ?", email).
		Limit(1).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("look up contact by email: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// CreateContact adds a contact to the team. Owners and admins choose its
// owner (in.OwnerID, 0 for unassigned); a member's new contact is theirs.
// Invalid input gives FieldErrors; an email the team already has gives a
// *DuplicateError naming the existing contact.
func (s *Store) CreateContact(ctx context.Context, teamID int64, actor *User, in ContactInput) (*Contact, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if err := in.Validate().err(); err != nil {
		return nil, err
	}
	in = in.Normalized()
	now := s.now()
	c := &Contact{
		TeamID: teamID, Name: in.Name, Email: in.Email, Phone: in.Phone, PhoneDigits: digitsOf(in.Phone),
		Company: in.Company, Status: in.Status, OwnerID: actor.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if actor.CanManage() {
		c.OwnerID = in.OwnerID
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := checkOwner(ctx, tx, teamID, c.OwnerID); err != nil {
			return err
		}
		if id, err := contactIDByEmail(ctx, tx, teamID, c.Email); err != nil {
			return err
		} else if id != 0 {
			return &DuplicateError{ExistingID: id}
		}
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			if isDuplicate(err) {
				return ErrDuplicate
			}
			return fmt.Errorf("insert contact: %w", err)
		}
		if err := replaceTerms(ctx, tx, contactTermSet, teamID, c.ID, contactTerms(c.Name, c.Email, c.Company, c.Phone)); err != nil {
			return err
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "contact", id: c.ID, types: []string{EventContactCreated}})
	})
	if errors.Is(err, ErrDuplicate) && !errors.As(err, new(*DuplicateError)) {
		// Another request inserted the same email between our check and
		// our insert.
		if id, lerr := contactIDByEmail(ctx, s.DB, teamID, c.Email); lerr == nil && id != 0 {
			err = &DuplicateError{ExistingID: id}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create contact: %w", err)
	}
	return s.ContactByID(ctx, teamID, c.ID)
}

// UpdateContact saves an edited contact if nobody changed it since the
// editor loaded it at version. When someone did, it returns the contact as it
// is now together with an error matching ErrConflict, and changes nothing.
// Members cannot change the owner: their in.OwnerID is ignored.
func (s *Store) UpdateContact(ctx context.Context, teamID int64, actor *User, id int64, version int, in ContactInput) (*Contact, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	if err := in.Validate().err(); err != nil {
		return nil, err
	}
	in = in.Normalized()
	conflict := false
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old := new(Contact)
		if err := s.forUpdate(tx.NewSelect().Model(old).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load contact %d: %w", id, err)
		}
		if old.Version != version {
			conflict = true
			return ErrConflict
		}
		owner := old.OwnerID
		if actor.CanManage() {
			owner = in.OwnerID
			if owner != old.OwnerID {
				if err := checkOwner(ctx, tx, teamID, owner); err != nil {
					return err
				}
			}
		}
		if in.Email != old.Email {
			if other, err := contactIDByEmail(ctx, tx, teamID, in.Email); err != nil {
				return err
			} else if other != 0 && other != id {
				return &DuplicateError{ExistingID: other}
			}
		}
		res, err := tx.NewUpdate().Model((*Contact)(nil)).
			Set("name = ?", in.Name).Set("email = ?", in.Email).Set("phone = ?", in.Phone).
			Set("phone_digits = ?", digitsOf(in.Phone)).Set("company = ?", in.Company).Set("status = ?", in.Status).
			Set("owner_id = ?", nullID(owner)).Set("version = version + 1").Set("updated_at = ?", s.now()).
			Where("team_id = ?", teamID).Where("id = ?", id).Where("version = ?", version).Exec(ctx)
		if err != nil {
			if isDuplicate(err) {
				return ErrDuplicate
			}
			return fmt.Errorf("update contact %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			conflict = true
			return ErrConflict
		}
		if old.Name != in.Name || old.Email != in.Email || old.Company != in.Company || old.Phone != in.Phone {
			if err := replaceTerms(ctx, tx, contactTermSet, teamID, id, contactTerms(in.Name, in.Email, in.Company, in.Phone)); err != nil {
				return err
			}
		}
		if old.Name != in.Name {
			if err := s.renameDealContact(ctx, tx, teamID, id, in.Name); err != nil {
				return err
			}
			if err := s.boardChanged(ctx, tx, teamID); err != nil { // its deals' cards show the name
				return err
			}
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "contact", id: id, types: []string{EventContactUpdated}})
	})
	if conflict {
		fresh, lerr := s.ContactByID(ctx, teamID, id)
		if lerr != nil {
			return nil, fmt.Errorf("update contact %d: %w", id, lerr)
		}
		return fresh, fmt.Errorf("update contact %d: someone else saved it first: %w", id, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("update contact %d: %w", id, err)
	}
	return s.ContactByID(ctx, teamID, id)
}

// nullID stores 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AssignContact gives a contact to a member of the team, or unassigns it
// when ownerID is 0. Only owners and admins may; others get ErrNotAllowed.
func (s *Store) AssignContact(ctx context.Context, teamID int64, actor *User, id, ownerID int64) (*Contact, error) {
	if err := s.assign(ctx, teamID, actor, (*Contact)(nil), id, ownerID); err != nil {
		return nil, fmt.Errorf("assign contact %d: %w", id, err)
	}
	return s.ContactByID(ctx, teamID, id)
}

// assign sets the owner of a contact or deal.
func (s *Store) assign(ctx context.Context, teamID int64, actor *User, model any, id, ownerID int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		exists, err := tx.NewSelect().Model(model).Where("team_id = ?", teamID).Where("id = ?", id).Exists(ctx)
		if err != nil {
			return fmt.Errorf("load %d: %w", id, err)
		}
		if !exists {
			return ErrNotFound
		}
		if err := checkOwner(ctx, tx, teamID, ownerID); err != nil {
			return err
		}
		if _, err = tx.NewUpdate().Model(model).Set("owner_id = ?", nullID(ownerID)).
			Set("version = version + 1").Set("updated_at = ?", s.now()).
			Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		if err := s.boardChanged(ctx, tx, teamID); err != nil {
			return err
		}
		return s.emit(ctx, tx, assignChange(teamID, actor.ID, model, id))
	})
}

// DeleteContact removes a contact and, with it, its deals, notes and
// activities (see ContactDeleteImpact).
func (s *Store) DeleteContact(ctx context.Context, teamID int64, actor *User, id int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		cascade, err := s.contactCascade(ctx, tx, teamID, id)
		if err != nil {
			return err
		}
		// Announced before the delete: the events carry the contact and the
		// deals that go with it as they were.
		evs, err := s.dealDeletes(ctx, tx, teamID, actor.ID, "contact_id = ?", id)
		if err != nil {
			return err
		}
		evs = append(evs, change{team: teamID, actor: actor.ID, kind: "contact", id: id, types: []string{EventContactDeleted}})
		if err := s.emitMany(ctx, tx, evs); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Contact)(nil)).Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, cascade)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete contact %d: %w", id, err)
	}
	return err
}

// ContactDeleteImpact counts what deleting a contact also deletes, for the
// confirmation: its deals and its notes.
func (s *Store) ContactDeleteImpact(ctx context.Context, teamID, id int64) (deals, notes int, err error) {
	if _, err := s.ContactByID(ctx, teamID, id); err != nil {
		return 0, 0, err
	}
	nd, err := s.DB.NewSelect().Model((*Deal)(nil)).Where("team_id = ?", teamID).Where("contact_id = ?", id).Count(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("count deals of contact %d: %w", id, err)
	}
	nn, err := s.DB.NewSelect().Model((*Note)(nil)).Where("team_id = ?", teamID).Where("contact_id = ?", id).Count(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("count notes of contact %d: %w", id, err)
	}
	return int(nd), int(nn), nil
}
