package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"sherpa/google/sandbox"
	"sherpa/store"
	"sherpa/store/storetest"
)

// tabs is a team owner with a contact and a connected (sandbox) Google
// account, ready to use the contact page's Google tabs.
type tabs struct {
	*googleApp
	t         *testing.T
	c         *client
	me        *store.User
	account   string // the owner's Google address
	contactID int64
	contact   string // the contact's address
}

const tabsContactName = "Zoë Zimmer"

func newTabs(t *testing.T, st *store.Store, opts sandbox.Options) *tabs {
	t.Helper()
	g := newGoogleApp(t, st, opts)
	c, email := g.owner("Olga", "Acme")
	account := "olga.sales@example.com"
	g.connect(c, account)
	id := g.addContact(c, tabsContactName, "zoe@zimmer.example")
	return &tabs{googleApp: g, t: t, c: c, me: g.user(email), account: account, contactID: id, contact: "zoe@zimmer.example"}
}

// path is the contact's path plus rest ("/emails", "/tasks/…/complete").
func (x *tabs) path(rest string) string {
	return "/contacts/" + strconv.FormatInt(x.contactID, 10) + rest
}

// open loads a tab the way htmx does.
func (x *tabs) open(c *client, tab string) *response {
	x.t.Helper()
	return c.get(x.path("/"+tab), "HX-Request", "true", "X-Time-Zone", "Europe/Berlin")
}

// submit posts a tab's form the way htmx does.
func (x *tabs) submit(c *client, rest string, f url.Values) *response {
	x.t.Helper()
	return c.post(x.path(rest), f, "HX-Request", "true", "X-Time-Zone", "Europe/Berlin")
}

// activities are the contact's activities, newest first.
func (x *tabs) activities() []store.Activity {
	x.t.Helper()
	items, err := x.store.ListActivities(context.Background(), x.me.TeamID, x.contactID, 100)
	if err != nil {
		x.t.Fatal(err)
	}
	return items
}

