package store

// The demo data of the seed command: this file, demo_data.go (its word
// lists) and demo_bulk.go (MySQL bulk loading). They live in package store,
// not a package of their own, because they write the search terms and load
// MySQL in bulk with the store's internals; nothing else in the store calls
// them.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// SeedOptions describes the demo data Seed creates.
type SeedOptions struct {
	TeamName     string // default "Demo Sales"
	OwnerName    string // default "Demo Owner"
	OwnerEmail   string // the demo login; default demo@sherpa.test
	PasswordHash string // hash of the demo password, made by the caller (required)
	Members      int    // users besides the owner; default 5
	Contacts     int
	Deals        int // each for a random contact; at most 0 when Contacts is 0
	Notes        int // default Contacts/10
	Activities   int // besides the one each note logs; default Contacts/3
	Now          time.Time
	Rand         *rand.Rand
	// Progress, when set, hears how far each stage ("contacts", "deals",
	// "notes", "activities") has come.
	Progress func(stage string, done, total int)
	// NoSecondTeam leaves out the smaller second team Seed adds beside the
	// first (see SeedSecondTeam).
	NoSecondTeam bool
}

// ErrSeeded refuses to seed a database that already has the demo team:
// seed a fresh database instead.
var ErrSeeded = errors.New("this database already has the demo team")

// SeedResult says what Seed created.
type SeedResult struct {
	TeamID       int64
	TeamName     string
	OwnerEmail   string
	MemberEmails []string
	Contacts     int
	Deals        int
	StageLogs    int
	Notes        int
	Activities   int
	// Second is the second team, when one was seeded.
	Second *SeedResult
}

func (o *SeedOptions) defaults() error {
	if o.PasswordHash == "" {
		return errors.New("seed: a password hash for the demo users is required")
	}
	if o.TeamName == "" {
		o.TeamName = "Demo Sales"
	}
	if o.OwnerName == "" {
		o.OwnerName = "Demo Owner"
	}
	if o.OwnerEmail == "" {
		o.OwnerEmail = "demo@sherpa.test"
	}
	o.OwnerEmail = NormalizeEmail(o.OwnerEmail)
	if !ValidEmail(o.OwnerEmail) {
		return fmt.Errorf("seed: owner email %q is not valid", o.OwnerEmail)
	}
	if o.Members < 0 {
		o.Members = 0
	} else if o.Members == 0 {
		o.Members = 5
	}
	if o.Notes == 0 {
		o.Notes = o.Contacts / 10
	}
	if o.Activities == 0 {
		o.Activities = o.Contacts / 3
	}
	if o.Contacts <= 0 {
		o.Contacts, o.Deals, o.Notes, o.Activities = 0, 0, 0, 0
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(uint64(o.Now.UnixNano()), 42))
	}
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	return nil
}

// SecondTeamOptions derives the second, smaller demo team from the first's
// options: a fiftieth of its records, three members, and emails at
// northwind.<the first owner's domain>.
func SecondTeamOptions(o SeedOptions) SeedOptions {
	local, domain, _ := strings.Cut(NormalizeEmail(o.OwnerEmail), "@")
	if local == "" {
		local, domain = "demo", "sherpa.test"
	}
	o.TeamName = "Northwind Traders"
	o.OwnerName = "Nora North"
	o.OwnerEmail = local + "@northwind." + domain
	o.Members = 3
	o.Contacts = max(o.Contacts/50, min(o.Contacts, 50))
	o.Deals = max(o.Deals/50, min(o.Deals, 10))
	o.Notes, o.Activities = 0, 0
	o.NoSecondTeam = true
	return o
}

// Seed creates a demo team with realistic data: members, contacts, deals
// with their stage histories over the last 13 months, notes and activities;
// and, unless opt.NoSecondTeam, a smaller second team beside it. It writes in
// multi-row INSERTs inside transactions so that a million contacts load in
// minutes. Run it on a database nobody writes to meanwhile: it chooses the
// ids of new contacts and deals itself.
func (s *Store) Seed(ctx context.Context, opt SeedOptions) (*SeedResult, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	res, err := s.seedTeam(ctx, opt)
	if err != nil {
		return nil, err
	}
	if !opt.NoSecondTeam {
		if res.Second, err = s.seedTeam(ctx, SecondTeamOptions(opt)); err != nil {
			return res, err
		}
	}
	return res, s.Analyze(ctx)
}

