package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"sherpa/store"
	"sherpa/webhook"
)

// receiver is an in-process webhook receiver: it keeps what it got and
// answers with the statuses it is told, then 200.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int  // answers to the requests whose body contains only
	only     string // (every request when empty)
	always   int    // when set, every answer
}

type received struct {
	header http.Header
	body   []byte
	event  struct {
		ID   string                     `json:"id"`
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	status int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		status := http.StatusOK
		switch {
		case rc.always != 0:
			status = rc.always
		case len(rc.statuses) > 0 && strings.Contains(string(b), rc.only):
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rec := received{header: r.Header.Clone(), body: b, status: status}
		if err := json.Unmarshal(b, &rec.event); err != nil {
			t.Errorf("receiver: body is not JSON: %v", err)
		}
		rc.got = append(rc.got, rec)
		w.WriteHeader(status)
		fmt.Fprint(w, http.StatusText(status))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) types() []string {
	var out []string
	for _, r := range rc.all() {
		out = append(out, r.event.Type)
	}
	return out
}

// hookApp is an app whose team page may register the local receiver, with
// a webhook worker on the same store, and a clock the test moves.
type hookApp struct {
	*testApp
	worker *webhook.Worker
	clock  *testClock
}

func newHookApp(t *testing.T, st *store.Store) *hookApp {
	cfg := testConfig()
	cfg.Webhooks.AllowPrivate = true
	clock := useTestClock(t, st, time.Now().UTC())
	h := &hookApp{testApp: newApp(t, st, nil, cfg), clock: clock}
	h.worker = webhook.NewWorker(st, webhook.Config{AllowPrivate: true, Backoff: time.Second, MaxBackoff: time.Hour}, zerolog.Nop())
	return h
}

func (h *hookApp) advance(d time.Duration) { h.clock.advance(d) }

// deliver sends everything due now.
func (h *hookApp) deliver(t *testing.T) int {
	t.Helper()
	n, err := h.worker.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// register adds an endpoint on the team page and returns its secret.
func (h *hookApp) register(t *testing.T, c *client, url string, events ...string) string {
	t.Helper()
	f := form("url", url)
	for _, e := range events {
		f.Add("events", e)
	}
	r := c.post("/team/webhooks", f)
	expectStatus(t, r, http.StatusOK)
	secret, ok := r.doc(t).Find(`[data-testid=new-webhook-secret]`).Attr("value")
	if !ok || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("no secret shown:\n%s", r.body)
	}
	return secret
}

func TestWebhooksSignedDeliveries(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		h := newHookApp(t, st)
		tm := h.apiTeam("Hooks")
		rc := newReceiver(t)
		secret := h.register(t, tm.owner, rc.srv.URL+"/hook", store.WebhookEvents...)
		k := tm.ownerKey
		cid := k.call("POST", "/contacts", map[string]any{"name": "Hooked", "email": "hooked@example.com"}).expect(http.StatusCreated).id("id")
		did := k.call("POST", "/deals", map[string]any{"name": "Hooked deal", "contact_id": cid}).expect(http.StatusCreated).id("id")
		k.call("POST", fmt.Sprintf("/deals/%d/move", did), map[string]any{"stage": store.StageWon, "amount": "10"}).expect(http.StatusOK)
		k.call("POST", fmt.Sprintf("/contacts/%d/notes", cid), map[string]any{"body": "a note"}).expect(http.StatusCreated)
		// The pages announce their changes too (same store methods).
		expectStatus(t, tm.owner.post("/contacts", form("name", "From page", "email", "page@example.com")), http.StatusSeeOther)
		// Refused writes announce nothing.
		k.call("POST", "/contacts", map[string]any{"name": "Dup", "email": "hooked@example.com"}).expect(http.StatusUnprocessableEntity)
		k.call("PATCH", fmt.Sprintf("/contacts/%d", cid), map[string]any{"name": "Stale", "version": 99}).expect(http.StatusConflict)
		if n := h.deliver(t); n != 7 {
			t.Fatalf("delivered %d, want 7: %v", n, rc.types())
		}
		// Sent in parallel: in order per record, not across records.
		want := []string{"contact.created", "contact.created", "deal.created", "deal.stage_changed", "deal.updated", "deal.won", "note.added"}
		got := rc.types()
		slices.Sort(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("events %v, want %v", got, want)
		}
		for _, r := range rc.all() {
			if err := webhook.Verify(secret, r.header.Get(webhook.SignatureHeader), r.body, h.store.Now(), 5*time.Minute); err != nil {
				t.Fatalf("signature: %v (%s)", err, r.header.Get(webhook.SignatureHeader))
			}
			if err := webhook.Verify("whsec_wrong", r.header.Get(webhook.SignatureHeader), r.body, h.store.Now(), 5*time.Minute); err == nil {
				t.Fatal("a wrong secret verifies")
			}
			if r.header.Get(webhook.EventHeader) != r.event.Type || r.header.Get(webhook.EventIDHeader) != r.event.ID {
				t.Fatalf("headers %v for %s", r.header, r.event.ID)
			}
		}
		// A replayed body with an old timestamp is refused by Verify.
		first := rc.all()[0]
		if err := webhook.Verify(secret, first.header.Get(webhook.SignatureHeader), first.body, h.store.Now().Add(time.Hour), 5*time.Minute); err == nil {
			t.Fatal("an hour-old signature verifies")
		}
		var won struct {
			Deal      store.DealJSON `json:"deal"`
			FromStage string         `json:"from_stage"`
			ToStage   string         `json:"to_stage"`
		}
		var wonBody []byte
		for _, r := range rc.all() {
			if r.event.Type == "deal.won" {
				wonBody = r.body
			}
		}
		if err := json.Unmarshal(wonBody, &struct {
			Data any `json:"data"`
		}{&won}); err != nil || won.Deal.Stage != store.StageWon || won.ToStage != store.StageWon || won.FromStage != store.StageCreated || won.Deal.AmountMinor != 1000 {
			t.Fatalf("won payload: %v %+v", err, won)
		}
		// Deletes carry the record as it was; a contact's deal deleted with
		// it is announced too. They are two records, so the receiver may get
		// them in either order (order is kept per record only).
		k.call("DELETE", fmt.Sprintf("/contacts/%d", cid), nil).expect(http.StatusNoContent)
		h.deliver(t)
		all := rc.all()
		last, cascaded := all[len(all)-1], all[len(all)-2]
		if last.event.Type == "deal.deleted" {
			last, cascaded = cascaded, last
		}
		if last.event.Type != "contact.deleted" || !strings.Contains(string(last.event.Data["contact"]), `"Hooked"`) {
			t.Fatalf("delete event: %s", last.body)
		}
		if cascaded.event.Type != "deal.deleted" || !strings.Contains(string(cascaded.event.Data["deal"]), `"stage":"`+store.StageWon+`"`) {
			t.Fatalf("cascaded deal's delete event: %s", cascaded.body)
		}
		// The delivery log on the team page.
		page := tm.owner.get("/team")
		rows := page.doc(t).Find(`[data-testid=webhook-deliveries] tbody tr`)
		if rows.Length() != 9 || strings.TrimSpace(rows.First().Find(`[data-testid=delivery-code]`).Text()) != "200" ||
			strings.TrimSpace(rows.First().Find(`[data-testid=delivery-status]`).Text()) != "delivered" {
			t.Fatalf("delivery log: %d rows\n%s", rows.Length(), page.body)
		}
		// Members do not see or manage webhooks.
		if strings.Contains(tm.member.get("/team").body, `data-testid="webhooks"`) {
			t.Fatal("a member sees the webhooks card")
		}
		expectStatus(t, tm.member.post("/team/webhooks", form("url", rc.srv.URL, "events", "contact.created")), http.StatusForbidden)
	})
}

