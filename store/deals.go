package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"sherpa/money"
)

// Deal stages, in pipeline order; Closed Lost is reachable from any open stage.
const (
	StageCreated      = "Created"
	StageQualified    = "Qualified To Buy"
	StageContractSent = "Contract Sent"
	StageAppointment  = "Appointment Scheduled"
	StageWon          = "Closed Won"
	StageLost         = "Closed Lost"
)

// Stages lists every stage in pipeline order, Closed Lost last.
var Stages = []string{StageCreated, StageQualified, StageContractSent, StageAppointment, StageWon, StageLost}

// StageIndex is a stage's position in Stages, -1 for an unknown stage. Deals
// sort by it.
func StageIndex(stage string) int {
	for i, s := range Stages {
		if s == stage {
			return i
		}
	}
	return -1
}

// IsClosed reports whether a stage ends the deal (Closed Won or Closed Lost).
func IsClosed(stage string) bool { return stage == StageWon || stage == StageLost }

// CanMove reports whether a deal in stage from may move to stage to: forward
// only (skipping is allowed), Closed Lost from any open stage, nothing out of
// a closed stage. Staying put is not a move.
func CanMove(from, to string) bool {
	fi, ti := StageIndex(from), StageIndex(to)
	if fi < 0 || ti < 0 || IsClosed(from) || from == to {
		return false
	}
	return to == StageLost || ti > fi
}

// NextStages lists the stages a deal in stage from may be saved with, in
// pipeline order: from itself and every stage CanMove allows. A new deal
// (from "") may start in any stage.
func NextStages(from string) []string {
	if StageIndex(from) < 0 {
		return append([]string(nil), Stages...)
	}
	var out []string
	for _, s := range Stages {
		if s == from || CanMove(from, s) {
			out = append(out, s)
		}
	}
	return out
}

// teamCurrency is the currency the team keeps its amounts in.
func (s *Store) teamCurrency(ctx context.Context, teamID int64) (string, error) {
	var code string
	if err := s.DB.NewSelect().Model((*Team)(nil)).Column("currency").Where("id = ?", teamID).Scan(ctx, &code); err != nil {
		if notFound(err) {
			return "", ErrNotFound
		}
		return "", fmt.Errorf("load currency of team %d: %w", teamID, err)
	}
	return code, nil
}

