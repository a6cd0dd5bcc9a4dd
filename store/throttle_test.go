package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := store.ThrottlePolicy{Limit: 3, Window: 10 * time.Minute, Lock: 15 * time.Minute}
		email := store.ThrottleKey{Key: "email:a@x", Policy: p}
		ip := store.ThrottleKey{Key: "ip:1", Policy: store.ThrottlePolicy{Limit: 10, Window: 10 * time.Minute, Lock: 15 * time.Minute}}
		for i := 0; i < 3; i++ {
			if until, err := s.ReserveLogin(ctx, email, ip); err != nil || !until.IsZero() {
				t.Fatalf("attempt %d refused (until %v, %v)", i+1, until, err)
			}
		}
		until, err := s.ReserveLogin(ctx, email, ip)
		if err != nil || until.Before(time.Now().Add(14*time.Minute)) {
			t.Errorf("4th attempt: locked until %v (%v), want about 15 minutes", until, err)
		}
		// The refused attempt charged nothing: the address has 7 left.
		for i := 0; i < 7; i++ {
			other := store.ThrottleKey{Key: fmt.Sprintf("email:%d@x", i), Policy: p}
			if until, _ := s.ReserveLogin(ctx, other, ip); !until.IsZero() {
				t.Fatalf("address refused after %d more attempts", i)
			}
		}
		if until, _ := s.ReserveLogin(ctx, store.ThrottleKey{Key: "email:new@x", Policy: p}, ip); until.IsZero() {
			t.Errorf("address allowed an 11th attempt")
		}
		// A success clears the email and gives its attempt back to the address.
		if err := s.LoginSucceeded(ctx, "email:0@x", "ip:1"); err != nil {
			t.Fatal(err)
		}
		if until, _ := s.ReserveLogin(ctx, store.ThrottleKey{Key: "email:0@x", Policy: p}, ip); !until.IsZero() {
			t.Errorf("attempt after a success refused")
		}
		// A lock that has run out starts afresh.
		defer s.SetClock(func() time.Time { return time.Now().Add(16 * time.Minute) })()
		if until, _ := s.ReserveLogin(ctx, email); !until.IsZero() {
			t.Errorf("still locked after the lock ran out")
		}
	})
}

func TestLoginThrottleWindowPasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		k := store.ThrottleKey{Key: "ip:1", Policy: store.ThrottlePolicy{Limit: 3, Window: 10 * time.Minute, Lock: 15 * time.Minute}}
		s.ReserveLogin(ctx, k)
		s.ReserveLogin(ctx, k)
		defer s.SetClock(func() time.Time { return time.Now().Add(11 * time.Minute) })()
		s.ReserveLogin(ctx, k)
		s.ReserveLogin(ctx, k)
		if until, _ := s.ReserveLogin(ctx, k); !until.IsZero() {
			t.Errorf("attempts outside the window still counted")
		}
		if until, _ := s.ReserveLogin(ctx, k); until.IsZero() {
			t.Errorf("4th attempt in the new window allowed")
		}
	})
}

// A burst of parallel attempts for one key gets exactly Limit through.
func TestLoginThrottleBurst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		p := store.ThrottlePolicy{Limit: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute}
		var allowed, refused atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				until, err := s.ReserveLogin(ctx, store.ThrottleKey{Key: "email:burst@x", Policy: p},
					store.ThrottleKey{Key: "ip:9", Policy: store.ThrottlePolicy{Limit: 30, Window: 15 * time.Minute, Lock: 15 * time.Minute}})
				switch {
				case err != nil:
					errs <- err
				case until.IsZero():
					allowed.Add(1)
				default:
					refused.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("reserve: %v", err)
		}
		if allowed.Load() != 5 || refused.Load() != 35 {
			t.Errorf("allowed %d, refused %d; want 5 and 35", allowed.Load(), refused.Load())
		}
	})
}
