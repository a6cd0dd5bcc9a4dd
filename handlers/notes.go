package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

func (s *Server) notesPanel(c *fiber.Ctx, status int, contactID int64, body string, errs views.Errors) error {
	notes, err := s.store.ListNotes(c.UserContext(), currentTeam(c).ID, contactID)
	if err != nil {
		return err
	}
	return render(c, status, views.NotesTab(contactID, notes, currentUser(c), body, errs))
}

func (s *Server) notesTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	return s.notesPanel(c, fiber.StatusOK, contact.ID, "", views.Errors{})
}

// addNote saves a note (and its activity) and answers the refreshed panel.
func (s *Server) addNote(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	_, err = s.store.AddNote(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID, body)
	if errs, _, ok := fieldErrors(err); ok {
		return s.notesPanel(c, fiber.StatusUnprocessableEntity, contact.ID, body, errs)
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return s.redirect(c, contactTabURL(contact.ID, "notes"))
	}
	return s.notesPanel(c, fiber.StatusOK, contact.ID, "", views.Errors{})
}

// deleteNote removes a note for its author or an owner/admin.
func (s *Server) deleteNote(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	noteID, err := pathID(c, "note")
	if err != nil {
		return err
	}
	err = s.store.DeleteNote(c.UserContext(), currentTeam(c).ID, currentUser(c), contact.ID, noteID)
	if errors.Is(err, store.ErrNotAllowed) {
		return fiber.NewError(fiber.StatusForbidden, "Only the note's author or an admin can remove it.")
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return s.redirect(c, contactTabURL(contact.ID, "notes"))
	}
	return s.notesPanel(c, fiber.StatusOK, contact.ID, "", views.Errors{})
}