// SeedSecondTeam creates only the second team Seed would add for opt.
func (s *Store) SeedSecondTeam(ctx context.Context, opt SeedOptions) (*SeedResult, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	o := SecondTeamOptions(opt)
	if err := o.defaults(); err != nil {
		return nil, err
	}
	return s.seedTeam(ctx, o)
}

// seeder carries one team's seeding.
type seeder struct {
	s        *Store
	opt      SeedOptions
	r        *rand.Rand
	teamID   int64
	users    []int64 // owner first
	start    time.Time
	contacts []seedContact
	res      *SeedResult
	// bulk: the tables' secondary indexes are dropped for the load and the
	// search terms collected, sorted and written in primary-key order.
	bulk         bool
	contactTerms []termRow
	dealTerms    []termRow
}

type seedContact struct {
	id        int64
	name      string
	company   string
	owner     int64
	createdAt time.Time
}

const (
	seedBatch   = 2000  // rows per INSERT
	seedTxRows  = 20000 // rows per transaction
	seedHistory = 395 * 24 * time.Hour
)

// seedBulkThreshold is the number of contacts from which Seed loads MySQL
// in bulk mode (see bulkLoad). A variable for tests.
var seedBulkThreshold = 50_000

// seedTables are the tables Seed fills, in the order they are loaded.
var seedTables = []string{"contacts", "contact_terms", "deals", "deal_terms", "deal_stage_log", "notes", "activities"}

func (s *Store) seedTeam(ctx context.Context, opt SeedOptions) (res *SeedResult, err error) {
	sd := &seeder{s: s, opt: opt, r: opt.Rand, start: opt.Now.Add(-seedHistory),
		res: &SeedResult{TeamName: opt.TeamName, OwnerEmail: opt.OwnerEmail},
		// Not on TiDB: its writes do not update B-trees in place, and
		// dropping and re-adding indexes there is a slow online DDL.
		bulk: s.Dialect == MySQL && !s.tidb && opt.Contacts >= seedBulkThreshold}
	if err := sd.team(ctx); err != nil {
		if errors.Is(err, ErrSeeded) {
			return sd.res, err
		}
		return sd.res, fmt.Errorf("seed team %q: %w", opt.TeamName, err)
	}
	// Activities are written in bulk, so last contacted and next step are
	// worked out once at the end (after the indexes are back).
	defer func() {
		if err == nil {
			opt.Progress("touches", 0, 1)
			err = s.refreshContactTouches(ctx, sd.teamID)
			opt.Progress("touches", 1, 1)
		}
	}()
	// Assigned with "=", not ":=": a new err would lose the deferred
	// restore's failure (indexes silently missing after a "successful" seed).
	var restore func(context.Context) error
	if sd.bulk {
		restore, err = s.bulkLoad(ctx, seedTables)
		if err != nil {
			return sd.res, fmt.Errorf("seed team %q: %w", opt.TeamName, err)
		}
		defer func() {
			opt.Progress("indexes", 0, 1)
			if rerr := restore(context.WithoutCancel(ctx)); rerr != nil && err == nil {
				err = fmt.Errorf("seed team %q: %w", opt.TeamName, rerr)
			}
			opt.Progress("indexes", 1, 1)
		}()
	}
	steps := []func(context.Context) error{sd.seedContacts, sd.seedDeals, sd.seedNotes, sd.seedActivities, sd.seedTerms}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return sd.res, fmt.Errorf("seed team %q: %w", opt.TeamName, err)
		}
	}
	return sd.res, sd.boardTimes(ctx, restore)
}

