package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/charts"
	"sherpa/store"
	"sherpa/views"
)

// chartsRevision is part of every dashboard ETag: bump it when the charts
// are drawn differently, so open dashboards fetch the new drawing.
const chartsRevision = "c1"

// dashboard is the home page of a team member.
func (s *Server) dashboard(c *fiber.Ctx) error {
	d, err := s.dashboardView(c)
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return render(c, fiber.StatusOK, views.DashboardCharts(d))
	}
	return render(c, fiber.StatusOK, views.DashboardPage(s.shell(c, "Dashboard", "dashboard"), d))
}

// dashboardPoll answers an open dashboard's "anything new?": 304 when the
// ETag it sends still names the team's data, otherwise the charts fragment
// with the new ETag. A 304 costs one primary-key read beside the session.
func (s *Server) dashboardPoll(c *fiber.Ctx) error {
	team := currentTeam(c)
	version, err := s.store.TeamVersion(c.UserContext(), team.ID)
	if err != nil {
		return err
	}
	etag := dashboardETag(team, version, s.store.Now())
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderETag, etag)
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	d, err := s.dashboardAt(c, version)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DashboardCharts(d))
}

func (s *Server) dashboardView(c *fiber.Ctx) (views.Dashboard, error) {
	version, err := s.store.TeamVersion(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return views.Dashboard{}, err
	}
	return s.dashboardAt(c, version)
}

// dashboardAt is the dashboard of the current team at a version read before
// the call. The charts come in two halves, each drawn once per version and
// kept (see dashboardCache): this month's (closed vs goal, forecast) at the
// team's version, last month's (funnel, team activity) at its past version,
// which moves only when a month already over can have changed. Since the
// version is read before the data, a drawing is never labelled with a newer
// version than the data it shows.
func (s *Server) dashboardAt(c *fiber.Ctx, version store.TeamVersion) (views.Dashboard, error) {
	team, me := currentTeam(c), currentUser(c)
	now := s.store.Now()
	loc := teamLocation(team)
	month := now.In(loc).Format("2006-01")
	// Waiting requests share the drawing: it must not end with the request
	// that happened to start it.
	base := context.WithoutCancel(c.UserContext())
	draw := func(half func(context.Context, *store.Team, time.Time) (drawnCharts, error)) func() (drawnCharts, error) {
		return func() (drawnCharts, error) {
			ctx, cancel := context.WithTimeout(base, 30*time.Second)
			defer cancel()
			return half(ctx, team, now)
		}
	}
	var current, past drawnCharts
	var curErr, pastErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		key := fmt.Sprintf("%d-%s-%s-%s", version.Past, month, team.TimeZone, chartsRevision)
		past, pastErr = s.dashCache.get(dashKey{team.ID, "past"}, key, draw(s.drawLastMonth))
	}()
	etag := dashboardETag(team, version, now)
	current, curErr = s.dashCache.get(dashKey{team.ID, "current"}, etag, draw(s.drawThisMonth))
	wg.Wait()
	if err := errors.Join(curErr, pastErr); err != nil {
		return views.Dashboard{}, err
	}
	updated := current.at
	if past.at.After(updated) {
		updated = past.at
	}
	backBurner, more, err := s.store.BackBurnerCount(c.UserContext(), team.ID)
	if err != nil {
		return views.Dashboard{}, err
	}
	return views.Dashboard{
		TeamName: team.Name, TimeZone: team.TimeZone, Currency: team.Currency,
		ETag: etag, UpdatedAt: updated.In(loc), Charts: append(slices.Clip(current.charts), past.charts...),
		Empty: current.empty && past.empty, CanEditSettings: me.Role == store.RoleOwner,
		BackBurner: backBurner, BackBurnerMore: more,
	}, nil
}

// dashboardETag names what a dashboard shows: the team's data version, its
// zone and currency, and the month it is now in that zone (the charts move
// on at midnight of the first).
func dashboardETag(team *store.Team, version store.TeamVersion, now time.Time) string {
	month := now.In(teamLocation(team)).Format("2006-01")
	return fmt.Sprintf(`"%s-%d-%d-%s-%s-%s"`, chartsRevision, team.ID, version.All, month, team.Currency, team.TimeZone)
}

