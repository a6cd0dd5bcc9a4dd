package google

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"sherpa/google/sandbox"
)

// lateClient is a client for userEmail whose calls give up after a short
// while, on a fake whose Late mode answers writes only after 5s.
func lateClient(t *testing.T) (*env, *Client, *Client) {
	t.Helper()
	e := newEnv(t, sandbox.Options{SlowDelay: 5 * time.Second})
	tok := e.connect(t, userEmail)
	cl, err := e.cfg.NewClient(context.Background(), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	quick := e.cfg
	quick.Timeout = 300 * time.Millisecond
	impatient, err := quick.NewClient(context.Background(), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, cl, impatient
}

// expectMaybeDone checks that a write that timed out says it may have gone
// through.
func expectMaybeDone(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnavailable) || !MaybeDone(err) {
		t.Fatalf("%s answered late: %v, want ErrUnavailable that may be done", what, err)
	}
}

func TestSendEmailRetriedAfterATimeoutSendsOnce(t *testing.T) {
	e, cl, impatient := lateClient(t)
	ctx := context.Background()
	d := EmailDraft{To: contactEmail, Subject: "Offer", Body: "Hello", MessageID: MessageIDFor("form-token-1234567")}
	e.fake.Fail(sandbox.Late)
	_, err := impatient.SendEmail(ctx, d)
	expectMaybeDone(t, "SendEmail", err)
	e.fake.Fail(sandbox.None)
	again, err := cl.SendEmail(ctx, d)
	if err != nil || !again.Earlier || again.ID == "" {
		t.Fatalf("retry: %+v, %v; want the earlier message", again, err)
	}
	if n := len(e.fake.RequestsTo("POST", "/messages/send")); n != 1 {
		t.Errorf("%d sends, want 1", n)
	}
	threads, _, err := cl.ListThreads(ctx, contactEmail, 0, "")
	if err != nil || len(threads) != 1 || len(threads[0].Messages) != 1 || threads[0].Messages[0].MessageID != "<form-token-1234567@sherpa>" {
		t.Fatalf("threads %+v, %v; want one message tagged with the token", threads, err)
	}
	// Another token is another email; a reply with its own token likewise
	// looks before sending.
	other := d
	other.MessageID = MessageIDFor("form-token-7654321")
	if sent, err := cl.SendEmail(ctx, other); err != nil || sent.Earlier {
		t.Fatalf("a second form: %+v, %v", sent, err)
	}
	e.fake.Fail(sandbox.Late)
	_, err = impatient.Reply(ctx, again.ThreadID, contactEmail, "Thanks", MessageIDFor("reply-token-123456"))
	expectMaybeDone(t, "Reply", err)
	e.fake.Fail(sandbox.None)
	if r, err := cl.Reply(ctx, again.ThreadID, contactEmail, "Thanks", MessageIDFor("reply-token-123456")); err != nil || !r.Earlier {
		t.Fatalf("reply retry: %+v, %v", r, err)
	}
	if n := len(e.fake.RequestsTo("POST", "/messages/send")); n != 3 {
		t.Errorf("%d sends, want 3 (email, second email, reply)", n)
	}
}

func TestCreateMeetingRetriedAfterATimeoutMakesOneEvent(t *testing.T) {
	e, cl, impatient := lateClient(t)
	ctx := context.Background()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	in := MeetingInput{Title: "Kickoff", Start: start, End: start.Add(time.Hour), Attendee: contactEmail, RequestID: "meeting-form-token-1"}
	e.fake.Fail(sandbox.Late)
	_, err := impatient.CreateMeeting(ctx, in)
	expectMaybeDone(t, "CreateMeeting", err)
	e.fake.Fail(sandbox.None)
	m, err := cl.CreateMeeting(ctx, in)
	if err != nil || !m.Earlier || m.JoinURL != "https://meet.google.com/"+sandbox.MeetCode(in.RequestID) {
		t.Fatalf("retry: %+v, %v; want the earlier event with its Meet link", m, err)
	}
	got, err := cl.ListMeetings(ctx, contactEmail, time.Time{}, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%d meetings, %v; want 1", len(got), err)
	}
	ins := e.onlyRequest(t, "POST", "/events")
	var ev calendar.Event
	if err := ins.DecodeJSON(&ev); err != nil || ev.ExtendedProperties == nil || ev.ExtendedProperties.Private[TokenProperty] != in.RequestID {
		t.Errorf("the event is not tagged with the request id: %+v (%v)", ev.ExtendedProperties, err)
	}
}

// TestRequestIDDeduplicatesOnlyTheConference: like Google, the fake makes a
// second event for a second insert with the same conference request id (it
// reuses the conference); only Sherpa's lookup keeps a retry from doubling.
func TestRequestIDDeduplicatesOnlyTheConference(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	start := time.Now().Add(time.Hour).Truncate(time.Minute)
	insert := func() *calendar.Event {
		ev := &calendar.Event{Summary: "x", Start: eventTime(start), End: eventTime(start.Add(time.Hour)),
			ConferenceData: &calendar.ConferenceData{CreateRequest: &calendar.CreateConferenceRequest{
				RequestId: "same-id", ConferenceSolutionKey: &calendar.ConferenceSolutionKey{Type: "hangoutsMeet"}}}}
		got, err := cl.calendar.Events.Insert("primary", ev).ConferenceDataVersion(1).Context(ctx).Do()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b := insert(), insert()
	if a.Id == b.Id {
		t.Errorf("the same requestId answered the same event %s; Google makes a second one", a.Id)
	}
	if a.HangoutLink == "" || a.HangoutLink != b.HangoutLink {
		t.Errorf("Meet links %q and %q, want the one conference", a.HangoutLink, b.HangoutLink)
	}
}

func TestAddTaskRetriedAfterATimeoutAddsOnce(t *testing.T) {
	e, cl, impatient := lateClient(t)
	ctx := context.Background()
	list, err := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Fail(sandbox.Late)
	_, err = impatient.AddTask(ctx, list, "Call back", time.Time{}, "task-form-token-1")
	expectMaybeDone(t, "AddTask", err)
	e.fake.Fail(sandbox.None)
	task, err := cl.AddTask(ctx, list, "Call back", time.Time{}, "task-form-token-1")
	if err != nil || !task.Earlier || task.Title != "Call back" {
		t.Fatalf("retry: %+v, %v; want the earlier task", task, err)
	}
	if other, err := cl.AddTask(ctx, list, "Call back", time.Time{}, "task-form-token-2"); err != nil || other.Earlier {
		t.Fatalf("another form: %+v, %v; want a new task", other, err)
	}
	items, err := cl.ListTasks(ctx, list)
	if err != nil || len(items) != 2 {
		t.Fatalf("%d tasks, %v; want 2", len(items), err)
	}
}

// TestMaybeDone: a refusal means nothing happened; a timeout or a server
// error may hide a write that went through.
func TestMaybeDone(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	for mode, want := range map[sandbox.Mode]bool{sandbox.RateLimit: false, sandbox.ServerError: true, sandbox.Forbidden: false} {
		e.fake.Fail(mode)
		_, err := cl.SendEmail(context.Background(), EmailDraft{To: contactEmail, Subject: "s", Body: "b"})
		if err == nil || MaybeDone(err) != want {
			t.Errorf("%s: MaybeDone(%v) = %v, want %v", mode, err, MaybeDone(err), want)
		}
	}
}
