package google

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"sherpa/google/sandbox"
)

// everyCall runs each Client method once and answers its error by name.
func everyCall(cl *Client, listID string) map[string]error {
	ctx := context.Background()
	start := time.Now().Add(time.Hour)
	errs := map[string]error{}
	_, errs["UserEmail"] = cl.UserEmail(ctx)
	_, errs["SendEmail"] = cl.SendEmail(ctx, EmailDraft{To: contactEmail, Subject: "s", Body: "b"})
	_, _, errs["ListThreads"] = cl.ListThreads(ctx, contactEmail, 5, "")
	_, errs["Reply"] = cl.Reply(ctx, "some-thread", contactEmail, "b", "")
	_, errs["EnsureTaskList"] = cl.EnsureTaskList(ctx, listID, "Sherpa: Bob")
	_, errs["AddTask"] = cl.AddTask(ctx, listID, "t", start, "")
	_, errs["ListTasks"] = cl.ListTasks(ctx, listID)
	_, errs["CompleteTask"] = cl.CompleteTask(ctx, listID, "some-task")
	_, errs["CreateMeeting"] = cl.CreateMeeting(ctx, MeetingInput{Title: "m", Start: start, End: start.Add(time.Hour), Attendee: contactEmail})
	_, errs["ListMeetings"] = cl.ListMeetings(ctx, contactEmail, time.Time{}, time.Time{})
	return errs
}

func TestFailureModesAnswerTheirSentinel(t *testing.T) {
	tests := []struct {
		mode sandbox.Mode
		want error
	}{
		{sandbox.InvalidGrant, ErrReauth},
		{sandbox.Forbidden, ErrForbidden},
		{sandbox.RateLimit, ErrUnavailable},
		{sandbox.ServerError, ErrUnavailable},
		{sandbox.Slow, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			e := newEnv(t, sandbox.Options{SlowDelay: 5 * time.Second})
			e.cfg.Timeout = 300 * time.Millisecond
			cl := e.client(t, userEmail)
			listID, err := cl.EnsureTaskList(context.Background(), "", "Sherpa: Bob")
			if err != nil {
				t.Fatal(err)
			}

			e.fake.Fail(tt.mode)
			for name, err := range everyCall(cl, listID) {
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", name, err, tt.want)
				}
			}

			// Nothing was done while failing.
			e.fake.Fail(sandbox.None)
			if meetings, err := cl.ListMeetings(context.Background(), contactEmail, time.Time{}, time.Time{}); err != nil || len(meetings) != 0 {
				t.Errorf("after the failure: %d meetings, %v; want none", len(meetings), err)
			}
			if threads, _, err := cl.ListThreads(context.Background(), contactEmail, 5, ""); err != nil || len(threads) != 0 {
				t.Errorf("after the failure: %d threads, %v; want none", len(threads), err)
			}
		})
	}
}

func TestFailedRefreshAnswersItsSentinel(t *testing.T) {
	tests := []struct {
		mode sandbox.Mode
		want error
	}{
		{sandbox.InvalidGrant, ErrReauth},
		{sandbox.ServerError, ErrUnavailable},
		{sandbox.Slow, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			// Every call must refresh first; only the token endpoint fails.
			e := newEnv(t, sandbox.Options{TokenLifetime: 5 * time.Second, SlowDelay: 5 * time.Second})
			e.cfg.Timeout = 300 * time.Millisecond
			tok := e.connect(t, userEmail)
			refreshed := false
			cl, err := e.cfg.NewClient(context.Background(), tok, func(*oauth2.Token) { refreshed = true })
			if err != nil {
				t.Fatal(err)
			}
			e.fake.FailPath("/token", tt.mode)
			if _, err := cl.UserEmail(context.Background()); !errors.Is(err, tt.want) {
				t.Fatalf("UserEmail: %v, want %v", err, tt.want)
			}
			if refreshed {
				t.Error("OnTokenRefresh called though the refresh failed")
			}
			if n := len(e.fake.RequestsTo("GET", "/userinfo")); n != 0 {
				t.Errorf("%d API calls went out without a fresh token", n)
			}
		})
	}
}

func TestFailPathOnlyFailsThatPath(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	e.fake.FailPath("/gmail/", sandbox.ServerError)
	if _, err := cl.SendEmail(context.Background(), EmailDraft{To: contactEmail, Subject: "s", Body: "b"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("SendEmail: %v, want ErrUnavailable", err)
	}
	if _, err := cl.EnsureTaskList(context.Background(), "", "Sherpa: Bob"); err != nil {
		t.Errorf("Tasks failed too: %v", err)
	}
}

func TestUnreachableGoogleIsUnavailable(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	e.fake.Close()
	if _, err := cl.UserEmail(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("UserEmail with Google gone: %v, want ErrUnavailable", err)
	}
	if _, err := e.cfg.Exchange(context.Background(), "code", "verifier"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Exchange with Google gone: %v, want ErrUnavailable", err)
	}
}

func TestClassify(t *testing.T) {
	apiErr := func(code int, reason string) error {
		return fmt.Errorf("wrapped: %w", &googleapi.Error{Code: code, Errors: []googleapi.ErrorItem{{Reason: reason}}})
	}
	retrieveErr := func(status int, code string) error {
		return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status}, ErrorCode: code}
	}
	plain := errors.New("something else")
	tests := []struct {
		name string
		err  error
		want error // nil: unchanged
	}{
		{"401", apiErr(401, "authError"), ErrReauth},
		{"403 scopes", apiErr(403, "insufficientPermissions"), ErrForbidden},
		{"403 rate limit", apiErr(403, "rateLimitExceeded"), ErrUnavailable},
		{"404", apiErr(404, "notFound"), ErrNotFound},
		{"410", apiErr(410, "deleted"), ErrNotFound},
		{"400", apiErr(400, "invalid"), ErrInvalid},
		{"429", apiErr(429, "rateLimitExceeded"), ErrUnavailable},
		{"500", apiErr(500, "backendError"), ErrUnavailable},
		{"503", apiErr(503, ""), ErrUnavailable},
		{"invalid_grant", retrieveErr(400, "invalid_grant"), ErrReauth},
		{"token endpoint down", retrieveErr(503, ""), ErrUnavailable},
		{"invalid_client", retrieveErr(401, "invalid_client"), ErrForbidden},
		{"no refresh token", errors.New("oauth2: token expired and refresh token is not set"), ErrReauth},
		{"deadline", fmt.Errorf("call: %w", context.DeadlineExceeded), ErrUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ErrUnavailable},
		{"revoke 500", &statusError{op: "revoke", code: 500}, ErrUnavailable},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) {
			t.Errorf("%s: %v, want %v wrapping the original", tt.name, got, tt.want)
		}
		for _, s := range sentinels {
			if s != tt.want && errors.Is(got, s) {
				t.Errorf("%s: also matches %v", tt.name, s)
			}
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
	if got := classify(plain); got != plain {
		t.Errorf("unknown error changed to %v", got)
	}
	once := classify(apiErr(500, ""))
	if twice := classify(once); twice != once {
		t.Errorf("classified twice: %v", twice)
	}
}
