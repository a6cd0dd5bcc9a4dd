package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for the meetings form, also on hosts without a zone database
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// Limits of the Google tabs' forms, shared by validation and maxlength.
const (
	emailSubjectMax       = 200
	emailBodyMax          = 20000
	taskTitleMax          = 500
	meetingTitleMax       = 200
	meetingDescriptionMax = 5000
	meetingLongest        = 24 * time.Hour
	// dateRange bounds due dates and meeting times around today: a typo
	// such as year 20255 is refused instead of sent to Google.
	dateRange = 10 * 366 * 24 * time.Hour
	// threadsShown is how many threads with a contact the Emails tab lists.
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
		if t.Problem = googleTrouble(err, t.Tab, ""); t.Problem == nil {
			return nil, err
		}
		return nil, nil
	}
	email, err := s.connectedGoogleEmail(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return nil, err
	}
	t.Account = email
	return cl, nil
}

// googleTrouble turns a failed Google call into what the tab tells the
// user; nothing says what did not happen ("" when only loading failed). It
// answers nil for errors that are Sherpa's own.
func googleTrouble(err error, tab, nothing string) *views.GoogleProblem {
	then := ""
	if nothing != "" {
		then = " " + nothing
	}
	switch {
	case errors.Is(err, google.ErrNotConnected):
		return &views.GoogleProblem{Kind: "connect", Message: "Connect your Google account to " + tabPurpose[tab] + "."}
	case errors.Is(err, google.ErrReauth):
		return &views.GoogleProblem{Kind: "reconnect", Message: "Google access expired or was revoked." + then + " Reconnect your Google account to go on."}
	case errors.Is(err, google.ErrForbidden):
		return &views.GoogleProblem{Kind: "forbidden", Message: "Google refused: your account has not given Sherpa a permission it needs." + then + " Reconnect and allow everything Sherpa asks for."}
	case errors.Is(err, google.ErrUnavailable):
		if nothing == "" {
			return &views.GoogleProblem{Kind: "unavailable", Message: "Google is not answering right now, so this list cannot be shown. Try again in a minute."}
		}
		return &views.GoogleProblem{Kind: "unavailable", Message: "Google is not answering right now;" + strings.TrimSuffix(" "+lowerFirst(nothing), ".") + ". Try again in a minute."}
	case errors.Is(err, google.ErrNotFound):
		return &views.GoogleProblem{Kind: "gone", Message: "Google no longer has this: it was deleted in Google." + then}
	case errors.Is(err, google.ErrInvalid):
		return &views.GoogleProblem{Kind: "invalid", Message: "Google refused this as invalid; check the contact's email address." + then}
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// troubleStatus is the status of a tab that shows a problem: 503 when
// Google is unavailable; for an action 409 (the account must be connected
// again, or the item is gone) or 422 (Google refused the input); a tab that
// merely loads answers 200 around its Connect or Reconnect button.
func troubleStatus(p *views.GoogleProblem, action bool) int {
	switch {
	case p == nil:
		return fiber.StatusOK
	case p.Kind == "unavailable":
		return fiber.StatusServiceUnavailable
	case !action:
		return fiber.StatusOK
	case p.Kind == "invalid":
		return fiber.StatusUnprocessableEntity
	}
	return fiber.StatusConflict
}

// googleFailed handles a failed Google action: the claim is released, and
// the tab shows what happened; nothing is logged. Errors that are not
// Google's go to the error handler.
func googleFailed(err error, release func(), t *views.GoogleTab, nothing string) (int, error) {
	release()
	p := googleTrouble(err, t.Tab, nothing)
	if p == nil {
		return 0, err
	}
	t.Problem = p
	return troubleStatus(p, true), nil
}

func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// contactAddress is the contact as an email recipient, "Name <address>".
func contactAddress(contact *store.Contact) string {
	return (&mail.Address{Name: contact.Name, Address: contact.Email}).String()
}

// ---- Emails ----

func (s *Server) emailsTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: views.EmailForm{Token: newFormToken(), Errors: views.Errors{}}}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	if err := s.loadThreads(c, cl, contact, &v, ""); err != nil {
		return err
	}
	return render(c, troubleStatus(v.Problem, false), views.EmailsTab(v))
}

