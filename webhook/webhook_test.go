package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignatureIsHMACOfTimestampDotBody(t *testing.T) {
	at := time.Unix(1767225600, 0)
	body := []byte(`{"id":"evt_1"}`)
	h := Sign("whsec_x", at, body)
	m := hmac.New(sha256.New, []byte("whsec_x"))
	m.Write([]byte(strconv.FormatInt(at.Unix(), 10) + "." + string(body)))
	if want := "t=1767225600,v1=" + hex.EncodeToString(m.Sum(nil)); h != want {
		t.Fatalf("header %s, want %s", h, want)
	}
	if err := Verify("whsec_x", h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other body":   Verify("whsec_x", h, []byte(`{"id":"evt_2"}`), at, 5*time.Minute),
		"other secret": Verify("whsec_y", h, body, at, 5*time.Minute),
		"too old":      Verify("whsec_x", h, body, at.Add(time.Hour), 5*time.Minute),
		"other time":   Verify("whsec_x", strings.Replace(h, "t=1767225600", "t=1767225601", 1), body, at, 5*time.Minute),
		"malformed":    Verify("whsec_x", "v1=abc", body, at, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s verifies", name)
		}
	}
}

func TestOnlyPublicAddressesAreReached(t *testing.T) {
	for addr, public := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"100.64.0.1": false, "224.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != public {
			t.Errorf("%s public = %v, want %v", addr, got, public)
		}
	}
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1/", "http://[::1]:8080/x", "http://localhost/", "http://api.localhost/", "https://10.1.1.1/",
		"ftp://93.184.215.14/", "file:///etc/passwd", "http:///x"} {
		if err := CheckURL(ctx, u, false); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if err := CheckURL(ctx, "https://93.184.215.14/hook", false); err != nil {
		t.Errorf("public IP refused: %v", err)
	}
	if err := CheckURL(ctx, "http://127.0.0.1:9/", true); err != nil {
		t.Errorf("private target refused although allowed: %v", err)
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	w := &Worker{cfg: Config{Backoff: 10 * time.Second, MaxBackoff: time.Hour}}
	for n, base := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 5: 160 * time.Second, 30: time.Hour} {
		for range 20 {
			d := w.backoff(n)
			if d < base*4/5 || d > base*6/5 {
				t.Fatalf("attempt %d waits %s, want %s ± 20%%", n, d, base)
			}
		}
	}
}
