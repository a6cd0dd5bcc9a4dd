package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// boardRevision is part of every board ETag: bump it when the board is
// drawn differently, so open boards fetch the new drawing.
const boardRevision = "b1"

// boardScripts are the board page's scripts beside htmx and app.js.
var boardScripts = []string{"sortable-1.15.7.min.js", "board.js"}

func (s *Server) boardRoutes(app *fiber.App, g fiber.Router) {
	g.Get("/board", s.boardPage)
	g.Get("/board/poll", s.boardPoll)
	g.Get("/board/more", s.boardMore)
	g.Post("/board/move", s.moveDeal)
	g.Post("/:id/move", s.moveDeal)
	g.Post("/:id/reopen", s.reopenDeal)
	app.Post("/team/board", s.requireTeam, s.requireManager, s.saveBoardSettings)
}

// closing is what a deal form needs for closing: today in the team's zone
// and its lost reasons.
func (s *Server) closing(c *fiber.Ctx) (views.Closing, error) {
	ctx, team := c.UserContext(), currentTeam(c)
	today := s.teamToday(team)
	reasons, err := s.store.LostReasons(ctx, team.ID)
	if err != nil {
		return views.Closing{}, err
	}
	return views.Closing{Today: today.Format(time.DateOnly), Reasons: reasons}, nil
}

// teamToday is today in the team's zone as midnight UTC, like
// store.TeamToday but from the team the request loaded.
func (s *Server) teamToday(team *store.Team) time.Time {
	y, m, d := s.store.Now().In(teamLocation(team)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// param reads a value from the query or, for posts, the form.
func param(c *fiber.Ctx, name string) string {
	if v := c.Query(name); v != "" {
		return v
	}
	if c.Method() == fiber.MethodPost {
		return c.FormValue(name)
	}
	return ""
}

func parseDay(s string) (time.Time, bool) {
	t, err := store.ParseDay(s, time.UTC)
	return t, err == nil
}

// boardFilter reads the board's filter from the URL (or a move's form);
// values that make no sense are dropped, never an error.
func boardFilter(c *fiber.Ctx) views.BoardFilter {
	f := views.BoardFilter{View: store.ViewAll}
	switch v := param(c, "view"); {
	case v == store.ViewMine:
		f.View = v
	case strings.HasPrefix(v, "owner:"):
		if id, err := strconv.ParseInt(strings.TrimPrefix(v, "owner:"), 10, 64); err == nil && id > 0 {
			f.View, f.OwnerID = store.ViewOwner, id
		}
	case v == store.ViewOwner:
		if id, err := strconv.ParseInt(param(c, "owner"), 10, 64); err == nil && id > 0 {
			f.View, f.OwnerID = store.ViewOwner, id
		}
	}
	if q := strings.TrimSpace(param(c, "q")); len(q) <= 100 {
		f.Q = q
	}
	if _, ok := parseDay(param(c, "close_from")); ok {
		f.From = strings.TrimSpace(param(c, "close_from"))
	}
	if _, ok := parseDay(param(c, "close_to")); ok {
		f.To = strings.TrimSpace(param(c, "close_to"))
	}
	f.Stale = param(c, "stale") == "1"
	if st := param(c, "stage"); store.StageIndex(st) >= 0 {
		f.Stage = st
	}
	// Copies: fiber's values point into the request's buffer, which later
	// requests overwrite, and a filter outlives its request in the board
	// cache (the cached board's filter form is drawn for the next viewer).
	f.View, f.Q, f.From, f.To, f.Stage = strings.Clone(f.View), strings.Clone(f.Q), strings.Clone(f.From), strings.Clone(f.To), strings.Clone(f.Stage)
	return f
}

func boardQuery(f views.BoardFilter, me *store.User, month time.Time) store.BoardQuery {
	q := store.BoardQuery{View: f.View, UserID: me.ID, OwnerID: f.OwnerID, Search: f.Q, StaleOnly: f.Stale, Month: month}
	q.From, _ = parseDay(f.From)
	q.To, _ = parseDay(f.To)
	return q
}

// boardETag names what a board shows: the team's data version, the viewer
// (what they may drag), the filter and the team's day (days in stage and
// the closed columns' month move on at midnight).
func boardETag(team *store.Team, me *store.User, version store.TeamVersion, f views.BoardFilter, today time.Time) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d|%s|%s|%s|%s", me.ID, me.Role, f.Values().Encode(), today.Format(time.DateOnly), team.Currency)))
	return fmt.Sprintf(`"%s-%d-%d-%s"`, boardRevision, team.ID, version.All, hex.EncodeToString(sum[:8]))
}

// boardView loads the board under the request's filter. The version is
// read before the data, so the ETag never names newer data than shown.
func (s *Server) boardView(c *fiber.Ctx, version store.TeamVersion) (views.Board, error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	f := boardFilter(c)
	today := s.teamToday(team)
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	// The members (the owner filter) and lost reasons (the close dialog)
	// are read while the columns load.
	var members []store.User
	var reasons []string
	var merr, rerr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); members, merr = s.store.TeamMembers(ctx, team.ID) }()
	go func() { defer wg.Done(); reasons, rerr = s.store.LostReasons(ctx, team.ID) }()
	cols, err := s.store.Board(ctx, team.ID, boardQuery(f, me, month))
	wg.Wait()
	if err := errors.Join(err, merr, rerr); err != nil {
		return views.Board{}, err
	}
	closing := views.Closing{Today: today.Format(time.DateOnly), Reasons: reasons}
	return views.Board{Filter: f, Members: members, Columns: cols, Me: me, Now: s.store.Now(),
		MonthLabel: month.Format("January 2006"), ETag: boardETag(team, me, version, f, today),
		Closing: closing, Money: teamMoney(team), Currency: team.Currency}, nil
}

