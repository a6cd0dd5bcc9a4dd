package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// The Emails tab: the threads with the contact in the viewer's Gmail, a
// compose form and a reply form per thread.

func (s *Server) emailsTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: newEmailForm()}
	if page := c.Query("page"); googleIDRe.MatchString(page) {
		v.Page = page
	}
	// "Older threads" with htmx asks for the next page alone, to append.
	more := c.Query("more") != "" && isHTMX(c)
	return s.googleTabPage(c, contact, &v.GoogleTab, func(cl *google.Client) (templ.Component, error) {
		if more {
			err := s.loadThreads(c, cl, contact, &v, "")
			return views.EmailThreadsPage(v), err
		}
		return s.showEmails(c, cl, contact, &v, "")
	})
}

func newEmailForm() views.EmailForm {
	return views.EmailForm{Token: newFormToken(), Errors: views.Errors{}}
}

// showEmails loads the threads and answers the tab.
func (s *Server) showEmails(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.EmailsView, openThread string) (templ.Component, error) {
	if err := s.loadThreads(c, cl, contact, v, openThread); err != nil {
		return nil, err
	}
	return views.EmailsTab(*v), nil
}

// loadThreads fills in the threads with the contact, unless a problem is
// already shown; openThread is shown expanded.
func (s *Server) loadThreads(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.EmailsView, openThread string) error {
	if cl == nil || v.Problem != nil || v.Loaded {
		return nil
	}
	threads, older, err := cl.ListThreads(c.UserContext(), contact.Email, threadsShown, v.Page)
	if err != nil {
		return googleTroubleOf(err, v.Tab, nil).show(&v.GoogleTab, err)
	}
	v.Loaded, v.Older = true, older
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
	default:
		check(errs, "subject", store.TextError("The subject", subject, store.MaxEmailSubjectLen, false))
	}
	validateEmailBody(errs, body)
	return errs
}

func validateEmailBody(errs views.Errors, body string) {
	switch {
	case strings.TrimSpace(body) == "":
		errs["body"] = "Write a message."
	default:
		check(errs, "body", store.TextError("The message", body, store.MaxEmailBodyLen, true))
	}
}

// sentWords are what a failed email or reply did.
var sentWords = writeWords{
	nothing: "Nothing was sent.",
	unsure:  "The email may have been sent; check the threads below. Sending this form again will not send it twice.",
}

// sendEmail sends the compose form from the viewer's Gmail to the contact
// and logs an email activity. The form's token makes a second submit of the
// same form answer "already sent" and send nothing.
func (s *Server) sendEmail(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f := views.EmailForm{Token: formToken(c, "token"), Subject: store.CleanText(c.FormValue("subject")), Body: c.FormValue("body")}
	f.Errors = validateEmail(f.Subject, f.Body)
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: f}
	return s.runGoogleAction(c, googleAction{
		contact: contact, tab: &v.GoogleTab, kind: claimEmail, token: f.Token, errs: f.Errors,
		already: "This email was already sent; it was not sent again.",
		words:   sentWords,
		do: func(ctx context.Context, cl *google.Client) (string, error) {
			draft := google.EmailDraft{To: contactAddress(contact), Subject: f.Subject, Body: f.Body, MessageID: google.MessageIDFor(f.Token)}
			sent, err := cl.SendEmail(ctx, draft)
			if err != nil {
				return "", err
			}
			if err := s.logActivity(c, contact, store.ActivityEmail, "Email sent: "+f.Subject); err != nil {
				return "", err
			}
			if sent.Earlier {
				return "This email had already gone through to " + contact.Email + " on the earlier try; it was not sent again.", nil
			}
			return "Email sent to " + contact.Email + ".", nil
		},
		reset: func() { v.Compose = newEmailForm() },
		show:  func(cl *google.Client) (templ.Component, error) { return s.showEmails(c, cl, contact, &v, "") },
	})
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
	v := views.EmailsView{GoogleTab: googleTab(contact, "emails"), Compose: newEmailForm(), Reply: r}
	return s.runGoogleAction(c, googleAction{
		contact: contact, tab: &v.GoogleTab, kind: claimReply, token: r.Token, item: threadID, errs: r.Errors,
		already: "This reply was already sent; it was not sent again.",
		gone:    "This thread is no longer in your Gmail; nothing was sent.",
		words:   sentWords,
		do: func(ctx context.Context, cl *google.Client) (string, error) {
			sent, err := cl.Reply(ctx, threadID, contactAddress(contact), r.Body, google.MessageIDFor(r.Token))
			if err != nil {
				return "", err
			}
			// The thread's subject names the reply in the activity log.
			if err := s.loadThreads(c, cl, contact, &v, threadID); err != nil {
				return "", err
			}
			desc := "Email reply sent"
			for _, th := range v.Threads {
				if th.ID == threadID && th.Subject != "" {
					desc += ": " + th.Subject
				}
			}
			if err := s.logActivity(c, contact, store.ActivityEmail, desc); err != nil {
				return "", err
			}
			if sent.Earlier {
				return "This reply had already gone through to " + contact.Email + " on the earlier try; it was not sent again.", nil
			}
			return "Reply sent to " + contact.Email + ".", nil
		},
		reset: func() { v.Reply = views.ReplyForm{} },
		show:  func(cl *google.Client) (templ.Component, error) { return s.showEmails(c, cl, contact, &v, threadID) },
	})
}

// logActivity logs what the viewer did with the contact.
func (s *Server) logActivity(c *fiber.Ctx, contact *store.Contact, kind, desc string) error {
	return s.logScheduled(c, contact, kind, desc, time.Time{})
}

// logScheduled logs a task or meeting with when it is due or starts (zero:
// not scheduled), which the board's stale rule reads.
func (s *Server) logScheduled(c *fiber.Ctx, contact *store.Contact, kind, desc string, due time.Time) error {
	_, err := s.store.LogScheduled(c.UserContext(), currentTeam(c).ID, contact.ID, currentUser(c).ID, kind, desc, due)
	return err
}
