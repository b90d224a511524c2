package audit_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// FuzzUnmarshalEvent checks that the decoder never panics, that whatever
// it accepts is valid, and that it accepts only the canonical form: the
// re-encoding of an accepted event is the input, byte for byte.
func FuzzUnmarshalEvent(f *testing.F) {
	for _, e := range []audit.Event{
		posted("01JB", bulletin.Flash, t0),
		delivered("01JB", "BR", t0.Add(time.Millisecond)),
		{Kind: audit.EventRefused, BulletinID: "x", Origin: "US", Actor: "spiffe://a/b", Rule: "r", At: t0, Detail: "<é>"},
	} {
		b, err := audit.MarshalEvent(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"at":"2026-03-01T12:00:00+01:00","v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := audit.UnmarshalEvent(b)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("UnmarshalEvent accepted an invalid event: %v", err)
		}
		again, err := audit.MarshalEvent(e)
		if err != nil {
			t.Fatalf("MarshalEvent(UnmarshalEvent(%q)) = %v", b, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("MarshalEvent(UnmarshalEvent(%q)) = %q, not the input", b, again)
		}
	})
}