func (x *tabs) expectActivities(want ...string) {
	x.t.Helper()
	items := x.activities()
	var got []string
	for i := len(items) - 1; i >= 0; i-- {
		got = append(got, items[i].Type+": "+items[i].Description)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		x.t.Errorf("activities, oldest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// value is the value of the first input matching sel.
func value(t *testing.T, r *response, sel string) string {
	t.Helper()
	v, ok := r.doc(t).Find(sel).First().Attr("value")
	if !ok {
		t.Fatalf("no %s in:\n%s", sel, r.body)
	}
	return v
}

// texts are the trimmed texts of every element matching sel.
func texts(t *testing.T, r *response, sel string) []string {
	t.Helper()
	var out []string
	r.doc(t).Find(sel).Each(func(_ int, s *goquerySelection) { out = append(out, strings.Join(strings.Fields(s.Text()), " ")) })
	return out
}

// sentMessage is the RFC 822 message of a recorded messages.send request,
// its threadId, and its subject and body decoded.
type sentMessage struct {
	msg      *mail.Message
	threadID string
	subject  string
	body     string
	user     string
}

func sentMessages(t *testing.T, fake *sandbox.Server) []sentMessage {
	t.Helper()
	var out []sentMessage
	for _, r := range fake.RequestsTo("POST", "/messages/send") {
		raw, err := r.GmailRaw()
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			ThreadID string `json:"threadId"`
		}
		if err := r.DecodeJSON(&in); err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("sent message does not parse: %v\n%s", err, raw)
		}
		subject, err := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		body := decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		out = append(out, sentMessage{msg: m, threadID: in.ThreadID, subject: subject, body: body, user: r.User})
	}
	return out
}

func TestEmailsTabSendsRepliesAndActsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		x := newTabs(t, st, sandbox.Options{})
		tab := x.open(x.c, "emails")
		expectStatus(t, tab, http.StatusOK)
		if got := tab.text(t, "[data-testid=google-account]"); !strings.Contains(got, x.account) {
			t.Errorf("account line %q", got)
		}
		if tab.doc(t).Find("[data-testid=no-threads]").Length() != 1 {
			t.Errorf("no empty state before any email")
		}
		token := value(t, tab, "[data-testid=compose] input[name=token]")

		subject := "Angebot für Zoë – Größe ✓"
		body := "Hallo Zoë,\n\nanbei das Angebot.\nGrüße, Olga"
		f := form("token", token, "subject", subject, "body", body)
		r := x.submit(x.c, "/emails", f)
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, "[data-testid=google-notice]"); got != "Email sent to zoe@zimmer.example." {
			t.Errorf("notice %q", got)
		}
		sent := sentMessages(t, x.fake)
		if len(sent) != 1 {
			t.Fatalf("%d messages sent, want 1", len(sent))
		}
		m := sent[0]
		to, err := mail.ParseAddress(m.msg.Header.Get("To"))
		if err != nil || to.Address != x.contact || to.Name != tabsContactName {
			t.Errorf("To %q (%v)", m.msg.Header.Get("To"), err)
		}
		if m.subject != subject || m.user != x.account || m.threadID != "" {
			t.Errorf("sent subject %q as %q in thread %q", m.subject, m.user, m.threadID)
		}
		if got := strings.ReplaceAll(m.body, "\r\n", "\n"); got != body {
			t.Errorf("sent body %q", got)
		}
		if ct := m.msg.Header.Get("Content-Type"); !strings.Contains(ct, "charset=UTF-8") {
			t.Errorf("Content-Type %q", ct)
		}
		// The form's token tags the email, so a retry can find it.
		if id := m.msg.Header.Get("Message-ID"); id != "<"+token+"@sherpa>" {
			t.Errorf("Message-ID %q, want one made of the form token", id)
		}
		// The thread shows at once; the compose form is empty with a new token.
		if got := texts(t, r, "[data-testid=thread-subject]"); len(got) != 1 || got[0] != subject {
			t.Errorf("threads %q", got)
		}
		if v := value(t, r, "[data-testid=compose] input[name=token]"); v == token || v == "" {
			t.Errorf("compose token after sending %q", v)
		}
		if r.doc(t).Find("[data-testid=email-subject]").AttrOr("value", "") != "" {
			t.Errorf("compose form kept the subject")
		}
		x.expectActivities("email: Email sent: " + subject)

		// The same form again (a double click, a resent POST): nothing is sent.
		r = x.submit(x.c, "/emails", f)
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, "[data-testid=google-notice]"); !strings.Contains(got, "already sent") {
			t.Errorf("second submit notice %q", got)
		}
		if n := len(sentMessages(t, x.fake)); n != 1 {
			t.Errorf("%d messages sent after a double submit, want 1", n)
		}
		x.expectActivities("email: Email sent: " + subject)

		// Zoë answers; the thread shows both messages, oldest first.
		threadID := r.doc(t).Find("[data-testid=thread]").AttrOr("data-thread", "")
		if _, err := x.fake.DeliverReply(x.account, threadID, tabsContactName+" <zoe@zimmer.example>", "Danke!\nSieht gut aus."); err != nil {
			t.Fatal(err)
		}
		tab = x.open(x.c, "emails")
		bodies := texts(t, tab, "[data-thread='"+threadID+"'] [data-testid=message-body]")
		if len(bodies) != 2 || !strings.Contains(bodies[0], "anbei das Angebot") || bodies[1] != "Danke! Sieht gut aus." {
			t.Errorf("thread messages %q", bodies)
		}
		if !strings.Contains(tab.body, "Danke!\nSieht gut aus.") {
			t.Errorf("message body lost its line breaks")
		}
		replyToken := value(t, tab, "[data-thread='"+threadID+"'] [data-testid=reply-form] input[name=token]")
		reply := form("token", replyToken, "body", "Gerne — bis Montag.")
		r = x.submit(x.c, "/emails/"+threadID+"/reply", reply)
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, "[data-testid=google-notice]"); got != "Reply sent to zoe@zimmer.example." {
			t.Errorf("reply notice %q", got)
		}
		sent = sentMessages(t, x.fake)
		if len(sent) != 2 {
			t.Fatalf("%d messages sent, want 2", len(sent))
		}
		rep := sent[1]
		if rep.threadID != threadID {
			t.Errorf("reply sent in thread %q, want %q", rep.threadID, threadID)
		}
		if rep.subject != "Re: "+subject {
			t.Errorf("reply subject %q", rep.subject)
		}
		if to, _ := mail.ParseAddress(rep.msg.Header.Get("To")); to == nil || to.Address != x.contact {
			t.Errorf("reply To %q", rep.msg.Header.Get("To"))
		}
		// In-Reply-To names Zoë's message; References the whole chain.
		inReplyTo, refs := rep.msg.Header.Get("In-Reply-To"), strings.Fields(rep.msg.Header.Get("References"))
		if !strings.HasSuffix(inReplyTo, "@sandbox.example>") {
			t.Errorf("In-Reply-To %q is not Zoë's message", inReplyTo)
		}
		if len(refs) != 2 || refs[1] != inReplyTo || refs[0] != "<"+token+"@sherpa>" {
			t.Errorf("References %q", refs)
		}
		if got := texts(t, r, "[data-thread='"+threadID+"'] [data-testid=message-body]"); len(got) != 3 || got[2] != "Gerne — bis Montag." {
			t.Errorf("thread after the reply %q", got)
		}
		if _, open := r.doc(t).Find("[data-thread='" + threadID + "']").Attr("open"); !open {
			t.Errorf("the replied thread is not shown open")
		}
		r = x.submit(x.c, "/emails/"+threadID+"/reply", reply)
		expectStatus(t, r, http.StatusOK)
		if n := len(sentMessages(t, x.fake)); n != 2 {
			t.Errorf("%d messages after a double reply, want 2", n)
		}
		x.expectActivities("email: Email sent: "+subject, "email: Email reply sent: "+subject)

		// Threads are listed newest first.
		if _, err := x.fake.DeliverMessage(x.account, "zoe@zimmer.example", "Neue Frage", "Noch etwas."); err != nil {
			t.Fatal(err)
		}
		if got := texts(t, x.open(x.c, "emails"), "[data-testid=thread-subject]"); len(got) != 2 || got[0] != "Neue Frage" {
			t.Errorf("threads %q, want the newest first", got)
		}
	})
}

