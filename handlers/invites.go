package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

const inviteValidity = 7 * 24 * time.Hour

// newInviteToken returns an unguessable token for the link and the hash of
// it that the database keeps.
func newInviteToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func inviteMail(teamName, inviterName, to, link string) Mail {
	return Mail{
		To:      to,
		Subject: fmt.Sprintf("%s invited you to %s on Sherpa", inviterName, teamName),
		Text: fmt.Sprintf(`Hello,

%s invited you to join the team "%s" on Sherpa, the CRM your colleagues use.

Accept the invitation here (the link works for %s only and expires in 7 days):

%s

If you did not expect this email, you can ignore it.
`, inviterName, teamName, to, link),
	}
}

// invitePage shows an invitation and what the visitor can do with it.
func (s *Server) invitePage(c *fiber.Ctx) error {
	v, err := s.inviteView(c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if v.Invitation == nil {
		status = fiber.StatusNotFound
	} else if v.Problem != "" {
		status = fiber.StatusGone
	}
	return render(c, status, views.InvitePage(s.shell(c, "Invitation", ""), v))
}

func (s *Server) inviteView(c *fiber.Ctx) (views.InviteView, error) {
	ctx := c.UserContext()
	token := c.Params("token")
	v := views.InviteView{Token: token}
	inv, err := s.store.InvitationByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Invitation = inv
	me := currentUser(c)
	v.LoggedIn = me != nil
	switch problem := inv.Problem(s.store.Now()); {
	case problem != nil:
		v.Problem = sentence(problem)
	case me != nil && store.NormalizeEmail(me.Email) != inv.Email:
		v.Problem = fmt.Sprintf("This invitation is for %s, but you are logged in as %s. Log out and open the link again, or ask for an invitation to your address.", inv.Email, me.Email)
	case me != nil && me.TeamID == inv.TeamID:
		v.Problem = "You are already a member of " + inv.TeamName + "."
	case me != nil && me.TeamID != 0:
		v.Problem = "You are already in a team. Leave it first, then open this link again."
	case me == nil:
		_, err := s.store.UserByEmail(ctx, inv.Email)
		v.Existing = err == nil
	}
	return v, nil
}

// acceptInvite joins the logged-in user to the invitation's team, or shows
// why it cannot.
func (s *Server) acceptInvite(c *fiber.Ctx) error {
	v, err := s.inviteView(c)
	if err != nil {
		return err
	}
	if v.Invitation == nil {
		return render(c, fiber.StatusNotFound, views.InvitePage(s.shell(c, "Invitation", ""), v))
	}
	if v.Problem == "" {
		_, err = s.store.AcceptInvitation(c.UserContext(), hashToken(v.Token), currentUser(c).ID)
		switch {
		case err == nil:
			s.log.Info().Int64("user_id", currentUser(c).ID).Int64("team_id", v.Invitation.TeamID).Msg("invitation accepted")
			s.flash(c, "success", "Welcome to "+v.Invitation.TeamName+"!")
			return s.redirect(c, "/team")
		case errors.Is(err, store.ErrInviteExpired), errors.Is(err, store.ErrInviteUsed), errors.Is(err, store.ErrInviteRevoked),
			errors.Is(err, store.ErrInviteWrongUser), errors.Is(err, store.ErrAlreadyInTeam):
			v.Problem = sentence(err) // a race with another tab or the admin
		default:
			return err
		}
	}
	return render(c, fiber.StatusGone, views.InvitePage(s.shell(c, "Invitation", ""), v))
}

// sentence turns a store error such as "this invitation has expired" into a
// message for people: capitalised, with a full stop.
func sentence(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	r, size := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[size:] + "."
}
