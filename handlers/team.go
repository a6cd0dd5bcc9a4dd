package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

const keyInviteLink = "invite_link"

func (s *Server) teamNewPage(c *fiber.Ctx) error {
	if currentTeam(c) != nil {
		s.flash(c, "info", "You are already in a team. Leave it first to start another.")
		return s.redirect(c, "/team")
	}
	return render(c, fiber.StatusOK, views.TeamNewPage(s.shell(c, "Create a team", "team"), "", views.Errors{}))
}

func (s *Server) createTeam(c *fiber.Ctx) error {
	name := store.CleanText(c.FormValue("name"))
	errs := views.Errors{}
	check(errs, "name", store.NameError("Team name", name))
	if !errs.Any() {
		team, err := s.store.CreateTeam(c.UserContext(), currentUser(c).ID, name)
		switch {
		case errors.Is(err, store.ErrAlreadyInTeam):
			errs[""] = "You are already in a team. Leave it first to start another."
		case err != nil:
			return err
		default:
			s.flash(c, "success", "Team "+team.Name+" created. Invite your colleagues below.")
			return s.redirect(c, "/team")
		}
	}
	return render(c, fiber.StatusUnprocessableEntity, views.TeamNewPage(s.shell(c, "Create a team", "team"), name, errs))
}

func (s *Server) teamView(c *fiber.Ctx) (views.TeamView, error) {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	v := views.TeamView{Team: team, Me: me, InviteErrs: views.Errors{}, LeaveErrs: views.Errors{}, Now: s.store.Now(),
		Settings:     store.TeamSettings{TimeZone: team.TimeZone, Currency: team.Currency},
		SettingsErrs: views.Errors{}, TimeZones: store.TimeZones, Currencies: store.Currencies}
	var err error
	if v.Members, err = s.store.TeamMembers(ctx, team.ID); err != nil {
		return v, err
	}
	if v.MembersMayImport, err = s.store.MembersMayImport(ctx, team.ID); err != nil {
		return v, err
	}
	if v.BackBurnerDays, err = s.store.BackBurnerDays(ctx, team.ID); err != nil {
		return v, err
	}
	if v.Board, err = s.boardSettingsForm(ctx, team.ID); err != nil {
		return v, err
	}
	if me.CanManage() {
		if v.Invitations, err = s.store.PendingInvitations(ctx, team.ID); err != nil {
			return v, err
		}
		v.NewInviteLink = s.sessions.PopString(ctx, keyInviteLink)
		if v.Webhooks, err = s.webhooksView(c); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Server) teamPage(c *fiber.Ctx) error {
	v, err := s.teamView(c)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.TeamPage(s.shell(c, "Team", "team"), v))
}

// invite creates an invitation and emails its link, or, with no mail server
// configured (or when sending fails), shows the link to the inviter once.
func (s *Server) invite(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	email := store.NormalizeEmail(c.FormValue("email"))
	errs := views.Errors{}
	check(errs, "email", store.EmailError(c.FormValue("email")))
	if !errs.Any() {
		token, hash := newInviteToken()
		_, err := s.store.CreateInvitation(ctx, team.ID, me.ID, email, hash, inviteValidity)
		switch {
		case errors.Is(err, store.ErrAlreadyMember):
			errs["email"] = "This person is already a member of the team."
		case err != nil:
			return err
		default:
			link := s.cfg.PublicURL.JoinPath("invites", token).String()
			s.deliverInvite(c, team, me, email, link)
			return s.redirect(c, "/team#invite")
		}
	}
	v, err := s.teamView(c)
	if err != nil {
		return err
	}
	v.InviteEmail, v.InviteErrs = email, errs
	return render(c, fiber.StatusUnprocessableEntity, views.TeamPage(s.shell(c, "Team", "team"), v))
}

func (s *Server) deliverInvite(c *fiber.Ctx, team *store.Team, me *store.User, email, link string) {
	log := s.log.With().Str("request_id", requestID(c)).Int64("team_id", team.ID).Str("to", email).Logger()
	if s.mailer == nil {
		log.Info().Str("link", link).Msg("invitation created; no SMTP server configured, link shown to the inviter")
		s.sessions.Put(c.UserContext(), keyInviteLink, link)
		s.flash(c, "success", "Invitation for "+email+" created.")
		return
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 20*time.Second)
	defer cancel()
	m := inviteMail(team.Name, me.Name, email, link)
	err := s.mailer.Send(ctx, m.To, m.Subject, m.Text)
	if err != nil {
		log.Error().Err(err).Msg("sending invitation email failed; link shown to the inviter")
		s.sessions.Put(c.UserContext(), keyInviteLink, link)
		s.flash(c, "error", "The invitation email to "+email+" could not be sent. Send the link below yourself.")
		return
	}
	log.Info().Msg("invitation emailed")
	s.flash(c, "success", "Invitation sent to "+email+".")
}