// boardTimes fills in the seeded deals' board times (store/board_touch.go)
// from their logs and their contacts' activities, once every row and index
// is in (restore, when not nil, puts back the indexes bulk mode dropped;
// the deferred call then has nothing left to do).
func (sd *seeder) boardTimes(ctx context.Context, restore func(context.Context) error) error {
	if restore != nil {
		if err := restore(ctx); err != nil {
			return fmt.Errorf("seed team %q: %w", sd.opt.TeamName, err)
		}
	}
	if _, err := sd.s.DB.NewRaw("UPDATE deals SET "+sd.s.touchSet()+" WHERE team_id = ?", sd.teamID).Exec(ctx); err != nil {
		return fmt.Errorf("seed team %q: board times: %w", sd.opt.TeamName, err)
	}
	return nil
}

// team creates the owner, the team and its members.
func (sd *seeder) team(ctx context.Context) error {
	s, o := sd.s, sd.opt
	owner, err := s.CreateUser(ctx, o.OwnerName, o.OwnerEmail, o.PasswordHash)
	if errors.Is(err, ErrDuplicate) {
		return fmt.Errorf("%w (its owner %s exists)", ErrSeeded, o.OwnerEmail)
	}
	if err != nil {
		return fmt.Errorf("create owner %s: %w", o.OwnerEmail, err)
	}
	team, err := s.CreateTeam(ctx, owner.ID, o.TeamName)
	if err != nil {
		return err
	}
	sd.teamID, sd.res.TeamID = team.ID, team.ID
	sd.users = []int64{owner.ID}
	_, domain, _ := strings.Cut(o.OwnerEmail, "@")
	used := map[string]bool{}
	for i := 0; i < o.Members; i++ {
		first, last := pick(sd.r, seedFirstNames), pick(sd.r, seedLastNames)
		name := first + " " + last
		if used[name] {
			i--
			continue
		}
		used[name] = true
		email := emailLocal(first) + "." + emailLocal(last) + "@" + domain
		u, err := s.CreateUser(ctx, name, email, o.PasswordHash)
		if err != nil {
			return fmt.Errorf("create member %s: %w", email, err)
		}
		role := RoleMember
		if i == 0 {
			role = RoleAdmin
		}
		err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewUpdate().Model((*User)(nil)).Set("team_id = ?", team.ID).Set("role = ?", role).
				Where("id = ?", u.ID).Where("team_id IS NULL").Exec(ctx); err != nil {
				return err
			}
			return s.recordChange(ctx, tx, Change{TeamID: team.ID, Past: true})
		})
		if err != nil {
			return fmt.Errorf("add member %s: %w", email, err)
		}
		sd.users = append(sd.users, u.ID)
		sd.res.MemberEmails = append(sd.res.MemberEmails, email)
	}
	return nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// emailLocal makes a name usable in an email address: folded, letters only.
