package handlers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// upload posts a file as multipart/form-data, like the upload form.
func (c *client) upload(kind, name string, data []byte) *response {
	c.a.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("kind_choice", kind)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = w.Close()
	return c.raw("POST", "/imports?kind="+kind, w.FormDataContentType(), &b)
}

func (c *client) raw(method, path, contentType string, body io.Reader) *response {
	c.a.t.Helper()
	req := httptest.NewRequest(method, "http://sherpa.test"+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "http://sherpa.test")
	var parts []string
	for k, v := range c.cookies {
		parts = append(parts, k+"="+v)
	}
	req.Header.Set("Cookie", strings.Join(parts, "; "))
	resp, err := c.a.app.Test(req, -1)
	if err != nil {
		c.a.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return &response{Response: resp, body: string(b)}
}

var importPathRe = regexp.MustCompile(`^/imports/(\d+)$`)

// uploaded returns the import page path an upload redirected to.
func uploaded(t *testing.T, r *response) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !importPathRe.MatchString(loc) {
		t.Fatalf("upload: %d %q\n%.2000s", r.StatusCode, loc, r.body)
	}
	return loc
}

// mappingOf reads the mapping form as the page fills it in.
func mappingOf(t *testing.T, page *response) url.Values {
	t.Helper()
	f := url.Values{}
	doc := page.doc(t)
	doc.Find(`[data-testid=mapping-form] select`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Find("option[selected]").Attr("value")
		f.Add(name, val)
	})
	doc.Find(`[data-testid=mapping-form] input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		f.Add(name, val)
	})
	doc.Find(`[data-testid=mapping-form] input[type=radio][checked]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		f.Set(name, val)
	})
	return f
}

