package handlers

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestSessionCodec: the binary form round-trips what Sherpa puts in a
// session, other values fall back to gob, sessions stored as gob by earlier
// versions still decode, and damaged data is an error, never a panic.
func TestSessionCodec(t *testing.T) {
	sc := sessionCodec{}
	deadline := time.Now().Add(time.Hour).Truncate(time.Nanosecond)
	for _, values := range []map[string]any{
		{},
		{keyUserID: int64(42), keyLoginAt: int64(-7), keyFlashKind: "success", keyFlashMsg: "Contact Ann saved. ✓", "b": true, "f": false},
		{"odd": 3.5, keyUserID: int64(1)}, // a float: gob
	} {
		b, err := sc.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		dl, got, err := sc.Decode(b)
		if err != nil {
			t.Fatalf("decode %v: %v", values, err)
		}
		if !dl.Equal(deadline) || !reflect.DeepEqual(got, values) {
			t.Errorf("round trip of %v: %v %v", values, dl, got)
		}
	}
	old, err := scs.GobCodec{}.Encode(deadline, map[string]any{keyUserID: int64(9)})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := sc.Decode(old); err != nil || got[keyUserID] != int64(9) {
		t.Errorf("a gob session: %v %v", got, err)
	}
	good, _ := sc.Encode(deadline, map[string]any{keyFlashMsg: "hello", keyUserID: int64(5)})
	for i := len(sessionMagic); i < len(good); i++ {
		if _, _, err := sc.Decode(good[:i]); err == nil {
			t.Errorf("a session cut at %d of %d bytes decoded", i, len(good))
		}
	}
	if _, _, err := sc.Decode(append(good, 1)); err == nil {
		t.Errorf("a session with a trailing byte decoded")
	}
}