func TestTasksTabAddsCompletesAndRecreatesTheList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		x := newTabs(t, st, sandbox.Options{})
		tab := x.open(x.c, "tasks")
		expectStatus(t, tab, http.StatusOK)
		if n := len(x.fake.RequestsTo("", "/tasks/v1/")); n != 0 {
			t.Errorf("opening the tab before any task made %d Tasks calls", n)
		}
		ctx := context.Background()
		add := func(title, due string) *response {
			t.Helper()
			token := value(t, x.open(x.c, "tasks"), "[data-testid=add-task-form] input[name=token]")
			r := x.submit(x.c, "/tasks", form("token", token, "title", title, "due", due))
			expectStatus(t, r, http.StatusOK)
			return r
		}
		r := add("Send the proposal", "2030-05-06")
		lists := x.fake.RequestsTo("POST", "/tasks/v1/users/@me/lists")
		if len(lists) != 1 {
			t.Fatalf("%d task lists created, want 1", len(lists))
		}
		var list struct{ Title string }
		lists[0].DecodeJSON(&list)
		if list.Title != "Sherpa: "+tabsContactName {
			t.Errorf("list title %q", list.Title)
		}
		listID, err := st.TaskListID(ctx, x.me.ID, x.contactID)
		if err != nil || listID == "" {
			t.Fatalf("list id not stored: %v", err)
		}
		inserts := x.fake.RequestsTo("POST", "/tasks/v1/lists/"+listID+"/tasks")
		var task struct{ Title, Due string }
		if len(inserts) != 1 {
			t.Fatalf("%d task inserts", len(inserts))
		}
		inserts[0].DecodeJSON(&task)
		if task.Title != "Send the proposal" || task.Due != "2030-05-06T00:00:00Z" {
			t.Errorf("task sent %+v", task)
		}
		if got := texts(t, r, "[data-testid=tasks-upcoming] [data-testid=task]"); len(got) != 1 || !strings.Contains(got[0], "Send the proposal") || !strings.Contains(got[0], "Mon 6 May 2030") {
			t.Errorf("upcoming %q", got)
		}

		yesterday := time.Now().In(mustLoc(t, "Europe/Berlin")).AddDate(0, 0, -1).Format(time.DateOnly)
		add("Call back", yesterday)
		r = add("Someday: visit the plant", "")
		if got := texts(t, r, "[data-testid=tasks-overdue] .task-title"); len(got) != 1 || got[0] != "Call back" {
			t.Errorf("overdue %q", got)
		}
		if got := texts(t, r, "[data-testid=tasks-upcoming] .task-title"); len(got) != 2 || got[0] != "Send the proposal" || got[1] != "Someday: visit the plant" {
			t.Errorf("upcoming %q (dated first, undated last)", got)
		}
		if n := len(x.fake.RequestsTo("POST", "/tasks/v1/users/@me/lists")); n != 1 {
			t.Errorf("%d lists created for one contact, want 1", n)
		}

		// Complete "Send the proposal", twice with the same form.
		taskID := r.doc(t).Find("[data-testid=tasks-upcoming] [data-testid=task]").First().AttrOr("data-task", "")
		token := value(t, r, "[data-task='"+taskID+"'] input[name=token]")
		done := x.submit(x.c, "/tasks/"+taskID+"/complete", form("token", token))
		expectStatus(t, done, http.StatusOK)
		patches := x.fake.RequestsTo("PATCH", "/tasks/v1/lists/"+listID+"/tasks/"+taskID)
		if len(patches) != 1 {
			t.Fatalf("%d task patches, want 1", len(patches))
		}
		var patch struct{ Status string }
		patches[0].DecodeJSON(&patch)
		if patch.Status != "completed" {
			t.Errorf("patch %s", patches[0].Body)
		}
		if got := texts(t, done, "[data-testid=tasks-completed] .task-title"); len(got) != 1 || got[0] != "Send the proposal" {
			t.Errorf("completed %q", got)
		}
		expectStatus(t, x.submit(x.c, "/tasks/"+taskID+"/complete", form("token", token)), http.StatusOK)
		if n := len(x.fake.RequestsTo("PATCH", "/tasks/")); n != 1 {
			t.Errorf("%d patches after a double click, want 1", n)
		}
		// A double submit of the add form adds once.
		addToken := value(t, done, "[data-testid=add-task-form] input[name=token]")
		again := form("token", addToken, "title", "Only once", "due", "")
		x.submit(x.c, "/tasks", again)
		r = x.submit(x.c, "/tasks", again)
		if got := r.text(t, "[data-testid=google-notice]"); !strings.Contains(got, "already added") {
			t.Errorf("second add notice %q", got)
		}
		if got := texts(t, r, "[data-testid=task] .task-title"); strings.Count(strings.Join(got, "|"), "Only once") != 1 {
			t.Errorf("tasks after a double add %q", got)
		}
		x.expectActivities(
			"task: Task: Send the proposal (due 6 May 2030)",
			"task: Task: Call back (due "+mustDate(t, yesterday).Format("2 Jan 2006")+")",
			"task: Task: Someday: visit the plant",
			"task_completed: Task completed: Send the proposal",
			"task: Task: Only once",
		)

		// The list deleted in Google: the tab is empty, the next task makes a new one.
		if !x.fake.DeleteTaskList(x.account, listID) {
			t.Fatal("could not delete the list in the fake")
		}
		tab = x.open(x.c, "tasks")
		expectStatus(t, tab, http.StatusOK)
		if n := tab.doc(t).Find("[data-testid=task]").Length(); n != 0 || tab.doc(t).Find("[data-testid=google-problem]").Length() != 0 {
			t.Errorf("after deleting the list: %d tasks shown, problem %q", n, tab.text(t, "[data-testid=google-problem]"))
		}
		add("Start over", "")
		newID, _ := st.TaskListID(ctx, x.me.ID, x.contactID)
		if newID == "" || newID == listID {
			t.Errorf("list id after recreation %q (old %q)", newID, listID)
		}
	})
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustDate(t *testing.T, s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMeetingsTabSchedulesWithMeetOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		x := newTabs(t, st, sandbox.Options{})
		tab := x.open(x.c, "meetings")
		expectStatus(t, tab, http.StatusOK)
		requestID := value(t, tab, "[data-testid=schedule-form] input[name=request_id]")
		if tz := value(t, tab, "[data-testid=schedule-form] input[name=tz]"); tz != "Europe/Berlin" {
			t.Errorf("tz prefilled %q from the X-Time-Zone header", tz)
		}
		f := form("request_id", requestID, "tz", "Europe/Berlin", "title", "Pilot kickoff",
			"description", "Agenda:\n1. Scope\n2. Dates", "start", "2030-03-04T15:00", "end", "2030-03-04T15:45")
		r := x.submit(x.c, "/meetings", f)
		expectStatus(t, r, http.StatusOK)
		inserts := x.fake.RequestsTo("POST", "/calendar/v3/calendars/primary/events")
		if len(inserts) != 1 {
			t.Fatalf("%d events inserted, want 1", len(inserts))
		}
		in := inserts[0]
		if in.Query.Get("conferenceDataVersion") != "1" || in.Query.Get("sendUpdates") != "all" {
			t.Errorf("insert query %v", in.Query)
		}
		var ev calendar.Event
		if err := in.DecodeJSON(&ev); err != nil {
			t.Fatal(err)
		}
		if ev.Summary != "Pilot kickoff" || ev.Description != "Agenda:\n1. Scope\n2. Dates" {
			t.Errorf("event %q / %q", ev.Summary, ev.Description)
		}
		if ev.Start.DateTime != "2030-03-04T15:00:00+01:00" || ev.Start.TimeZone != "Europe/Berlin" || ev.End.DateTime != "2030-03-04T15:45:00+01:00" {
			t.Errorf("event times %+v %+v", ev.Start, ev.End)
		}
		if len(ev.Attendees) != 1 || ev.Attendees[0].Email != x.contact {
			t.Errorf("attendees %+v", ev.Attendees)
		}
		cr := ev.ConferenceData.CreateRequest
		if cr == nil || cr.RequestId != requestID || cr.ConferenceSolutionKey == nil || cr.ConferenceSolutionKey.Type != "hangoutsMeet" {
			t.Errorf("conference request %+v", cr)
		}
		join := r.doc(t).Find("[data-testid=meetings-upcoming] [data-testid=join-link]").AttrOr("href", "")
		if join != "https://meet.google.com/"+sandbox.MeetCode(requestID) {
			t.Errorf("Join link %q", join)
		}
		if v := value(t, r, "[data-testid=schedule-form] input[name=request_id]"); v == requestID {
			t.Errorf("the form kept its request id after scheduling")
		}
		// The same form again acts once; no second event, no second activity.
		r = x.submit(x.c, "/meetings", f)
		expectStatus(t, r, http.StatusOK)
		if got := r.text(t, "[data-testid=google-notice]"); !strings.Contains(got, "already scheduled") {
			t.Errorf("second submit notice %q", got)
		}
		if n := len(x.fake.RequestsTo("POST", "/events")); n != 1 {
			t.Errorf("%d event inserts after a double submit, want 1", n)
		}
		if n := r.doc(t).Find("[data-testid=meeting]").Length(); n != 1 {
			t.Errorf("%d meetings listed, want 1", n)
		}

		// An unknown time zone falls back to UTC; a past meeting is listed as past.
		tab = x.open(x.c, "meetings")
		start := time.Now().UTC().AddDate(0, 0, -2).Truncate(time.Hour)
		r = x.submit(x.c, "/meetings", form("request_id", value(t, tab, "input[name=request_id]"), "tz", "Mars/Olympus_Mons",
			"title", "Intro call", "start", start.Format("2006-01-02T15:04"), "end", start.Add(time.Hour).Format("2006-01-02T15:04")))
		expectStatus(t, r, http.StatusOK)
		inserts = x.fake.RequestsTo("POST", "/events")
		var ev2 calendar.Event
		inserts[len(inserts)-1].DecodeJSON(&ev2)
		if ev2.Start.DateTime != start.Format(time.RFC3339) || ev2.Start.TimeZone != "UTC" {
			t.Errorf("event in an unknown zone: %+v", ev2.Start)
		}
		if got := texts(t, r, "[data-testid=meetings-past] .meeting-title"); len(got) != 1 || got[0] != "Intro call" {
			t.Errorf("past meetings %q", got)
		}
		x.expectActivities("meeting: Meeting: Pilot kickoff (Mon 4 Mar 2030, 15:00 Europe/Berlin)",
			"meeting: Meeting: Intro call ("+start.Format("Mon 2 Jan 2006, 15:04")+" UTC)")
		// Each meeting is logged with its start, which the board's stale rule reads.
		items := x.activities()
		if len(items) != 2 || !items[1].DueAt.Equal(time.Date(2030, 3, 4, 14, 0, 0, 0, time.UTC)) || !items[0].DueAt.Equal(start) {
			t.Errorf("meeting starts logged: %v / %v", items[1].DueAt, items[0].DueAt)
		}
	})
}

