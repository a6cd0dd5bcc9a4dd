package google

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func testKey(t *testing.T) []byte {
	t.Helper()
	key, err := DeriveKey([]byte("an application secret of some length"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var secretToken = &oauth2.Token{
	AccessToken:  "ya29.very-secret-access",
	RefreshToken: "1//very-secret-refresh",
	TokenType:    "Bearer",
	Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
}

func TestSealedTokenOpensToTheSameToken(t *testing.T) {
	key := testKey(t)
	sealed, err := SealToken(key, secretToken)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenToken(key, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != secretToken.AccessToken || got.RefreshToken != secretToken.RefreshToken ||
		got.TokenType != secretToken.TokenType || !got.Expiry.Equal(secretToken.Expiry) {
		t.Fatalf("opened %+v, want %+v", got, secretToken)
	}
}

func TestSealedTokenDoesNotShowTheSecrets(t *testing.T) {
	sealed, err := SealToken(testKey(t), secretToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{secretToken.AccessToken, secretToken.RefreshToken, "very-secret"} {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
			if bytes.Contains(sealed, []byte(form)) {
				t.Errorf("sealed bytes contain %q", form)
			}
		}
	}
}

func TestSealingTwiceUsesFreshNonces(t *testing.T) {
	key := testKey(t)
	a, _ := SealToken(key, secretToken)
	b, _ := SealToken(key, secretToken)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one token are identical: nonce reused")
	}
}

func TestTamperedSealedTokenDoesNotOpen(t *testing.T) {
	key := testKey(t)
	sealed, err := SealToken(key, secretToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 12, 13, len(sealed) / 2, len(sealed) - 1} {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := OpenToken(key, bad); err == nil {
			t.Errorf("flipping a bit of byte %d went unnoticed", i)
		}
	}
	if _, err := OpenToken(key, sealed[:len(sealed)-1]); err == nil {
		t.Error("truncated token opened")
	}
	if _, err := OpenToken(key, nil); err == nil {
		t.Error("empty input opened")
	}
}

func TestSealedTokenNeedsTheSameKey(t *testing.T) {
	sealed, _ := SealToken(testKey(t), secretToken)
	other, err := DeriveKey([]byte("another application secret!!"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenToken(other, sealed); err == nil {
		t.Fatal("opened with another key")
	}
}

func TestDeriveKey(t *testing.T) {
	a1, err := DeriveKey([]byte("0123456789abcdef-secret"))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := DeriveKey([]byte("0123456789abcdef-secret"))
	b, _ := DeriveKey([]byte("0123456789abcdef-other"))
	if len(a1) != 32 || !bytes.Equal(a1, a2) || bytes.Equal(a1, b) {
		t.Fatalf("DeriveKey: want 32 bytes, the same for one secret, different for another")
	}
	if bytes.Contains(a1, []byte("secret")) {
		t.Fatal("key contains the secret")
	}
	if _, err := DeriveKey([]byte("short")); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	if _, err := SealToken([]byte("short key"), secretToken); err == nil {
		t.Fatal("SealToken accepted a key that is not 32 bytes")
	}
}
