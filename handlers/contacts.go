package handlers

import (
	"fmt"
	"slices"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

var contactViews = []string{store.ViewAll, store.ViewMine, store.ViewUnassigned, store.ViewBackBurner}

func (s *Server) contactsRoutes(app *fiber.App) {
	g := app.Group("/contacts", s.requireTeam)
	g.Get("/", s.cachedList(s.listContacts))
	g.Post("/columns", s.saveColumns("contacts", s.listContacts))
	g.Post("/", s.createContact)
	g.Get("/:id", s.showContact)
	g.Get("/:id/edit", s.editContactRow)
	g.Get("/:id/row", s.contactRow)
	g.Get("/:id/details", s.contactDetails)
	g.Get("/:id/details/edit", s.editContactDetails)
	g.Put("/:id/details", s.updateContactDetails)
	g.Post("/:id/details", s.updateContactDetails)
	g.Put("/:id", s.updateContact)
	g.Post("/:id", s.updateContact)
	g.Get("/:id/delete", s.confirmDeleteContact)
	g.Post("/:id/delete", s.deleteContact)
	g.Delete("/:id", s.deleteContact)
	g.Get("/:id/activity", s.activityTab)
	g.Get("/:id/notes", s.notesTab)
	g.Post("/:id/notes", s.addNote)
	g.Delete("/:id/notes/:note", s.deleteNote)
	g.Post("/:id/notes/:note/delete", s.deleteNote)
}

// contactsView loads the table for the URL's list state.
func (s *Server) contactsView(c *fiber.Ctx) (views.ContactsView, error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	l := listState(c, "/contacts", contactViews, store.ContactSorts)
	filter, vals, problems := contactFilter(c)
	l.Filter = vals
	s.advanceNextSteps(c, team.ID)
	page, err := s.store.ListContacts(ctx, team.ID, store.ContactQuery{
		View: l.View, UserID: me.ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Cursor: l.Cursor, Filter: filter,
	})
	if err != nil {
		return views.ContactsView{}, err
	}
	l.Next, l.Prev = page.Next, page.Prev
	cols, err := s.columnChoice(c, "contacts")
	if err != nil {
		return views.ContactsView{}, err
	}
	// The member list feeds the owner filter, the bulk owner select and the
	// add form's owner select.
	members, err := s.teamMembers(c)
	if err != nil {
		return views.ContactsView{}, err
	}
	tabs, err := s.savedTabs(c, store.ListContacts, &l)
	if err != nil {
		return views.ContactsView{}, err
	}
	return views.ContactsView{List: l, Rows: page.Rows, Members: members, CanAssign: me.CanManage(),
		Add: views.ContactForm{Errors: views.Errors{}}, Columns: cols,
		Filters: views.FilterBar{List: l, Target: "#contacts-table", Members: members, Problems: problems}, Saved: tabs,
		Bulk: views.BulkBar{List: store.ListContacts, Query: tabs.Query, CanAssign: me.CanManage(), Members: members}}, nil
}

func (s *Server) listContacts(c *fiber.Ctx) error {
	v, err := s.contactsView(c)
	if err != nil {
		return err
	}
	if wantsFragment(c) {
		return render(c, fiber.StatusOK, views.ContactsTable(v))
	}
	return render(c, fiber.StatusOK, views.ContactsPage(listShell(s.shell(c, "Contacts", "contacts")), v))
}

// contactInput reads the contact form fields.
func contactInput(c *fiber.Ctx) (store.ContactInput, views.Errors) {
	errs := views.Errors{}
	owner, ok := formID(c, "owner_id")
	if !ok {
		errs["owner_id"] = "Choose a member of your team."
	}
	return store.ContactInput{
		Name: store.CleanText(c.FormValue("name")), Email: c.FormValue("email"), Phone: c.FormValue("phone"),
		Company: store.CleanText(c.FormValue("company")), Status: c.FormValue("status"), OwnerID: owner,
	}, errs
}

func contactForm(in store.ContactInput) views.ContactForm {
	return views.ContactForm{Name: in.Name, Email: store.NormalizeEmail(in.Email), Phone: in.Phone, Company: in.Company,
		Status: in.Status, OwnerID: in.OwnerID, Errors: views.Errors{}}
}

func (s *Server) createContact(c *fiber.Ctx) error {
	in, errs := contactInput(c)
	form := contactForm(in)
	if !errs.Any() {
		contact, err := s.store.CreateContact(c.UserContext(), currentTeam(c).ID, currentUser(c), in)
		if err == nil {
			s.flash(c, "success", "Contact "+contact.Name+" added.")
			return s.redirect(c, "/contacts?sort=created&dir=desc")
		}
		var ok bool
		if errs, form.DuplicateID, ok = fieldErrors(err); !ok {
			return err
		}
	}
	form.Errors = errs
	v, err := s.contactsView(c)
	if err != nil {
		return err
	}
	v.Add, v.AddOpen = form, true
	return render(c, fiber.StatusUnprocessableEntity, views.ContactsPage(s.shell(c, "Contacts", "contacts"), v))
}

// contact loads the URL's contact of the current team; another team's id is
// a 404 like a missing one.
func (s *Server) contact(c *fiber.Ctx) (*store.Contact, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.ContactByID(c.UserContext(), currentTeam(c).ID, id)
}

func (s *Server) showContact(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	tab := c.Query("tab", "activity")
	if !isContactTab(tab) {
		tab = "activity"
	}
	var edit *views.ContactForm
	if c.Query("edit") == "1" {
		f := editContactForm(contact)
		edit = &f
	}
	return s.renderContactPage(c, contact, tab, nil, fiber.StatusOK, edit)
}

// renderContactPage renders the contact page opened on tab; panel, when not
// nil, is the tab's content already rendered (a form posted without htmx),
// otherwise the page loads the tab itself.
func (s *Server) renderContactPage(c *fiber.Ctx, contact *store.Contact, tab string, panel templ.Component, status int, edit ...*views.ContactForm) error {
	ctx, team := c.UserContext(), currentTeam(c)
	deals, err := s.store.DealsOfContact(ctx, team.ID, contact.ID)
	if err != nil {
		return err
	}
	members, err := s.store.TeamMembers(ctx, team.ID)
	if err != nil {
		return err
	}
	v := views.ContactView{Contact: *contact, Deals: deals, Tab: tab, Members: members, Me: currentUser(c), Panel: panel}
	if len(edit) > 0 {
		v.Edit = edit[0]
	}
	return render(c, status, views.ContactPage(s.shell(c, contact.Name, "contacts"), v))
}

func isContactTab(tab string) bool {
	return slices.ContainsFunc(views.ContactTabs, func(t [2]string) bool { return t[0] == tab })
}

func (s *Server) editContactRow(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "contacts")
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactEditRow(editContactForm(contact), members, currentUser(c).CanManage(), cols))
}