func TestWebhookRetriesInOrderAndRedeliver(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		h := newHookApp(t, st)
		tm := h.apiTeam("Retry")
		rc := newReceiver(t)
		h.register(t, tm.owner, rc.srv.URL, store.EventContactCreated, store.EventContactUpdated)
		k := tm.ownerKey
		rc.statuses, rc.only = []int{500, 503}, "order@example.com"
		c := k.call("POST", "/contacts", map[string]any{"name": "V1", "email": "order@example.com"}).expect(http.StatusCreated)
		other := k.call("POST", "/contacts", map[string]any{"name": "Other", "email": "other@example.com"}).expect(http.StatusCreated)
		_ = other
		v := c.id("version")
		for _, name := range []string{"V2", "V3"} {
			v = k.call("PATCH", fmt.Sprintf("/contacts/%d", c.id("id")), map[string]any{"name": name, "version": v}).expect(http.StatusOK).id("version")
		}
		// First round: the first contact's created fails (500); its updates
		// wait behind it; the other contact's event goes (and gets the 503).
		if n := h.deliver(t); n != 2 {
			t.Fatalf("first round sent %d, want 2 (%v)", n, rc.types())
		}
		h.advance(2 * time.Second)
		if n := h.deliver(t); n != 1 {
			t.Fatalf("second round sent %d, want the retry alone", n)
		}
		if n := h.deliver(t); n != 0 {
			t.Fatalf("sent %d before the backoff passed", n)
		}
		h.advance(5 * time.Second)
		if n := h.deliver(t); n < 1 {
			t.Fatalf("after the backoff sent %d", n)
		}
		for h.deliver(t) > 0 {
		}
		var names []string
		for _, r := range rc.all() {
			var d struct {
				Contact store.ContactJSON `json:"contact"`
			}
			json.Unmarshal(r.event.Data["contact"], &d.Contact)
			if d.Contact.Email == "order@example.com" {
				names = append(names, fmt.Sprintf("%s:%s:%d", r.event.Type, d.Contact.Name, r.status))
			}
		}
		// In order, each payload the record as the change left it.
		want := "contact.created:V1:500 contact.created:V1:503 contact.created:V1:200 contact.updated:V2:200 contact.updated:V3:200"
		if strings.Join(names, " ") != want {
			t.Fatalf("order per record:\n got %v\nwant %s", names, want)
		}
		ds, err := st.WebhookDeliveries(context.Background(), h.user(tm.ownerEmail).TeamID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var firstID int64
		for _, d := range ds {
			if d.Attempts == 3 && d.LastCode == 200 {
				firstID = d.ID
			}
		}
		if firstID == 0 {
			t.Fatalf("no delivery with 3 attempts: %+v", ds)
		}
		// Redeliver from the team page: the same event again.
		before := len(rc.all())
		expectRedirect(t, tm.owner.post(fmt.Sprintf("/team/webhooks/deliveries/%d/redeliver", firstID), nil), "/team#webhooks")
		h.deliver(t)
		got := rc.all()
		if len(got) != before+1 || got[len(got)-1].event.ID != got[0].event.ID && got[len(got)-1].event.Type != "contact.created" {
			t.Fatalf("redelivered: %d → %d", before, len(got))
		}
		// Another team's delivery id: 404.
		theirs := h.apiTeam("Theirs")
		expectStatus(t, theirs.owner.post(fmt.Sprintf("/team/webhooks/deliveries/%d/redeliver", firstID), nil), http.StatusNotFound)
	})
}

