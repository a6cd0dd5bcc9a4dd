package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"sherpa/money"
	"sherpa/store"
	"sherpa/views"
)

var dealViews = []string{store.ViewAll, store.ViewMine}

func (s *Server) dealsRoutes(app *fiber.App) {
	g := app.Group("/deals", s.requireTeam)
	g.Get("/", s.cachedList(s.listDeals))
	g.Post("/columns", s.saveColumns("deals", s.listDeals))
	g.Post("/", s.createDeal)
	g.Get("/contact-options", s.contactOptions)
	s.boardRoutes(app, g)
	g.Get("/:id", s.showDeal)
	g.Get("/:id/edit", s.editDealRow)
	g.Get("/:id/row", s.dealRow)
	g.Get("/:id/details", s.dealDetails)
	g.Get("/:id/details/edit", s.editDealDetails)
	g.Put("/:id/details", s.updateDealDetails)
	g.Post("/:id/details", s.updateDealDetails)
	g.Put("/:id", s.updateDeal)
	g.Post("/:id", s.updateDeal)
	g.Post("/:id/delete", s.deleteDeal)
	g.Delete("/:id", s.deleteDeal)
}

// teamMoney formats minor units in the team's currency.
func teamMoney(team *store.Team) func(int64) string {
	return func(minor int64) string { return money.Format(minor, team.Currency) }
}

func (s *Server) dealsView(c *fiber.Ctx) (views.DealsView, error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	l := listState(c, "/deals", dealViews, store.DealSorts)
	filter, vals, problems := dealFilter(c)
	l.Filter = vals
	page, err := s.store.ListDeals(ctx, team.ID, store.DealQuery{
		View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Cursor: l.Cursor, Filter: filter,
	})
	if err != nil {
		return views.DealsView{}, err
	}
	l.Next, l.Prev = page.Next, page.Prev
	cols, err := s.columnChoice(c, "deals")
	if err != nil {
		return views.DealsView{}, err
	}
	// The member list feeds the owner filter, the bulk owner select and the
	// add form's owner select.
	members, err := s.teamMembers(c)
	if err != nil {
		return views.DealsView{}, err
	}
	tabs, err := s.savedTabs(c, store.ListDeals, &l)
	if err != nil {
		return views.DealsView{}, err
	}
	add := views.DealForm{Stage: store.StageCreated, Stages: store.NextStages(""), Errors: views.Errors{}}
	// The lost reasons feed the add form and the bulk stage change.
	if add.Closing, err = s.closing(c); err != nil {
		return views.DealsView{}, err
	}
	// "+ Deal" on a contact's page preselects that contact.
	if id, ok := formID(c, "new_contact"); ok && id > 0 {
		if contact, err := s.store.ContactByID(ctx, team.ID, id); err == nil {
			add.ContactID, add.ContactName = contact.ID, contact.Name
		}
	}
	return views.DealsView{List: l, Rows: page.Rows, Members: members, CanAssign: me.CanManage(), Add: add,
		AddOpen: add.ContactID != 0, Money: teamMoney(team), MoneyExample: money.Example(team.Currency), Columns: cols,
		Filters: views.FilterBar{List: l, Target: "#deals-table", Members: members, Problems: problems}, Saved: tabs,
		Bulk: views.BulkBar{List: store.ListDeals, Query: tabs.Query, CanAssign: me.CanManage(), Members: members, Reasons: add.Closing.Reasons}}, nil
}

func (s *Server) listDeals(c *fiber.Ctx) error {
	v, err := s.dealsView(c)
	if err != nil {
		return err
	}
	if wantsFragment(c) {
		return render(c, fiber.StatusOK, views.DealsTable(v))
	}
	return render(c, fiber.StatusOK, views.DealsPage(listShell(s.shell(c, "Deals", "deals")), v))
}

// dealInput reads the deal form fields.
func dealInput(c *fiber.Ctx) (store.DealInput, views.Errors) {
	errs := views.Errors{}
	owner, ok := formID(c, "owner_id")
	if !ok {
		errs["owner_id"] = "Choose a member of your team."
	}
	contact, ok := formID(c, "contact_id")
	if !ok {
		errs["contact_id"] = "Choose a contact."
	}
	return store.DealInput{
		Name: store.CleanText(c.FormValue("name")), Stage: c.FormValue("stage"), Goal: c.FormValue("goal"),
		Amount: c.FormValue("amount"), CloseDate: c.FormValue("close_date"), OwnerID: owner, ContactID: contact,
		Company: store.CleanText(c.FormValue("company")), ClosedOn: c.FormValue("closed_on"),
		LostReason: c.FormValue("lost_reason"), LostNote: c.FormValue("lost_note"),
	}, errs
}