func TestGoogleTabFormsAreValidated(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	threadID, err := x.fake.DeliverMessage(x.account, x.contact, "Question", "Hello?")
	if err != nil {
		t.Fatal(err)
	}
	x.fake.ResetRequests()
	long := strings.Repeat("x", 201)
	cases := []struct {
		name, path string
		form       url.Values
		fields     []string
	}{
		{"email empty", "/emails", form("subject", " ", "body", "  \n "), []string{"subject", "body"}},
		{"email too long", "/emails", form("subject", long, "body", strings.Repeat("b", 20001)), []string{"subject", "body"}},
		{"reply empty", "/emails/" + threadID + "/reply", form("body", ""), []string{"body"}},
		{"task empty", "/tasks", form("title", "", "due", "31/12/2030"), []string{"title", "due"}},
		{"task far", "/tasks", form("title", "t", "due", "2999-01-01"), []string{"due"}},
		{"meeting empty", "/meetings", form("title", "", "start", "", "end", ""), []string{"title", "start", "end"}},
		{"meeting backwards", "/meetings", form("title", "m", "start", "2030-01-01T10:00", "end", "2030-01-01T09:00"), []string{"end"}},
		{"meeting too long", "/meetings", form("title", long, "description", strings.Repeat("d", 5001), "start", "2030-01-01T10:00", "end", "2030-01-02T10:01"), []string{"title", "description", "end"}},
		{"meeting garbage", "/meetings", form("title", "m", "start", "tomorrow", "end", "2030-13-01T10:00", "tz", "../../etc/passwd"), []string{"start", "end"}},
	}
	for _, tc := range cases {
		r := x.submit(x.c, tc.path, tc.form)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, r.StatusCode)
			continue
		}
		for _, field := range tc.fields {
			if r.text(t, "[data-testid=error-"+field+"]") == "" {
				t.Errorf("%s: no message for %s", tc.name, field)
			}
		}
	}
	// The form keeps what was typed.
	r := x.submit(x.c, "/meetings", form("title", "Keep me", "description", "and me", "start", "2030-01-01T10:00", "end", ""))
	if value(t, r, "[data-testid=meeting-title]") != "Keep me" || value(t, r, "[data-testid=meeting-start]") != "2030-01-01T10:00" || r.text(t, "[data-testid=meeting-description]") != "and me" {
		t.Errorf("the meeting form lost the input")
	}
	for _, req := range x.fake.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("refused input reached Google: %s %s", req.Method, req.Path)
		}
	}
	x.expectActivities()
}