// waitImport waits for the background worker to finish a job.
func waitImport(t *testing.T, a *testApp, teamID int64, path string) *store.Import {
	t.Helper()
	var id int64
	fmt.Sscanf(strings.TrimPrefix(path, "/imports/"), "%d", &id)
	deadline := time.Now().Add(60 * time.Second)
	for {
		im, err := a.store.ImportByID(context.Background(), teamID, id)
		if err != nil {
			t.Fatal(err)
		}
		if im.Finished() {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %+v", im.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestImportJourney(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		c, email := a.owner("Ivy Import", "Import Co")
		me := a.user(email)
		ctx := context.Background()
		existing, err := a.store.CreateContact(ctx, me.TeamID, me, store.ContactInput{Name: "Bob Old", Email: "bob.smith@example.com", Company: "Old"})
		if err != nil {
			t.Fatal(err)
		}
		// The tables link the importer and the export.
		page := c.get("/contacts")
		if href, _ := page.doc(t).Find(`[data-testid=import-contacts]`).Attr("href"); href != "/imports/new?kind=contacts" {
			t.Fatalf("import link %q", href)
		}
		if href, _ := page.doc(t).Find(`[data-testid=export-contacts]`).Attr("href"); href != "/contacts/export.csv" {
			t.Fatalf("export link %q", href)
		}
		expectStatus(t, c.get("/imports/new?kind=contacts"), http.StatusOK)

		data, _ := os.ReadFile("../testdata/hubspot-contacts.csv")
		data = append(data, []byte("1006,Rex,Reject,not-an-email,,,,,\n")...)
		path := uploaded(t, c.upload("contacts", "hubspot.csv", data))
		page = c.get(path)
		expectStatus(t, page, http.StatusOK)
		if got := page.text(t, `[data-testid=import-detected]`); !strings.Contains(got, "Read as UTF-8, separated by commas") {
			t.Fatalf("detected: %q", got)
		}
		m := mappingOf(t, page)
		if m.Get("col1") != "first_name" || m.Get("col3") != "email" || m.Get("col6") != "status" || m.Get("col0") != "" {
			t.Fatalf("auto mapping %v", m)
		}
		// "Customer" is no Sherpa status: it is offered for mapping.
		if page.doc(t).Find(`[data-testid="value-Customer"]`).Length() != 1 {
			t.Fatalf("no value mapping for Customer:\n%.3000s", page.body)
		}
		m.Set("mode", store.ModeUpsert)
		for i, k := range m["vk"] {
			if strings.HasSuffix(k, "|customer") {
				m["vv"][i] = store.StatusConnected
			}
		}
		expectRedirect(t, c.post(path+"/mapping", m), path)
		page = c.get(path)
		if got := page.text(t, `[data-testid=preview-create]`) + "/" + page.text(t, `[data-testid=preview-update]`) + "/" + page.text(t, `[data-testid=preview-reject]`); got != "4/1/1" {
			t.Fatalf("preview create/update/reject %s\n%.3000s", got, page.body)
		}
		if n := len(teamContactsOf(t, a, me.TeamID)); n != 1 {
			t.Fatalf("the dry run wrote: %d contacts", n)
		}
		expectRedirect(t, c.post(path+"/start", nil), path)
		im := waitImport(t, a, me.TeamID, path)
		if im.Status != store.ImportDone || im.Created != 4 || im.Updated != 1 || im.Rejected != 1 {
			t.Fatalf("import %s %d/%d/%d", im.Status, im.Created, im.Updated, im.Rejected)
		}
		// The finished progress poll sends the browser to the result.
		if r := c.get(path+"/progress", "HX-Request", "true"); r.Header.Get("HX-Redirect") != path {
			t.Fatalf("progress after the end: %d %v", r.StatusCode, r.Header)
		}
		page = c.get(path)
		if page.text(t, `[data-testid=result-created]`) != "4" {
			t.Fatalf("result:\n%.2000s", page.body)
		}
		contacts := teamContactsOf(t, a, me.TeamID)
		if contacts["eve@example.com"].Status != store.StatusConnected || contacts["bob.smith@example.com"].Company != "Globex" {
			t.Fatalf("imported %+v", contacts)
		}
		// The Activity tab notes the import.
		act := c.get(fmt.Sprintf("/contacts/%d/activity", contacts["eve@example.com"].ID), "HX-Request", "true")
		if !strings.Contains(act.body, "imported by Ivy Import from hubspot.csv") {
			t.Fatalf("activity:\n%s", act.body)
		}
		// The report has the rejected row with its reason.
		rep := c.get(path + "/rejects.csv")
		recs, err := csv.NewReader(strings.NewReader(rep.body)).ReadAll()
		if err != nil || len(recs) != 2 || recs[0][len(recs[0])-1] != "Reason" || recs[1][3] != "not-an-email" || !strings.Contains(recs[1][9], "Email") {
			t.Fatalf("report %v %q", err, recs)
		}
		// Undo: a job (the page shows its progress, then the result):
		// created deleted, updated restored; once only.
		expectRedirect(t, c.post(path+"/undo", nil), path)
		if im := waitImport(t, a, me.TeamID, path); im.Status != store.ImportUndone || im.UndoDone != im.Created+im.Updated {
			t.Fatalf("undo ended %s, %d of %d changes", im.Status, im.UndoDone, im.Created+im.Updated)
		}
		contacts = teamContactsOf(t, a, me.TeamID)
		if len(contacts) != 1 || contacts["bob.smith@example.com"].Company != "Old" || contacts["bob.smith@example.com"].ID != existing.ID {
			t.Fatalf("after undo %+v", contacts)
		}
		page = c.get(path)
		if page.doc(t).Find(`[data-testid=undo-done]`).Length() != 1 || page.doc(t).Find(`[data-testid=import-undo]`).Length() != 0 {
			t.Fatalf("undone page:\n%.2000s", page.body)
		}
		expectRedirect(t, c.post(path+"/undo", nil), path)
		if !strings.Contains(c.get(path).body, "already undone") {
			t.Error("a second undo does not say it was refused")
		}

		// Another team sees none of it.
		o, _ := a.owner("Oscar Other", "Other Co")
		for _, p := range []string{path, path + "/progress", path + "/rejects.csv"} {
			expectStatus(t, o.get(p), http.StatusNotFound)
		}
		for _, p := range []string{path + "/mapping", path + "/start", path + "/undo", path + "/cancel"} {
			expectStatus(t, o.post(p, nil), http.StatusNotFound)
		}
	})
}