// loadThreads fills in the threads with the contact, unless a problem is
// already shown; openThread is shown expanded.
func (s *Server) loadThreads(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.EmailsView, openThread string) error {
	if cl == nil || v.Problem != nil || v.Loaded {
		return nil
	}
	threads, err := cl.ListThreads(c.UserContext(), contact.Email, threadsShown)
	if err != nil {
		if v.Problem = googleTrouble(err, v.Tab, ""); v.Problem == nil {
			return err
		}
		return nil
	}
	v.Loaded = true
	for _, th := range threads {
		et := views.EmailThread{ID: th.ID, Subject: th.Subject, Snippet: th.Snippet, LastDate: th.LastDate,
			ReplyToken: newFormToken(), Open: th.ID == openThread}
		for _, m := range th.Messages {
			et.Messages = append(et.Messages, views.EmailMessage{From: m.From, To: m.To, Date: m.Date, Body: m.Body, Sent: m.Sent})
		}
		v.Threads = append(v.Threads, et)
	}
	return nil
}

func validateEmail(subject, body string) views.Errors {
	errs := views.Errors{}
	switch {
	case subject == "":
		errs["subject"] = "Enter a subject."
	case tooLong(subject, emailSubjectMax):
		errs["subject"] = "The subject can be at most 200 characters."
	}
	validateEmailBody(errs, body)
	return errs
}

func validateEmailBody(errs views.Errors, body string) {
	switch {
	case strings.TrimSpace(body) == "":
		errs["body"] = "Write a message."
	case tooLong(body, emailBodyMax):
		errs["body"] = "The message can be at most 20,000 characters."
	case !utf8.ValidString(body):
		errs["body"] = "The message contains characters that are not text."
	}
}

// sendEmail sends the compose form from the viewer's Gmail to the contact
// and logs an email activity. The form's token makes a second submit of the
// same form answer "already sent" and send nothing.
func (s *Server) sendEmail(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f := views.EmailForm{Token: formToken(c, "token"), Subject: cleanText(c.FormValue("subject")), Body: c.FormValue("body")}
	f.Errors = validateEmail(f.Subject, f.Body)
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: f}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	switch {
	case cl == nil:
		status = troubleStatus(v.Problem, true)
	case f.Errors.Any():
		status = fiber.StatusUnprocessableEntity
	default:
		status, err = s.sendEmailOnce(c, cl, contact, &v)
		if err != nil {
			return err
		}
		if status == fiber.StatusOK {
			v.Compose = views.EmailForm{Token: newFormToken(), Errors: views.Errors{}}
			if !isHTMX(c) {
				s.flash(c, v.Notice.Kind, v.Notice.Message)
				return s.redirect(c, contactTabURL(contact.ID, "emails"))
			}
		}
	}
	if err := s.loadThreads(c, cl, contact, &v, ""); err != nil {
		return err
	}
	return render(c, status, views.EmailsTab(v))
}

// sendEmailOnce claims the form, sends, and logs; it answers the status of
// the tab to render, with the outcome in v.
func (s *Server) sendEmailOnce(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.EmailsView) (int, error) {
	f := v.Compose
	ok, release, err := s.claimForm(c, claimEmail, f.Token, "")
	if err != nil {
		return 0, err
	}
	if !ok {
		v.Notice = &views.Flash{Kind: "info", Message: "This email was already sent; it was not sent again."}
		return fiber.StatusOK, nil
	}
	_, err = cl.SendEmail(c.UserContext(), google.EmailDraft{To: contactAddress(contact), Subject: f.Subject, Body: f.Body})
	if err != nil {
		return googleFailed(err, release, &v.GoogleTab, "Nothing was sent.")
	}
	if _, err := s.store.LogActivity(c.UserContext(), currentTeam(c).ID, contact.ID, currentUser(c).ID, store.ActivityEmail, "Email sent: "+f.Subject); err != nil {
		return 0, err
	}
	v.Notice = &views.Flash{Kind: "success", Message: "Email sent to " + contact.Email + "."}
	return fiber.StatusOK, nil
}

