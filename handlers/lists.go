package handlers

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"sherpa/store"
	"sherpa/views"
)

// listsState is the tables' state in this process: when each team's next
// steps were last moved on.
type listsState struct {
	st       *store.Store
	log      zerolog.Logger
	advanced sync.Map // team id → time.Time
	bulk     *bulkWorker
}

func newListsState(st *store.Store, log zerolog.Logger) *listsState {
	return &listsState{st: st, log: log, bulk: newBulkWorker(st, log)}
}

// advanceEvery is how often a team's passed next steps are moved on, at
// most: when someone lists its contacts, once a minute.
const advanceEvery = time.Minute

// advanceNextSteps moves on the team's next steps that are behind them (a
// meeting held, a task's day over) before its contacts are listed. A
// failure only leaves them as they were; the list still shows.
func (s *Server) advanceNextSteps(c *fiber.Ctx, teamID int64) {
	now := time.Now()
	if last, ok := s.lists.advanced.Load(teamID); ok && now.Sub(last.(time.Time)) < advanceEvery {
		return
	}
	s.lists.advanced.Store(teamID, now)
	if _, err := s.store.AdvanceNextSteps(c.UserContext(), teamID); err != nil {
		s.log.Warn().Err(err).Int64("team", teamID).Msg("advance next steps")
	}
}

func (s *Server) listsRoutes(app *fiber.App) {
	s.viewsRoutes(app)
	s.bulkRoutes(app)
	app.Post("/team/back-burner", s.requireTeam, s.requireManager, s.setBackBurner)
}

// setBackBurner saves the team's back-burner days.
func (s *Server) setBackBurner(c *fiber.Ctx) error {
	days, err := strconv.Atoi(c.FormValue("days"))
	if err != nil {
		days = 0
	}
	if err := s.store.SetBackBurnerDays(c.UserContext(), currentTeam(c).ID, currentUser(c), days); err != nil {
		if fe, ok := err.(store.FieldErrors); ok {
			s.flash(c, "error", fe["back_burner_days"])
			return s.redirect(c, "/team#back-burner")
		}
		return err
	}
	s.flash(c, "success", "Back-burner setting saved.")
	return s.redirect(c, "/team#back-burner")
}

// listShell adds the tables' bulk selection script to a page's layout.
func listShell(sh views.Shell) views.Shell {
	sh.Scripts = append(sh.Scripts, "bulk.js")
	return sh
}