// Deal is a sales contract with one of the team's contacts. Money is in
// minor units of the team's currency.
type Deal struct {
	bun.BaseModel `bun:"table:deals,alias:d"`

	ID        int64     `bun:"id,pk,autoincrement"`
	TeamID    int64     `bun:"team_id,notnull"`
	ContactID int64     `bun:"contact_id,notnull"`
	Name      string    `bun:"name,notnull"`
	Stage     string    `bun:"stage,notnull"`
	StageRank int       `bun:"stage_rank,notnull"` // StageIndex(Stage), for sorting
	Goal      int64     `bun:"goal,notnull"`
	Amount    int64     `bun:"amount,notnull"`
	CloseDate time.Time `bun:"close_date,type:date,nullzero"` // midnight UTC; zero: none
	OwnerID   int64     `bun:"owner_id,nullzero"`
	// ContactName copies the contact's name so deals sort and search by it;
	// renaming a contact updates its deals in the same transaction.
	ContactName string    `bun:"contact_name,notnull"`
	Company     string    `bun:"company,notnull"`
	Version     int       `bun:"version,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
	ClosedAt    time.Time `bun:"closed_at,nullzero"`
	// LostReason and LostNote say why a Closed Lost deal was lost.
	LostReason string `bun:"lost_reason,notnull"`
	LostNote   string `bun:"lost_note,notnull"`
	// The board's times (migration 0010, store/board_touch.go): the latest
	// moment anything was logged on the deal or its contact, the latest
	// task or meeting scheduled on its contact, and when it entered its
	// current stage. The store keeps them; inserts leave them to it.
	LastTouchedAt time.Time `bun:"last_touched_at,nullzero"`
	NextDueAt     time.Time `bun:"next_due_at,nullzero"`
	StageSince    time.Time `bun:"stage_since,nullzero"`

	OwnerName string `bun:"owner_name,scanonly"`
}

// StageLog is one stage a deal entered: from "" to Created when it was
// made, then each move (a skip is one row from → to).
type StageLog struct {
	bun.BaseModel `bun:"table:deal_stage_log,alias:l"`

	ID        int64     `bun:"id,pk,autoincrement"`
	TeamID    int64     `bun:"team_id,notnull"`
	DealID    int64     `bun:"deal_id,notnull"`
	FromStage string    `bun:"from_stage,notnull"`
	ToStage   string    `bun:"to_stage,notnull"`
	UserID    int64     `bun:"user_id,notnull"`
	At        time.Time `bun:"at,notnull"`
	// Kind is LogMove, LogUndone or LogReopen; see board.go.
	Kind          string    `bun:"kind,notnull"`
	PrevCloseDate time.Time `bun:"prev_close_date,type:date,nullzero"`
	Reason        string    `bun:"reason,notnull"`
	Note          string    `bun:"note,notnull"`

	UserName string `bun:"user_name,scanonly"`
}

// DealInput is a deal form as typed; Validate parses and checks it.
type DealInput struct {
	Name   string
	Stage  string // "" keeps the current stage (Created for a new deal)
	Goal   string // money as typed, see money.Parse
	Amount string
	// Currency is the team's currency (ISO 4217), whose minor units Goal and
	// Amount are read in; CreateDeal and UpdateDeal set it from the team.
	Currency  string
	CloseDate string // YYYY-MM-DD or ""
	OwnerID   int64  // 0: unassigned; only owners and admins may choose
	ContactID int64
	Company   string // "" takes the contact's company
	// When the deal is closed by this save: the day it closed (YYYY-MM-DD,
	// "" for today in the team's zone), and for Closed Lost the reason (one
	// of the team's LostReasons) and an optional note.
	ClosedOn   string
	LostReason string
	LostNote   string
}

// dealValues is a DealInput after parsing.
type dealValues struct {
	name, stage, company string
	goal, amount         int64
	closeDate            time.Time
	ownerID, contactID   int64
	closedOn             time.Time
	lostReason, lostNote string
	expected             time.Time // the close date before applyClosing set it
}

// Validate checks every field without the database: required fields,
// lengths, money, the date, the stage name, and that Closed Won has an amount
// and a close date. Whether the stage may be reached from the deal's current
// stage, and whether contact and owner belong to the team, the store checks
// when saving.
func (in DealInput) Validate() FieldErrors {
	_, fe := in.parse()
	return fe
}

func (in DealInput) parse() (dealValues, FieldErrors) {
	fe := FieldErrors{}
	v := dealValues{
		name: strings.TrimSpace(in.Name), stage: strings.TrimSpace(in.Stage), company: strings.TrimSpace(in.Company),
		ownerID: in.OwnerID, contactID: in.ContactID,
	}
	if msg := NameError("Name", v.name); msg != "" {
		fe["name"] = msg
	}
	for _, st := range Stages {
		if strings.EqualFold(st, v.stage) {
			v.stage = st
		}
	}
	if v.stage != "" && StageIndex(v.stage) < 0 {
		fe["stage"] = "Choose one of the listed stages."
	}
	var err error
	if v.goal, err = money.Parse(in.Goal, in.Currency); err != nil {
		fe["goal"] = "Goal " + err.Error() + "."
	}
	if v.amount, err = money.Parse(in.Amount, in.Currency); err != nil {
		fe["amount"] = "Amount " + err.Error() + "."
	}
	if d := strings.TrimSpace(in.CloseDate); d != "" {
		t, err := ParseDay(d, time.UTC)
		switch {
		case errors.Is(err, ErrDayRange):
			fe["close_date"] = fmt.Sprintf("Enter a close date between %d and %d.", MinDayYear, MaxDayYear)
		case err != nil:
			fe["close_date"] = "Enter the close date as YYYY-MM-DD."
		default:
			v.closeDate = t
		}
	}
	if v.stage == StageWon {
		if _, bad := fe["amount"]; !bad && v.amount <= 0 {
			fe["amount"] = "Closing as won needs an amount above zero."
		}
	}
	parseClosing(fe, &v, in)
	if v.contactID <= 0 {
		fe["contact_id"] = "Choose a contact."
	}
	checkText(fe, "company", "Company", v.company, MaxCompanyLen, false)
	if v.ownerID < 0 {
		fe["owner_id"] = "Choose a member of your team."
	}
	return v, fe
}

// dealList is how deals are listed: sort keys, indexes and views.
var dealList = listSpec{
	table:       "deals",
	terms:       dealTermSet,
	defaultSort: "name",
	views:       []string{ViewAll, ViewMine},
	sorts: []sortDef{
		{key: "name", col: "name", index: "deals_name", ownerIndex: "deals_owner_name"},
		{key: "stage", col: "stage_rank", kind: kindInt, index: "deals_stage", ownerIndex: "deals_owner_stage"},
		{key: "goal", col: "goal", kind: kindInt, index: "deals_goal", ownerIndex: "deals_owner_goal"},
		{key: "amount", col: "amount", kind: kindInt, index: "deals_amount", ownerIndex: "deals_owner_amount"},
		{key: "close_date", col: "close_date", kind: kindDate, nullable: true, index: "deals_close_date", ownerIndex: "deals_owner_close_date"},
		{key: "owner", col: "name", byOwner: true, index: "deals_owner_name", ownerIndex: "deals_owner_name"},
		{key: "contact", col: "contact_name", index: "deals_contact", ownerIndex: "deals_owner_contact"},
		{key: "company", col: "company", index: "deals_company", ownerIndex: "deals_owner_company"},
		{key: "created", col: "created_at", kind: kindTime, index: "deals_created", ownerIndex: "deals_owner_created"},
		{key: "updated", col: "updated_at", kind: kindTime, index: "deals_updated", ownerIndex: "deals_owner_updated"},
	},
}

// DealSorts lists the sort keys ListDeals accepts, in column order. "stage"
// sorts in pipeline order; "close_date" puts deals without one last; "owner"
// sorts by the owner's name (unassigned last), then by deal name.
var DealSorts = []string{"name", "stage", "goal", "amount", "close_date", "owner", "contact", "company", "created", "updated"}

// DealQuery asks for one page of a team's deals; see ContactQuery. Views are
// ViewAll and ViewMine. Search matches the deal's name, company and contact
// name.
type DealQuery struct {
	View   string
	UserID int64
	Search string
	Sort   string
	Desc   bool
	Cursor string
	Limit  int
	Filter DealFilter
	bulk   bool // an export's walk: pages of up to exportPageSize
}

// DealPage is one page of deals with the cursors of its neighbours.
type DealPage struct {
	Rows []Deal
	Next string
	Prev string
}

// ListDeals returns one page of the team's deals.
func (s *Store) ListDeals(ctx context.Context, teamID int64, q DealQuery) (DealPage, error) {
	p, ok := s.dealParams(q)
	if !ok {
		return DealPage{}, nil
	}
	p.bulk = q.bulk
	res, err := dealList.listPage(ctx, s, teamID, p)
	if err != nil {
		return DealPage{}, fmt.Errorf("list deals of team %d: %w", teamID, err)
	}
	rows, err := s.dealsByIDs(ctx, teamID, res.ids)
	if err != nil {
		return DealPage{}, err
	}
	return DealPage{Rows: rows, Next: res.next, Prev: res.prev}, nil
}

// selectDeals reads deals through the named index (see indexHint).
func (s *Store) selectDeals(db bun.IDB, index string) *bun.SelectQuery {
	return db.NewSelect().Model((*Deal)(nil)).ModelTableExpr("deals AS d" + s.indexHint(index)).
		ColumnExpr("d.*").ColumnExpr("u.name AS owner_name").
		Join("LEFT JOIN users AS u ON u.id = d.owner_id")
}

func (s *Store) dealsByIDs(ctx context.Context, teamID int64, ids []int64) ([]Deal, error) {
	if len(ids) == 0 {
		return []Deal{}, nil
	}
	rows, err := rowsOrGeneral(func() ([]Deal, error) { return s.dealRows(ctx, teamID, ids) }, func() ([]Deal, error) {
		var rows []Deal
		err := s.selectDeals(s.DB, primaryKey).Where("d.team_id = ?", teamID).Where("d.id IN (?)", bun.In(ids)).Scan(ctx, &rows)
		return rows, err
	})
	if err != nil {
		return nil, fmt.Errorf("load deals: %w", err)
	}
	return orderByIDs(rows, ids, func(d *Deal) int64 { return d.ID }), nil
}

// DealByID loads one deal of the team; ErrNotFound if the team has none such.
func (s *Store) DealByID(ctx context.Context, teamID, id int64) (*Deal, error) {
	d := new(Deal)
	if err := s.selectDeals(s.DB, primaryKey).Where("d.team_id = ?", teamID).Where("d.id = ?", id).Scan(ctx, d); err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load deal %d: %w", id, err)
	}
	return d, nil
}

// DealsOfContact lists a contact's deals, newest first: by creation time,
// the id only breaking ties (ids are unique but not in insertion order
// across the servers of a TiDB cluster, each of which hands out its own
// range).
func (s *Store) DealsOfContact(ctx context.Context, teamID, contactID int64) ([]Deal, error) {
	var rows []Deal
	if err := s.selectDeals(s.DB, "deals_of_contact").Where("d.team_id = ?", teamID).Where("d.contact_id = ?", contactID).
		OrderExpr("d.created_at DESC, d.id DESC").Limit(500).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list deals of contact %d: %w", contactID, err)
	}
	return rows, nil
}

// DealStageLog lists the stages a deal entered, oldest first, with who moved
// it.
func (s *Store) DealStageLog(ctx context.Context, teamID, dealID int64) ([]StageLog, error) {
	var rows []StageLog
	err := s.DB.NewSelect().Model(&rows).ColumnExpr("l.*").ColumnExpr("u.name AS user_name").
		Join("LEFT JOIN users AS u ON u.id = l.user_id").
		Where("l.team_id = ?", teamID).Where("l.deal_id = ?", dealID).OrderExpr("l.at, l.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("stage log of deal %d: %w", dealID, err)
	}
	return rows, nil
}

// dealContact loads the contact a deal form names; a contact of another team
// is a field error, as if it did not exist.
func (s *Store) dealContact(ctx context.Context, db bun.IDB, teamID, contactID int64) (*Contact, error) {
	c := new(Contact)
	if err := db.NewSelect().Model(c).Where("team_id = ?", teamID).Where("id = ?", contactID).Scan(ctx); err != nil {
		if notFound(err) {
			return nil, FieldErrors{"contact_id": "Choose one of your team's contacts."}
		}
		return nil, fmt.Errorf("load contact %d: %w", contactID, err)
	}
	return c, nil
}

func (s *Store) logStage(ctx context.Context, db bun.IDB, teamID, dealID int64, from, to string, userID int64, at time.Time) error {
	return s.insertStageLog(ctx, db, &StageLog{TeamID: teamID, DealID: dealID, FromStage: from, ToStage: to, UserID: userID, At: at})
}

func (s *Store) insertStageLog(ctx context.Context, db bun.IDB, row *StageLog) error {
	from, to, dealID := row.FromStage, row.ToStage, row.DealID
	if row.Kind == "" {
		row.Kind = LogMove
	}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("log stage %q → %q of deal %d: %w", from, to, dealID, err)
	}
	return s.touchDeal(ctx, db, row.TeamID, dealID)
}

// CreateDeal adds a deal for one of the team's contacts and logs its Created
// stage (and, for a deal entered in a later stage, the move to it) in the
// same transaction. Owners and admins choose the owner; a member's new deal
// is theirs.
func (s *Store) CreateDeal(ctx context.Context, teamID int64, actor *User, in DealInput) (*Deal, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	currency, err := s.teamCurrency(ctx, teamID)
	if err != nil {
		return nil, err
	}
	in.Currency = currency
	v, fe := in.parse()
	if err := fe.err(); err != nil {
		return nil, err
	}
	if v.stage == "" {
		v.stage = StageCreated
	}
	now := s.now()
	d := &Deal{
		TeamID: teamID, ContactID: v.contactID, Name: v.name, Stage: v.stage, StageRank: StageIndex(v.stage),
		Goal: v.goal, Amount: v.amount, CloseDate: v.closeDate, OwnerID: actor.ID, Company: v.company,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if actor.CanManage() {
		d.OwnerID = v.ownerID
	}
	if IsClosed(d.Stage) {
		d.ClosedAt = now
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.dealContact(ctx, tx, teamID, v.contactID)
		if err != nil {
			return err
		}
		if IsClosed(d.Stage) {
			if err := s.applyClosing(ctx, tx, teamID, &v); err != nil {
				return err
			}
			d.CloseDate, d.LostReason, d.LostNote = v.closeDate, v.lostReason, v.lostNote
		}
		if err := checkOwner(ctx, tx, teamID, d.OwnerID); err != nil {
			return err
		}
		d.ContactName = c.Name
		if d.Company == "" {
			d.Company = c.Company
		}
		if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
			return fmt.Errorf("insert deal: %w", err)
		}
		if err := s.logStage(ctx, tx, teamID, d.ID, "", StageCreated, actor.ID, now); err != nil {
			return err
		}
		if d.Stage != StageCreated {
			row := &StageLog{TeamID: teamID, DealID: d.ID, FromStage: StageCreated, ToStage: d.Stage, UserID: actor.ID, At: now,
				Reason: d.LostReason, Note: d.LostNote, PrevCloseDate: v.expected}
			if err := s.insertStageLog(ctx, tx, row); err != nil {
				return err
			}
		}
		if err := replaceTerms(ctx, tx, dealTermSet, teamID, d.ID, dealTerms(d.Name, d.Company, d.ContactName)); err != nil {
			return err
		}
		if err := s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: dealsInserted([]Deal{*d}), Logged: []time.Time{now}}); err != nil {
			return err
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "deal", id: d.ID, from: StageCreated, to: d.Stage,
			types: stageEvents(StageCreated, d.Stage, EventDealCreated)})
	})
	if err != nil {
		return nil, fmt.Errorf("create deal: %w", err)
	}
	return s.DealByID(ctx, teamID, d.ID)
}

// UpdateDeal saves an edited deal if nobody changed it since version, like
// UpdateContact (on conflict: the current deal and an error matching
// ErrConflict). A closed deal is read-only (ErrClosed); a stage change must
// be allowed by CanMove and is logged.
func (s *Store) UpdateDeal(ctx context.Context, teamID int64, actor *User, id int64, version int, in DealInput) (*Deal, error) {
	if err := checkActor(actor, teamID); err != nil {
		return nil, err
	}
	currency, err := s.teamCurrency(ctx, teamID)
	if err != nil {
		return nil, err
	}
	in.Currency = currency
	v, fe := in.parse()
	if err := fe.err(); err != nil {
		return nil, err
	}
	conflict := false
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old := new(Deal)
		if err := s.forUpdate(tx.NewSelect().Model(old).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load deal %d: %w", id, err)
		}
		if old.Version != version {
			conflict = true
			return ErrConflict
		}
		if IsClosed(old.Stage) {
			return ErrClosed
		}
		if v.stage == "" {
			v.stage = old.Stage
		}
		if v.stage != old.Stage && !CanMove(old.Stage, v.stage) {
			return FieldErrors{"stage": fmt.Sprintf("A deal in %s cannot move to %s: deals only move forward.", old.Stage, v.stage)}
		}
		if v.stage != old.Stage {
			if err := checkMover(actor, old); err != nil {
				return err
			}
			if IsClosed(v.stage) {
				if err := s.applyClosing(ctx, tx, teamID, &v); err != nil {
					return err
				}
			}
		}
		c, err := s.dealContact(ctx, tx, teamID, v.contactID)
		if err != nil {
			return err
		}
		contactName := c.Name
		if v.company == "" {
			v.company = c.Company
		}
		owner := old.OwnerID
		if actor.CanManage() {
			owner = v.ownerID
			if owner != old.OwnerID {
				if err := checkOwner(ctx, tx, teamID, owner); err != nil {
					return err
				}
			}
		}
		now := s.now()
		q := tx.NewUpdate().Model((*Deal)(nil)).
			Set("name = ?", v.name).Set("stage = ?", v.stage).Set("stage_rank = ?", StageIndex(v.stage)).
			Set("goal = ?", v.goal).Set("amount = ?", v.amount).Set("close_date = ?", nullDate(v.closeDate)).
			Set("owner_id = ?", nullID(owner)).Set("contact_id = ?", v.contactID).Set("contact_name = ?", contactName).
			Set("company = ?", v.company).Set("version = version + 1").Set("updated_at = ?", now)
		if IsClosed(v.stage) {
			q = q.Set("closed_at = ?", now).Set("lost_reason = ?", v.lostReason).Set("lost_note = ?", v.lostNote)
		}
		res, err := q.Where("team_id = ?", teamID).Where("id = ?", id).Where("version = ?", version).Exec(ctx)
		if err != nil {
			return fmt.Errorf("update deal %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			conflict = true
			return ErrConflict
		}
		if v.stage != old.Stage {
			row := &StageLog{TeamID: teamID, DealID: id, FromStage: old.Stage, ToStage: v.stage, UserID: actor.ID, At: now,
				Reason: v.lostReason, Note: v.lostNote, PrevCloseDate: v.expected}
			if err := s.insertStageLog(ctx, tx, row); err != nil {
				return err
			}
		}
		if v.contactID != old.ContactID {
			if err := s.touchDeal(ctx, tx, teamID, id); err != nil {
				return err
			}
		}
		if v.name != old.Name || v.company != old.Company || contactName != old.ContactName {
			if err := replaceTerms(ctx, tx, dealTermSet, teamID, id, dealTerms(v.name, v.company, contactName)); err != nil {
				return err
			}
		}
		if v.name != old.Name || owner != old.OwnerID || v.company != old.Company || v.contactID != old.ContactID || contactName != old.ContactName {
			// The board shows these; recordChange counts only what a chart
			// reads. The counter row is taken here, at the end, as there.
			if err := s.boardChanged(ctx, tx, teamID); err != nil {
				return err
			}
		}
		after := *old
		after.Stage, after.Amount, after.Goal, after.CloseDate = v.stage, v.amount, v.goal, v.closeDate
		if err := s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: []DealDelta{{Before: old, After: &after}}, Logged: loggedIf(v.stage != old.Stage, now)}); err != nil {
			return err
		}
		return s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "deal", id: id, from: old.Stage, to: v.stage,
			types: stageEvents(old.Stage, v.stage, EventDealUpdated)})
	})
	if conflict {
		fresh, lerr := s.DealByID(ctx, teamID, id)
		if lerr != nil {
			return nil, fmt.Errorf("update deal %d: %w", id, lerr)
		}
		return fresh, fmt.Errorf("update deal %d: someone else saved it first: %w", id, ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("update deal %d: %w", id, err)
	}
	return s.DealByID(ctx, teamID, id)
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// AssignDeal gives a deal to a member of the team, or unassigns it when
// ownerID is 0. Only owners and admins may (ErrNotAllowed); closed deals are
// read-only (ErrClosed).
func (s *Store) AssignDeal(ctx context.Context, teamID int64, actor *User, id, ownerID int64) (*Deal, error) {
	d, err := s.DealByID(ctx, teamID, id)
	if err != nil {
		return nil, fmt.Errorf("assign deal %d: %w", id, err)
	}
	if IsClosed(d.Stage) {
		return nil, fmt.Errorf("assign deal %d: %w", id, ErrClosed)
	}
	if err := s.assign(ctx, teamID, actor, (*Deal)(nil), id, ownerID); err != nil {
		return nil, fmt.Errorf("assign deal %d: %w", id, err)
	}
	return s.DealByID(ctx, teamID, id)
}

// DeleteDeal removes a deal with its stage log. Closed deals can be deleted
// too: read-only means their values, not their existence.
func (s *Store) DeleteDeal(ctx context.Context, teamID int64, actor *User, id int64) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		d := new(Deal)
		if err := s.forUpdate(tx.NewSelect().Model(d).Where("team_id = ?", teamID).Where("id = ?", id)).Scan(ctx); err != nil {
			if notFound(err) {
				return ErrNotFound
			}
			return fmt.Errorf("load deal: %w", err)
		}
		// Announced before the delete: the event carries the deal as it was.
		if err := s.emit(ctx, tx, change{team: teamID, actor: actor.ID, kind: "deal", id: id, types: []string{EventDealDeleted}}); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Deal)(nil)).Where("team_id = ?", teamID).Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, Change{TeamID: teamID, Deals: dealsDeleted([]Deal{*d})})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete deal %d: %w", id, err)
	}
	return err
}

// renameDealContact carries a contact's new name to its deals and their
// search terms. The caller counts the board change (boardChanged) at the
// end of its transaction, where the team's counter row is taken.
func (s *Store) renameDealContact(ctx context.Context, tx bun.Tx, teamID, contactID int64, name string) error {
	var deals []Deal
	if err := tx.NewSelect().Model(&deals).Column("id", "name", "company").
		Where("team_id = ?", teamID).Where("contact_id = ?", contactID).Scan(ctx); err != nil {
		return fmt.Errorf("load deals of contact %d: %w", contactID, err)
	}
	if len(deals) == 0 {
		return nil
	}
	if _, err := tx.NewUpdate().Model((*Deal)(nil)).Set("contact_name = ?", name).
		Where("team_id = ?", teamID).Where("contact_id = ?", contactID).Exec(ctx); err != nil {
		return fmt.Errorf("rename contact of deals: %w", err)
	}
	for _, d := range deals {
		if err := replaceTerms(ctx, tx, dealTermSet, teamID, d.ID, dealTerms(d.Name, d.Company, name)); err != nil {
			return err
		}
	}
	return nil
}
