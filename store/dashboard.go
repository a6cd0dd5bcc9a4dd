package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// The dashboard's four aggregates. Each takes the team's time zone and the
// current time: months are calendar months in that zone. Deal close dates
// are dates without a zone and are compared as they are; stage-log and
// activity times are UTC instants, compared against month boundaries that
// are computed here, in Go, from the team's zone (so the database needs no
// time-zone tables and each query is a plain range on an index).

// MonthTotal is one month of closed-won amounts against goals, in minor
// units of the team currency.
type MonthTotal struct {
	Month  time.Time // midnight of the first day, in the team's zone
	Closed int64     // amounts of Closed Won deals whose close date is in the month
	Goal   int64     // goals of all deals whose close date is in the month
}

// StageAmount is the sum of the amounts of a stage's deals.
type StageAmount struct {
	Stage  string
	Amount int64
}

// StageCount is the number of deals that reached a stage (or a later one).
type StageCount struct {
	Stage string
	Count int
}

// MemberActivity is one member's activities in a period, by type.
type MemberActivity struct {
	UserID int64
	Name   string
	Counts map[string]int // by activity type (ActivityNote, …)
	Total  int
}

// Dashboard is everything the dashboard draws, for one team at one moment.
type Dashboard struct {
	ClosedVsGoal []MonthTotal
	Forecast     []StageAmount
	Funnel       []StageCount
	TeamActivity []MemberActivity
}

// PipelineStages are the stages of the funnel, in order: every stage but
// Closed Lost, which ends a deal without reaching a later stage.
var PipelineStages = []string{StageCreated, StageQualified, StageContractSent, StageAppointment, StageWon}

// TopMembers is how many members the team activity chart shows.
const TopMembers = 5

// MonthStart is midnight of the first day of t's month in loc.
func MonthStart(t time.Time, loc *time.Location) time.Time {
	y, m, _ := t.In(loc).Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, loc)
}

// dateString writes the calendar date of t (in t's own zone) as both
// databases compare it with deal_month_totals.month: a DATE on MySQL, text
// 'YYYY-MM-DD' on SQLite.
func dateString(t time.Time) string { return t.Format(time.DateOnly) }