func emailLocal(name string) string {
	var b strings.Builder
	for _, r := range fold(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// nextID is the id after the highest one in table: seeded rows carry their
// ids so that terms, deals and logs can refer to them without reading back.
func (sd *seeder) nextID(ctx context.Context, table string) (int64, error) {
	var id int64
	if err := sd.s.DB.NewRaw("SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("read last id of %s: %w", table, err)
	}
	return id + 1, nil
}

// timeBetween is a random time in [a, b).
func (sd *seeder) timeBetween(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(sd.r.Int64N(int64(b.Sub(a))))).Truncate(time.Microsecond)
}

// owner picks an owner: about 70% of records are assigned.
func (sd *seeder) owner() int64 {
	if sd.r.IntN(10) < 3 {
		return 0
	}
	return pick(sd.r, sd.users)
}

type seedCompany struct{ name, domain string }

func (sd *seeder) companies() []seedCompany {
	n := max(20, sd.opt.Contacts/25)
	seen := map[string]bool{}
	var out []seedCompany
	for tries := 0; len(out) < n && tries < n*20; tries++ {
		a, b := pick(sd.r, seedCompanyWords), pick(sd.r, seedCompanyKinds)
		var name string
		switch sd.r.IntN(3) {
		case 0:
			name = a + " " + b
		case 1:
			name = a + " " + pick(sd.r, seedCompanyWords) + " " + b
		default:
			name = a + pick(sd.r, seedCompanyWords) + " " + b
		}
		if f := pick(sd.r, seedCompanyForms); f != "" {
			name += " " + f
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		words := strings.Fields(name)
		domain := emailLocal(words[0]) + emailLocal(words[1]) + "." + pick(sd.r, seedTLDs)
		out = append(out, seedCompany{name, domain})
	}
	return out
}

func (sd *seeder) phone() string {
	r := sd.r
	d := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	switch r.IntN(10) {
	case 0:
		return ""
	case 1:
		return "+49 " + strconv.Itoa(150+r.IntN(30)) + " " + d(7)
	case 2:
		return "0" + strconv.Itoa(150+r.IntN(30)) + " " + d(8)
	case 3:
		return "(" + strconv.Itoa(200+r.IntN(700)) + ") " + d(3) + "-" + d(4)
	case 4:
		return "+1 " + strconv.Itoa(200+r.IntN(700)) + "-" + d(3) + "-" + d(4)
	case 5:
		return "+44 20 " + d(4) + " " + d(4)
	case 6:
		return "+33 1 " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)
	case 7:
		return strconv.Itoa(200+r.IntN(700)) + "." + d(3) + "." + d(4)
	case 8:
		return "+31 6 " + d(8)
	default:
		return "030 " + d(4) + "-" + d(3)
	}
}

var seedStatusWeights = []struct {
	status string
	weight int
}{
	{StatusNew, 25}, {StatusOpen, 15}, {StatusInProgress, 15}, {StatusOpenDeal, 10},
	{StatusUnqualified, 8}, {StatusAttempted, 12}, {StatusConnected, 10}, {StatusBadTiming, 5},
}

func (sd *seeder) status() string {
	n := sd.r.IntN(100)
	for _, w := range seedStatusWeights {
		if n < w.weight {
			return w.status
		}
		n -= w.weight
	}
	return StatusNew
}

// inTx runs fn in a transaction.
func (sd *seeder) inTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	return sd.s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
}