// replyEmail answers the latest message of one of the viewer's threads, in
// that thread, to the contact; it logs an email activity.
func (s *Server) replyEmail(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	threadID := c.Params("thread")
	if !googleIDRe.MatchString(threadID) {
		return fiber.ErrNotFound
	}
	r := views.ReplyForm{ThreadID: threadID, Token: formToken(c, "token"), Body: c.FormValue("body"), Errors: views.Errors{}}
	validateEmailBody(r.Errors, r.Body)
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: views.EmailForm{Token: newFormToken(), Errors: views.Errors{}}, Reply: r}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	switch {
	case cl == nil:
		status = troubleStatus(v.Problem, true)
	case r.Errors.Any():
		status = fiber.StatusUnprocessableEntity
	default:
		if status, err = s.replyOnce(c, cl, contact, &v); err != nil {
			return err
		}
		if status == fiber.StatusOK && !isHTMX(c) {
			s.flash(c, v.Notice.Kind, v.Notice.Message)
			return s.redirect(c, contactTabURL(contact.ID, "emails"))
		}
	}
	if err := s.loadThreads(c, cl, contact, &v, threadID); err != nil {
		return err
	}
	return render(c, status, views.EmailsTab(v))
}

func (s *Server) replyOnce(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.EmailsView) (int, error) {
	r := v.Reply
	ok, release, err := s.claimForm(c, claimReply, r.Token, r.ThreadID)
	if err != nil {
		return 0, err
	}
	if !ok {
		v.Reply = views.ReplyForm{}
		v.Notice = &views.Flash{Kind: "info", Message: "This reply was already sent; it was not sent again."}
		return fiber.StatusOK, nil
	}
	if _, err := cl.Reply(c.UserContext(), r.ThreadID, contactAddress(contact), r.Body); err != nil {
		if errors.Is(err, google.ErrNotFound) {
			release()
			v.Problem = &views.GoogleProblem{Kind: "gone", Message: "This thread is no longer in your Gmail; nothing was sent."}
			return fiber.StatusConflict, nil
		}
		return googleFailed(err, release, &v.GoogleTab, "Nothing was sent.")
	}
	// The thread's subject names the reply in the activity log.
	subject := ""
	if err := s.loadThreads(c, cl, contact, v, r.ThreadID); err != nil {
		return 0, err
	}
	for _, th := range v.Threads {
		if th.ID == r.ThreadID {
			subject = th.Subject
		}
	}
	desc := "Email reply sent"
	if subject != "" {
		desc += ": " + subject
	}
	if _, err := s.store.LogActivity(c.UserContext(), currentTeam(c).ID, contact.ID, currentUser(c).ID, store.ActivityEmail, desc); err != nil {
		return 0, err
	}
	v.Reply = views.ReplyForm{}
	v.Notice = &views.Flash{Kind: "success", Message: "Reply sent to " + contact.Email + "."}
	return fiber.StatusOK, nil
}

// ---- Tasks ----

func (s *Server) tasksTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: views.TaskForm{Token: newFormToken(), Errors: views.Errors{}}}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	if err := s.loadTasks(c, cl, contact, &v); err != nil {
		return err
	}
	return render(c, troubleStatus(v.Problem, false), views.TasksTab(v))
}