func TestWebhookEndpointDisabledAfterADayOfFailures(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		h := newHookApp(t, st)
		tm := h.apiTeam("Failing")
		rc := newReceiver(t)
		rc.always = http.StatusInternalServerError
		h.register(t, tm.owner, rc.srv.URL, store.EventContactCreated)
		tm.ownerKey.call("POST", "/contacts", map[string]any{"name": "Lost", "email": "lost@example.com"}).expect(http.StatusCreated)
		h.deliver(t)
		if msg := tm.owner.get("/team").text(t, `[data-testid=webhook-failing]`); !strings.Contains(msg, "failed since") {
			t.Fatalf("no failing notice: %q", msg)
		}
		for range 40 {
			h.deliver(t)
			h.advance(time.Hour)
		}
		eps, _ := st.WebhookEndpoints(context.Background(), h.user(tm.ownerEmail).TeamID)
		if len(eps) != 1 || eps[0].Active || !strings.Contains(eps[0].DisabledReason, "HTTP 500") {
			t.Fatalf("endpoint: %+v", eps)
		}
		attempts := len(rc.all())
		if attempts < 5 || attempts > 40 {
			t.Fatalf("%d attempts in a day and a half", attempts)
		}
		// The admins see why on the team page.
		page := tm.admin.get("/team")
		if msg := page.text(t, `[data-testid=webhook-disabled]`); !strings.Contains(msg, "failed since") {
			t.Fatalf("no reason on the team page: %q", msg)
		}
		// Disabled: nothing is sent, new events wait.
		tm.ownerKey.call("POST", "/contacts", map[string]any{"name": "Waiting", "email": "waiting@example.com"}).expect(http.StatusCreated)
		if n := h.deliver(t); n != 0 {
			t.Fatalf("a disabled endpoint got %d deliveries", n)
		}
		// Enabled again, the waiting delivery goes out.
		rc.mu.Lock()
		rc.always = 0
		rc.mu.Unlock()
		expectRedirect(t, tm.owner.post(fmt.Sprintf("/team/webhooks/%d/enable", eps[0].ID), nil), "/team#webhooks")
		if n := h.deliver(t); n == 0 {
			eps, _ := st.WebhookEndpoints(context.Background(), h.user(tm.ownerEmail).TeamID)
			ds, _ := st.WebhookDeliveries(context.Background(), h.user(tm.ownerEmail).TeamID, 0, 10)
			t.Fatalf("nothing sent after enabling: %+v\n%+v", eps, ds)
		}
		if last := rc.all()[len(rc.all())-1]; last.status != 200 {
			t.Fatalf("last: %d", last.status)
		}
	})
}