func teamContactsOf(t *testing.T, a *testApp, teamID int64) map[string]store.Contact {
	t.Helper()
	var rows []store.Contact
	if err := a.store.DB.NewSelect().Model(&rows).Where("team_id = ?", teamID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Contact{}
	for _, c := range rows {
		out[c.Email] = c
	}
	return out
}

func TestImportRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		owner, _ := a.owner("Olga Owner", "Refuse Co")
		member, _ := a.member(owner, "Mia Member")
		file := []byte("Name,Email\nAnn,ann@example.com\n")
		// Members may not import until the owner allows it.
		expectStatus(t, member.get("/imports/new"), http.StatusForbidden)
		expectStatus(t, member.upload("contacts", "a.csv", file), http.StatusForbidden)
		expectStatus(t, member.post("/team/import-setting", form("members_may_import", "on")), http.StatusForbidden)
		if owner.get("/team").doc(t).Find(`[data-testid=members-may-import]`).Length() != 1 {
			t.Fatal("no import setting on the team page")
		}
		expectRedirect(t, owner.post("/team/import-setting", form("members_may_import", "on")), "/team")
		if _, ok := owner.get("/team").doc(t).Find(`[data-testid=members-may-import]`).Attr("checked"); !ok {
			t.Fatal("the setting did not stick")
		}
		path := uploaded(t, member.upload("contacts", "a.csv", file))

		// Bad files get a message, never a 500.
		for name, data := range map[string]string{
			"empty.csv":  "",
			"header.csv": "Name,Email\n",
			"binary.csv": "\x00\x01\x02\x03PK\x03\x04",
		} {
			p := uploaded(t, owner.upload("contacts", name, []byte(data)))
			page := owner.get(p)
			expectStatus(t, page, http.StatusOK)
			if page.text(t, `[data-testid=import-problem]`) == "" {
				t.Errorf("%s: no problem shown", name)
			}
			expectStatus(t, owner.post(p+"/mapping", form("col0", "name", "col1", "email")), http.StatusUnprocessableEntity)
		}
		// No file, or not multipart.
		r := owner.raw("POST", "/imports?kind=contacts", "text/plain", strings.NewReader("hello"))
		expectStatus(t, r, http.StatusBadRequest)
		// A mapping without email is refused with a message.
		r = owner.post(path+"/mapping", form("col0", "name", "col1", "", "mode", "create", "unknown", "default", "unknown_owner", "unassigned"))
		expectStatus(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, "Map a column to Email") {
			t.Fatalf("no message:\n%.2000s", r.body)
		}
		// Starting without a dry run is refused.
		expectStatus(t, owner.post(path+"/start", nil), http.StatusConflict)
		expectStatus(t, owner.get("/imports/999999"), http.StatusNotFound)
		expectStatus(t, owner.get("/imports/abc"), http.StatusNotFound)

		// Other requests keep the 1 MB body limit.
		big := strings.Repeat("x", 2<<20)
		expectStatus(t, owner.post("/contacts", form("name", big)), http.StatusRequestEntityTooLarge)
	})
}

func TestImportUploadLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := testConfig()
		cfg.ImportMaxBytes = 3 << 20
		a := newApp(t, s, nil, cfg)
		c, email := a.owner("Lim Limit", "Limit Co")
		var b strings.Builder
		b.WriteString("Name,Email\n")
		for i := 0; b.Len() < 2<<20; i++ { // above the 1 MB form limit, under the import limit
			fmt.Fprintf(&b, "Person %d,p%d@example.com\n", i, i)
		}
		path := uploaded(t, c.upload("contacts", "big.csv", []byte(b.String())))
		im := a.store
		_ = im
		page := c.get(path)
		if !strings.Contains(page.text(t, `[data-testid=import-detected]`), "columns") {
			t.Fatalf("big upload not analysed:\n%.1500s", page.body)
		}
		for b.Len() < 4<<20 {
			b.WriteString("Someone,someone@example.com\n")
		}
		r := c.upload("contacts", "huge.csv", []byte(b.String()))
		expectStatus(t, r, http.StatusRequestEntityTooLarge)
		if !strings.Contains(r.text(t, `[data-testid=form-error]`), "larger than the import limit of 3 MB") {
			t.Fatalf("no clear message:\n%.1500s", r.body)
		}
		me := a.user(email)
		list, err := s.ListImports(context.Background(), me.TeamID, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("imports kept: %v %d", err, len(list))
		}
		_ = handlers.DefaultImportMaxBytes
	})
}

// TestImportJobOfADeadInstanceIsTakenOver: an instance died in the middle
// of a job (its lease still names it). A live instance, started before and
// not told about the job, takes it over once the lease runs out and
// finishes it from the rows the dead one committed.
func TestImportJobOfADeadInstanceIsTakenOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := testConfig()
		cfg.ImportPoll = 50 * time.Millisecond
		a := newApp(t, s, nil, cfg)
		_, email := a.owner("Tom Takeover", "Takeover Co")
		me := a.user(email)
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := 0; i < 1500; i++ {
			fmt.Fprintf(&b, "t%d@example.com,T %d\n", i, i)
		}
		im, err := s.CreateImport(ctx, me.TeamID, me, "takeover.csv", store.ImportContacts, strings.NewReader(b.String()), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveImportMapping(ctx, me.TeamID, im.ID, im.MappingInfo()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PreviewImport(ctx, me.TeamID, im.ID); err != nil {
			t.Fatal(err)
		}
		// The dead instance's state: running, leased to it for a little
		// longer, nothing committed (the store test covers resuming from a
		// committed batch).
		if _, err := s.DB.NewRaw("UPDATE imports SET status = ?, lease_owner = ?, lease_until = ? WHERE id = ?",
			store.ImportRunning, "dead-instance", time.Now().UTC().Add(300*time.Millisecond), im.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		done := waitImport(t, a, me.TeamID, fmt.Sprintf("/imports/%d", im.ID))
		if done.Status != store.ImportDone || done.Created != 1500 || done.RowsDone != 1500 {
			t.Fatalf("after the takeover: %s, %d rows, %d created (%s)", done.Status, done.RowsDone, done.Created, done.Error)
		}
		if done.LeaseOwner == "dead-instance" || !strings.HasPrefix(done.LeaseOwner, "instance-") {
			t.Fatalf("finished by %q", done.LeaseOwner)
		}
	})
}

