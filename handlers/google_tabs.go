package handlers

// The contact page's Google tabs share what is in this file: the form token
// that makes a double submit act once, opening the viewer's Google, what a
// failed Google call tells the user, and googleAction, the one path every
// write to Google takes. The tabs themselves are google_emails.go,
// google_tasks.go and google_meetings.go.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for the meetings form, also on hosts without a zone database

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// Limits of the Google tabs beyond their text fields (those are in
// store/rules.go).
const (
	meetingLongest = 24 * time.Hour
	// dateRange bounds due dates and meeting times around today: a typo
	// such as year 20255 is refused instead of sent to Google.
	dateRange = 10 * 366 * 24 * time.Hour
	// threadsShown is how many threads with a contact the Emails tab lists
	// at a time; "Older threads" pages on.
	threadsShown = 20
	// meetingsSince is how far back the Meetings tab looks for past meetings.
	meetingsSince = 365 * 24 * time.Hour
)

// Kinds of form claims (store.ClaimForm): each action a double submit must
// not repeat.
const (
	claimEmail        = "email"
	claimReply        = "reply"
	claimTask         = "task"
	claimTaskComplete = "task_completed"
	claimMeeting      = "meeting"
)

var (
	// formTokenRe is a form token as newFormToken makes it; the meeting
	// form's token is also the Meet conference's request id.
	formTokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
	// googleIDRe is a Gmail thread or Google task id in a URL.
	googleIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)
)

// newFormToken is a random id a form carries so that submitting it twice
// acts once.
func newFormToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// formToken reads a form's token; a missing or malformed one is replaced by
// a fresh one (the submit acts, but cannot be recognised again).
func formToken(c *fiber.Ctx, field string) string {
	if t := c.FormValue(field); formTokenRe.MatchString(t) {
		return t
	}
	return newFormToken()
}

// claimKey is what store.ClaimForm remembers of a form: a hash of its kind,
// token and the item it acts on.
func claimKey(kind, token, item string) string {
	return hashToken(kind + "\x00" + token + "\x00" + item)
}

// claimForm records that the current user acts on a form; false means the
// same form was already submitted and nothing must be done. The returned
// release function forgets the claim after a failed action, so the user can
// submit the same form again.
func (s *Server) claimForm(c *fiber.Ctx, kind, token, item string) (bool, func(), error) {
	ctx, me, key := c.UserContext(), currentUser(c), claimKey(kind, token, item)
	ok, err := s.store.ClaimForm(ctx, me.ID, key, kind)
	release := func() {
		if err := s.store.ReleaseForm(context.WithoutCancel(ctx), me.ID, key); err != nil {
			s.log.Warn().Err(err).Str("request_id", requestID(c)).Msg("release form claim")
		}
	}
	return ok, release, err
}