// taskListID is the id of the viewer's Google Tasks list for the contact,
// "" before the first task.
func (s *Server) taskListID(c *fiber.Ctx, contact *store.Contact) (string, error) {
	id, err := s.store.TaskListID(c.UserContext(), currentUser(c).ID, contact.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// loadTasks fills in the three sections from the viewer's list for the
// contact, unless a problem is already shown. Overdue means due before
// today in the viewer's time zone.
func (s *Server) loadTasks(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.TasksView) error {
	if cl == nil || v.Problem != nil {
		return nil
	}
	v.Token = newFormToken()
	listID, err := s.taskListID(c, contact)
	if err != nil {
		return err
	}
	var items []google.Task
	if listID != "" {
		items, err = cl.ListTasks(c.UserContext(), listID)
		// A list deleted in Google is made again by the next task added.
		if err != nil && !errors.Is(err, google.ErrNotFound) {
			if v.Problem = googleTrouble(err, v.Tab, ""); v.Problem == nil {
				return err
			}
			return nil
		}
	}
	v.Loaded = true
	y, m, d := time.Now().In(viewerLocation(c, "")).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for _, t := range items {
		it := views.TaskItem{ID: t.ID, Title: t.Title, Due: t.Due, Completed: t.Completed, CompletedAt: t.CompletedAt}
		switch {
		case t.Completed:
			v.Completed = append(v.Completed, it)
		case !t.Due.IsZero() && t.Due.Before(today):
			v.Overdue = append(v.Overdue, it)
		default:
			v.Upcoming = append(v.Upcoming, it)
		}
	}
	byDue := func(list []views.TaskItem) {
		sort.SliceStable(list, func(i, j int) bool {
			a, b := list[i].Due, list[j].Due
			if a.IsZero() != b.IsZero() {
				return b.IsZero() // tasks without a due date last
			}
			return a.Before(b)
		})
	}
	byDue(v.Overdue)
	byDue(v.Upcoming)
	sort.SliceStable(v.Completed, func(i, j int) bool { return v.Completed[i].CompletedAt.After(v.Completed[j].CompletedAt) })
	return nil
}

// parseDue reads a date input (YYYY-MM-DD, or "" for none).
func parseDue(s string, errs views.Errors) time.Time {
	if s == "" {
		return time.Time{}
	}
	due, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		errs["due"] = "Enter a date such as " + time.Now().Format(time.DateOnly) + ", or leave it empty."
	case due.Sub(time.Now()).Abs() > dateRange:
		errs["due"] = "Choose a date within ten years of today."
	}
	return due
}

// addTask adds a task to the viewer's list for the contact (making the list
// on first use, or again after it was deleted in Google) and logs a task
// activity.
func (s *Server) addTask(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f := views.TaskForm{Token: formToken(c, "token"), Title: cleanText(c.FormValue("title")), Due: strings.TrimSpace(c.FormValue("due")), Errors: views.Errors{}}
	switch {
	case f.Title == "":
		f.Errors["title"] = "Enter what there is to do."
	case tooLong(f.Title, taskTitleMax):
		f.Errors["title"] = "A task can be at most 500 characters."
	}
	due := parseDue(f.Due, f.Errors)
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: f}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	switch {
	case cl == nil:
		status = troubleStatus(v.Problem, true)
	case f.Errors.Any():
		status = fiber.StatusUnprocessableEntity
	default:
		if status, err = s.addTaskOnce(c, cl, contact, &v, due); err != nil {
			return err
		}
		if status == fiber.StatusOK {
			v.Add = views.TaskForm{Token: newFormToken(), Errors: views.Errors{}}
			if !isHTMX(c) {
				s.flash(c, v.Notice.Kind, v.Notice.Message)
				return s.redirect(c, contactTabURL(contact.ID, "tasks"))
			}
		}
	}
	if err := s.loadTasks(c, cl, contact, &v); err != nil {
		return err
	}
	return render(c, status, views.TasksTab(v))
}

