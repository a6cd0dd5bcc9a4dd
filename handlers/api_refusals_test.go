package handlers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

// TestAPIBadInputIsNeverA500 sends what a careless or hostile client might:
// broken JSON, wrong types, huge bodies, bad cursors and ids. Every answer
// is a problem (never a 500) that the document describes (apiClient checks
// both).
func TestAPIBadInputIsNeverA500(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Fuzz")
		k := tm.ownerKey
		cid := k.call("POST", "/contacts", map[string]any{"name": "Target", "email": "target@example.com"}).expect(http.StatusCreated).id("id")
		did := k.call("POST", "/deals", map[string]any{"name": "Target deal", "contact_id": cid}).expect(http.StatusCreated).id("id")
		bodies := []string{``, `{`, `[]`, `null`, `"x"`, `42`, `{"name": 5}`, `{"name": ["a"]}`, `{"email": {}}`, `{"owner_id": "me"}`,
			`{"owner_id": -4}`, `{"owner_id": 1.5}`, `{"owner_id": 1e40}`, `{"version": "1"}`, `{"version": 1e99}`, `{"goal": true}`,
			`{"goal": "1e309"}`, `{"goal": 1e309}`, `{"amount": "-"}`, `{"contact_id": 99999999999999999999}`, `{"name":"a"}{"name":"b"}`,
			`{"name": "\u0000"}`, `{"name": "` + strings.Repeat("x", 5000) + `"}`, `{"unknown": 1}`, `{"stage": null}`, "{\"name\": \"\xff\xfe\"}",
			`{"close_date": "2026-02-30"}`, `{"closed_on": "9999-99-99"}`, `{"lost_reason": 7}`, `{"body": null}`}
		targets := []struct{ method, path string }{
			{"POST", "/contacts"}, {"PATCH", fmt.Sprintf("/contacts/%d", cid)}, {"POST", "/deals"},
			{"PATCH", fmt.Sprintf("/deals/%d", did)}, {"POST", fmt.Sprintf("/deals/%d/move", did)}, {"POST", fmt.Sprintf("/contacts/%d/notes", cid)},
		}
		for _, tg := range targets {
			for _, b := range bodies {
				r := k.call(tg.method, tg.path, b)
				if r.status >= 300 && r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, b, r.status, r.body)
				}
			}
			// Not JSON at all.
			r := k.call(tg.method, tg.path, nil, "Content-Type", "text/plain")
			if r.status != http.StatusUnsupportedMediaType && r.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s %s as text: %d", tg.method, tg.path, r.status)
			}
		}
		if r := k.call("POST", "/contacts", `{"name": 5}`).expect(http.StatusUnprocessableEntity); r.fieldError("name") != "Must be a string." {
			t.Fatalf("wrong type: %s", r.body)
		}
		if r := k.call("POST", "/contacts", `{"name": "A", "email": "a@example.com", "nmae": 1}`).expect(http.StatusUnprocessableEntity); r.fieldError("nmae") != "Unknown field." {
			t.Fatalf("unknown field: %s", r.body)
		}
		k.call("POST", "/contacts", `{`).expect(http.StatusBadRequest)
		big := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`
		if r := k.call("POST", "/contacts", big).expect(http.StatusRequestEntityTooLarge); r.str("code") != "too_large" {
			t.Fatalf("huge body: %s", r.body)
		}
		// Query parameters the API refuses (the tables would quietly fall
		// back).
		for _, q := range []string{"view=everyone", "sort=password", "dir=up", "limit=0", "limit=201", "limit=x",
			"cursor=" + strings.Repeat("A", 600), "cursor=not-base64!", "cursor=eyJzIjoiZW1haWwiLCJpIjoxfQ"} {
			if r := k.get("/contacts?" + q); r.status != http.StatusBadRequest {
				t.Fatalf("?%s: %d %s", q, r.status, r.body)
			}
		}
		// A cursor from a page of another sort.
		k.call("POST", "/contacts", map[string]any{"name": "Two", "email": "two@example.com"}).expect(http.StatusCreated)
		next := k.get("/contacts?sort=email&limit=1").expect(http.StatusOK).str("next")
		k.get("/contacts?sort=email&limit=1&cursor=" + next).expect(http.StatusOK)
		k.get("/contacts?sort=name&limit=1&cursor=" + next).expect(http.StatusBadRequest)
		k.get("/deals?sort=name&cursor=" + next).expect(http.StatusBadRequest)
		k.get("/contacts?q=" + strings.Repeat("%00%ff", 300)).expect(http.StatusOK)
		for _, id := range []string{"0", "01", "-1", "abc", "1.0", "99999999999999999999", "%20"} {
			k.get("/contacts/" + id).expect(http.StatusNotFound)
			k.get("/deals/" + id).expect(http.StatusNotFound)
		}
		k.get("/contacts/1/activities?limit=-1").expect(http.StatusBadRequest)
		k.get("/nothing-here").expect(http.StatusNotFound)
		k.call("PUT", fmt.Sprintf("/contacts/%d", cid), map[string]any{}).expect(http.StatusNotFound)
		// Random bytes.
		rng := rand.New(rand.NewPCG(1, 2))
		for range 200 {
			b := make([]byte, rng.IntN(64))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			if rng.IntN(2) == 0 {
				b = append([]byte(`{"name":"`), b...)
			}
			k.call("POST", "/contacts", b)
		}
	})
}

