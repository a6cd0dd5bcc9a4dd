package handlers

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/money"
	"sherpa/store"
)

func (s *Server) apiDealRoutes(g fiber.Router) {
	g.Get("/deals", s.apiListDeals)
	g.Post("/deals", s.apiCreateDeal)
	g.Get("/deals/export.csv", s.exportDeals)
	g.Get("/deals/:id", s.apiDeal)
	g.Patch("/deals/:id", s.apiUpdateDeal)
	g.Delete("/deals/:id", s.apiDeleteDeal)
	g.Post("/deals/:id/move", s.apiMoveDeal)
	g.Post("/deals/:id/reopen", s.apiReopenDeal)
	g.Get("/deals/:id/stages", s.apiDealStages)
}

func dealsJSON(rows []store.Deal, currency string) []store.DealJSON {
	out := make([]store.DealJSON, len(rows))
	for i := range rows {
		out[i] = rows[i].JSON(currency)
	}
	return out
}

// apiListDeals is the deals table as JSON, through the same store method.
func (s *Server) apiListDeals(c *fiber.Ctx) error {
	l, err := apiList(c, dealViews, store.DealSorts)
	if err != nil {
		return err
	}
	q := store.DealQuery{View: l.View, UserID: currentUser(c).ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Cursor: l.Cursor, Limit: l.Limit}
	if !store.DealCursorOK(q) {
		return badCursor()
	}
	page, err := s.store.ListDeals(c.UserContext(), currentTeam(c).ID, q)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.DealJSON]{Data: dealsJSON(page.Rows, currentTeam(c).Currency), Next: page.Next, Prev: page.Prev})
}

func (s *Server) apiDealByPath(c *fiber.Ctx) (*store.Deal, error) {
	id, err := apiID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.DealByID(c.UserContext(), currentTeam(c).ID, id)
}

func (s *Server) apiDeal(c *fiber.Ctx) error {
	d, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, d.JSON(currentTeam(c).Currency))
}

// readDeal reads a deal's fields from the body over in.
func readDeal(b *jsonBody, in *store.DealInput) {
	b.str("name", &in.Name)
	b.str("stage", &in.Stage)
	b.amount("goal", &in.Goal)
	b.amount("amount", &in.Amount)
	b.str("close_date", &in.CloseDate)
	b.id("owner_id", &in.OwnerID)
	b.id("contact_id", &in.ContactID)
	b.str("company", &in.Company)
	b.str("closed_on", &in.ClosedOn)
	b.str("lost_reason", &in.LostReason)
	b.str("lost_note", &in.LostNote)
	in.Name, in.Company = store.CleanText(in.Name), store.CleanText(in.Company)
}

func (s *Server) apiCreateDeal(c *fiber.Ctx) error {
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	in := store.DealInput{OwnerID: currentUser(c).ID} // as for contacts
	readDeal(b, &in)
	if err := b.done(); err != nil {
		return err
	}
	d, err := s.store.CreateDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), in)
	if err != nil {
		return err
	}
	return apiCreated(c, apiPrefix+"/deals/"+strconv.FormatInt(d.ID, 10), d.JSON(currentTeam(c).Currency))
}

// apiUpdateDeal changes the fields the body names, by the table's rules:
// a stage change only forward, closing with its amount or reason, nothing
// on a closed deal; version as for contacts.
func (s *Server) apiUpdateDeal(c *fiber.Ctx) error {
	current, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	currency := currentTeam(c).Currency
	in := store.DealInput{Name: current.Name, Goal: plainMoney(current.Goal, currency), Amount: plainMoney(current.Amount, currency),
		OwnerID: current.OwnerID, ContactID: current.ContactID, Company: current.Company}
	if !current.CloseDate.IsZero() {
		in.CloseDate = current.CloseDate.Format(time.DateOnly)
	}
	readDeal(b, &in)
	version := readVersion(b)
	if err := b.done(); err != nil {
		return err
	}
	d, err := s.store.UpdateDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), current.ID, version, in)
	if errors.Is(err, store.ErrConflict) && d != nil {
		return conflict(d.JSON(currency))
	}
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, d.JSON(currency))
}

// plainMoney is an amount as the deal form's input reads it back.
func plainMoney(minor int64, currency string) string {
	return strings.ReplaceAll(money.FormatPlain(minor, currency), ",", "")
}

func (s *Server) apiDeleteDeal(c *fiber.Ctx) error {
	d, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), d.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiMoveDeal is the board's move: stage, and for closing the amount
// (Closed Won; absent keeps the deal's), the day it closed and the lost
// reason and note. Like the board it needs no version.
func (s *Server) apiMoveDeal(c *fiber.Ctx) error {
	current, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	var in store.MoveInput
	b.str("stage", &in.Stage)
	b.amount("amount", &in.Amount)
	b.str("closed_on", &in.ClosedOn)
	b.str("lost_reason", &in.LostReason)
	b.str("lost_note", &in.LostNote)
	if !b.has("stage") {
		b.errs["stage"] = "Choose one of the listed stages."
	}
	if err := b.done(); err != nil {
		return err
	}
	d, err := s.store.MoveDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), current.ID, in)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, d.JSON(currentTeam(c).Currency))
}

func (s *Server) apiReopenDeal(c *fiber.Ctx) error {
	current, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	d, err := s.store.ReopenDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), current.ID)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, d.JSON(currentTeam(c).Currency))
}

func (s *Server) apiDealStages(c *fiber.Ctx) error {
	d, err := s.apiDealByPath(c)
	if err != nil {
		return err
	}
	log, err := s.store.DealStageLog(c.UserContext(), currentTeam(c).ID, d.ID)
	if err != nil {
		return err
	}
	out := make([]store.StageLogJSON, len(log))
	for i := range log {
		out[i] = log[i].JSON()
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.StageLogJSON]{Data: out})
}
