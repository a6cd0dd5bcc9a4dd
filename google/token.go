package google

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// tokenKeyInfo labels the derived key, so the app secret's other uses (sessions)
// never share a key with token encryption.
const tokenKeyInfo = "sherpa google oauth token encryption v1"

// sealVersion is the first byte of a sealed token, so the format can change.
const sealVersion byte = 1

// DeriveKey turns the application secret into the 32-byte AES-256 key that
// SealToken and OpenToken use (HKDF-SHA256 with a purpose label).
func DeriveKey(secret []byte) ([]byte, error) {
	if len(secret) < 16 {
		return nil, errors.New("google: secret too short to derive a token key (need 16 bytes or more)")
	}
	return hkdf.Key(sha256.New, secret, nil, tokenKeyInfo, 32)
}

// SealToken encrypts tok with AES-256-GCM under key (from DeriveKey) and a random
// nonce. The result is version || nonce || ciphertext, ready to store as bytes.
func SealToken(key []byte, tok *oauth2.Token) ([]byte, error) {
	if tok == nil {
		return nil, errors.New("google: nil token")
	}
	aead, err := tokenAEAD(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(tok)
	if err != nil {
		return nil, fmt.Errorf("google: encode token: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("google: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, out[:1]), nil
}

// OpenToken decrypts what SealToken produced. Any change to the bytes, or the
// wrong key, is an error.
func OpenToken(key []byte, sealed []byte) (*oauth2.Token, error) {
	aead, err := tokenAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("google: sealed token malformed")
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], sealed[:1])
	if err != nil {
		return nil, errors.New("google: sealed token does not decrypt (wrong key or tampered)")
	}
	var tok oauth2.Token
	if err := json.Unmarshal(plain, &tok); err != nil {
		return nil, fmt.Errorf("google: decode token: %w", err)
	}
	return &tok, nil
}

func tokenAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("google: token key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
