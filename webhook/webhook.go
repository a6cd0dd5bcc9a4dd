// Package webhook sends Sherpa's webhook deliveries: it signs each body,
// refuses to send inside the network (loopback, private, link-local and
// other non-public addresses, checked on the address actually dialled, so a
// DNS answer that changes after registration cannot aim a delivery inside),
// and runs the worker that leases due deliveries from the database queue,
// sends them and records each outcome.
//
// webhook imports store and nothing else of the project.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Headers of a delivery.
const (
	SignatureHeader = "Sherpa-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256>
	EventHeader     = "Sherpa-Event"     // the event type
	DeliveryHeader  = "Sherpa-Delivery"  // the delivery id
	EventIDHeader   = "Sherpa-Event-Id"  // evt_<id>, the same for redeliveries
)

// Sign is the signature header of a body sent at t: the HMAC-SHA256, under
// the endpoint's secret, of the Unix time in seconds, a dot and the body.
// The time is inside the signed text so a receiver can refuse old replays.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header as a receiver should: the MAC matches
// and the time is within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("malformed signature header")
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, ts, body))) {
		return errors.New("signature does not match")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("signature too old")
	}
	return nil
}

// ErrPrivateAddress refuses a target inside the network.
var ErrPrivateAddress = errors.New("the address is private, loopback or link-local, which webhooks may not reach")

// publicAddr reports whether an address is one webhooks may reach.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !cgnat.Contains(a)
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), not
// covered by IsPrivate but not public either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckURL checks an endpoint URL at registration: http(s), and (unless
// private targets are allowed) a host whose every address is public.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errors.New("only absolute http and https URLs can receive webhooks")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !publicAddr(a) {
			return ErrPrivateAddress
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return ErrPrivateAddress
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("the host %s does not resolve", host)
	}
	for _, a := range addrs {
		if !publicAddr(a) {
			return ErrPrivateAddress
		}
	}
	return nil
}

// NewClient is the HTTP client deliveries go out with: a timeout, no
// redirects followed (a redirect could point inside), no proxy from the
// environment, and, unless private targets are allowed, a dialer that
// refuses any non-public address at connect time.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return ErrPrivateAddress
			}
			return nil
		}
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