func (s *Server) addTaskOnce(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.TasksView, due time.Time) (int, error) {
	ctx, f := c.UserContext(), v.Add
	ok, release, err := s.claimForm(c, claimTask, f.Token, "")
	if err != nil {
		return 0, err
	}
	if !ok {
		v.Notice = &views.Flash{Kind: "info", Message: "This task was already added; it was not added again."}
		return fiber.StatusOK, nil
	}
	const nothing = "No task was added."
	listID, err := s.taskListID(c, contact)
	if err != nil {
		release()
		return 0, err
	}
	ensured, err := cl.EnsureTaskList(ctx, listID, "Sherpa: "+contact.Name)
	if err != nil {
		return googleFailed(err, release, &v.GoogleTab, nothing)
	}
	if ensured != listID {
		if err := s.store.SetTaskListID(ctx, currentUser(c).ID, contact.ID, ensured); err != nil {
			release()
			return 0, err
		}
	}
	task, err := cl.AddTask(ctx, ensured, f.Title, due)
	if err != nil {
		return googleFailed(err, release, &v.GoogleTab, nothing)
	}
	desc := "Task: " + task.Title
	if !task.Due.IsZero() {
		desc += " (due " + task.Due.Format("2 Jan 2006") + ")"
	}
	// A task counts as scheduled (the board's stale rule) until its due day ends.
	dueEnd := task.Due
	if !dueEnd.IsZero() {
		dueEnd = dueEnd.Add(24 * time.Hour)
	}
	if _, err := s.store.LogScheduled(ctx, currentTeam(c).ID, contact.ID, currentUser(c).ID, store.ActivityTask, desc, dueEnd); err != nil {
		return 0, err
	}
	v.Notice = &views.Flash{Kind: "success", Message: "Task added to your Google Tasks."}
	return fiber.StatusOK, nil
}

// completeTask marks one of the viewer's tasks for the contact completed in
// Google and logs a task_completed activity.
func (s *Server) completeTask(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	taskID := c.Params("task")
	if !googleIDRe.MatchString(taskID) {
		return fiber.ErrNotFound
	}
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: views.TaskForm{Token: newFormToken(), Errors: views.Errors{}}}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	status := troubleStatus(v.Problem, true)
	if cl != nil {
		if status, err = s.completeTaskOnce(c, cl, contact, &v, taskID, formToken(c, "token")); err != nil {
			return err
		}
		if status == fiber.StatusOK && !isHTMX(c) {
			s.flash(c, v.Notice.Kind, v.Notice.Message)
			return s.redirect(c, contactTabURL(contact.ID, "tasks"))
		}
	}
	if err := s.loadTasks(c, cl, contact, &v); err != nil {
		return err
	}
	return render(c, status, views.TasksTab(v))
}

func (s *Server) completeTaskOnce(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.TasksView, taskID, token string) (int, error) {
	listID, err := s.taskListID(c, contact)
	if err != nil {
		return 0, err
	}
	gone := &views.GoogleProblem{Kind: "gone", Message: "This task is no longer in your Google Tasks; nothing was changed."}
	if listID == "" {
		v.Problem = gone
		return fiber.StatusConflict, nil
	}
	ok, release, err := s.claimForm(c, claimTaskComplete, token, taskID)
	if err != nil {
		return 0, err
	}
	if !ok {
		v.Notice = &views.Flash{Kind: "info", Message: "This task was already completed."}
		return fiber.StatusOK, nil
	}
	task, err := cl.CompleteTask(c.UserContext(), listID, taskID)
	if errors.Is(err, google.ErrNotFound) {
		release()
		v.Problem = gone
		return fiber.StatusConflict, nil
	}
	if err != nil {
		return googleFailed(err, release, &v.GoogleTab, "The task was not marked complete.")
	}
	if _, err := s.store.LogActivity(c.UserContext(), currentTeam(c).ID, contact.ID, currentUser(c).ID, store.ActivityTaskCompleted, "Task completed: "+task.Title); err != nil {
		return 0, err
	}
	v.Notice = &views.Flash{Kind: "success", Message: "Completed: " + task.Title}
	return fiber.StatusOK, nil
}

