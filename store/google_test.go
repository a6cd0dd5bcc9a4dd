package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestGoogleAccountIsSavedReplacedAndDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ann, bob := newUser(t, s, "ann"), newUser(t, s, "bob")
		if _, err := s.GoogleAccount(ctx, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before connecting: err = %v, want ErrNotFound", err)
		}
		sealed := []byte{1, 0, 0xff, 'x', 0} // arbitrary bytes survive as they are
		if err := s.SaveGoogleAccount(ctx, ann.ID, "ann@gmail.com", sealed); err != nil {
			t.Fatal(err)
		}
		got, err := s.GoogleAccount(ctx, ann.ID)
		if err != nil || got.GoogleEmail != "ann@gmail.com" || !bytes.Equal(got.SealedToken, sealed) || got.ConnectedAt.IsZero() {
			t.Fatalf("GoogleAccount = %+v, %v", got, err)
		}
		if _, err := s.GoogleAccount(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("bob sees an account: %v", err)
		}

		// Reconnecting replaces the account.
		if err := s.SaveGoogleAccount(ctx, ann.ID, "ann.work@gmail.com", []byte("second")); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GoogleAccount(ctx, ann.ID)
		if got.GoogleEmail != "ann.work@gmail.com" || string(got.SealedToken) != "second" {
			t.Errorf("after reconnecting: %+v", got)
		}

		// A refresh for the account that was replaced changes nothing.
		if err := s.UpdateGoogleToken(ctx, ann.ID, "ann@gmail.com", []byte("stale")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refresh of the old account: err = %v, want ErrNotFound", err)
		}
		if err := s.UpdateGoogleToken(ctx, ann.ID, "ann.work@gmail.com", []byte("refreshed")); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GoogleAccount(ctx, ann.ID)
		if string(got.SealedToken) != "refreshed" {
			t.Errorf("token after refresh = %q", got.SealedToken)
		}

		if err := s.DeleteGoogleAccount(ctx, ann.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GoogleAccount(ctx, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after disconnecting: err = %v", err)
		}
		if err := s.DeleteGoogleAccount(ctx, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second disconnect: err = %v, want ErrNotFound", err)
		}
		// A refresh arriving after the disconnect does not bring it back.
		if err := s.UpdateGoogleToken(ctx, ann.ID, "ann.work@gmail.com", []byte("late")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("late refresh: err = %v, want ErrNotFound", err)
		}
		if _, err := s.GoogleAccount(ctx, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("late refresh recreated the account")
		}
	})
}

func TestOAuthStateIsSingleUseAndPerUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ann, eve := newUser(t, s, "ann"), newUser(t, s, "eve")
		st := &store.OAuthState{StateHash: "hash-1", UserID: ann.ID, VerifierSealed: []byte("sealed verifier"), ReturnTo: "/contacts/12?tab=emails"}
		if err := s.CreateOAuthState(ctx, st, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeOAuthState(ctx, "hash-1", eve.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another user's state: err = %v, want ErrNotFound", err)
		}
		got, err := s.TakeOAuthState(ctx, "hash-1", ann.ID)
		if err != nil {
			t.Fatalf("ann's state (after eve's attempt): %v", err)
		}
		if string(got.VerifierSealed) != "sealed verifier" || got.ReturnTo != "/contacts/12?tab=emails" || got.UserID != ann.ID {
			t.Errorf("state = %+v", got)
		}
		if _, err := s.TakeOAuthState(ctx, "hash-1", ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second use: err = %v, want ErrNotFound", err)
		}
		if _, err := s.TakeOAuthState(ctx, "never-issued", ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown state: err = %v, want ErrNotFound", err)
		}
	})
}

func TestOAuthStateExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ann := newUser(t, s, "ann")
		start := time.Now().UTC()
		s.SetClock(func() time.Time { return start })
		for _, h := range []string{"old", "older"} {
			if err := s.CreateOAuthState(ctx, &store.OAuthState{StateHash: h, UserID: ann.ID, VerifierSealed: []byte("v"), ReturnTo: "/profile"}, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		s.SetClock(func() time.Time { return start.Add(10*time.Minute + time.Second) })
		got, err := s.TakeOAuthState(ctx, "old", ann.ID)
		if !errors.Is(err, store.ErrExpired) || got == nil || got.ReturnTo != "/profile" {
			t.Fatalf("expired state: %+v, err = %v; want the state and ErrExpired", got, err)
		}
		if _, err := s.TakeOAuthState(ctx, "old", ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired state is still there: %v", err)
		}
		// Creating a state sweeps away the expired ones.
		if err := s.CreateOAuthState(ctx, &store.OAuthState{StateHash: "new", UserID: ann.ID, VerifierSealed: []byte("v"), ReturnTo: "/"}, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.DB.NewRaw("SELECT COUNT(*) FROM oauth_states").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d states after the sweep, want 1 (the new one)", n)
		}
		if _, err := s.TakeOAuthState(ctx, "new", ann.ID); err != nil {
			t.Errorf("fresh state: %v", err)
		}
	})
}

func TestTaskListIDIsRememberedPerUserAndContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ann, bob := newUser(t, s, "ann"), newUser(t, s, "bob")
		if _, err := s.TaskListID(ctx, ann.ID, 7); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before: err = %v, want ErrNotFound", err)
		}
		if err := s.SetTaskListID(ctx, ann.ID, 7, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTaskListID(ctx, ann.ID, 8, "list-for-8"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTaskListID(ctx, bob.ID, 7, "bobs-list"); err != nil {
			t.Fatal(err)
		}
		// Ids are case-sensitive.
		if err := s.SetTaskListID(ctx, bob.ID, 9, "MTIZNDU2NZG5MDEYMZQ1NJC4OTA"); err != nil {
			t.Fatal(err)
		}
		check := func(user, contact int64, want string) {
			t.Helper()
			if got, err := s.TaskListID(ctx, user, contact); err != nil || got != want {
				t.Errorf("TaskListID(%d, %d) = %q, %v; want %q", user, contact, got, err, want)
			}
		}
		check(ann.ID, 7, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA")
		check(ann.ID, 8, "list-for-8")
		check(bob.ID, 7, "bobs-list")
		check(bob.ID, 9, "MTIZNDU2NZG5MDEYMZQ1NJC4OTA")
		// A list deleted in Google is replaced by a new one.
		if err := s.SetTaskListID(ctx, ann.ID, 7, "recreated"); err != nil {
			t.Fatal(err)
		}
		check(ann.ID, 7, "recreated")
		check(bob.ID, 7, "bobs-list")
	})
}
