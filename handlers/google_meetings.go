package handlers

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// The Meetings tab: Calendar events with the contact as attendee, past and
// to come, and a form that schedules one with a Google Meet link.

// datetimeLocal is the layout of a datetime-local input's value.
const datetimeLocal = "2006-01-02T15:04"

func (s *Server) meetingsTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.MeetingsView{GoogleTab: googleTab(contact, "meetings"), Schedule: newMeetingForm(c)}
	return s.googleTabPage(c, contact, &v.GoogleTab, func(cl *google.Client) (templ.Component, error) {
		return s.showMeetings(c, cl, contact, &v)
	})
}

func (s *Server) showMeetings(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.MeetingsView) (templ.Component, error) {
	if err := s.loadMeetings(c, cl, contact, v); err != nil {
		return nil, err
	}
	return views.MeetingsTab(*v), nil
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
		return googleTroubleOf(err, v.Tab, nil).show(&v.GoogleTab, err)
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
		RequestID: formToken(c, "request_id"), Title: store.CleanText(c.FormValue("title")),
		Description: strings.TrimSpace(c.FormValue("description")),
		Start:       strings.TrimSpace(c.FormValue("start")), End: strings.TrimSpace(c.FormValue("end")),
		Errors: views.Errors{},
	}
	loc := viewerLocation(c, c.FormValue("tz"))
	f.TZ = loc.String()
	switch {
	case f.Title == "":
		f.Errors["title"] = "Enter a title."
	default:
		check(f.Errors, "title", store.TextError("The title", f.Title, store.MaxMeetingTitleLen, false))
	}
	check(f.Errors, "description", store.TextError("The description", f.Description, store.MaxMeetingDescriptionLen, true))
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
// activity. The form's request id is the conference's requestId (one
// conference per form) and tags the event, so Sherpa makes one event per
// form even when a retry follows a timeout.
func (s *Server) scheduleMeeting(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f, start, end := meetingInput(c)
	v := views.MeetingsView{GoogleTab: googleTab(contact, "meetings"), Schedule: f}
	return s.runGoogleAction(c, googleAction{
		contact: contact, tab: &v.GoogleTab, kind: claimMeeting, token: f.RequestID, errs: f.Errors,
		already: "This meeting was already scheduled; no second one was created.",
		words: writeWords{nothing: "No meeting was created.",
			unsure: "The meeting may have been created; check the list below. Scheduling this form again will not create a second one."},
		do: func(ctx context.Context, cl *google.Client) (string, error) {
			m, err := cl.CreateMeeting(ctx, google.MeetingInput{
				Title: f.Title, Description: f.Description, Start: start, End: end,
				Attendee: contact.Email, RequestID: f.RequestID,
			})
			if err != nil {
				return "", err
			}
			desc := "Meeting: " + f.Title + " (" + start.Format("Mon 2 Jan 2006, 15:04") + " " + f.TZ + ")"
			if err := s.logScheduled(c, contact, store.ActivityMeeting, desc, start); err != nil {
				return "", err
			}
			msg := "Meeting scheduled; Google emailed the invitation to " + contact.Email + "."
			if m.Earlier {
				msg = "This meeting had already been scheduled on the earlier try; no second one was created."
			}
			if m.JoinURL == "" {
				msg += " Google did not add a Meet link."
			}
			return msg, nil
		},
		reset: func() { v.Schedule = meetingFormIn(viewerLocation(c, f.TZ)) },
		show:  func(cl *google.Client) (templ.Component, error) { return s.showMeetings(c, cl, contact, &v) },
	})
}