func TestAPIIdempotencyKey(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		clock := useTestClock(t, st, time.Now().UTC())
		a := newApp(t, st, nil, testConfig())
		tm := a.apiTeam("Idem")
		k := tm.ownerKey
		body := map[string]any{"name": "Once", "email": "once@example.com"}
		first := k.call("POST", "/contacts", body, "Idempotency-Key", "create-once-1").expect(http.StatusCreated)
		again := k.call("POST", "/contacts", body, "Idempotency-Key", "create-once-1").expect(http.StatusCreated)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) ||
			again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("replay: %v %s", again.header, again.body)
		}
		if rows := k.get("/contacts?q=once").expect(http.StatusOK).data(); len(rows) != 1 {
			t.Fatalf("%d contacts made, want 1", len(rows))
		}
		// The same key for another request is refused.
		r := k.call("POST", "/contacts", map[string]any{"name": "Other", "email": "other@example.com"}, "Idempotency-Key", "create-once-1").
			expect(http.StatusUnprocessableEntity)
		if r.str("code") != "idempotency_key_reused" {
			t.Fatalf("reuse: %s", r.body)
		}
		// Refusals are answers too: replayed, not acted again.
		bad := map[string]any{"name": "", "email": "x"}
		k.call("POST", "/contacts", bad, "Idempotency-Key", "bad-1").expect(http.StatusUnprocessableEntity)
		if r := k.call("POST", "/contacts", bad, "Idempotency-Key", "bad-1").expect(http.StatusUnprocessableEntity); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("refusal not replayed")
		}
		// Keys are per user: another user's same key acts.
		tm.adminKey.call("POST", "/contacts", map[string]any{"name": "Admin's", "email": "admins@example.com"}, "Idempotency-Key", "create-once-1").
			expect(http.StatusCreated)
		k.call("POST", "/contacts", body, "Idempotency-Key", "with space").expect(http.StatusBadRequest)
		k.call("POST", "/contacts", body, "Idempotency-Key", strings.Repeat("k", 256)).expect(http.StatusBadRequest)
		// A note too.
		cid := first.id("id")
		n1 := k.call("POST", fmt.Sprintf("/contacts/%d/notes", cid), map[string]any{"body": "hi"}, "Idempotency-Key", "note-1").expect(http.StatusCreated)
		n2 := k.call("POST", fmt.Sprintf("/contacts/%d/notes", cid), map[string]any{"body": "hi"}, "Idempotency-Key", "note-1").expect(http.StatusCreated)
		if n1.id("id") != n2.id("id") {
			t.Fatal("note made twice")
		}
		// An expired answer is forgotten: the key acts again.
		clock.advance(store.IdempotencyTTL + time.Hour)
		k.call("POST", "/contacts", map[string]any{"name": "Later", "email": "later@example.com"}, "Idempotency-Key", "create-once-1").
			expect(http.StatusCreated)
		if n, err := a.store.DeleteExpiredAPIState(context.Background()); err != nil || n == 0 {
			t.Fatalf("expired keys deleted: %d, %v", n, err)
		}
	})
}