// LoadDashboard runs the four aggregates at once, each on its own
// connection, so that the dashboard takes about as long as its slowest
// chart.
func (s *Store) LoadDashboard(ctx context.Context, teamID int64, loc *time.Location, now time.Time) (*Dashboard, error) {
	d := new(Dashboard)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	run := func(i int, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	run(0, func() (err error) { d.ClosedVsGoal, err = s.ClosedVsGoal(ctx, teamID, loc, now); return err })
	run(1, func() (err error) { d.Forecast, err = s.Forecast(ctx, teamID, loc, now); return err })
	run(2, func() (err error) { d.Funnel, err = s.Funnel(ctx, teamID, loc, now); return err })
	run(3, func() (err error) { d.TeamActivity, err = s.TeamActivity(ctx, teamID, loc, now); return err })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ClosedVsGoal returns the last 12 months in loc up to and including now's
// month, oldest first: per month, the total amount of the team's Closed Won
// deals whose close date is in the month, and the total goal of all its
// deals (open, won or lost) whose close date is in the month.
//
// It reads deal_month_totals, which the write methods keep as the per-month,
// per-stage sums of the deals (migration 0005): a close date is a date, so
// its month is the same in every zone and the sums need no zone.
func (s *Store) ClosedVsGoal(ctx context.Context, teamID int64, loc *time.Location, now time.Time) ([]MonthTotal, error) {
	end := MonthStart(now, loc).AddDate(0, 1, 0)
	start := end.AddDate(0, -12, 0)
	var rows []struct {
		Month  time.Time `bun:"month"`
		Closed int64     `bun:"closed"`
		Goal   int64     `bun:"goal"`
	}
	err := s.DB.NewRaw(`SELECT month,
  SUM(CASE WHEN stage = ? THEN amount ELSE 0 END) AS closed,
  SUM(goal) AS goal
FROM deal_month_totals
WHERE team_id = ? AND month >= ? AND month < ?
GROUP BY month`, StageWon, teamID, dateString(start), dateString(end)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("closed vs goal of team %d: %w", teamID, err)
	}
	months := make([]MonthTotal, 12)
	for i := range months {
		months[i].Month = start.AddDate(0, i, 0)
	}
	for _, r := range rows {
		// The month comes back as midnight UTC of its first day.
		y, m, _ := r.Month.UTC().Date()
		i := (y-start.Year())*12 + int(m) - int(start.Month())
		if i < 0 || i >= len(months) {
			continue
		}
		months[i].Closed += r.Closed
		months[i].Goal += r.Goal
	}
	return months, nil
}

// Forecast returns, for each stage of PipelineStages in order, the sum of
// the amounts of the team's deals in that stage whose close date falls in
// now's month in loc. Closed Lost deals are left out; Closed Won deals are
// in, as revenue already made this month. Like ClosedVsGoal it reads the
// monthly totals.
func (s *Store) Forecast(ctx context.Context, teamID int64, loc *time.Location, now time.Time) ([]StageAmount, error) {
	var rows []struct {
		Stage  string `bun:"stage"`
		Amount int64  `bun:"amount"`
	}
	err := s.DB.NewRaw(`SELECT stage, amount
FROM deal_month_totals
WHERE team_id = ? AND month = ? AND stage <> ?`, teamID, dateString(MonthStart(now, loc)), StageLost).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("forecast of team %d: %w", teamID, err)
	}
	out := make([]StageAmount, len(PipelineStages))
	for i, st := range PipelineStages {
		out[i].Stage = st
	}
	for _, r := range rows {
		if i := slices.Index(PipelineStages, r.Stage); i >= 0 {
			out[i].Amount += r.Amount
		}
	}
	return out, nil
}

// Funnel returns, for each stage S of PipelineStages in order, the number
// of the team's deals that reached S or a later stage during the calendar
// month before now's month in loc, read from the stage log.
//
// A log row "to X" means the deal reached X and, since deals only move
// forward, passed every stage before X: a skip counts as passing through.
// A deal's level in the month is the furthest pipeline stage it entered in
// the month, and it counts for that stage and every one before it. Closed
// Lost is not a later stage than any other: entering it reaches nothing,
// so a deal lost in the month counts only for the stages it entered before
// (in the same month). Each deal counts once per stage however many moves
// it made. A close that a reopen took back (LogUndone) and the reopen itself
// (LogReopen) reach nothing: a reopened deal no longer counts as won.
func (s *Store) Funnel(ctx context.Context, teamID int64, loc *time.Location, now time.Time) ([]StageCount, error) {
	end := MonthStart(now, loc)
	start := end.AddDate(0, -1, 0)
	var rank strings.Builder
	rank.WriteString("CASE to_stage")
	args := []any{}
	for i, st := range PipelineStages {
		fmt.Fprintf(&rank, " WHEN ? THEN %d", i)
		args = append(args, st)
	}
	rank.WriteString(" END")
	args = append(args, teamID, start.UTC(), end.UTC(), StageLost, LogUndone, LogReopen)
	var rows []struct {
		Level int `bun:"level"`
		N     int `bun:"n"`
	}
	err := s.DB.NewRaw(`SELECT level, COUNT(*) AS n FROM (
  SELECT deal_id, MAX(`+rank.String()+`) AS level
  FROM deal_stage_log
  WHERE team_id = ? AND at >= ? AND at < ? AND to_stage <> ? AND kind <> ? AND kind <> ?
  GROUP BY deal_id
) AS reached
WHERE level IS NOT NULL
GROUP BY level`, args...).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("funnel of team %d: %w", teamID, err)
	}
	out := make([]StageCount, len(PipelineStages))
	for i, st := range PipelineStages {
		out[i].Stage = st
	}
	// A deal at level L reached every stage up to L.
	for _, r := range rows {
		for i := 0; i <= r.Level && i < len(out); i++ {
			out[i].Count += r.N
		}
	}
	return out, nil
}

