package google

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

// MeetingInput describes a video meeting to schedule on the primary calendar.
type MeetingInput struct {
	Title       string
	Description string
	Start, End  time.Time // their location becomes the event's time zone
	Attendee    string    // the contact's email, invited by Google
	// RequestID names the Meet conference request (Google makes one
	// conference per id) and tags the event (the private extended property
	// TokenProperty): CreateMeeting first looks for an event with the tag and
	// creates none when one is there, so a retry after a timeout makes one
	// event. Empty means a fresh random id.
	RequestID string
}

// TokenProperty is the private extended property of an event that holds
// the request id of the form that created it.
const TokenProperty = "sherpaToken"

// Meeting is a calendar event with the contact.
type Meeting struct {
	ID          string
	Title       string
	Description string
	Start, End  time.Time
	JoinURL     string // Google Meet link, empty if none
	HTMLLink    string // the event in Google Calendar
	Attendees   []string
	// Earlier is true when the event was already there (an earlier try went
	// through) and nothing was created now.
	Earlier bool
}

// CreateMeeting adds the event with a Google Meet conference and the attendee,
// and has Google email the invitation.
func (cl *Client) CreateMeeting(ctx context.Context, in MeetingInput) (Meeting, error) {
	attendee, err := mail.ParseAddress(strings.TrimSpace(in.Attendee))
	if err != nil {
		return Meeting{}, fmt.Errorf("%w: attendee %q", ErrInvalid, in.Attendee)
	}
	if in.Start.IsZero() || !in.End.After(in.Start) {
		return Meeting{}, fmt.Errorf("%w: a meeting must end after it starts", ErrInvalid)
	}
	ctx, cancel := cl.call(ctx)
	defer cancel()
	if in.RequestID == "" {
		in.RequestID = randomID(16)
	} else if earlier, err := cl.findEvent(ctx, in.RequestID); err != nil || earlier != nil {
		if earlier == nil {
			return Meeting{}, err
		}
		return *earlier, nil
	}
	ev := &calendar.Event{
		Summary:     strings.TrimSpace(in.Title),
		Description: in.Description,
		Start:       eventTime(in.Start),
		End:         eventTime(in.End),
		Attendees:   []*calendar.EventAttendee{{Email: attendee.Address}},
		ExtendedProperties: &calendar.EventExtendedProperties{
			Private: map[string]string{TokenProperty: in.RequestID},
		},
		ConferenceData: &calendar.ConferenceData{
			CreateRequest: &calendar.CreateConferenceRequest{
				RequestId:             in.RequestID,
				ConferenceSolutionKey: &calendar.ConferenceSolutionKey{Type: "hangoutsMeet"},
			},
		},
	}
	created, err := cl.calendar.Events.Insert("primary", ev).
		ConferenceDataVersion(1). // without it Google ignores ConferenceData
		SendUpdates("all").
		Context(ctx).Do()
	if err != nil {
		return Meeting{}, classify(err)
	}
	return meetingFrom(created), nil
}

// findEvent answers the primary calendar's event tagged with the request id,
// nil when there is none.
func (cl *Client) findEvent(ctx context.Context, requestID string) (*Meeting, error) {
	list, err := cl.calendar.Events.List("primary").
		PrivateExtendedProperty(TokenProperty + "=" + requestID).MaxResults(5).Context(ctx).Do()
	if err != nil {
		return nil, classify(err)
	}
	for _, ev := range list.Items {
		if ev.Status != "cancelled" {
			m := meetingFrom(ev)
			m.Earlier = true
			return &m, nil
		}
	}
	return nil, nil
}

// ListMeetings answers the events of the primary calendar between from and to
// (either may be zero for no bound) that have attendeeEmail as an attendee,
// ordered by start.
func (cl *Client) ListMeetings(ctx context.Context, attendeeEmail string, from, to time.Time) ([]Meeting, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(attendeeEmail))
	if err != nil {
		return nil, fmt.Errorf("%w: attendee %q", ErrInvalid, attendeeEmail)
	}
	ctx, cancel := cl.call(ctx)
	defer cancel()
	call := cl.calendar.Events.List("primary").Q(addr.Address).SingleEvents(true).OrderBy("startTime").MaxResults(250)
	if !from.IsZero() {
		call = call.TimeMin(from.Format(time.RFC3339))
	}
	if !to.IsZero() {
		call = call.TimeMax(to.Format(time.RFC3339))
	}
	var out []Meeting
	err = call.Pages(ctx, func(page *calendar.Events) error {
		for _, ev := range page.Items {
			if ev.Status == "cancelled" || !hasAttendee(ev, addr.Address) {
				continue // q also matches text in titles and descriptions
			}
			out = append(out, meetingFrom(ev))
		}
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

func eventTime(t time.Time) *calendar.EventDateTime {
	et := &calendar.EventDateTime{DateTime: t.Format(time.RFC3339)}
	// Send the zone only when it is a real IANA zone that agrees with t's offset
	// (a fixed zone named "CET" is not Europe's CET); the offset is in DateTime anyway.
	if name := t.Location().String(); name != "" && name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			_, have := t.Zone()
			if _, want := t.In(loc).Zone(); have == want {
				et.TimeZone = name
			}
		}
	}
	return et
}

func hasAttendee(ev *calendar.Event, email string) bool {
	for _, a := range ev.Attendees {
		if strings.EqualFold(a.Email, email) {
			return true
		}
	}
	return false
}

func meetingFrom(ev *calendar.Event) Meeting {
	m := Meeting{
		ID:          ev.Id,
		Title:       ev.Summary,
		Description: ev.Description,
		Start:       parseEventTime(ev.Start),
		End:         parseEventTime(ev.End),
		JoinURL:     ev.HangoutLink,
		HTMLLink:    ev.HtmlLink,
	}
	if m.JoinURL == "" && ev.ConferenceData != nil {
		for _, ep := range ev.ConferenceData.EntryPoints {
			if ep.EntryPointType == "video" {
				m.JoinURL = ep.Uri
				break
			}
		}
	}
	for _, a := range ev.Attendees {
		m.Attendees = append(m.Attendees, a.Email)
	}
	return m
}

// parseEventTime reads a timed event's instant, or an all-day event's date.
func parseEventTime(et *calendar.EventDateTime) time.Time {
	if et == nil {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, et.DateTime); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, et.Date); err == nil {
		return t
	}
	return time.Time{}
}