// ---- Meetings ----

// datetimeLocal is the layout of a datetime-local input's value.
const datetimeLocal = "2006-01-02T15:04"

func (s *Server) meetingsTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.MeetingsView{GoogleTab: googleTab(contact, "meetings"), Schedule: newMeetingForm(c)}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	if err := s.loadMeetings(c, cl, contact, &v); err != nil {
		return err
	}
	return render(c, troubleStatus(v.Problem, false), views.MeetingsTab(v))
}

// newMeetingForm is an empty schedule form with a fresh request id. When
// the browser told its time zone, it proposes tomorrow 10:00–10:30 there.
func newMeetingForm(c *fiber.Ctx) views.MeetingForm {
	if c.Get("X-Time-Zone") == "" {
		return views.MeetingForm{RequestID: newFormToken(), Errors: views.Errors{}}
	}
	return meetingFormIn(viewerLocation(c, ""))
}

// meetingFormIn is an empty schedule form in a known time zone, proposing
// tomorrow 10:00–10:30 there.
func meetingFormIn(loc *time.Location) views.MeetingForm {
	y, m, d := time.Now().In(loc).AddDate(0, 0, 1).Date()
	start := time.Date(y, m, d, 10, 0, 0, 0, loc)
	return views.MeetingForm{RequestID: newFormToken(), TZ: loc.String(), Errors: views.Errors{},
		Start: start.Format(datetimeLocal), End: start.Add(30 * time.Minute).Format(datetimeLocal)}
}

// loadMeetings fills in the meetings with the contact of the last year and
// to come, unless a problem is already shown.
func (s *Server) loadMeetings(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.MeetingsView) error {
	if cl == nil || v.Problem != nil {
		return nil
	}
	now := time.Now()
	meetings, err := cl.ListMeetings(c.UserContext(), contact.Email, now.Add(-meetingsSince), time.Time{})
	if err != nil {
		if v.Problem = googleTrouble(err, v.Tab, ""); v.Problem == nil {
			return err
		}
		return nil
	}
	v.Loaded = true
	for _, m := range meetings {
		it := views.MeetingItem{Title: m.Title, Description: m.Description, Start: m.Start, End: m.End, JoinURL: m.JoinURL, CalendarURL: m.HTMLLink}
		if m.End.After(now) {
			v.Upcoming = append(v.Upcoming, it)
		} else {
			v.Past = append(v.Past, it)
		}
	}
	sort.SliceStable(v.Upcoming, func(i, j int) bool { return v.Upcoming[i].Start.Before(v.Upcoming[j].Start) })
	sort.SliceStable(v.Past, func(i, j int) bool { return v.Past[i].Start.After(v.Past[j].Start) })
	return nil
}