// boardDrawn is boardView with its fragment drawn (b.Fragment), from the
// board cache when the viewer saw this filter at this data version within
// the last minute. The slot names everything else a board depends on: the
// viewer and their role, the filter, the team's day and currency.
func (s *Server) boardDrawn(c *fiber.Ctx, version store.TeamVersion) (views.Board, error) {
	team, me := currentTeam(c), currentUser(c)
	y, m, d := s.store.Now().In(teamLocation(team)).Date()
	slot := fmt.Sprintf("%d|%d|%s|%s|%04d-%02d-%02d|%s|%s", team.ID, me.ID, me.Role, boardFilter(c).Values().Encode(), y, m, d, team.Currency, team.TimeZone)
	return s.boardCache.get(slot, version.All, time.Now(), func() (views.Board, error) {
		b, err := s.boardView(c, version)
		if err != nil {
			return b, err
		}
		var buf strings.Builder
		if err := views.BoardFragment(b).Render(c.UserContext(), &buf); err != nil {
			return b, fmt.Errorf("draw the board: %w", err)
		}
		b.Fragment = templ.Raw(buf.String())
		return b, nil
	})
}

func (s *Server) boardPage(c *fiber.Ctx) error {
	version, err := s.store.TeamVersion(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	b, err := s.boardDrawn(c, version)
	if err != nil {
		return err
	}
	s.grantPolls(c)
	if wantsFragment(c) {
		return render(c, fiber.StatusOK, b.Fragment)
	}
	sh := s.shell(c, "Deals board", "deals")
	sh.Scripts = boardScripts
	return render(c, fiber.StatusOK, views.BoardPage(sh, b))
}

// boardPoll answers an open board's "anything new?" like the dashboard's
// poll: 304 after one primary-key read when its ETag still holds.
func (s *Server) boardPoll(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	version, err := s.store.TeamVersion(ctx, team.ID)
	if err != nil {
		return err
	}
	y, m, d := s.store.Now().In(teamLocation(team)).Date()
	etag := boardETag(team, me, version, boardFilter(c), time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderETag, etag)
	s.grantPolls(c)
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	b, err := s.boardDrawn(c, version)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, b.Fragment)
}

// boardMore is a column's "Show more": its next cards.
func (s *Server) boardMore(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	f := boardFilter(c)
	today := s.teamToday(team)
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	col, err := s.store.BoardMore(ctx, team.ID, boardQuery(f, me, month), c.Query("col"), c.Query("after"))
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.BoardCards(views.Board{Filter: f, Me: me, Now: s.store.Now(), Money: teamMoney(team), Currency: team.Currency}, col))
}

// moveDeal moves a deal on the board (a drop, the dialog or "Move to…").
// htmx gets the board back, or the refusal's message in the message area
// (the dialog's own, for the dialog); a plain form goes back to the board,
// or, when closing needs an amount or a reason, to a page asking for them.
func (s *Server) moveDeal(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	idText := c.Params("id")
	fromDialog := idText == ""
	if fromDialog {
		idText = c.FormValue("deal")
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	in := store.MoveInput{Stage: c.FormValue("to"), Amount: c.FormValue("amount"), ClosedOn: c.FormValue("closed_on"),
		LostReason: c.FormValue("lost_reason"), LostNote: c.FormValue("lost_note")}
	_, err = s.store.MoveDeal(ctx, team.ID, me, id, in)
	back := boardFilter(c).URL("/deals/board")
	if err == nil {
		if !isHTMX(c) {
			return s.redirect(c, back)
		}
		version, err := s.store.TeamVersion(ctx, team.ID)
		if err != nil {
			return err
		}
		b, err := s.boardView(c, version)
		if err != nil {
			return err
		}
		return render(c, fiber.StatusOK, views.BoardFragment(b))
	}
	status, msg, fe, err := moveRefusal(err)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		if fe.Has("amount") || fe.Has("lost_reason") || fe.Has("closed_on") || fe.Has("lost_note") {
			deal, err := s.store.DealByID(ctx, team.ID, id)
			if err != nil {
				return err
			}
			closing, err := s.closing(c)
			if err != nil {
				return err
			}
			closing.ClosedOn, closing.LostReason, closing.LostNote = in.ClosedOn, in.LostReason, in.LostNote
			return render(c, fiber.StatusUnprocessableEntity, views.MovePage(s.shell(c, "Move "+deal.Name, "deals"), *deal, in.Stage, closing, in.Amount, fe, back))
		}
		s.flash(c, "error", msg)
		return s.redirect(c, back)
	}
	target := "#board-message"
	if fromDialog {
		target = "#close-error"
	}
	c.Set("HX-Retarget", target)
	c.Set("HX-Reswap", "innerHTML")
	return render(c, status, views.BoardRefusal(msg))
}