// TestWebhooksNothingLostWhenAnInstanceStops: an instance leases
// deliveries and dies before sending them; another instance (a fresh app
// and worker on the same database) sends them once the lease runs out, and
// sends what was queued while no worker ran.
func TestWebhooksNothingLostWhenAnInstanceStops(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		h := newHookApp(t, st)
		tm := h.apiTeam("Restart")
		rc := newReceiver(t)
		h.register(t, tm.owner, rc.srv.URL, store.EventContactCreated)
		for i := range 5 {
			tm.ownerKey.call("POST", "/contacts", map[string]any{"name": fmt.Sprint("C", i), "email": fmt.Sprintf("c%d@example.com", i)}).expect(http.StatusCreated)
		}
		// The dying instance: claims three and never reports back.
		jobs, err := st.ClaimDeliveries(context.Background(), "dead-instance", 3, time.Minute)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("claimed %d: %v", len(jobs), err)
		}
		// A new instance starts on the same database.
		h2 := &hookApp{testApp: newApp(t, st, nil, testConfig())}
		h2.worker = webhook.NewWorker(st, webhook.Config{AllowPrivate: true}, zerolog.Nop())
		if n := h2.deliver(t); n != 2 {
			t.Fatalf("sent %d while the leases hold, want the 2 free ones", n)
		}
		h.advance(2 * time.Minute)
		if n := h2.deliver(t); n != 3 {
			t.Fatalf("sent %d after the leases ran out, want 3", n)
		}
		// The dead instance's late report changes nothing.
		if _, err := st.RecordDelivery(context.Background(), &jobs[0], store.DeliveryResult{Code: 500}); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.WebhookQueueDepth(context.Background()); n != 0 {
			t.Fatalf("%d still pending", n)
		}
		seen := map[string]int{}
		for _, r := range rc.all() {
			seen[r.event.ID]++
		}
		if len(seen) != 5 {
			t.Fatalf("events received: %v", seen)
		}
		// A running worker (as main starts it) delivers within its poll.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h2.worker.Run(ctx); close(done) }()
		tm.ownerKey.call("POST", "/contacts", map[string]any{"name": "Live", "email": "live@example.com"}).expect(http.StatusCreated)
		deadline := time.Now().Add(time.Minute)
		for len(rc.all()) < 6 {
			if time.Now().After(deadline) {
				t.Fatal("the running worker did not deliver")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
	})
}

func TestWebhookTargetsInsideTheNetworkAreRefused(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		a := newApp(t, st, nil, testConfig()) // private targets not allowed
		owner, email := a.owner("Net Owner", "Net")
		for _, u := range []string{"http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
			"http://[::1]/", "http://192.168.0.1/", "ftp://example.com/", "javascript:alert(1)", "//example.com", "http://user:pw@example.com/", ""} {
			r := owner.post("/team/webhooks", form("url", u, "events", "contact.created"))
			expectStatus(t, r, http.StatusUnprocessableEntity)
		}
		expectStatus(t, owner.post("/team/webhooks", form("url", "https://example.com/", "events", "nope")), http.StatusUnprocessableEntity)
		// An endpoint that reached the database anyway (registered where
		// private targets were allowed, or a name that now resolves
		// inside) is refused again when the worker dials.
		rc := newReceiver(t)
		u := a.user(email)
		if _, err := st.CreateWebhookEndpoint(context.Background(), u.TeamID, u, rc.srv.URL, []string{store.EventContactCreated}); err != nil {
			t.Fatal(err)
		}
		k := a.apiKey(owner, "k", "write")
		k.call("POST", "/contacts", map[string]any{"name": "Inside", "email": "inside@example.com"}).expect(http.StatusCreated)
		w := webhook.NewWorker(st, webhook.Config{}, zerolog.Nop())
		if n, err := w.RunOnce(context.Background()); n != 1 || err != nil {
			t.Fatalf("attempts %d: %v", n, err)
		}
		if len(rc.all()) != 0 {
			t.Fatal("the worker reached a loopback address")
		}
		ds, _ := st.WebhookDeliveries(context.Background(), u.TeamID, 0, 10)
		if len(ds) != 1 || !strings.Contains(ds[0].LastError, "private") {
			t.Fatalf("delivery: %+v", ds)
		}
	})
}
