package google

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// Every error a Client or Config method returns wraps one of these (test with
// errors.Is), except programming errors such as a malformed endpoint URL.
var (
	// ErrNotConnected: the user has no Google token. Show "Connect Google".
	ErrNotConnected = errors.New("google: account not connected")
	// ErrReauth: the grant was revoked or expired beyond refresh. Show "Reconnect".
	ErrReauth = errors.New("google: access revoked or expired, reconnect the account")
	// ErrForbidden: the token lacks a needed permission (scope) or the account may
	// not do this. Reconnecting and granting every permission usually helps.
	ErrForbidden = errors.New("google: permission denied")
	// ErrUnavailable: Google is down, rate-limiting, slow or unreachable. Try later.
	ErrUnavailable = errors.New("google: unavailable, try again later")
	// ErrNotFound: the thread, task list, task or event does not exist (any more).
	ErrNotFound = errors.New("google: not found")
	// ErrInvalid: the input was refused (locally or by Google as a bad request).
	ErrInvalid = errors.New("google: invalid request")
)

var sentinels = []error{ErrNotConnected, ErrReauth, ErrForbidden, ErrUnavailable, ErrNotFound, ErrInvalid}

// statusError is a non-2xx answer from an endpoint we call without a library.
type statusError struct {
	op   string
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("google: %s: HTTP %d: %s", e.op, e.code, strings.TrimSpace(e.body))
}

// classify wraps err with the sentinel that says what the caller should do, keeping
// the original in the chain. Errors it cannot place come back unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	if s := sentinelFor(err); s != nil {
		return fmt.Errorf("%w: %w", s, err)
	}
	return err
}

func sentinelFor(err error) error {
	// A failed token refresh reaches us inside the *url.Error of the API call.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client" ||
			re.ErrorCode == "invalid_token":
			return ErrReauth
		case re.Response != nil && statusUnavailable(re.Response.StatusCode):
			return ErrUnavailable
		case re.ErrorCode == "invalid_client":
			return ErrForbidden // Sherpa's OAuth client is misconfigured or deleted
		case re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized:
			return ErrReauth
		}
		return nil
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return sentinelForStatus(ge.Code, ge)
	}
	var se *statusError
	if errors.As(err, &se) {
		return sentinelForStatus(se.code, nil)
	}
	// The oauth2 package says this with a plain string.
	if strings.Contains(err.Error(), "refresh token is not set") {
		return ErrReauth
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ErrUnavailable
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var netErr net.Error
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		(errors.As(err, &netErr) && netErr.Timeout()) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrUnavailable
	}
	return nil
}

func statusUnavailable(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

func sentinelForStatus(code int, ge *googleapi.Error) error {
	switch {
	case code == http.StatusUnauthorized:
		return ErrReauth
	case code == http.StatusForbidden:
		// Google answers some quota errors with 403 too.
		if ge != nil {
			for _, item := range ge.Errors {
				switch item.Reason {
				case "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded":
					return ErrUnavailable
				}
			}
		}
		return ErrForbidden
	case code == http.StatusNotFound || code == http.StatusGone:
		return ErrNotFound
	case statusUnavailable(code):
		return ErrUnavailable
	case code == http.StatusBadRequest:
		return ErrInvalid
	}
	return nil
}

// MaybeDone reports whether a failed write may still have been carried out
// by Google: it timed out, the connection broke, or Google answered a server
// error. A refusal (4xx, a rate limit, a failed token refresh) means nothing
// was done.
func MaybeDone(err error) bool {
	if err == nil || !errors.Is(err, ErrUnavailable) {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return false
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code >= 500
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.code >= 500
	}
	return true
}
