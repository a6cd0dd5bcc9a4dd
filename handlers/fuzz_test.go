package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"sherpa/google/sandbox"
	"sherpa/store"
	"sherpa/store/storetest"
)

// Fuzz targets for every form decoder and the tables' query parameters.
// Each drives the real app on one SQLite database set up once per target
// (the team, its users and records are made before fuzzing starts), and
// asserts that no input gives a 500: the recover middleware turns a panic
// into a 500 too, so this also catches panics. `go test` runs the seed
// corpus (the f.Add entries and testdata/fuzz/); `go test -fuzz=FuzzX`
// explores further.

// oddSeeds are values worth trying in any field.
var oddSeeds = []string{
	"", " ", "a\x00b", "\x00", "a\x1bb", "a\x7fb", "a\u009bb", "a\xffb", "\xc3", "\xed\xa0\x80",
	"a\r\nb", "\t", "%00", "%", "+1", "01", "-1", "0", "9223372036854775808", "1e9",
	strings.Repeat("x", 300), strings.Repeat("é", 200), "<script>alert(1)</script>", "'; DROP TABLE contacts; --",
	"\u202e", "🙂", "ann@example.com", "a@b@c", "1,234.50", "¥1,234", "2026-02-30", "Closed Won",
}

// fuzzEnv is one app, one owner with a team, a contact, a deal and a note.
type fuzzEnv struct {
	*testApp
	owner     *client
	contactID int64
	dealID    int64
	noteID    int64
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	return fuzzEnvOn(f, newApp(f, storetest.Open(f, store.SQLite), nil, testConfig()))
}

func fuzzEnvOn(f *testing.F, a *testApp) *fuzzEnv {
	owner, _ := a.owner("Olga", "Acme")
	e := &fuzzEnv{testApp: a, owner: owner}
	e.contactID = a.addContact(owner, "Ann Archer", "ann@example.com", "company", "Archer Ltd")
	e.dealID = a.addDeal(owner, e.contactID, "name", "Rollout", "goal", "1,000")
	expectStatus(f, owner.post(e.contactPath("/notes"), form("body", "first")), http.StatusSeeOther)
	notes, err := a.store.ListNotes(f.Context(), a.user(a.userEmailOf(owner)).TeamID, e.contactID)
	if err != nil || len(notes) != 1 {
		f.Fatalf("notes: %d (%v)", len(notes), err)
	}
	e.noteID = notes[0].ID
	return e
}

func (e *fuzzEnv) contactPath(rest string) string {
	return "/contacts/" + strconv.FormatInt(e.contactID, 10) + rest
}

// use points the app's helpers at the current fuzz input's test.
func (e *fuzzEnv) use(t *testing.T) { e.t = t }

// failOn500 fails the input when the app answered a server error.
func failOn500(t *testing.T, r *response, what string) {
	t.Helper()
	if r.StatusCode >= 500 {
		body := r.body
		if len(body) > 500 {
			body = body[:500]
		}
		t.Fatalf("%s %s (%s): status %d\n%s", r.Request.Method, r.Request.URL, what, r.StatusCode, body)
	}
}

// no500 fails the input on a server error, with the app's log.
func (e *fuzzEnv) no500(t *testing.T, r *response, what string) {
	t.Helper()
	if r.StatusCode >= 500 {
		logs := e.logs.String()
		if i := strings.LastIndex(logs, `"level":"error"`); i >= 0 {
			logs = logs[max(0, i-200):]
		}
		t.Logf("log: %.1500s", logs)
		failOn500(t, r, what)
	}
}

// inURL cuts a value put into a URL: the server reads request lines of at
// most 4 KiB and refuses longer ones before the app sees them, which is
// not what these targets test (the fuzzer found that first).
func inURL(s string) string {
	if len(s) > 180 {
		return s[:180]
	}
	return s
}

func addSeeds(f *testing.F, fields int, fixed ...string) {
	for i, v := range oddSeeds {
		args := make([]any, fields)
		for j := range args {
			args[j] = oddSeeds[(i+j*7)%len(oddSeeds)]
		}
		args[i%fields] = v
		f.Add(args...)
	}
	args := make([]any, fields)
	for j := range args {
		args[j] = ""
		if j < len(fixed) {
			args[j] = fixed[j]
		}
	}
	f.Add(args...)
}

func FuzzContactForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 7, "Bea", "bea@example.com", "+1 555 0100", "Bea Ltd", "Open", "", "1")
	f.Fuzz(func(t *testing.T, name, email, phone, company, status, owner, version string) {
		e.use(t)
		fv := form("name", name, "email", email, "phone", phone, "company", company, "status", status, "owner_id", owner, "version", version)
		e.no500(t, e.owner.post("/contacts", fv), "create")
		e.no500(t, e.owner.post(e.contactPath(""), fv, "HX-Request", "true"), "update")
	})
}

func FuzzDealForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 9, "Deal", "Qualified To Buy", "1,000", "500.50", "2026-06-01", "", strconv.FormatInt(e.contactID, 10), "Co", "1")
	f.Fuzz(func(t *testing.T, name, stage, goal, amount, closeDate, owner, contact, company, version string) {
		e.use(t)
		fv := form("name", name, "stage", stage, "goal", goal, "amount", amount, "close_date", closeDate,
			"owner_id", owner, "contact_id", contact, "company", company, "version", version)
		e.no500(t, e.owner.post("/deals", fv), "create")
		e.no500(t, e.owner.post("/deals/"+strconv.FormatInt(e.dealID, 10), fv, "HX-Request", "true"), "update")
		e.no500(t, e.owner.get("/deals/contact-options?contact_q="+url.QueryEscape(inURL(name))), "picker")
	})
}

func FuzzNoteForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 2, "A note\nwith two lines", "999")
	f.Fuzz(func(t *testing.T, body, noteID string) {
		e.use(t)
		e.no500(t, e.owner.post(e.contactPath("/notes"), form("body", body), "HX-Request", "true"), "add")
		e.no500(t, e.owner.post(e.contactPath("/notes/"+url.PathEscape(inURL(noteID))+"/delete"), nil, "HX-Request", "true"), "delete")
	})
}

func FuzzSignupForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 4, "Sam", "sam@example.com", testPassword, "/contacts")
	f.Fuzz(func(t *testing.T, name, email, password, next string) {
		e.use(t)
		e.no500(t, e.client().post("/signup", form("name", name, "email", email, "password", password, "next", next)), "signup")
		e.no500(t, e.client().get("/signup?email="+url.QueryEscape(inURL(email))+"&next="+url.QueryEscape(inURL(next))), "signup page")
	})
}

func FuzzLoginForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 3, e.userEmailOf(e.owner), testPassword, "/deals")
	f.Fuzz(func(t *testing.T, email, password, next string) {
		e.use(t)
		e.no500(t, e.client().post("/login", form("email", email, "password", password, "next", next)), "login")
		e.no500(t, e.client().get("/login?email="+url.QueryEscape(inURL(email))+"&next="+url.QueryEscape(inURL(next))), "login page")
	})
}

func FuzzProfileForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 3, "Olga O.", "", "")
	f.Fuzz(func(t *testing.T, name, current, next string) {
		e.use(t)
		e.no500(t, e.owner.post("/profile", form("name", name)), "rename")
		// A wrong current password keeps the session and the password.
		e.no500(t, e.owner.post("/profile", form("current_password", current+"!wrong", "new_password", next)), "password")
	})
}

func FuzzTeamForms(f *testing.F) {
	e := newFuzzEnv(f)
	loner, _ := e.signup("Lou")
	addSeeds(f, 3, "Lou's team", "Europe/Berlin", "JPY")
	f.Fuzz(func(t *testing.T, name, timeZone, currency string) {
		e.use(t)
		r := loner.post("/team", form("name", name))
		e.no500(t, r, "create team")
		if r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == "/team" {
			e.no500(t, loner.post("/team/leave", nil), "leave")
		}
		e.no500(t, e.owner.post("/team/settings", form("time_zone", timeZone, "currency", currency)), "settings")
		e.no500(t, e.owner.get("/deals"), "deals after settings")
	})
}

func FuzzInviteForm(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 2, "new.member@example.com", "abc")
	f.Fuzz(func(t *testing.T, email, token string) {
		e.use(t)
		e.no500(t, e.owner.post("/team/invites", form("email", email)), "invite")
		e.no500(t, e.client().get("/invites/"+url.PathEscape(inURL(token))), "invitation page")
		e.no500(t, e.owner.post("/invites/"+url.PathEscape(inURL(token)), nil), "accept")
		e.no500(t, e.owner.post("/team/invites/"+url.PathEscape(inURL(token))+"/revoke", nil), "revoke")
	})
}

// FuzzListQuery tries the tables' query parameters, as pages and as htmx
// fragments.
func FuzzListQuery(f *testing.F) {
	e := newFuzzEnv(f)
	addSeeds(f, 5, "name", "desc", "mine", "ann", "")
	f.Add("created", "asc", "unassigned", "a\x00", "eyJrIjpbIngiXSwiaWQiOjF9")
	f.Add("amount", "desc", "all", "", "!!!")
	f.Fuzz(func(t *testing.T, sort, dir, view, q, cursor string) {
		e.use(t)
		query := url.Values{"sort": {inURL(sort)}, "dir": {inURL(dir)}, "view": {inURL(view)}, "q": {inURL(q)}, "cursor": {inURL(cursor)}}.Encode()
		for _, path := range []string{"/contacts?", "/deals?"} {
			e.no500(t, e.owner.get(path+query), "page")
			e.no500(t, e.owner.get(path+query, "HX-Request", "true"), "fragment")
		}
	})
}

// FuzzGoogleTabForms tries the Emails, Tasks and Meetings forms with a
// connected (sandbox) Google account.
func FuzzGoogleTabForms(f *testing.F) {
	g := newGoogleApp(f, storetest.Open(f, store.SQLite), sandbox.Options{})
	e := fuzzEnvOn(f, g.testApp)
	g.connect(e.owner, "olga.sales@example.com")
	addSeeds(f, 6, "Hello", "Body\nline", "2026-06-01", "2030-01-01T10:00", "2030-01-01T11:00", "thread-1")
	f.Fuzz(func(t *testing.T, subject, body, due, start, end, item string) {
		e.use(t)
		hx := []string{"HX-Request", "true", "X-Time-Zone", "Europe/Berlin"}
		e.no500(t, e.owner.post(e.contactPath("/emails"), form("subject", subject, "body", body, "token", item), hx...), "send email")
		e.no500(t, e.owner.post(e.contactPath("/emails/"+url.PathEscape(inURL(item))+"/reply"), form("body", body), hx...), "reply")
		e.no500(t, e.owner.post(e.contactPath("/tasks"), form("title", subject, "due", due), hx...), "add task")
		e.no500(t, e.owner.post(e.contactPath("/tasks/"+url.PathEscape(inURL(item))+"/complete"), form("token", item), hx...), "complete task")
		e.no500(t, e.owner.post(e.contactPath("/meetings"), form("title", subject, "description", body, "start", start, "end", end, "tz", item), hx...), "schedule")
	})
}
