package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"sherpa/google/sandbox"
	"sherpa/store"
	"sherpa/store/storetest"
)

// TestGoogleWritesRetriedAfterATimeoutActOnce: Google carries a write out
// but answers too late; the tab says it may have gone through, and the same
// form sent again finds it instead of writing a second email, task or event.
func TestGoogleWritesRetriedAfterATimeoutActOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		x := newTabs(t, st, sandbox.Options{SlowDelay: 5 * time.Second})
		cfg := x.cfg
		cfg.Google.Timeout = 300 * time.Millisecond
		quick := newApp(t, st, nil, cfg)
		// The task list exists, so adding a task writes only the task.
		expectStatus(t, x.submit(x.c, "/tasks", form("title", "Before")), http.StatusOK)

		writes := []struct {
			name, tab, token, maybe, earlier string
			form                             url.Values
			posts                            string // the write's path, to count
			listed                           string // what the tab lists of it
		}{
			{name: "email", tab: "emails", token: "token", maybe: "The email may have been sent",
				earlier: "had already gone through", form: form("subject", "Offer", "body", "Hello"),
				posts: "/messages/send", listed: "[data-testid=message]"},
			{name: "task", tab: "tasks", token: "token", maybe: "The task may have been added",
				earlier: "had already been added", form: form("title", "Call back", "due", "2030-01-02"),
				posts: "/tasks/v1/lists/", listed: "[data-testid=task]"},
			{name: "meeting", tab: "meetings", token: "request_id", maybe: "The meeting may have been created",
				earlier: "had already been scheduled", form: form("title", "Kickoff", "start", "2030-01-02T10:00", "end", "2030-01-02T11:00", "tz", "Europe/Berlin"),
				posts: "/events", listed: "[data-testid=meeting]"},
		}
		for _, w := range writes {
			w.form.Set(w.token, value(t, x.open(x.c, w.tab), "input[name="+w.token+"]"))
			before := len(x.fake.RequestsTo("POST", w.posts))
			listedBefore := x.open(x.c, w.tab).doc(t).Find(w.listed).Length()

			x.fake.Fail(sandbox.Late)
			x.c.a = quick
			r := x.submit(x.c, "/"+w.tab, w.form)
			x.c.a = x.testApp
			x.fake.Fail(sandbox.None)
			expectStatus(t, r, http.StatusServiceUnavailable)
			p := r.text(t, "[data-testid=google-problem]")
			if !strings.Contains(p, w.maybe) || strings.Contains(strings.ToLower(p), "nothing was") || strings.Contains(strings.ToLower(p), "no "+w.name+" was") {
				t.Errorf("%s: after a timeout the tab says %q, want %q and no claim that nothing happened", w.name, p, w.maybe)
			}

			r = x.submit(x.c, "/"+w.tab, w.form)
			expectStatus(t, r, http.StatusOK)
			if got := r.text(t, "[data-testid=google-notice]"); !strings.Contains(got, w.earlier) {
				t.Errorf("%s: retry notice %q, want %q", w.name, got, w.earlier)
			}
			if n := len(x.fake.RequestsTo("POST", w.posts)) - before; n != 1 {
				t.Errorf("%s: %d writes to Google, want 1", w.name, n)
			}
			if n := x.open(x.c, w.tab).doc(t).Find(w.listed).Length() - listedBefore; n != 1 {
				t.Errorf("%s: %d new items listed, want exactly 1", w.name, n)
			}
			// Once it went through, the same form again is refused by its claim.
			r = x.submit(x.c, "/"+w.tab, w.form)
			if got := r.text(t, "[data-testid=google-notice]"); !strings.Contains(got, "already") {
				t.Errorf("%s: third submit notice %q", w.name, got)
			}
		}
		x.expectActivities("task: Task: Before", "email: Email sent: Offer", "task: Task: Call back (due 2 Jan 2030)",
			"meeting: Meeting: Kickoff (Wed 2 Jan 2030, 10:00 Europe/Berlin)")
	})
}

// TestEmailsTabPagesThroughOlderThreads: the tab lists the newest threads;
// "Older threads" appends the next page with htmx and opens it on the
// contact page without.
func TestEmailsTabPagesThroughOlderThreads(t *testing.T) {
	x := newTabs(t, storetest.Open(t, store.SQLite), sandbox.Options{})
	const total = 45 // three pages of 20
	for i := range total {
		if _, err := x.fake.DeliverMessage(x.account, tabsContactName+" <"+x.contact+">", "Thread "+strconv.Itoa(i), "Hello"); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	collect := func(r *response) {
		for _, s := range texts(t, r, "[data-testid=thread-subject]") {
			if seen[s] {
				t.Errorf("thread %q listed twice", s)
			}
			seen[s] = true
		}
	}
	first := x.open(x.c, "emails")
	expectStatus(t, first, http.StatusOK)
	if n := first.doc(t).Find("[data-testid=thread]").Length(); n != 20 {
		t.Fatalf("first page: %d threads, want 20", n)
	}
	if got := texts(t, first, "[data-testid=thread-subject]")[0]; got != "Thread 44" {
		t.Errorf("first thread %q, want the newest", got)
	}
	collect(first)
	older := first.doc(t).Find("[data-testid=older-threads]")
	href, hx := older.AttrOr("href", ""), older.AttrOr("hx-get", "")
	if href == "" || hx == "" {
		t.Fatalf("no Older threads link on the first page:\n%s", first.body)
	}
	// Without JavaScript the link opens the contact page on the next page.
	page := x.c.get(href)
	expectStatus(t, page, http.StatusOK)
	if page.doc(t).Find("[data-testid=contact-name]").Length() != 1 || page.doc(t).Find("#tab-panel [data-testid=thread]").Length() != 20 {
		t.Errorf("the Older threads link without htmx is not the contact page with the next 20 threads")
	}
	if page.doc(t).Find("[data-testid=newest-threads]").Length() != 1 {
		t.Errorf("an older page has no way back to the newest threads")
	}
	// With htmx each click appends a page and a new link, until the last.
	for pages := 1; hx != ""; pages++ {
		if pages > 3 {
			t.Fatal("more pages than threads")
		}
		r := x.c.get(hx, "HX-Request", "true")
		expectStatus(t, r, http.StatusOK)
		if r.doc(t).Find("[data-testid=emails-tab], [data-testid=compose]").Length() != 0 {
			t.Errorf("the appended page repeats the tab")
		}
		collect(r)
		hx = r.doc(t).Find("[data-testid=older-threads]").AttrOr("hx-get", "")
	}
	if len(seen) != total {
		t.Errorf("%d threads seen across the pages, want %d", len(seen), total)
	}
}