func editContactForm(contact *store.Contact) views.ContactForm {
	return views.ContactForm{ID: contact.ID, Version: contact.Version, Name: contact.Name, Email: contact.Email,
		Phone: contact.Phone, Company: contact.Company, Status: contact.Status, OwnerID: contact.OwnerID, Errors: views.Errors{}}
}

func (s *Server) contactRow(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "contacts")
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactRow(*contact, cols))
}

// saveContactEdit applies an edit form (the table row's or the contact
// page's) to the URL's contact, by the same rules and the same version check
// for both. saved is the stored contact; when nil, form holds what to show
// again with status: 422 with the messages, or 409 with the values someone
// else saved meanwhile.
func (s *Server) saveContactEdit(c *fiber.Ctx) (saved *store.Contact, form views.ContactForm, status int, err error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	// The record first: another team's id is a 404 whatever the form says.
	current, err := s.contact(c)
	if err != nil {
		return nil, form, 0, err
	}
	id := current.ID
	in, errs := contactInput(c)
	version := formVersion(c, errs)
	form = contactForm(in)
	form.ID, form.Version, form.Errors = id, version, errs
	status = fiber.StatusUnprocessableEntity
	if !errs.Any() {
		contact, err := s.store.UpdateContact(ctx, team.ID, me, id, version, in)
		if err == nil {
			return contact, form, fiber.StatusOK, nil
		}
		var fail error
		if status, form.Errors, form.DuplicateID, fail = refusedSave(err, contact != nil); fail != nil {
			return nil, form, 0, fail
		}
		if status == fiber.StatusConflict {
			form = editContactForm(contact)
			form.Conflict = "Someone else saved this contact while you were editing. Their values are shown; make your change again."
		}
	}
	return nil, form, status, nil
}

// updateContact saves an inline edit. A refusal re-renders the row as a form
// with the messages; a conflict shows the values someone else saved.
func (s *Server) updateContact(c *fiber.Ctx) error {
	contact, form, status, err := s.saveContactEdit(c)
	if err != nil {
		return err
	}
	cols, err := s.columnChoice(c, "contacts")
	if err != nil {
		return err
	}
	if contact != nil {
		if !isHTMX(c) {
			s.flash(c, "success", "Contact saved.")
			return s.redirect(c, fmt.Sprintf("/contacts/%d", contact.ID))
		}
		return render(c, fiber.StatusOK, views.ContactRow(*contact, cols))
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return render(c, status, views.ContactEditRow(form, members, currentUser(c).CanManage(), cols))
}

func (s *Server) confirmDeleteContact(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	deals, notes, err := s.store.ContactDeleteImpact(c.UserContext(), currentTeam(c).ID, contact.ID)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactDeletePage(s.shell(c, "Delete "+contact.Name, "contacts"), *contact, deals, notes))
}

func (s *Server) deleteContact(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID); err != nil {
		return err
	}
	s.flash(c, "success", "Contact "+contact.Name+" deleted.")
	return s.redirect(c, "/contacts")
}

func (s *Server) activityTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	items, err := s.store.ListActivities(c.UserContext(), currentTeam(c).ID, contact.ID, 100)
	if err != nil {
		return err
	}
	if items, err = s.importNotes(c.UserContext(), currentTeam(c).ID, contact.ID, items); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ActivityTab(items))
}

// contactDetails is the contact page's details card (Cancel of its edit).
func (s *Server) contactDetails(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactDetails(*contact, members))
}

// editContactDetails turns the contact page's details card into its form.
func (s *Server) editContactDetails(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ContactDetailsEdit(editContactForm(contact), members, currentUser(c).CanManage()))
}

// updateContactDetails saves the contact page's edit: the same save as the
// table's inline edit, answered with the details card (and the page's title
// block), or the form again with its messages.
func (s *Server) updateContactDetails(c *fiber.Ctx) error {
	contact, form, status, err := s.saveContactEdit(c)
	if err != nil {
		return err
	}
	if contact != nil && !isHTMX(c) {
		s.flash(c, "success", "Contact saved.")
		return s.redirect(c, fmt.Sprintf("/contacts/%d", contact.ID))
	}
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	if contact != nil {
		return render(c, fiber.StatusOK, views.ContactSaved(*contact, members))
	}
	if !isHTMX(c) {
		current, err := s.contact(c)
		if err != nil {
			return err
		}
		return s.renderContactPage(c, current, "activity", nil, status, &form)
	}
	return render(c, status, views.ContactDetailsEdit(form, members, currentUser(c).CanManage()))
}
