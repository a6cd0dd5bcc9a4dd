package handlers

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

func (s *Server) apiContactRoutes(g fiber.Router) {
	g.Get("/contacts", s.apiListContacts)
	g.Post("/contacts", s.apiCreateContact)
	// The tables' CSV export, same parameters (before "/contacts/:id").
	g.Get("/contacts/export.csv", s.exportContacts)
	g.Get("/contacts/:id", s.apiContact)
	g.Patch("/contacts/:id", s.apiUpdateContact)
	g.Delete("/contacts/:id", s.apiDeleteContact)
	g.Get("/contacts/:id/deals", s.apiContactDeals)
	g.Get("/contacts/:id/activities", s.apiContactActivities)
	g.Get("/contacts/:id/notes", s.apiNotes)
	g.Post("/contacts/:id/notes", s.apiAddNote)
	g.Delete("/contacts/:id/notes/:note", s.apiDeleteNote)
}

func contactsJSON(rows []store.Contact) []store.ContactJSON {
	out := make([]store.ContactJSON, len(rows))
	for i := range rows {
		out[i] = rows[i].JSON()
	}
	return out
}

// apiListContacts is the contacts table as JSON: the same query (view,
// search, sort, cursor) through the same store method.
func (s *Server) apiListContacts(c *fiber.Ctx) error {
	l, err := apiList(c, contactViews, store.ContactSorts)
	if err != nil {
		return err
	}
	q := store.ContactQuery{View: l.View, UserID: currentUser(c).ID, Search: l.Q, Sort: l.Sort, Desc: l.Desc, Cursor: l.Cursor, Limit: l.Limit}
	if !store.ContactCursorOK(q) {
		return badCursor()
	}
	page, err := s.store.ListContacts(c.UserContext(), currentTeam(c).ID, q)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.ContactJSON]{Data: contactsJSON(page.Rows), Next: page.Next, Prev: page.Prev})
}

func (s *Server) apiContactByPath(c *fiber.Ctx) (*store.Contact, error) {
	id, err := apiID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.store.ContactByID(c.UserContext(), currentTeam(c).ID, id)
}

func (s *Server) apiContact(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, contact.JSON())
}

// readContact reads a contact's fields from the body over in (the current
// values when updating, so absent fields keep theirs).
func readContact(b *jsonBody, in *store.ContactInput) {
	b.str("name", &in.Name)
	b.str("email", &in.Email)
	b.str("phone", &in.Phone)
	b.str("company", &in.Company)
	b.str("status", &in.Status)
	b.id("owner_id", &in.OwnerID)
	in.Name, in.Company = store.CleanText(in.Name), store.CleanText(in.Company)
}

func (s *Server) apiCreateContact(c *fiber.Ctx) error {
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	// Without owner_id the new contact is the caller's; null leaves it
	// unassigned (owners and admins; a member's contact is theirs).
	in := store.ContactInput{OwnerID: currentUser(c).ID}
	readContact(b, &in)
	if err := b.done(); err != nil {
		return err
	}
	contact, err := s.store.CreateContact(c.UserContext(), currentTeam(c).ID, currentUser(c), in)
	if err != nil {
		return err
	}
	return apiCreated(c, apiPrefix+"/contacts/"+strconv.FormatInt(contact.ID, 10), contact.JSON())
}

// apiUpdateContact changes the fields the body names; version is the one
// the client read, and a stale version answers 409 with the record as it is.
func (s *Server) apiUpdateContact(c *fiber.Ctx) error {
	current, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	in := store.ContactInput{Name: current.Name, Email: current.Email, Phone: current.Phone, Company: current.Company,
		Status: current.Status, OwnerID: current.OwnerID}
	readContact(b, &in)
	version := readVersion(b)
	if err := b.done(); err != nil {
		return err
	}
	contact, err := s.store.UpdateContact(c.UserContext(), currentTeam(c).ID, currentUser(c), current.ID, version, in)
	if errors.Is(err, store.ErrConflict) && contact != nil {
		return conflict(contact.JSON())
	}
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, contact.JSON())
}

// readVersion reads the required version field.
func readVersion(b *jsonBody) int {
	var v int
	if !b.integer("version", &v) {
		if _, bad := b.errs["version"]; !bad {
			b.errs["version"] = "Send the version of the record you read (its version field)."
		}
	}
	return v
}

func conflict(current any) error {
	return &apiProblem{Status: fiber.StatusConflict, Code: "version_conflict", Current: current,
		Detail: "Someone else saved this record since the version you sent; current holds it as it is now. Apply your change to it and send its version."}
}

func (s *Server) apiDeleteContact(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiContactDeals(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	deals, err := s.store.DealsOfContact(c.UserContext(), currentTeam(c).ID, contact.ID)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.DealJSON]{Data: dealsJSON(deals, currentTeam(c).Currency)})
}

func (s *Server) apiContactActivities(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	limit := 100
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_query", Detail: "Some query parameters are not valid; see errors.",
				Errors: map[string]string{"limit": "Choose a whole number from 1 to 1000."}}
		}
		limit = n
	}
	items, err := s.store.ListActivities(c.UserContext(), currentTeam(c).ID, contact.ID, limit)
	if err != nil {
		return err
	}
	out := make([]store.ActivityJSON, len(items))
	for i := range items {
		out[i] = items[i].JSON()
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.ActivityJSON]{Data: out})
}

func (s *Server) apiNotes(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	notes, err := s.store.ListNotes(c.UserContext(), currentTeam(c).ID, contact.ID)
	if err != nil {
		return err
	}
	out := make([]store.NoteJSON, len(notes))
	for i := range notes {
		out[i] = notes[i].JSON()
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.NoteJSON]{Data: out})
}

func (s *Server) apiAddNote(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	b, err := readJSON(c)
	if err != nil {
		return err
	}
	var body string
	b.str("body", &body)
	if err := b.done(); err != nil {
		return err
	}
	n, err := s.store.AddNote(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID, body)
	if err != nil {
		return err
	}
	return apiCreated(c, apiPrefix+"/contacts/"+strconv.FormatInt(contact.ID, 10)+"/notes/"+strconv.FormatInt(n.ID, 10), n.JSON())
}

func (s *Server) apiDeleteNote(c *fiber.Ctx) error {
	contact, err := s.apiContactByPath(c)
	if err != nil {
		return err
	}
	noteID, err := apiID(c, "note")
	if err != nil {
		return err
	}
	if err := s.store.DeleteNote(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID, noteID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