// TestGoogleFailuresAreShownAndLogNothing: each way Google can fail, for
// each action, says what happened, offers the way out, and logs nothing.
func TestGoogleFailuresAreShownAndLogNothing(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	x := newTabs(t, st, sandbox.Options{SlowDelay: 5 * time.Second})
	// A short Google timeout on the same database and fake, for Slow.
	cfg := x.cfg
	cfg.Google.Timeout = 300 * time.Millisecond
	quick := newApp(t, st, nil, cfg)

	actions := []struct {
		name, path, nothing, maybe string
		form                       func() url.Values
	}{
		{"send", "/emails", "nothing was sent", "The email may have been sent", func() url.Values { return form("subject", "Hi", "body", "Hello") }},
		{"task", "/tasks", "no task was added", "The task may have been added", func() url.Values { return form("title", "Call", "due", "2030-01-02") }},
		{"meeting", "/meetings", "no meeting was created", "The meeting may have been created", func() url.Values {
			return form("title", "Call", "start", "2030-01-02T10:00", "end", "2030-01-02T11:00", "tz", "Europe/Berlin")
		}},
	}
	modes := []struct {
		mode   sandbox.Mode
		status int
		kind   string
		text   string
		button string
		// unsure: Google may have carried the write out (a timeout, a
		// server error), so the message must not say nothing happened.
		unsure bool
	}{
		{sandbox.InvalidGrant, http.StatusConflict, "reconnect", "Google access expired or was revoked", "google-reconnect", false},
		{sandbox.Forbidden, http.StatusConflict, "forbidden", "permission", "google-reconnect", false},
		{sandbox.RateLimit, http.StatusServiceUnavailable, "unavailable", "Google is not answering right now", "google-retry", false},
		{sandbox.ServerError, http.StatusServiceUnavailable, "unavailable", "Google is not answering right now", "google-retry", true},
		{sandbox.Slow, http.StatusServiceUnavailable, "unavailable", "Google is not answering right now", "google-retry", true},
	}
	// A task list exists, so opening the Tasks tab calls Google too.
	expectStatus(t, x.submit(x.c, "/tasks", form("title", "Before")), http.StatusOK)
	for _, m := range modes {
		x.fake.Fail(m.mode)
		if m.mode == sandbox.Slow {
			x.c.a = quick
		}
		for _, a := range actions {
			r := x.submit(x.c, a.path, a.form())
			if r.StatusCode != m.status {
				t.Errorf("%s, %s: status %d, want %d", m.mode, a.name, r.StatusCode, m.status)
			}
			p := r.doc(t).Find("[data-testid=google-problem]")
			if p.AttrOr("data-kind", "") != m.kind || !strings.Contains(p.Text(), m.text) {
				t.Errorf("%s, %s: problem %q %q", m.mode, a.name, p.AttrOr("data-kind", ""), strings.TrimSpace(p.Text()))
			}
			if m.kind == "unavailable" && !m.unsure && !strings.Contains(p.Text(), a.nothing) {
				t.Errorf("%s, %s: message does not say %q: %q", m.mode, a.name, a.nothing, strings.TrimSpace(p.Text()))
			}
			if m.unsure && (!strings.Contains(p.Text(), a.maybe) || strings.Contains(strings.ToLower(p.Text()), a.nothing)) {
				t.Errorf("%s, %s: message does not say %q (and not %q): %q", m.mode, a.name, a.maybe, a.nothing, strings.TrimSpace(p.Text()))
			}
			if r.doc(t).Find("[data-testid="+m.button+"]").Length() != 1 {
				t.Errorf("%s, %s: no %s button", m.mode, a.name, m.button)
			}
			if href := r.doc(t).Find("[data-testid=google-reconnect]").AttrOr("href", ""); m.button == "google-reconnect" && href != "/google/connect?return="+url.QueryEscape(x.path("?tab="+strings.TrimPrefix(a.path, "/"))) {
				t.Errorf("%s, %s: Reconnect goes to %q", m.mode, a.name, href)
			}
			// What was typed stays in the form.
			if r.doc(t).Find("input[value=Hi], input[value=Call]").Length() != 1 {
				t.Errorf("%s, %s: the form lost its input", m.mode, a.name)
			}
		}
		for _, tab := range []string{"emails", "tasks", "meetings"} {
			r := x.open(x.c, tab)
			if got := r.doc(t).Find("[data-testid=google-problem]").AttrOr("data-kind", ""); got != m.kind {
				t.Errorf("%s: opening %s shows problem %q, want %q", m.mode, tab, got, m.kind)
			}
		}
		x.c.a = x.testApp
	}
	x.fake.Fail(sandbox.None)
	x.expectActivities("task: Task: Before")
	if n := x.open(x.c, "emails").doc(t).Find("[data-testid=message]").Length(); n != 0 {
		t.Errorf("%d messages sent while Google failed", n)
	}
	if got := texts(t, x.open(x.c, "tasks"), ".task-title"); len(got) != 1 {
		t.Errorf("tasks after failures %q", got)
	}
	if n := x.open(x.c, "meetings").doc(t).Find("[data-testid=meeting]").Length(); n != 0 {
		t.Errorf("%d meetings created while Google failed", n)
	}

	// Once Google is back, the same form (same token) goes through, once.
	token := value(t, x.open(x.c, "emails"), "[data-testid=compose] input[name=token]")
	x.fake.Fail(sandbox.ServerError)
	f := form("token", token, "subject", "Retry", "body", "Second try")
	expectStatus(t, x.submit(x.c, "/emails", f), http.StatusServiceUnavailable)
	x.fake.Fail(sandbox.None)
	expectStatus(t, x.submit(x.c, "/emails", f), http.StatusOK)
	r := x.submit(x.c, "/emails", f)
	expectStatus(t, r, http.StatusOK)
	if n := r.doc(t).Find("[data-testid=message]").Length(); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
	x.expectActivities("task: Task: Before", "email: Email sent: Retry")

	// Failures of a reply and a completion log nothing either.
	tab := x.open(x.c, "emails")
	threadID := tab.doc(t).Find("[data-testid=thread]").AttrOr("data-thread", "")
	x.fake.Fail(sandbox.RateLimit)
	r = x.submit(x.c, "/emails/"+threadID+"/reply", form("body", "Typed reply"))
	expectStatus(t, r, http.StatusServiceUnavailable)
	if got := r.text(t, "[data-testid=unsent-reply] [data-testid=reply-body]"); got != "Typed reply" {
		t.Errorf("the failed reply's text is not shown again: %q", got)
	}
	x.fake.Fail(sandbox.None)
	x.submit(x.c, "/tasks", form("title", "To complete"))
	tab = x.open(x.c, "tasks")
	taskID := tab.doc(t).Find("[data-testid=task]").Last().AttrOr("data-task", "")
	x.fake.Fail(sandbox.InvalidGrant)
	r = x.submit(x.c, "/tasks/"+taskID+"/complete", form("token", value(t, tab, "[data-task='"+taskID+"'] input[name=token]")))
	expectStatus(t, r, http.StatusConflict)
	x.fake.Fail(sandbox.None)
	x.expectActivities("task: Task: Before", "email: Email sent: Retry", "task: Task: To complete")
	// A thread or task that is not (any more) in Google says so.
	r = x.submit(x.c, "/emails/nosuchthread/reply", form("body", "Hello?"))
	expectStatus(t, r, http.StatusConflict)
	if got := r.doc(t).Find("[data-testid=google-problem]").AttrOr("data-kind", ""); got != "gone" {
		t.Errorf("reply to a missing thread: problem %q", got)
	}
	r = x.submit(x.c, "/tasks/nosuchtask/complete", form())
	expectStatus(t, r, http.StatusConflict)
	x.expectActivities("task: Task: Before", "email: Email sent: Retry", "task: Task: To complete")
}

