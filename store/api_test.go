package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestAPIKeyLookupAndMembership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		k, token, err := s.CreateAPIKey(ctx, member, "script", store.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		if k.TokenHash == token || len(token) < 40 {
			t.Fatalf("token %q kept as %q", token, k.TokenHash)
		}
		got, u, tm, err := s.APIKeyUser(ctx, token)
		if err != nil || got.ID != k.ID || u.ID != member.ID || tm.ID != team.ID || u.Role != store.RoleMember || got.CanWrite() {
			t.Fatalf("lookup: %+v %+v %+v %v", got, u, tm, err)
		}
		// The role is the user's current one.
		if err := s.SetMemberRole(ctx, team.ID, member.ID, store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if _, u, _, _ := s.APIKeyUser(ctx, token); u.Role != store.RoleAdmin {
			t.Fatalf("role after promotion: %s", u.Role)
		}
		for _, bad := range []string{"", token + "x", "sherpa_", token[:len(token)-1]} {
			if _, _, _, err := s.APIKeyUser(ctx, bad); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%q: %v", bad, err)
			}
		}
		if fe := fieldErrors(t, func() error { _, _, err := s.CreateAPIKey(ctx, owner, " ", "all"); return err }()); fe["name"] == "" || fe["scope"] == "" {
			t.Fatalf("field errors: %v", fe)
		}
		// Leaving the team ends the key.
		if _, err := s.LeaveTeam(ctx, team.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.APIKeyUser(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after leaving: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, owner.ID, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("someone else's key revoked: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, member.ID, k.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRateLimitIsOneBucketPerKey checks the GCRA arithmetic with a fixed
// clock, and that concurrent requests never take more than the burst.
func TestRateLimitIsOneBucketPerKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, owner, _, _ := teamOf(t, s)
		k, _, err := s.CreateAPIKey(ctx, owner, "k", store.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		clk := useClock(s)
		p := store.RatePolicy{Rate: 10, Burst: 5}
		for i := range 5 {
			r, err := s.TakeRate(ctx, k.ID, p)
			if err != nil || !r.Allowed || r.Remaining != 4-i {
				t.Fatalf("request %d: %+v %v", i, r, err)
			}
		}
		r, _ := s.TakeRate(ctx, k.ID, p)
		if r.Allowed || r.RetryAfter != 100*time.Millisecond {
			t.Fatalf("sixth: %+v", r)
		}
		clk.t = clk.t.Add(100 * time.Millisecond)
		if r, _ := s.TakeRate(ctx, k.ID, p); !r.Allowed || r.Remaining != 0 {
			t.Fatalf("after 100 ms: %+v", r)
		}
		clk.t = clk.t.Add(time.Hour)
		// Concurrent requests on a full bucket: exactly the burst passes.
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.TakeRate(ctx, k.ID, p)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if r.Allowed {
					allowed++
				}
			}()
		}
		wg.Wait()
		if allowed != 5 {
			t.Fatalf("%d of 12 concurrent requests allowed, want the burst of 5", allowed)
		}
	})
}

func TestIdempotencyKeyClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, owner, admin, _ := teamOf(t, s)
		clk := useClock(s)
		ok, _, err := s.ClaimIdempotencyKey(ctx, owner.ID, "k1", "h1")
		if err != nil || !ok {
			t.Fatalf("first claim: %v %v", ok, err)
		}
		ok, prev, _ := s.ClaimIdempotencyKey(ctx, owner.ID, "k1", "h1")
		if ok || prev.Status != 0 {
			t.Fatalf("second claim while running: %v %+v", ok, prev)
		}
		if ok, _, _ := s.ClaimIdempotencyKey(ctx, admin.ID, "k1", "h1"); !ok {
			t.Fatal("keys are per user")
		}
		if err := s.FinishIdempotencyKey(ctx, owner.ID, "k1", 201, "/x", `{"id":1}`); err != nil {
			t.Fatal(err)
		}
		_, prev, _ = s.ClaimIdempotencyKey(ctx, owner.ID, "k1", "h1")
		if prev.Status != 201 || prev.Body != `{"id":1}` || prev.Location != "/x" {
			t.Fatalf("stored answer: %+v", prev)
		}
		// An abandoned claim (its instance died) is taken over after a minute.
		s.ClaimIdempotencyKey(ctx, owner.ID, "k2", "h")
		clk.t = clk.t.Add(2 * time.Minute)
		if ok, _, _ := s.ClaimIdempotencyKey(ctx, owner.ID, "k2", "h"); !ok {
			t.Fatal("abandoned claim not taken over")
		}
		// Released claims act again.
		if err := s.ReleaseIdempotencyKey(ctx, owner.ID, "k2"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.ClaimIdempotencyKey(ctx, owner.ID, "k2", "h"); !ok {
			t.Fatal("released claim not free")
		}
	})
}