// insertRows inserts a slice of models in multi-row statements.
func insertRows[T any](ctx context.Context, db bun.IDB, rows []T) error {
	for len(rows) > 0 {
		n := min(seedBatch, len(rows))
		chunk := rows[:n]
		if _, err := db.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

func (sd *seeder) seedContacts(ctx context.Context) error {
	total := sd.opt.Contacts
	if total == 0 {
		return nil
	}
	firstID, err := sd.nextID(ctx, "contacts")
	if err != nil {
		return err
	}
	companies := sd.companies()
	usedEmail := make(map[string]int, total)
	sd.contacts = make([]seedContact, 0, total)
	span := sd.opt.Now.Sub(sd.start)
	sd.opt.Progress("contacts", 0, total)
	for done := 0; done < total; {
		n := min(seedTxRows, total-done)
		rows := make([]Contact, 0, n)
		var terms []termRow
		for i := 0; i < n; i++ {
			k := done + i
			first, last := pick(sd.r, seedFirstNames), pick(sd.r, seedLastNames)
			co := pick(sd.r, companies)
			var local string
			switch sd.r.IntN(4) {
			case 0:
				local = emailLocal(first)[:1] + "." + emailLocal(last)
			case 1:
				local = emailLocal(first) + "_" + emailLocal(last)
			default:
				local = emailLocal(first) + "." + emailLocal(last)
			}
			domain := co.domain
			if sd.r.IntN(10) == 0 {
				domain = pick(sd.r, seedFreemail)
			}
			email := local + "@" + domain
			if c := usedEmail[email]; c > 0 {
				usedEmail[email] = c + 1
				email = local + strconv.Itoa(c+1) + "@" + domain
			}
			usedEmail[email]++
			phone := sd.phone()
			// Contacts arrive in order over 13 months, as in a real CRM.
			created := sd.start.Add(time.Duration(float64(span) * (float64(k) + sd.r.Float64()) / float64(total))).Truncate(time.Microsecond)
			updated := created
			if sd.r.IntN(3) > 0 {
				end := created.Add(60 * 24 * time.Hour)
				if end.After(sd.opt.Now) {
					end = sd.opt.Now
				}
				updated = sd.timeBetween(created, end)
			}
			c := Contact{
				ID: firstID + int64(k), TeamID: sd.teamID, Name: first + " " + last, Email: email,
				Phone: phone, PhoneDigits: digitsOf(phone), Company: co.name, Status: sd.status(),
				OwnerID: sd.owner(), Version: 1 + sd.r.IntN(3), CreatedAt: created, UpdatedAt: updated,
			}
			rows = append(rows, c)
			for _, t := range contactTerms(c.Name, c.Email, c.Company, c.Phone) {
				terms = append(terms, termRow{sd.teamID, t, c.ID})
			}
			sd.contacts = append(sd.contacts, seedContact{c.ID, c.Name, c.Company, c.OwnerID, created})
		}
		if sd.bulk {
			sd.contactTerms = append(sd.contactTerms, terms...)
			terms = nil
		}
		err := sd.inTx(ctx, func(tx bun.Tx) error {
			if err := insertRows(ctx, tx, rows); err != nil {
				return fmt.Errorf("insert contacts: %w", err)
			}
			return insertTerms(ctx, tx, contactTermSet, terms)
		})
		if err != nil {
			return err
		}
		done += n
		sd.res.Contacts = done
		sd.opt.Progress("contacts", done, total)
	}
	return nil
}

// stagePath walks a deal from Created: mostly one stage at a time, sometimes
// skipping, sometimes lost, stopping when the next move would be in the
// future. It returns the stages entered after Created and when.
func (sd *seeder) stagePath(created time.Time) (stages []string, at []time.Time) {
	stage, t := StageCreated, created
	for !IsClosed(stage) {
		if sd.r.IntN(100) < 12 {
			break // stalls in its stage
		}
		t = t.Add(time.Duration(1+sd.r.IntN(35)) * 24 * time.Hour).Add(time.Duration(sd.r.IntN(86400)) * time.Second)
		if t.After(sd.opt.Now) {
			break
		}
		next := StageLost
		if sd.r.IntN(100) >= 15 {
			step := 1
			if n := sd.r.IntN(100); n < 15 {
				step = 2
			} else if n < 20 {
				step = 3
			}
			next = Stages[min(StageIndex(stage)+step, StageIndex(StageWon))]
		}
		stages, at = append(stages, next), append(at, t)
		stage = next
	}
	return stages, at
}

func (sd *seeder) seedDeals(ctx context.Context) error {
	total := sd.opt.Deals
	if total == 0 || len(sd.contacts) == 0 {
		return nil
	}
	firstID, err := sd.nextID(ctx, "deals")
	if err != nil {
		return err
	}
	span := sd.opt.Now.Sub(sd.start)
	sd.opt.Progress("deals", 0, total)
	for done := 0; done < total; {
		n := min(seedTxRows/2, total-done)
		deals := make([]Deal, 0, n)
		var logs []StageLog
		var terms []termRow
		for i := 0; i < n; i++ {
			k := done + i
			created := sd.start.Add(time.Duration(float64(span) * (float64(k) + sd.r.Float64()) / float64(total))).Truncate(time.Microsecond)
			// A deal's contact already existed when the deal was made.
			limit := max(1, createdBefore(sd.contacts, created))
			c := sd.contacts[sd.r.IntN(limit)]
			owner := c.owner
			if owner == 0 || sd.r.IntN(5) == 0 {
				owner = sd.owner()
			}
			user := owner
			if user == 0 {
				user = pick(sd.r, sd.users)
			}
			goal := int64(500+sd.r.IntN(99500)) * 100
			d := Deal{
				ID: firstID + int64(k), TeamID: sd.teamID, ContactID: c.id,
				Name: strings.Fields(c.company)[0] + " " + pick(sd.r, seedDealProducts), Stage: StageCreated,
				Goal: goal, OwnerID: owner, ContactName: c.name, Company: c.company, Version: 1,
				CreatedAt: created, UpdatedAt: created,
			}
			logs = append(logs, StageLog{TeamID: sd.teamID, DealID: d.ID, FromStage: "", ToStage: StageCreated, UserID: user, At: created})
			stages, times := sd.stagePath(created)
			from := StageCreated
			for j, st := range stages {
				logs = append(logs, StageLog{TeamID: sd.teamID, DealID: d.ID, FromStage: from, ToStage: st, UserID: user, At: times[j].Truncate(time.Microsecond)})
				from = st
				d.Stage, d.UpdatedAt = st, times[j].Truncate(time.Microsecond)
			}
			d.StageRank = StageIndex(d.Stage)
			switch d.Stage {
			case StageWon:
				d.Amount = goal * int64(60+sd.r.IntN(70)) / 100
				d.ClosedAt = d.UpdatedAt
				d.CloseDate = dateOf(d.UpdatedAt)
			case StageLost:
				d.ClosedAt = d.UpdatedAt
				d.CloseDate = dateOf(d.UpdatedAt)
			default:
				if sd.r.IntN(3) > 0 {
					d.Amount = goal * int64(50+sd.r.IntN(60)) / 100
				}
				if sd.r.IntN(10) > 0 {
					d.CloseDate = dateOf(created.Add(time.Duration(20+sd.r.IntN(150)) * 24 * time.Hour))
				}
			}
			deals = append(deals, d)
			for _, t := range dealTerms(d.Name, d.Company, d.ContactName) {
				terms = append(terms, termRow{sd.teamID, t, d.ID})
			}
		}
		if sd.bulk {
			sd.dealTerms = append(sd.dealTerms, terms...)
			terms = nil
		}
		err := sd.inTx(ctx, func(tx bun.Tx) error {
			if err := insertRows(ctx, tx, deals); err != nil {
				return fmt.Errorf("insert deals: %w", err)
			}
			if err := insertRows(ctx, tx, logs); err != nil {
				return fmt.Errorf("insert stage log: %w", err)
			}
			if err := insertTerms(ctx, tx, dealTermSet, terms); err != nil {
				return err
			}
			return sd.s.recordChange(ctx, tx, Change{TeamID: sd.teamID, Past: true, Deals: dealsInserted(deals)})
		})
		if err != nil {
			return err
		}
		done += n
		sd.res.Deals = done
		sd.res.StageLogs += len(logs)
		sd.opt.Progress("deals", done, total)
	}
	return nil
}

// createdBefore is the number of contacts created before t (they are in
// creation order).
func createdBefore(cs []seedContact, t time.Time) int {
	i, _ := slices.BinarySearchFunc(cs, t, func(c seedContact, t time.Time) int { return c.createdAt.Compare(t) })
	return i
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// randomContact picks a contact and a time after it was created.
func (sd *seeder) randomContact() (seedContact, time.Time) {
	c := sd.contacts[sd.r.IntN(len(sd.contacts))]
	return c, sd.timeBetween(c.createdAt, sd.opt.Now)
}

func (sd *seeder) seedNotes(ctx context.Context) error {
	total := sd.opt.Notes
	if total == 0 || len(sd.contacts) == 0 {
		return nil
	}
	sd.opt.Progress("notes", 0, total)
	for done := 0; done < total; {
		n := min(seedTxRows, total-done)
		notes := make([]Note, 0, n)
		acts := make([]Activity, 0, n)
		for i := 0; i < n; i++ {
			c, at := sd.randomContact()
			author := pick(sd.r, sd.users)
			body := pick(sd.r, seedNoteBodies)
			notes = append(notes, Note{TeamID: sd.teamID, ContactID: c.id, AuthorID: author, Body: body, CreatedAt: at})
			acts = append(acts, Activity{TeamID: sd.teamID, ContactID: c.id, UserID: author, Type: ActivityNote, Description: shorten(body, activityDescriptionMax), At: at})
		}
		err := sd.inTx(ctx, func(tx bun.Tx) error {
			if err := insertRows(ctx, tx, notes); err != nil {
				return fmt.Errorf("insert notes: %w", err)
			}
			if err := insertRows(ctx, tx, acts); err != nil {
				return fmt.Errorf("insert note activities: %w", err)
			}
			return sd.s.recordChange(ctx, tx, Change{TeamID: sd.teamID, Activities: activitiesInserted(acts)})
		})
		if err != nil {
			return err
		}
		done += n
		sd.res.Notes = done
		sd.res.Activities += n
		sd.opt.Progress("notes", done, total)
	}
	return nil
}

func (sd *seeder) seedActivities(ctx context.Context) error {
	total := sd.opt.Activities
	if total == 0 || len(sd.contacts) == 0 {
		return nil
	}
	sd.opt.Progress("activities", 0, total)
	for done := 0; done < total; {
		n := min(seedTxRows, total-done)
		acts := make([]Activity, 0, n)
		for i := 0; i < n; i++ {
			c, at := sd.randomContact()
			var typ, desc, title string
			switch sd.r.IntN(4) {
			case 0:
				typ, desc = ActivityEmail, "Sent email: "+pick(sd.r, seedEmailSubjects)
			case 1, 2:
				title = pick(sd.r, seedTaskTitles)
				typ, desc = ActivityTask, taskPrefix+title
			default:
				typ, desc = ActivityMeeting, "Meeting: "+pick(sd.r, seedMeetingTitles)
			}
			a := Activity{TeamID: sd.teamID, ContactID: c.id, UserID: pick(sd.r, sd.users), Type: typ, Description: desc, At: at}
			if typ == ActivityTask || typ == ActivityMeeting {
				// Due one to three weeks after it was logged (without
				// drawing from the random source, so the rest of the demo
				// stays the same): the recent ones are next steps.
				a.DueAt = at.Add(time.Duration(1+(c.id*7919+int64(i))%21) * 24 * time.Hour)
			}
			if done, ok := sd.taskDone(a, c.id, i); ok {
				// The task is closed the way the app closes one: a "task
				// completed" activity of the same title, and done_at.
				a.DoneAt = done
				acts = append(acts, Activity{TeamID: sd.teamID, ContactID: c.id, UserID: a.UserID, Type: ActivityTaskCompleted,
					Description: taskCompletedPrefix + title, At: done})
			}
			acts = append(acts, a)
		}
		err := sd.inTx(ctx, func(tx bun.Tx) error {
			if err := insertRows(ctx, tx, acts); err != nil {
				return err
			}
			return sd.s.recordChange(ctx, tx, Change{TeamID: sd.teamID, Activities: activitiesInserted(acts)})
		})
		if err != nil {
			return fmt.Errorf("insert activities: %w", err)
		}
		done += n
		sd.res.Activities += len(acts)
		sd.opt.Progress("activities", done, total)
	}
	return nil
}

// taskDone decides whether a seeded task was completed, and when (from the
// contact and row, not the random source): most tasks whose day is over
// were done, between a third of the way to their due day and three days
// late; one in six stays open and overdue. A task due ahead is open (a next
// step), as is one whose completion would lie in the future.
func (sd *seeder) taskDone(a Activity, contactID int64, i int) (time.Time, bool) {
	if a.Type != ActivityTask || !a.DueAt.Before(sd.opt.Now) {
		return time.Time{}, false
	}
	h := contactID*104729 + int64(i)*7907
	if h%6 == 0 {
		return time.Time{}, false
	}
	span := a.DueAt.Sub(a.At) + 3*24*time.Hour
	done := a.At.Add(span/3 + time.Duration(h%1000)*(span*2/3)/1000)
	if !done.Before(sd.opt.Now) {
		return time.Time{}, false
	}
	return done, true
}

// seedTerms writes the search terms collected in bulk mode, sorted like the
// term tables' primary key so that every insert appends.
func (sd *seeder) seedTerms(ctx context.Context) error {
	for _, set := range []struct {
		ts   termSet
		rows []termRow
	}{{contactTermSet, sd.contactTerms}, {dealTermSet, sd.dealTerms}} {
		rows := set.rows
		slices.SortFunc(rows, func(a, b termRow) int {
			if c := strings.Compare(a.Term, b.Term); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})
		total := len(rows)
		sd.opt.Progress(set.ts.table, 0, total)
		for done := 0; done < total; {
			n := min(10*seedTxRows, total-done)
			chunk := rows[done : done+n]
			if err := sd.inTx(ctx, func(tx bun.Tx) error { return insertTerms(ctx, tx, set.ts, chunk) }); err != nil {
				return err
			}
			done += n
			sd.opt.Progress(set.ts.table, done, total)
		}
	}
	sd.contactTerms, sd.dealTerms = nil, nil
	return nil
}
