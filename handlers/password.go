package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost settings.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow OWASP's argon2id minimum (19 MiB, 2 passes).
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// hashPassword returns a PHC-style argon2id string with a random salt.
func hashPassword(p PasswordParams, password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// HashPassword hashes a password for storage; the seed command uses it for
// demo accounts.
func HashPassword(p PasswordParams, password string) string { return hashPassword(p, password) }

// checkPassword reports whether password matches an argon2id hash made by
// hashPassword, with the cost settings stored in the hash.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// errHasherBusy is a password check or hash that found no free slot in time.
var errHasherBusy = errors.New("password hashing is busy")

// busyMessage is what a refused login, sign-up or password change says.
const busyMessage = "Sherpa is busy checking other logins right now; nothing was changed. Please try again in a few seconds."

// hasher runs argon2id under a bounded pool: each hash holds Memory KiB, so
// at most slots of them run at once and the process's memory stays bounded
// however many logins arrive together. Login, sign-up and password change
// share it.
type hasher struct {
	params PasswordParams
	slots  chan struct{}
	wait   time.Duration
	// onCheck, when set, is told of every password check.
	onCheck func()
}

func newHasher(p PasswordParams, slots int, wait time.Duration, onCheck func()) *hasher {
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	return &hasher{params: p, slots: make(chan struct{}, slots), wait: wait, onCheck: onCheck}
}

// acquire takes a slot, waiting at most h.wait; errHasherBusy when none
// came free.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-t.C:
		return nil, errHasherBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for password hashing: %w", ctx.Err())
	}
}

// check reports whether password matches hash, in a slot of the pool.
func (h *hasher) check(ctx context.Context, hash, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if h.onCheck != nil {
		h.onCheck()
	}
	return checkPassword(hash, password), nil
}

// hash hashes a new password, in a slot of the pool.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPassword(h.params, password), nil
}

// busyStatus marks a response to a request the hashing pool had no room
// for: 503 with Retry-After, so clients back off instead of piling on.
func busyStatus(c *fiber.Ctx) int {
	c.Set(fiber.HeaderRetryAfter, "2")
	return fiber.StatusServiceUnavailable
}