// parseLocal reads a datetime-local value in loc.
func parseLocal(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{datetimeLocal, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// meetingInput reads and checks the schedule form; times are in the form's
// time zone (UTC when it names none it knows).
func meetingInput(c *fiber.Ctx) (views.MeetingForm, time.Time, time.Time) {
	f := views.MeetingForm{
		RequestID: formToken(c, "request_id"), Title: cleanText(c.FormValue("title")),
		Description: strings.TrimSpace(c.FormValue("description")),
		Start:       strings.TrimSpace(c.FormValue("start")), End: strings.TrimSpace(c.FormValue("end")),
		Errors: views.Errors{},
	}
	loc := viewerLocation(c, c.FormValue("tz"))
	f.TZ = loc.String()
	switch {
	case f.Title == "":
		f.Errors["title"] = "Enter a title."
	case tooLong(f.Title, meetingTitleMax):
		f.Errors["title"] = "The title can be at most 200 characters."
	}
	switch {
	case tooLong(f.Description, meetingDescriptionMax):
		f.Errors["description"] = "The description can be at most 5,000 characters."
	case !utf8.ValidString(f.Description):
		f.Errors["description"] = "The description contains characters that are not text."
	}
	start, okStart := parseLocal(f.Start, loc)
	end, okEnd := parseLocal(f.End, loc)
	switch {
	case f.Start == "":
		f.Errors["start"] = "Choose when the meeting starts."
	case !okStart:
		f.Errors["start"] = "Enter a date and time such as 2025-03-31T14:30."
	case start.Sub(time.Now()).Abs() > dateRange:
		f.Errors["start"] = "Choose a time within ten years of today."
	}
	switch {
	case f.End == "":
		f.Errors["end"] = "Choose when the meeting ends."
	case !okEnd:
		f.Errors["end"] = "Enter a date and time such as 2025-03-31T15:00."
	case okStart && !end.After(start):
		f.Errors["end"] = "The meeting must end after it starts."
	case okStart && end.Sub(start) > meetingLongest:
		f.Errors["end"] = "A meeting can last at most 24 hours."
	}
	return f, start, end
}

// scheduleMeeting creates a Calendar event with the contact as attendee and
// a Meet conference, has Google send the invitation, and logs a meeting
// activity. The form's request id is the conference's requestId, so Google
// makes one conference per form, and Sherpa acts once per form.
func (s *Server) scheduleMeeting(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f, start, end := meetingInput(c)
	v := views.MeetingsView{GoogleTab: googleTab(contact, "meetings"), Schedule: f}
	cl, err := s.openGoogle(c, &v.GoogleTab)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	switch {
	case cl == nil:
		status = troubleStatus(v.Problem, true)
	case f.Errors.Any():
		status = fiber.StatusUnprocessableEntity
	default:
		if status, err = s.scheduleOnce(c, cl, contact, &v, start, end); err != nil {
			return err
		}
		if status == fiber.StatusOK {
			v.Schedule = meetingFormIn(viewerLocation(c, v.Schedule.TZ))
			if !isHTMX(c) {
				s.flash(c, v.Notice.Kind, v.Notice.Message)
				return s.redirect(c, contactTabURL(contact.ID, "meetings"))
			}
		}
	}
	if err := s.loadMeetings(c, cl, contact, &v); err != nil {
		return err
	}
	return render(c, status, views.MeetingsTab(v))
}

func (s *Server) scheduleOnce(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.MeetingsView, start, end time.Time) (int, error) {
	f := v.Schedule
	ok, release, err := s.claimForm(c, claimMeeting, f.RequestID, "")
	if err != nil {
		return 0, err
	}
	if !ok {
		v.Notice = &views.Flash{Kind: "info", Message: "This meeting was already scheduled; no second one was created."}
		return fiber.StatusOK, nil
	}
	m, err := cl.CreateMeeting(c.UserContext(), google.MeetingInput{
		Title: f.Title, Description: f.Description, Start: start, End: end,
		Attendee: contact.Email, RequestID: f.RequestID,
	})
	if err != nil {
		return googleFailed(err, release, &v.GoogleTab, "No meeting was created.")
	}
	desc := "Meeting: " + f.Title + " (" + start.Format("Mon 2 Jan 2006, 15:04") + " " + f.TZ + ")"
	if _, err := s.store.LogScheduled(c.UserContext(), currentTeam(c).ID, contact.ID, currentUser(c).ID, store.ActivityMeeting, desc, start); err != nil {
		return 0, err
	}
	msg := "Meeting scheduled; Google emailed the invitation to " + contact.Email + "."
	if m.JoinURL == "" {
		msg += " Google did not add a Meet link."
	}
	v.Notice = &views.Flash{Kind: "success", Message: msg}
	return fiber.StatusOK, nil
}