// moveRefusal turns a refused move into a status and a message; other
// errors (not found, faults) are returned as they are.
func moveRefusal(err error) (int, string, views.Errors, error) {
	var fe store.FieldErrors
	switch {
	case errors.As(err, &fe):
		msgs := make([]string, 0, len(fe))
		for _, k := range []string{"stage", "amount", "closed_on", "lost_reason", "lost_note"} {
			if m, ok := fe[k]; ok {
				msgs = append(msgs, m)
			}
		}
		return fiber.StatusUnprocessableEntity, strings.Join(msgs, " "), views.Errors(fe), nil
	case errors.Is(err, store.ErrClosed):
		return fiber.StatusConflict, sentence(store.ErrClosed), views.Errors{}, nil
	case errors.Is(err, store.ErrNotAllowed):
		return fiber.StatusForbidden, "Members move only their own deals and unassigned ones; ask the deal's owner or an admin.", views.Errors{}, nil
	}
	return 0, "", nil, err
}

// reopenDeal sends a closed deal back to the stage it was closed from
// (owners and admins).
func (s *Server) reopenDeal(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	if _, err := s.store.ReopenDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), deal.ID); err != nil {
		switch {
		case errors.Is(err, store.ErrNotAllowed):
			return fiber.NewError(fiber.StatusForbidden, "Only the team's owner and admins can reopen a deal.")
		case errors.Is(err, store.ErrNotClosed):
			return fiber.NewError(fiber.StatusConflict, "This deal is open: only closed deals can be reopened.")
		}
		return err
	}
	s.flash(c, "success", "Deal "+deal.Name+" reopened.")
	return s.redirect(c, "/deals/"+strconv.FormatInt(deal.ID, 10))
}

func (s *Server) boardSettingsForm(ctx context.Context, teamID int64) (views.BoardSettings, error) {
	reasons, err := s.store.LostReasons(ctx, teamID)
	if err != nil {
		return views.BoardSettings{}, err
	}
	stages, err := s.store.StageSettings(ctx, teamID)
	if err != nil {
		return views.BoardSettings{}, err
	}
	return views.BoardSettings{Reasons: strings.Join(reasons, "\n"), Stages: stages, Errors: views.Errors{}}, nil
}

// saveBoardSettings saves the lost reasons and stage settings from the
// team page (owners and admins).
func (s *Server) saveBoardSettings(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	form := views.BoardSettings{Reasons: c.FormValue("lost_reasons"), Errors: views.Errors{}}
	for _, st := range store.OpenStages {
		key := strings.ToLower(strings.ReplaceAll(st, " ", "-"))
		win, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("win_" + key)))
		stale, err2 := strconv.Atoi(strings.TrimSpace(c.FormValue("stale_" + key)))
		if err1 != nil {
			form.Errors["win_"+st] = "Enter a win probability from 0 to 100 %."
		}
		if err2 != nil {
			form.Errors["stale_"+st] = "Enter a number of days from 1 to 365."
		}
		form.Stages = append(form.Stages, store.StageSetting{Stage: st, WinPercent: win, StaleDays: stale})
	}
	for k, v := range store.CheckStageSettings(form.Stages) {
		if _, ok := form.Errors[k]; !ok {
			form.Errors[k] = v
		}
	}
	reasons, fe := store.ParseLostReasons(form.Reasons)
	for k, v := range fe {
		form.Errors[k] = v
	}
	if form.Errors.Any() {
		v, err := s.teamView(c)
		if err != nil {
			return err
		}
		v.Board = form
		return render(c, fiber.StatusUnprocessableEntity, views.TeamPage(s.shell(c, "Team", "team"), v))
	}
	if err := s.store.SetStageSettings(ctx, team.ID, me, form.Stages); err != nil {
		return s.memberAction(err)
	}
	if err := s.store.SetLostReasons(ctx, team.ID, me, reasons); err != nil {
		return s.memberAction(err)
	}
	s.flash(c, "success", "Pipeline settings saved.")
	return s.redirect(c, "/team#board-settings")
}