// etagMatch reports whether an If-None-Match header names etag (weakly, as
// RFC 9110 says for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// teamLocation is the team's time zone; the store accepts only valid
// zones, so UTC stands in only for a zone the server has lost.
func teamLocation(team *store.Team) *time.Location {
	loc, err := store.LoadTimeZone(team.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// activityTypes are the activity types in the order of the team activity
// chart's segments, as the chart labels them.
var activityTypes = []struct{ store, label string }{
	{store.ActivityNote, "note"},
	{store.ActivityEmail, "email"},
	{store.ActivityTask, "task"},
	{store.ActivityTaskCompleted, "task completed"},
	{store.ActivityMeeting, "meeting"},
}

// drawnCharts are some of a team's charts drawn at one version.
type drawnCharts struct {
	charts []views.Chart
	empty  bool
	at     time.Time
}

// drawThisMonth reads and draws the charts of the current month: closed vs
// goal (the last 12 months up to this one) and the forecast.
func (s *Server) drawThisMonth(ctx context.Context, team *store.Team, now time.Time) (drawnCharts, error) {
	loc := teamLocation(team)
	cvg, err := s.store.ClosedVsGoal(ctx, team.ID, loc, now)
	if err != nil {
		return drawnCharts{}, err
	}
	fc, err := s.store.Forecast(ctx, team.ID, loc, now)
	if err != nil {
		return drawnCharts{}, err
	}
	empty := true
	months := make([]charts.MonthAmounts, len(cvg))
	for i, m := range cvg {
		months[i] = charts.MonthAmounts{Month: m.Month, Closed: m.Closed, Goal: m.Goal}
		empty = empty && m.Closed == 0 && m.Goal == 0
	}
	stages := make([]charts.StageAmount, len(fc))
	for i, f := range fc {
		stages[i] = charts.StageAmount{Stage: f.Stage, Amount: f.Amount}
		empty = empty && f.Amount == 0
	}
	return drawCharts(now, empty,
		chartDraw{"chart-closed-vs-goal", "Closed won vs goal, last 12 months", func() ([]byte, error) { return charts.ClosedVsGoal(months, team.Currency) }},
		chartDraw{"chart-forecast", "Forecast this month", func() ([]byte, error) { return charts.Forecast(stages, team.Currency) }},
	)
}

// drawLastMonth reads and draws the charts of the last calendar month: the
// stage funnel and team activity.
func (s *Server) drawLastMonth(ctx context.Context, team *store.Team, now time.Time) (drawnCharts, error) {
	loc := teamLocation(team)
	// The two queries are the dashboard's heaviest; they run side by side.
	var fn []store.StageCount
	var ta []store.MemberActivity
	var fnErr, taErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn, fnErr = s.store.Funnel(ctx, team.ID, loc, now)
	}()
	ta, taErr = s.store.TeamActivity(ctx, team.ID, loc, now)
	wg.Wait()
	if err := errors.Join(fnErr, taErr); err != nil {
		return drawnCharts{}, err
	}
	empty := len(ta) == 0
	funnel := make([]charts.FunnelStage, len(fn))
	for i, f := range fn {
		funnel[i] = charts.FunnelStage{Stage: f.Stage, Count: f.Count}
		empty = empty && f.Count == 0
	}
	labels := make([]string, len(activityTypes))
	for i, t := range activityTypes {
		labels[i] = t.label
	}
	members := make([]charts.MemberActivity, len(ta))
	for i, m := range ta {
		counts := map[string]int{}
		for _, t := range activityTypes {
			counts[t.label] = m.Counts[t.store]
		}
		members[i] = charts.MemberActivity{Name: m.Name, Counts: counts}
	}
	return drawCharts(now, empty,
		chartDraw{"chart-funnel", "Stage funnel, last month", func() ([]byte, error) { return charts.Funnel(funnel) }},
		chartDraw{"chart-team-activity", "Team activity, last month", func() ([]byte, error) { return charts.TeamActivity(members, labels) }},
	)
}

// chartDraw is one card to draw.
type chartDraw struct {
	id, title string
	svg       func() ([]byte, error)
}

func drawCharts(at time.Time, empty bool, draws ...chartDraw) (drawnCharts, error) {
	out := drawnCharts{charts: make([]views.Chart, len(draws)), empty: empty, at: at}
	for i, d := range draws {
		svg, err := d.svg()
		if err != nil {
			return drawnCharts{}, fmt.Errorf("draw %s: %w", d.id, err)
		}
		out.charts[i] = views.Chart{ID: d.id, Title: d.title, SVG: svg}
	}
	return out, nil
}