// viewerLocation is the viewer's time zone: the form's tz field, else the
// X-Time-Zone header app.js puts on htmx requests, else UTC.
func viewerLocation(c *fiber.Ctx, formTZ string) *time.Location {
	name := strings.TrimSpace(formTZ)
	if name == "" {
		name = strings.TrimSpace(c.Get("X-Time-Zone"))
	}
	if name == "" || name == "Local" || len(name) > 64 {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// googleTab is the frame of a contact's Google tab.
func googleTab(contact *store.Contact, tab string) views.GoogleTab {
	return views.GoogleTab{ContactID: contact.ID, ContactName: contact.Name, ContactEmail: contact.Email, Tab: tab}
}

// tabPurpose says what connecting Google gives on each tab.
var tabPurpose = map[string]string{
	"emails":   "email this contact from your Gmail and see your threads with them",
	"tasks":    "keep Google Tasks for this contact",
	"meetings": "schedule Google Meet meetings with this contact",
}

// openGoogle is the viewer's Google client for a tab, with the tab's frame
// told the connected address. When Google cannot be used the client is nil
// and the frame carries the problem to show; the error is for Sherpa's own
// failures only.
func (s *Server) openGoogle(c *fiber.Ctx, t *views.GoogleTab) (*google.Client, error) {
	if !s.googleConfigured() {
		t.Problem = &views.GoogleProblem{Kind: "not_configured", Message: "Google is not configured on this server. An administrator sets SHERPA_GOOGLE_CLIENT_ID and SHERPA_GOOGLE_CLIENT_SECRET (a Google Cloud OAuth client), or SHERPA_GOOGLE_SANDBOX=true to try Sherpa with a simulated Google."}
		return nil, nil
	}
	cl, err := s.googleClient(c)
	if err != nil {
		return nil, googleTroubleOf(err, t.Tab, nil).show(t, err)
	}
	email, err := s.connectedGoogleEmail(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	t.Account = email
	return cl, nil
}

// writeWords say what a failed write did to Google: nothing ("Nothing was
// sent."), or, when Google did not answer in time, perhaps something
// ("The email may have been sent; check below …").
type writeWords struct{ nothing, unsure string }

// googleTrouble is a failed Google call as a tab shows it: the problem, and
// the status the tab answers with. A nil *googleTrouble is an error of
// Sherpa's own, for the error handler.
type googleTrouble struct {
	problem *views.GoogleProblem
	status  int
}

// googleTroubleOf turns a failed Google call into what the tab tells the
// user; words is nil when only loading failed. A load answers 200 around its
// Connect or Reconnect button and 503 when Google is unavailable; a write
// answers 503, 422 (Google refused the input) or 409 (the account must be
// connected again, or the item is gone).
func googleTroubleOf(err error, tab string, words *writeWords) *googleTrouble {
	then, nothing := "", ""
	if words != nil {
		then, nothing = " "+words.nothing, words.nothing
	}
	t := &googleTrouble{status: fiber.StatusConflict}
	if words == nil {
		t.status = fiber.StatusOK
	}
	switch {
	case errors.Is(err, google.ErrNotConnected):
		t.problem = &views.GoogleProblem{Kind: "connect", Message: "Connect your Google account to " + tabPurpose[tab] + "."}
	case errors.Is(err, google.ErrReauth):
		t.problem = &views.GoogleProblem{Kind: "reconnect", Message: "Google access expired or was revoked." + then + " Reconnect your Google account to go on."}
	case errors.Is(err, google.ErrForbidden):
		t.problem = &views.GoogleProblem{Kind: "forbidden", Message: "Google refused: your account has not given Sherpa a permission it needs." + then + " Reconnect and allow everything Sherpa asks for."}
	case errors.Is(err, google.ErrUnavailable):
		t.status = fiber.StatusServiceUnavailable
		switch {
		case words == nil:
			t.problem = &views.GoogleProblem{Kind: "unavailable", Message: "Google is not answering right now, so this list cannot be shown. Try again in a minute."}
		case google.MaybeDone(err):
			t.problem = &views.GoogleProblem{Kind: "unavailable", Message: "Google is not answering right now, so Sherpa cannot tell whether it went through. " + words.unsure}
		default:
			t.problem = &views.GoogleProblem{Kind: "unavailable", Message: "Google is not answering right now;" + strings.TrimSuffix(" "+lowerFirst(nothing), ".") + ". Try again in a minute."}
		}
	case errors.Is(err, google.ErrNotFound):
		t.problem = &views.GoogleProblem{Kind: "gone", Message: "Google no longer has this: it was deleted in Google." + then}
	case errors.Is(err, google.ErrInvalid):
		t.problem = &views.GoogleProblem{Kind: "invalid", Message: "Google refused this as invalid; check the contact's email address." + then}
		if words != nil {
			t.status = fiber.StatusUnprocessableEntity
		}
	default:
		return nil
	}
	return t
}

// show puts the problem on the tab; it answers err back when the trouble is
// Sherpa's own (t is nil), so callers can return it.
func (t *googleTrouble) show(tab *views.GoogleTab, err error) error {
	if t == nil {
		return err
	}
	tab.Problem = t.problem
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// contactAddress is the contact as an email recipient, "Name <address>".
func contactAddress(contact *store.Contact) string {
	return (&mail.Address{Name: contact.Name, Address: contact.Email}).String()
}

// googleAction is one write to Google from a contact's tab. A tab's handler
// fills it in; runGoogleAction carries it out the same way for every write.
type googleAction struct {
	contact *store.Contact
	tab     *views.GoogleTab
	// kind, token and item name the form claim (claimForm).
	kind, token, item string
	// errs are the form's validation errors; any means nothing is done.
	errs views.Errors
	// already is the notice when the same form was already submitted.
	already string
	// gone, when set, is the problem shown when what the action acts on is
	// no longer in Google.
	gone  string
	words writeWords
	// do writes to Google and logs the activity; it answers the notice.
	do func(ctx context.Context, cl *google.Client) (string, error)
	// reset, when set, offers a fresh form after a success.
	reset func()
	// show loads the tab's list and answers the tab's fragment.
	show func(cl *google.Client) (templ.Component, error)
}

// run is the protocol of a write: open the viewer's Google, refuse invalid
// input, claim the form so a second submit acts once, write, and show the
// outcome. A success without htmx is flashed on the contact page after a
// redirect; everything else renders the tab (inside the contact page when the
// request is not htmx's).
func (s *Server) runGoogleAction(c *fiber.Ctx, a googleAction) error {
	cl, err := s.openGoogle(c, a.tab)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	switch {
	case cl == nil:
		status = fiber.StatusConflict
		if a.tab.Problem.Kind == "unavailable" {
			status = fiber.StatusServiceUnavailable
		}
	case a.errs.Any():
		status = fiber.StatusUnprocessableEntity
	default:
		if status, err = s.actOnce(c, cl, a); err != nil {
			return err
		}
		if status == fiber.StatusOK {
			if a.reset != nil {
				a.reset()
			}
			if !isHTMX(c) {
				s.flash(c, a.tab.Notice.Kind, a.tab.Notice.Message)
				return s.redirect(c, contactTabURL(a.contact.ID, a.tab.Tab))
			}
		}
	}
	return s.renderGoogleTab(c, a.contact, a.tab, status, func() (templ.Component, error) { return a.show(cl) })
}

// actOnce claims the form and writes; it answers the status of the tab, with
// the outcome on it. A failed write releases the claim, so the same form can
// be sent again: Google writes are tagged with the form's token and looked
// for before writing again, so a retry after a timeout does not repeat one
// that went through. The outcome of every Google call an action makes is
// decided here (where a metrics counter belongs).
func (s *Server) actOnce(c *fiber.Ctx, cl *google.Client, a googleAction) (int, error) {
	ok, release, err := s.claimForm(c, a.kind, a.token, a.item)
	if err != nil {
		return 0, err
	}
	if !ok {
		a.tab.Notice = &views.Flash{Kind: "info", Message: a.already}
		return fiber.StatusOK, nil
	}
	notice, err := a.do(c.UserContext(), cl)
	if err != nil {
		release()
		if a.gone != "" && errors.Is(err, google.ErrNotFound) {
			s.observeGoogleCall(a.kind, "gone")
			a.tab.Problem = &views.GoogleProblem{Kind: "gone", Message: a.gone}
			return fiber.StatusConflict, nil
		}
		t := googleTroubleOf(err, a.tab.Tab, &a.words)
		if t == nil {
			s.observeGoogleCall(a.kind, "error")
		} else {
			s.observeGoogleCall(a.kind, t.problem.Kind)
		}
		if err := t.show(a.tab, err); err != nil {
			return 0, err
		}
		return t.status, nil
	}
	s.observeGoogleCall(a.kind, "ok")
	a.tab.Notice = &views.Flash{Kind: "success", Message: notice}
	return fiber.StatusOK, nil
}

// googleTabPage answers a GET of a tab: open the viewer's Google, load the
// list, render.
func (s *Server) googleTabPage(c *fiber.Ctx, contact *store.Contact, t *views.GoogleTab, show func(cl *google.Client) (templ.Component, error)) error {
	cl, err := s.openGoogle(c, t)
	if err != nil {
		return err
	}
	return s.renderGoogleTab(c, contact, t, 0, func() (templ.Component, error) { return show(cl) })
}

// renderGoogleTab loads a tab's list and renders it: the fragment for htmx,
// otherwise the contact page opened on the tab, so a form posted without
// JavaScript comes back inside the page's layout. A status of 0 is the
// load's: 503 when Google is unavailable, else 200 (around a Connect or
// Reconnect button if need be).
func (s *Server) renderGoogleTab(c *fiber.Ctx, contact *store.Contact, t *views.GoogleTab, status int, show func() (templ.Component, error)) error {
	panel, err := show()
	if err != nil {
		return err
	}
	if status == 0 {
		status = fiber.StatusOK
		if t.Problem != nil && t.Problem.Kind == "unavailable" {
			status = fiber.StatusServiceUnavailable
		}
	}
	if isHTMX(c) {
		return render(c, status, panel)
	}
	return s.renderContactPage(c, contact, t.Tab, panel, status)
}