// TestImportCheckOfALargeFileRunsAsAJob: above the inline size, saving the
// mapping queues the dry run for the worker and the page shows it running
// (rows checked, cancel) until the preview is there; the progress poll then
// sends the browser back to the page.
func TestImportCheckOfALargeFileRunsAsAJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := testConfig()
		cfg.ImportInlineCheck = 1
		a := newApp(t, s, nil, cfg)
		c, email := a.owner("Cal Check", "Check Co")
		me := a.user(email)
		var b strings.Builder
		b.WriteString("Name,Email\n")
		for i := 0; i < 3000; i++ {
			fmt.Fprintf(&b, "Person %d,p%d@example.com\n", i, i)
		}
		path := uploaded(t, c.upload("contacts", "large.csv", []byte(b.String())))
		var id int64
		fmt.Sscanf(strings.TrimPrefix(path, "/imports/"), "%d", &id)
		expectRedirect(t, c.post(path+"/mapping", mappingOf(t, c.get(path))), path)
		deadline := time.Now().Add(60 * time.Second)
		for {
			im, err := s.ImportByID(context.Background(), me.TeamID, id)
			if err != nil {
				t.Fatal(err)
			}
			if im.Status == store.ImportPreviewed {
				break
			}
			if im.Status != store.ImportChecking || time.Now().After(deadline) {
				t.Fatalf("the check did not finish: %s", im.Status)
			}
			c.get(path+"/progress", "HX-Request", "true") // the poll also wakes the worker
			time.Sleep(20 * time.Millisecond)
		}
		if r := c.get(path+"/progress", "HX-Request", "true"); r.Header.Get("HX-Redirect") != path {
			t.Fatalf("progress after the check: %d %v", r.StatusCode, r.Header)
		}
		if got := c.get(path).text(t, `[data-testid=preview-create]`); got != "3,000" {
			t.Fatalf("preview create %q", got)
		}
		// A check in progress (held by another instance) is shown running,
		// with the rows read so far and a cancel button.
		if _, err := s.DB.NewRaw("UPDATE imports SET status = ?, rows_done = 2000, lease_owner = 'other', lease_until = ? WHERE id = ?",
			store.ImportChecking, time.Now().UTC().Add(time.Hour), id).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		page := c.get(path)
		if !strings.Contains(page.text(t, `[data-testid=import-progress]`), "2,000 rows checked so far") || page.doc(t).Find(`[data-testid=import-cancel]`).Length() != 1 {
			t.Fatalf("the check is not shown running:\n%.3000s", page.body)
		}
		if r := c.get(path+"/progress", "HX-Request", "true"); r.StatusCode != http.StatusOK || r.Header.Get("HX-Redirect") != "" {
			t.Fatalf("progress while checking: %d %v", r.StatusCode, r.Header)
		}
		expectRedirect(t, c.post(path+"/cancel", nil), path)
		if im, _ := s.ImportByID(context.Background(), me.TeamID, id); im.Status != store.ImportCancelled {
			t.Fatalf("cancelled check: %s", im.Status)
		}
	})
}

// TestImportDealsOfferTheTeamsLostReasons: a lost reason the team doesn't
// have is offered on the mapping page with the team's reasons to choose
// from, and the rule for unknown values names the fallback.
func TestImportDealsOfferTheTeamsLostReasons(t *testing.T) {
	a := newSQLiteApp(t)
	c, _ := a.owner("Lou Lost", "Lost Co")
	file := "Deal - Title,Deal - Stage,Deal - Lost reason,Person - Email\nA,Closed Lost,Price,a@example.com\nB,Closed Lost,Too expensive,b@example.com\n"
	path := uploaded(t, c.upload("deals", "deals.csv", []byte(file)))
	page := c.get(path)
	sel := page.doc(t).Find(`[data-testid="value-Too expensive"]`)
	if sel.Length() != 1 || sel.Find(`option[value="Price"]`).Length() != 1 || sel.Find(`option[value="Other"]`).Length() != 1 {
		t.Fatalf("no choice for the unknown lost reason:\n%.4000s", page.body)
	}
	if page.doc(t).Find(`[data-testid="value-Price"]`).Length() != 0 {
		t.Error("a reason the team has is offered for mapping")
	}
	if got := page.doc(t).Find(`#unknown option[value=default]`).Text(); !strings.Contains(got, "the lost reason Other") {
		t.Errorf("unknown rule %q", got)
	}
}