func (s *Server) revokeInvite(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeInvitation(c.UserContext(), currentTeam(c).ID, id); err != nil {
		return err
	}
	s.flash(c, "success", "Invitation revoked; its link no longer works.")
	return s.redirect(c, "/team#invite")
}

func (s *Server) setRole(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if role != store.RoleAdmin && role != store.RoleMember {
		return fiber.NewError(fiber.StatusBadRequest, "Choose admin or member.")
	}
	if err := s.memberAction(s.store.SetMemberRole(c.UserContext(), currentTeam(c).ID, id, role)); err != nil {
		return err
	}
	s.flash(c, "success", "Role changed.")
	return s.redirect(c, "/team")
}

func (s *Server) handOver(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.memberAction(s.store.TransferOwnership(c.UserContext(), currentTeam(c).ID, currentUser(c).ID, id)); err != nil {
		return err
	}
	s.flash(c, "success", "Ownership handed over. You are now an admin.")
	return s.redirect(c, "/team")
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.memberAction(s.store.RemoveMember(c.UserContext(), currentTeam(c).ID, currentUser(c), id)); err != nil {
		return err
	}
	s.flash(c, "success", "Member removed. Records they owned are now unassigned.")
	return s.redirect(c, "/team")
}

// updateTeamSettings saves the team's time zone and currency (owner only; the
// route checks the role, the store checks it again).
func (s *Server) updateTeamSettings(c *fiber.Ctx) error {
	in := store.TeamSettings{TimeZone: c.FormValue("time_zone"), Currency: c.FormValue("currency")}
	team, err := s.store.UpdateTeamSettings(c.UserContext(), currentTeam(c).ID, currentUser(c), in)
	var fe store.FieldErrors
	switch {
	case errors.As(err, &fe):
		v, verr := s.teamView(c)
		if verr != nil {
			return verr
		}
		v.Settings, v.SettingsErrs = in, views.Errors(fe)
		return render(c, fiber.StatusUnprocessableEntity, views.TeamPage(s.shell(c, "Team", "team"), v))
	case err != nil:
		return s.memberAction(err)
	}
	s.flash(c, "success", "Settings saved: the dashboard counts months in "+team.TimeZone+" and shows amounts in "+team.Currency+".")
	return s.redirect(c, "/team#settings")
}

// memberAction maps the store's membership refusals to HTTP errors.
func (s *Server) memberAction(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotAllowed), errors.Is(err, store.ErrCannotChangeOwner):
		return fiber.NewError(fiber.StatusForbidden, sentence(err))
	}
	return err
}

func (s *Server) leaveTeam(c *fiber.Ctx) error {
	team, me := currentTeam(c), currentUser(c)
	v, err := s.teamView(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		v.LeaveErrs["confirm"] = "Tick the box to confirm that you want to leave."
		return render(c, fiber.StatusUnprocessableEntity, views.TeamPage(s.shell(c, "Team", "team"), v))
	}
	deleted, err := s.store.LeaveTeam(c.UserContext(), team.ID, me.ID)
	switch {
	case errors.Is(err, store.ErrOwnerMustHandOver):
		v.LeaveErrs[""] = "As the owner, hand ownership to another member before you leave."
		return render(c, fiber.StatusUnprocessableEntity, views.TeamPage(s.shell(c, "Team", "team"), v))
	case err != nil:
		return err
	}
	msg := "You left " + team.Name + "."
	if deleted {
		msg = "You left " + team.Name + ", and the team was deleted."
	}
	s.flash(c, "success", msg)
	return s.redirect(c, "/")
}

// pathID parses a numeric id from the URL; anything else is a 404, since no
// record has that id.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	raw := c.Params(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	// Only the canonical spelling names a record: "+1", "01" or "1.0" are
	// other URLs, not other names for record 1.
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}