func TestGoogleTabsWithoutAConnection(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	expectRedirect(t, x.c.post("/google/disconnect", form("return", "/profile")), "/profile")
	for _, tab := range []string{"emails", "tasks", "meetings"} {
		r := x.open(x.c, tab)
		expectStatus(t, r, http.StatusOK)
		href := r.doc(t).Find("[data-testid=google-connect]").AttrOr("href", "")
		if want := "/google/connect?return=" + url.QueryEscape(x.path("?tab="+tab)); href != want {
			t.Errorf("%s: Connect goes to %q, want %q", tab, href, want)
		}
		if r.doc(t).Find("form").Length() != 0 {
			t.Errorf("%s: forms shown without a Google account", tab)
		}
	}
	r := x.submit(x.c, "/emails", form("subject", "Hi", "body", "Hello"))
	expectStatus(t, r, http.StatusConflict)
	if r.doc(t).Find("[data-testid=google-connect]").Length() != 1 {
		t.Errorf("sending without Google shows no Connect button")
	}
	x.expectActivities()

	// Connect from the tab, and land back on it.
	callback := x.consent(x.c, x.startConnect(x.c, x.path("?tab=emails"), "olga.new@example.com", "allow"))
	expectRedirect(t, x.c.get(callback), x.path("?tab=emails"))
	r = x.open(x.c, "emails")
	if !strings.Contains(r.text(t, "[data-testid=google-account]"), "olga.new@example.com") || r.doc(t).Find("[data-testid=compose]").Length() != 1 {
		t.Errorf("after connecting from the tab:\n%s", r.body)
	}

	// Without any Google configuration the tab says who can fix it.
	plain := newSQLiteApp(t)
	c, _ := plain.owner("Nora", "Plain")
	id := plain.addContact(c, "Ned", "ned@example.com")
	r = c.get("/contacts/"+strconv.FormatInt(id, 10)+"/emails", "HX-Request", "true")
	expectStatus(t, r, http.StatusOK)
	if got := r.text(t, "[data-testid=google-problem]"); !strings.Contains(got, "SHERPA_GOOGLE_CLIENT_ID") || !strings.Contains(got, "SHERPA_GOOGLE_SANDBOX") {
		t.Errorf("not configured: %q", got)
	}
}