// TeamActivity returns the TopMembers current members of the team with the
// most activities in the calendar month before now's month in loc, most
// active first, with their counts by type. Activities of people who have
// left the team are not counted. Ties are broken by name (byte order), then
// by user id, so the same data always gives the same five.
//
// The whole UTC days of the month are read from activity_day_totals, which
// the write methods keep (store/changes.go); only the hours at either end that the
// team's zone cuts out of a UTC day are counted from the activities.
func (s *Store) TeamActivity(ctx context.Context, teamID int64, loc *time.Location, now time.Time) ([]MemberActivity, error) {
	end := MonthStart(now, loc).UTC()
	start := MonthStart(now, loc).AddDate(0, -1, 0).UTC()
	firstDay, lastDay := utcDay(start), utcDay(end) // whole days: [firstDay, lastDay)
	if firstDay.Before(start) {
		firstDay = firstDay.AddDate(0, 0, 1)
	}
	var rows []struct {
		UserID int64  `bun:"user_id"`
		Name   string `bun:"name"`
		Type   string `bun:"type"`
		N      int    `bun:"n"`
	}
	// CROSS JOIN keeps SQLite's join order (the counts, then each user by
	// primary key); with statistics it would rather scan users.
	err := s.DB.NewRaw(`SELECT x.user_id, u.name, x.type, x.n FROM (
  SELECT user_id, type, SUM(n) AS n FROM (
    SELECT user_id, type, n FROM activity_day_totals WHERE team_id = ? AND day >= ? AND day < ?
    UNION ALL
    SELECT user_id, type, 1 AS n FROM activities WHERE team_id = ? AND at >= ? AND at < ?
    UNION ALL
    SELECT user_id, type, 1 AS n FROM activities WHERE team_id = ? AND at >= ? AND at < ?
  ) AS parts
  GROUP BY user_id, type
) AS x
CROSS JOIN users AS u ON u.id = x.user_id
WHERE u.team_id = ?`,
		teamID, dateString(firstDay), dateString(lastDay),
		teamID, start, firstDay,
		teamID, lastDay, end,
		teamID).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("team activity of team %d: %w", teamID, err)
	}
	byUser := map[int64]*MemberActivity{}
	var members []*MemberActivity
	for _, r := range rows {
		if r.N == 0 {
			continue // a day total whose activities were deleted
		}
		m := byUser[r.UserID]
		if m == nil {
			m = &MemberActivity{UserID: r.UserID, Name: r.Name, Counts: map[string]int{}}
			byUser[r.UserID] = m
			members = append(members, m)
		}
		m.Counts[r.Type] += r.N
		m.Total += r.N
	}
	slices.SortFunc(members, func(a, b *MemberActivity) int {
		switch {
		case a.Total != b.Total:
			return b.Total - a.Total
		case a.Name != b.Name:
			return strings.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	out := make([]MemberActivity, 0, TopMembers)
	for _, m := range members[:min(len(members), TopMembers)] {
		out = append(out, *m)
	}
	return out, nil
}

// utcDay is midnight UTC of t's UTC date.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TeamVersion is a team's pair of change counters, moved on by the
// store's write methods (store/changes.go). Two reads with the same All saw
// the same chart data; two with the same Past saw the same data for every month before
// the current one, in any zone.
type TeamVersion struct {
	// All counts every write to the team's deals, stage log, activities or
	// members that can change a chart.
	All int64
	// Past counts those that can change a month already over: deleting a
	// deal, contact or activity, renaming a member or one leaving, and
	// stage-log or activity rows dated more than an hour before the
	// database's clock. Rows written "now" cannot change last month.
	Past int64
}

// TeamVersion reads the team's change counters: one primary-key read,
// cheap enough to poll.
func (s *Store) TeamVersion(ctx context.Context, teamID int64) (TeamVersion, error) {
	var v TeamVersion
	err := s.DB.NewSelect().Table("team_changes").Column("version", "past_version").
		Where("team_id = ?", teamID).Scan(ctx, &v.All, &v.Past)
	if err != nil {
		if notFound(err) {
			return v, ErrNotFound
		}
		return v, fmt.Errorf("version of team %d: %w", teamID, err)
	}
	return v, nil
}