func TestAPIRateLimitPerKey(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		cfg := testConfig()
		cfg.APIRate = store.RatePolicy{Rate: 2, Burst: 3}
		clock := useTestClock(t, st, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		a := newApp(t, st, nil, cfg)
		// A second instance on the same database shares the counter.
		b := newApp(t, st, nil, cfg)
		owner, _ := a.owner("Rate Owner", "Rate")
		k := a.apiKey(owner, "busy", "read")
		k2 := &apiClient{a: b, token: k.token}
		other := a.apiKey(owner, "quiet", "read")
		r := k.get("/me").expect(http.StatusOK)
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != "2" {
			t.Fatalf("headers: %v", r.header)
		}
		k2.get("/me").expect(http.StatusOK)
		k.get("/me").expect(http.StatusOK)
		r = k2.get("/me").expect(http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "1" || r.str("code") != "rate_limited" || r.header.Get("RateLimit-Remaining") != "0" {
			t.Fatalf("refusal: %v %s", r.header, r.body)
		}
		// Another key has its own bucket.
		other.get("/me").expect(http.StatusOK)
		// Half a second later (rate 2/s) one more request is allowed.
		clock.advance(500 * time.Millisecond)
		k.get("/me").expect(http.StatusOK)
		k.get("/me").expect(http.StatusTooManyRequests)
		clock.advance(10 * time.Second)
		for i := range 3 {
			if r := k.get("/me"); r.status != http.StatusOK {
				t.Fatalf("request %d after a quiet spell: %d", i, r.status)
			}
		}
		k.get("/me").expect(http.StatusTooManyRequests)
		if got := k.get("/me").header.Get("RateLimit-Reset"); got == "" {
			t.Fatal("no RateLimit-Reset")
		}
	})
}

// TestAPIRateLimitReservedTokens: with a large burst each instance reserves
// a few tokens per database write; across two instances the key never gets
// more than its burst.
func TestAPIRateLimitReservedTokens(t *testing.T) {
	storeEach(t, func(t *testing.T, st *store.Store) {
		cfg := testConfig()
		cfg.APIRate = store.RatePolicy{Rate: 50, Burst: 100}
		clock := useTestClock(t, st, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		a, b := newApp(t, st, nil, cfg), newApp(t, st, nil, cfg)
		owner, _ := a.owner("Burst Owner", "Burst")
		ka := a.apiKey(owner, "burst", "read")
		kb := &apiClient{a: b, token: ka.token}
		allowed, refusedA, refusedB := 0, false, false
		for i := 0; !refusedA || !refusedB; i++ {
			if i > 300 {
				t.Fatal("never refused")
			}
			k, refused := ka, &refusedA
			if i%3 == 2 {
				k, refused = kb, &refusedB
			}
			switch r := k.get("/me"); r.status {
			case http.StatusOK:
				allowed++
			case http.StatusTooManyRequests:
				*refused = true
			default:
				t.Fatalf("status %d", r.status)
			}
		}
		// Never more than the burst; less by at most what the two instances
		// may hold in reserve when the bucket runs dry (a batch in hand and
		// one being fetched, 10 tokens each).
		if allowed > 100 || allowed < 100-2*2*10 {
			t.Fatalf("%d requests allowed in one instant, want the burst of 100 less at most 40 held in reserve", allowed)
		}
		clock.advance(time.Second) // 50 more tokens; the reservations expired
		if r := kb.get("/me"); r.status != http.StatusOK {
			t.Fatalf("after a second: %d", r.status)
		}
	})
}
