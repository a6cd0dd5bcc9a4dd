package google

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"sherpa/google/sandbox"
)

func TestCreateMeetingAsksForMeetAndInvitesTheContact(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	berlin := time.FixedZone("CET", 3600)
	start := time.Date(2026, 4, 1, 10, 0, 0, 0, berlin)
	m, err := cl.CreateMeeting(context.Background(), MeetingInput{
		Title: "Angebot besprechen", Description: "Preise und Termine",
		Start: start, End: start.Add(30 * time.Minute),
		Attendee: contactEmail, RequestID: "req-1",
	})
	if err != nil {
		t.Fatal(err)
	}

	req := e.onlyRequest(t, "POST", "/calendar/v3/calendars/primary/events")
	if req.Query.Get("conferenceDataVersion") != "1" || req.Query.Get("sendUpdates") != "all" {
		t.Errorf("query %v: want conferenceDataVersion=1 and sendUpdates=all", req.Query)
	}
	var ev calendar.Event
	if err := req.DecodeJSON(&ev); err != nil {
		t.Fatal(err)
	}
	cr := ev.ConferenceData
	if cr == nil || cr.CreateRequest == nil || cr.CreateRequest.RequestId != "req-1" ||
		cr.CreateRequest.ConferenceSolutionKey == nil || cr.CreateRequest.ConferenceSolutionKey.Type != "hangoutsMeet" {
		t.Errorf("conference data %+v: want a hangoutsMeet createRequest req-1", cr)
	}
	if len(ev.Attendees) != 1 || ev.Attendees[0].Email != contactEmail {
		t.Errorf("attendees %+v", ev.Attendees)
	}
	if ev.Summary != "Angebot besprechen" || ev.Description != "Preise und Termine" ||
		ev.Start.DateTime != "2026-04-01T10:00:00+01:00" || ev.End.DateTime != "2026-04-01T10:30:00+01:00" {
		t.Errorf("event %+v start %+v end %+v", ev, ev.Start, ev.End)
	}
	if ev.Start.TimeZone != "" {
		t.Errorf("time zone %q sent for a fixed +01:00 zone that is not the IANA one", ev.Start.TimeZone)
	}
	if tz := eventTime(start.UTC()).TimeZone; tz != "UTC" {
		t.Errorf("UTC start sent with time zone %q", tz)
	}

	if want := "https://meet.google.com/" + sandbox.MeetCode("req-1"); m.JoinURL != want {
		t.Errorf("JoinURL %q, want %q", m.JoinURL, want)
	}
	if m.ID == "" || m.HTMLLink == "" || !m.Start.Equal(start) || !m.End.Equal(start.Add(30*time.Minute)) ||
		len(m.Attendees) != 1 || m.Attendees[0] != contactEmail {
		t.Errorf("meeting %+v", m)
	}
}

func TestCreateMeetingTwiceWithOneRequestIDMakesOneEvent(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	start := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	in := MeetingInput{Title: "Call", Start: start, End: start.Add(time.Hour), Attendee: contactEmail, RequestID: "double-click"}
	a, err := cl.CreateMeeting(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.CreateMeeting(ctx, in)
	if err != nil || b.ID != a.ID {
		t.Fatalf("second create: %+v, %v; want event %s again", b, err, a.ID)
	}
	got, err := cl.ListMeetings(ctx, contactEmail, time.Time{}, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d meetings, %v; want 1", len(got), err)
	}
	e.onlyRequest(t, "POST", "/events") // the second found the first by its tag
}

func TestCreateMeetingRefusesBadInput(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	start := time.Now().Add(time.Hour)
	for name, in := range map[string]MeetingInput{
		"end before start": {Title: "x", Start: start, End: start.Add(-time.Minute), Attendee: contactEmail},
		"no start":         {Title: "x", End: start, Attendee: contactEmail},
		"bad attendee":     {Title: "x", Start: start, End: start.Add(time.Hour), Attendee: "bob"},
	} {
		if _, err := cl.CreateMeeting(context.Background(), in); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if n := len(e.fake.RequestsTo("POST", "/events")); n != 0 {
		t.Errorf("%d events sent for invalid input", n)
	}
}

func TestListMeetingsWithTheContactInOrder(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	create := func(title string, start time.Time, attendee, description string) Meeting {
		t.Helper()
		m, err := cl.CreateMeeting(ctx, MeetingInput{Title: title, Description: description,
			Start: start, End: start.Add(time.Hour), Attendee: attendee})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	later := create("later", base.Add(48*time.Hour), contactEmail, "")
	earlier := create("earlier", base, contactEmail, "")
	create("outside the range", base.Add(30*24*time.Hour), contactEmail, "")
	create("with Carol about Bob", base.Add(time.Hour), "carol@example.com", "mentions "+contactEmail)

	got, err := cl.ListMeetings(ctx, contactEmail, base.Add(-time.Hour), base.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != earlier.ID || got[1].ID != later.ID {
		t.Fatalf("meetings %+v: want earlier then later", got)
	}
	if got[0].JoinURL == "" || got[0].JoinURL != earlier.JoinURL {
		t.Errorf("listed JoinURL %q, want %q", got[0].JoinURL, earlier.JoinURL)
	}
	q := e.onlyRequest(t, "GET", "/events").Query
	want := map[string]string{
		"q": contactEmail, "singleEvents": "true", "orderBy": "startTime",
		"timeMin": "2026-05-01T08:00:00Z", "timeMax": "2026-05-08T09:00:00Z",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
}

func TestMeetingJoinURLFallsBackToVideoEntryPoint(t *testing.T) {
	m := meetingFrom(&calendar.Event{
		Start: &calendar.EventDateTime{Date: "2026-01-02"},
		ConferenceData: &calendar.ConferenceData{EntryPoints: []*calendar.EntryPoint{
			{EntryPointType: "phone", Uri: "tel:+1-555"},
			{EntryPointType: "video", Uri: "https://meet.google.com/abc-defg-hij"},
		}},
	})
	if m.JoinURL != "https://meet.google.com/abc-defg-hij" {
		t.Errorf("JoinURL %q", m.JoinURL)
	}
	if !m.Start.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("all-day start %v", m.Start)
	}
}