// dealForm is the form as typed, for showing it again with messages.
func (s *Server) dealForm(c *fiber.Ctx, in store.DealInput, stages []string) views.DealForm {
	f := views.DealForm{Name: in.Name, Stage: in.Stage, Stages: stages, Goal: in.Goal, Amount: in.Amount,
		CloseDate: in.CloseDate, OwnerID: in.OwnerID, ContactID: in.ContactID, Company: in.Company, Errors: views.Errors{}}
	if in.ContactID > 0 {
		if contact, err := s.store.ContactByID(c.UserContext(), currentTeam(c).ID, in.ContactID); err == nil {
			f.ContactName = contact.Name
		} else {
			f.ContactID = 0
		}
	}
	return f
}

func (s *Server) createDeal(c *fiber.Ctx) error {
	in, errs := dealInput(c)
	if !errs.Any() {
		deal, err := s.store.CreateDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), in)
		if err == nil {
			s.flash(c, "success", "Deal "+deal.Name+" added.")
			return s.redirect(c, "/deals?sort=created&dir=desc")
		}
		var ok bool
		if errs, _, ok = fieldErrors(err); !ok {
			return err
		}
	}
	v, err := s.dealsView(c)
	if err != nil {
		return err
	}
	closing := v.Add.Closing
	v.Add = s.dealForm(c, in, store.NextStages(""))
	v.Add.Errors, v.AddOpen = errs, true
	v.Add.Closing = closing
	v.Add.Closing.ClosedOn, v.Add.Closing.LostReason, v.Add.Closing.LostNote = in.ClosedOn, in.LostReason, in.LostNote
	return render(c, fiber.StatusUnprocessableEntity, views.DealsPage(s.shell(c, "Deals", "deals"), v))
}

// contactOptions answers the contact picker: up to 20 of the team's
// contacts matching what was typed.
func (s *Server) contactOptions(c *fiber.Ctx) error {
	q := store.CleanSearch(c.Query("contact_q"), 100)
	page, err := s.store.ListContacts(c.UserContext(), currentTeam(c).ID, store.ContactQuery{Search: q, Limit: 20})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactOptions(page.Rows))
}

func (s *Server) deal(c *fiber.Ctx) (*store.Deal, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.DealByID(c.UserContext(), currentTeam(c).ID, id)
}

// showDeal is a deal's page: details and its stage history; ?edit=1 opens
// the details as the edit form (an open deal only).
func (s *Server) showDeal(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	v, err := s.dealView(c, deal)
	if err != nil {
		return err
	}
	if c.Query("edit") == "1" && !store.IsClosed(deal.Stage) {
		f, err := s.dealEditForm(c, deal)
		if err != nil {
			return err
		}
		if v.Members, err = s.store.TeamMembers(c.UserContext(), currentTeam(c).ID); err != nil {
			return err
		}
		v.Edit = &f
	}
	return render(c, fiber.StatusOK, views.DealPage(s.shell(c, deal.Name, "deals"), v))
}

func editDealForm(d *store.Deal, currency string) views.DealForm {
	f := views.DealForm{ID: d.ID, Version: d.Version, Name: d.Name, Stage: d.Stage, Stages: store.NextStages(d.Stage),
		Goal: moneyInput(d.Goal, currency), Amount: moneyInput(d.Amount, currency), OwnerID: d.OwnerID, ContactID: d.ContactID,
		ContactName: d.ContactName, Company: d.Company, Errors: views.Errors{}}
	if !d.CloseDate.IsZero() {
		f.CloseDate = d.CloseDate.Format("2006-01-02")
	}
	return f
}

// moneyInput is an amount as the edit form shows it: empty for none.
func moneyInput(minor int64, currency string) string {
	if minor == 0 {
		return ""
	}
	return money.FormatPlain(minor, currency)
}

func (s *Server) editDealRow(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	if store.IsClosed(deal.Stage) {
		return fiber.NewError(fiber.StatusConflict, sentence(store.ErrClosed))
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	f := editDealForm(deal, currentTeam(c).Currency)
	if f.Closing, err = s.closing(c); err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "deals")
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DealEditRow(f, members, currentUser(c).CanManage(), cols))
}

func (s *Server) dealRow(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "deals")
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DealRow(*deal, teamMoney(currentTeam(c)), cols))
}