// TestOutboxIsWrittenWithTheChange: every write method announces itself in
// its own transaction, only when something changed, and only to endpoints
// that asked for the event type.
func TestOutboxIsWrittenWithTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, member := teamOf(t, s)
		// No endpoint: nothing is recorded.
		addContact(t, s, team, owner, store.ContactInput{Name: "Before"})
		if n := countRows(t, s, "webhook_events"); n != 0 {
			t.Fatalf("%d events without endpoints", n)
		}
		all, err := s.CreateWebhookEndpoint(ctx, team.ID, owner, "https://example.com/all", store.WebhookEvents)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWebhookEndpoint(ctx, team.ID, member, "https://example.com/x", store.WebhookEvents); !errors.Is(err, store.ErrNotAllowed) {
			t.Fatalf("a member registered an endpoint: %v", err)
		}
		if _, err := s.CreateWebhookEndpoint(ctx, team.ID, owner, "https://example.com/won", []string{store.EventDealWon}); err != nil {
			t.Fatal(err)
		}
		c := addContact(t, s, team, owner, store.ContactInput{Name: "Ann"})
		if _, err := s.UpdateContact(ctx, team.ID, owner, c.ID, c.Version+5, store.ContactInput{Name: "Stale", Email: c.Email}); !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
		if _, err := s.CreateContact(ctx, team.ID, owner, store.ContactInput{Name: "Dup", Email: c.Email}); err == nil {
			t.Fatal("duplicate created")
		}
		d := addDeal(t, s, team, owner, c, store.DealInput{Name: "D"})
		if _, err := s.MoveDeal(ctx, team.ID, owner, d.ID, store.MoveInput{Stage: store.StageWon, Amount: "5"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReopenDeal(ctx, team.ID, owner, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignContact(ctx, team.ID, owner, c.ID, member.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddNote(ctx, team.ID, member, c.ID, "hello"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDeal(ctx, team.ID, owner, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteContact(ctx, team.ID, owner, c.ID); err != nil {
			t.Fatal(err)
		}
		var types []string
		if err := s.DB.NewSelect().Table("webhook_events").Column("type").Order("id").Scan(ctx, &types); err != nil {
			t.Fatal(err)
		}
		want := "contact.created deal.created deal.updated deal.stage_changed deal.won deal.updated deal.stage_changed contact.updated note.added deal.deleted contact.deleted"
		if got := joinWords(types); got != want {
			t.Fatalf("events:\n got %s\nwant %s", got, want)
		}
		// One delivery per subscribed endpoint: 11 to "all", 1 to "won".
		if n := countRows(t, s, "webhook_deliveries"); n != 12 {
			t.Fatalf("%d deliveries, want 12", n)
		}
		ds, _ := s.WebhookDeliveries(ctx, team.ID, all.ID, 100)
		if len(ds) != 11 {
			t.Fatalf("%d deliveries to the all-events endpoint", len(ds))
		}
	})
}

func countRows(t *testing.T, s *store.Store, table string) int {
	t.Helper()
	n, err := s.DB.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func joinWords(w []string) string {
	out := ""
	for i, x := range w {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestAnotherTeamsWebhooksAreNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		teamA, ownerA, _, _ := teamOf(t, s)
		teamB, ownerB, _, _ := teamOf(t, s)
		ep, err := s.CreateWebhookEndpoint(ctx, teamA.ID, ownerA, "https://a.example/hook", []string{store.EventContactCreated})
		if err != nil {
			t.Fatal(err)
		}
		addContact(t, s, teamA, ownerA, store.ContactInput{Name: "A"})
		ds, err := s.WebhookDeliveries(ctx, teamA.ID, 0, 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries: %v %v", ds, err)
		}
		b := teamB.ID
		_, e1 := s.WebhookEndpointByID(ctx, b, ep.ID)
		_, e2 := s.RedeliverWebhook(ctx, b, ownerB, ds[0].ID)
		for name, err := range map[string]error{
			"WebhookEndpointByID":   e1,
			"RedeliverWebhook":      e2,
			"DeleteWebhookEndpoint": s.DeleteWebhookEndpoint(ctx, b, ownerB, ep.ID),
			"EnableWebhookEndpoint": s.EnableWebhookEndpoint(ctx, b, ownerB, ep.ID),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s with another team's id: %v", name, err)
			}
		}
		if ds, _ := s.WebhookDeliveries(ctx, b, 0, 10); len(ds) != 0 {
			t.Fatalf("team B sees team A's deliveries: %v", ds)
		}
		if _, err := s.CreateWebhookEndpoint(ctx, teamA.ID, ownerB, "https://b.example/", store.WebhookEvents); !errors.Is(err, store.ErrNotAllowed) {
			t.Fatalf("endpoint in another team: %v", err)
		}
	})
}