func TestGoogleRoutesOfAnotherTeamsContactAre404(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	eve, _ := x.owner("Eve", "Rivals")
	x.connect(eve, "eve@example.com")
	x.fake.ResetRequests()
	routes := []struct {
		method, rest string
		form         url.Values
	}{
		{"GET", "/emails", nil},
		{"POST", "/emails", form("subject", "Hi", "body", "Hello")},
		{"POST", "/emails/abc123/reply", form("body", "Hello")},
		{"GET", "/tasks", nil},
		{"POST", "/tasks", form("title", "Steal")},
		{"POST", "/tasks/abc123/complete", form()},
		{"GET", "/meetings", nil},
		{"POST", "/meetings", form("title", "Steal", "start", "2030-01-01T10:00", "end", "2030-01-01T11:00")},
	}
	for _, rt := range routes {
		for _, hx := range []string{"true", ""} {
			r := eve.do(rt.method, x.path(rt.rest), rt.form, "HX-Request", hx)
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("Eve %s %s (htmx %q): %d, want 404", rt.method, rt.rest, hx, r.StatusCode)
			}
			if strings.Contains(r.body, tabsContactName) || strings.Contains(r.body, x.contact) {
				t.Errorf("Eve %s %s: the answer names Olga's contact", rt.method, rt.rest)
			}
		}
	}
	// Ids that are not ids are 404 too.
	expectStatus(t, eve.get("/contacts/abc/emails"), http.StatusNotFound)
	expectStatus(t, x.submit(x.c, "/emails/"+url.PathEscape("a b!")+"/reply", form("body", "x")), http.StatusNotFound)
	if reqs := x.fake.Requests(); len(reqs) != 0 {
		t.Errorf("another team's contact reached Google: %s %s", reqs[0].Method, reqs[0].Path)
	}
	x.expectActivities()
	// Anonymous visitors are sent to log in.
	anon := x.client()
	if r := anon.get(x.path("/emails")); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous tab: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestGoogleDataIsPerUser: two members of one team, each with their own