// saveDealEdit applies an edit form (the table row's or the deal page's)
// to the URL's deal, moving its stage by the rules, with the same version
// check for both. saved is the stored deal; when nil, form holds what to
// show again with status (422 messages, or 409 with someone else's values).
func (s *Server) saveDealEdit(c *fiber.Ctx) (saved *store.Deal, form views.DealForm, status int, err error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	current, err := s.deal(c)
	if err != nil {
		return nil, form, 0, err
	}
	in, errs := dealInput(c)
	version := formVersion(c, errs)
	form = s.dealForm(c, in, store.NextStages(current.Stage))
	form.ID, form.Version, form.Errors = current.ID, version, errs
	status = fiber.StatusUnprocessableEntity
	if !errs.Any() {
		deal, err := s.store.UpdateDeal(ctx, team.ID, me, current.ID, version, in)
		if err == nil {
			return deal, form, fiber.StatusOK, nil
		}
		var fail error
		if status, form.Errors, _, fail = refusedSave(err, deal != nil); fail != nil {
			return nil, form, 0, fail
		}
		if status == fiber.StatusConflict {
			form = editDealForm(deal, team.Currency)
			form.Conflict = "Someone else saved this deal while you were editing. Their values are shown; make your change again."
		}
	}
	if form.Closing, err = s.closing(c); err != nil {
		return nil, form, 0, err
	}
	form.Closing.ClosedOn, form.Closing.LostReason, form.Closing.LostNote = in.ClosedOn, in.LostReason, in.LostNote
	return nil, form, status, nil
}

// updateDeal saves an inline edit of a deal, moving its stage by the rules.
func (s *Server) updateDeal(c *fiber.Ctx) error {
	deal, form, status, err := s.saveDealEdit(c)
	if err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "deals")
	if err != nil {
		return err
	}
	if deal != nil {
		if !isHTMX(c) {
			s.flash(c, "success", "Deal saved.")
			return s.redirect(c, "/deals")
		}
		return render(c, fiber.StatusOK, views.DealRow(*deal, teamMoney(currentTeam(c)), cols))
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return render(c, status, views.DealEditRow(form, members, currentUser(c).CanManage(), cols))
}

// dealView is what the deal page shows of deal.
func (s *Server) dealView(c *fiber.Ctx, deal *store.Deal) (views.DealView, error) {
	log, err := s.store.DealStageLog(c.UserContext(), currentTeam(c).ID, deal.ID)
	if err != nil {
		return views.DealView{}, err
	}
	return views.DealView{Deal: *deal, Log: log, Money: teamMoney(currentTeam(c)),
		CanReopen: store.IsClosed(deal.Stage) && currentUser(c).CanManage(), CanAssign: currentUser(c).CanManage()}, nil
}

// dealEditForm is the deal page's edit form for deal, or a 409 for a
// closed deal (read-only).
func (s *Server) dealEditForm(c *fiber.Ctx, deal *store.Deal) (views.DealForm, error) {
	if store.IsClosed(deal.Stage) {
		return views.DealForm{}, fiber.NewError(fiber.StatusConflict, sentence(store.ErrClosed))
	}
	f := editDealForm(deal, currentTeam(c).Currency)
	var err error
	f.Closing, err = s.closing(c)
	return f, err
}

// dealDetails is the deal page's details card (Cancel of its edit).
func (s *Server) dealDetails(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	v, err := s.dealView(c, deal)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DealDetails(v))
}

// editDealDetails turns the deal page's details card into its form.
func (s *Server) editDealDetails(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	f, err := s.dealEditForm(c, deal)
	if err != nil {
		return err
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.DealDetailsEdit(f, members, currentUser(c).CanManage()))
}

// updateDealDetails saves the deal page's edit: the same save as the
// table's inline edit, answered with the details card (and the page's title
// block and stage history), or the form again with its messages.
func (s *Server) updateDealDetails(c *fiber.Ctx) error {
	deal, form, status, err := s.saveDealEdit(c)
	if err != nil {
		return err
	}
	if deal != nil && !isHTMX(c) {
		s.flash(c, "success", "Deal saved.")
		return s.redirect(c, fmt.Sprintf("/deals/%d", deal.ID))
	}
	if deal != nil {
		v, err := s.dealView(c, deal)
		if err != nil {
			return err
		}
		return render(c, fiber.StatusOK, views.DealSaved(v))
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		current, err := s.deal(c)
		if err != nil {
			return err
		}
		v, err := s.dealView(c, current)
		if err != nil {
			return err
		}
		v.Edit, v.Members = &form, members
		return render(c, status, views.DealPage(s.shell(c, current.Name, "deals"), v))
	}
	return render(c, status, views.DealDetailsEdit(form, members, currentUser(c).CanManage()))
}

func (s *Server) deleteDeal(c *fiber.Ctx) error {
	deal, err := s.deal(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeal(c.UserContext(), currentTeam(c).ID, currentUser(c), deal.ID); err != nil {
		return err
	}
	s.flash(c, "success", "Deal "+deal.Name+" deleted.")
	return s.redirect(c, "/deals")
}