// Google account, see their own mail and tasks on the same contact.
func TestGoogleDataIsPerUser(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	bob, _ := x.member(x.c, "Bob")
	x.connect(bob, "bob.sales@example.com")
	if _, err := x.fake.DeliverMessage("bob.sales@example.com", x.contact, "For Bob only", "Hi Bob"); err != nil {
		t.Fatal(err)
	}
	token := value(t, x.open(x.c, "emails"), "[data-testid=compose] input[name=token]")
	expectStatus(t, x.submit(x.c, "/emails", form("token", token, "subject", "From Olga", "body", "Hi")), http.StatusOK)
	x.submit(x.c, "/tasks", form("title", "Olga's task"))

	olga, bobTab := x.open(x.c, "emails"), x.open(bob, "emails")
	if got := texts(t, olga, "[data-testid=thread-subject]"); len(got) != 1 || got[0] != "From Olga" {
		t.Errorf("Olga sees threads %q", got)
	}
	if got := texts(t, bobTab, "[data-testid=thread-subject]"); len(got) != 1 || got[0] != "For Bob only" {
		t.Errorf("Bob sees threads %q", got)
	}
	if !strings.Contains(bobTab.text(t, "[data-testid=google-account]"), "bob.sales@example.com") || strings.Contains(bobTab.body, x.account) {
		t.Errorf("Bob's tab shows Olga's account")
	}
	if n := x.open(bob, "tasks").doc(t).Find("[data-testid=task]").Length(); n != 0 {
		t.Errorf("Bob sees %d of Olga's tasks", n)
	}
	x.submit(bob, "/tasks", form("title", "Bob's task"))
	if got := texts(t, x.open(x.c, "tasks"), ".task-title"); len(got) != 1 || got[0] != "Olga's task" {
		t.Errorf("Olga's tasks %q", got)
	}
	if got := texts(t, x.open(bob, "tasks"), ".task-title"); len(got) != 1 || got[0] != "Bob's task" {
		t.Errorf("Bob's tasks %q", got)
	}
	for _, r := range x.fake.RequestsTo("", "/gmail/") {
		if r.User != x.account && r.User != "bob.sales@example.com" {
			t.Errorf("a Gmail call as %q", r.User)
		}
	}
	// Both members' actions land on the shared contact's activity log.
	x.expectActivities("email: Email sent: From Olga", "task: Task: Olga's task", "task: Task: Bob's task")
}

// TestGoogleActionWithoutHTMXFailsInsideThePage: a form posted without
// JavaScript that fails comes back as the contact page opened on the tab,
// with the problem and what was typed, not as a bare fragment.
func TestGoogleActionWithoutHTMXFailsInsideThePage(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	x.fake.Fail(sandbox.RateLimit)
	r := x.c.post(x.path("/emails"), form("subject", "Hi", "body", "Hello"))
	expectStatus(t, r, http.StatusServiceUnavailable)
	doc := r.doc(t)
	if doc.Find("html body").Length() != 1 || doc.Find("[data-testid=contact-name]").Text() != tabsContactName {
		t.Fatalf("a failed post without htmx is not the contact page:\n%s", r.body)
	}
	if doc.Find("#tab-panel [data-testid=emails-tab] [data-testid=google-problem]").AttrOr("data-kind", "") != "unavailable" {
		t.Errorf("the page does not show the Emails tab with the problem:\n%s", r.body)
	}
	if doc.Find("[data-testid=tab-emails]").AttrOr("aria-selected", "") != "true" {
		t.Errorf("the Emails tab is not the selected one")
	}
	if v := doc.Find("#tab-panel [data-testid=email-subject]").AttrOr("value", ""); v != "Hi" {
		t.Errorf("the form lost its input: subject %q", v)
	}
	x.fake.Fail(sandbox.None)
	// Refused input is shown the same way, with 422.
	r = x.c.post(x.path("/tasks"), form("title", ""))
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if r.doc(t).Find("[data-testid=contact-name]").Length() != 1 || r.doc(t).Find("#tab-panel [data-testid=tasks-tab]").Length() != 1 {
		t.Errorf("refused input without htmx is not the contact page on the Tasks tab:\n%s", r.body)
	}
	x.expectActivities()
}
