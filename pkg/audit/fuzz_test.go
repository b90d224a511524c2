package audit_test

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
)

// FuzzUnmarshalEvent checks that the decoder never panics, that whatever
// it accepts is valid, and that it accepts only the canonical form: the
// re-encoding of an accepted event is the input, byte for byte.
func FuzzUnmarshalEvent(f *testing.F) {
	for _, e := range []audit.Event{
		posted("01JB", bulletin.Flash, t0),
		delivered("01JB", "BR", t0.Add(time.Millisecond)),
		{Kind: audit.EventRefused, BulletinID: "x", Origin: "US", Actor: "spiffe://a/b", Rule: "r", At: t0, Detail: "<é>"},
		revised("01JB", 2, t0), revoked("01JB", "BR", 3, t0),
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

// FuzzParseReceipt checks that the receipt decoder never panics, that what
// it accepts holds a valid event and re-encodes to the input byte for
// byte, and that it refuses everything else.
func FuzzParseReceipt(f *testing.F) {
	fx := newFixture(f)
	for _, e := range []audit.Event{posted("01JB", bulletin.Flash, t0), delivered("01JB", "BR", t0)} {
		b, err := audit.SignReceipt(e, audit.Evidence{Header: []byte("attestation"), Forward: []byte{0, 1}}, fx.nodeSVID(reporter(e)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"chain":[],"event":{},"sig":"","v":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := audit.ParseReceipt(b)
		if err != nil {
			return
		}
		if err := r.Event.Validate(); err != nil {
			t.Fatalf("ParseReceipt accepted an invalid event: %v", err)
		}
		again, err := r.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("Marshal(ParseReceipt(%q)) = %q, %v; not the input", b, again, err)
		}
	})
}

// FuzzParseLeaf checks the decoder of both leaf formats: no panic, and
// only canonical entries accepted.
func FuzzParseLeaf(f *testing.F) {
	for _, dir := range []string{"testdata/v1/events.jsonl", "testdata/v2/leaves.jsonl", "testdata/v2/lifecycle-events.jsonl"} {
		data, err := os.ReadFile(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"v":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := audit.ParseLeaf(b)
		if err != nil {
			return
		}
		var again []byte
		switch l.Format {
		case audit.LeafEvent:
			again, err = audit.MarshalEvent(l.Event)
		case audit.LeafReceipt:
			again, err = l.Receipt.Marshal()
		default:
			t.Fatalf("ParseLeaf accepted format %d", l.Format)
		}
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding of leaf %q = %q, %v; not the input", b, again, err)
		}
	})
}

// FuzzWitnessMessages checks the decoders of the witness protocol (proof
// request, proof reply, witnessed checkpoint): no panic, and whatever one
// accepts re-encodes to the input.
func FuzzWitnessMessages(f *testing.F) {
	seeds := []interface{ Marshal() ([]byte, error) }{
		audit.ProofRequest{Old: 3, New: 2000},
		audit.ProofReply{Old: 3, New: 7, Hashes: [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)}},
		audit.ProofReply{Old: 3, New: 9000, Error: "tree size 9000 is beyond the log's 12"},
		audit.WitnessedCheckpoint{State: "MX", Checkpoint: []byte("iant.test/audit\n1\nAAAA\n\n— sig\n")},
	}
	for _, m := range seeds {
		b, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"new":1,"old":2,"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(name string, m interface{ Marshal() ([]byte, error) }, err error) {
			if err != nil {
				return
			}
			again, err := m.Marshal()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("%s: Marshal(Parse(%q)) = %q, %v; not the input", name, b, again, err)
			}
		}
		req, err := audit.ParseProofRequest(b)
		check("proof request", req, err)
		rep, err := audit.ParseProofReply(b)
		check("proof reply", rep, err)
		wc, err := audit.ParseWitnessedCheckpoint(b)
		check("witnessed checkpoint", wc, err)
	})
}

// FuzzParseReportToken: a report page token is accepted only in the form
// ReportKey.Token makes, and every refusal names page_token.
func FuzzParseReportToken(f *testing.F) {
	for _, k := range []audit.ReportKey{{CreatedAt: time.Unix(0, 0), Origin: "MX", ID: "01J"},
		{CreatedAt: time.Date(2026, 5, 1, 0, 0, 0, 1, time.UTC), Origin: "US", ID: "01JZZZZZZZZZZZZZZZZZZZZZZZ"},
		{CreatedAt: time.Unix(1, 0), Origin: "BR", ID: "a.b.c"}} {
		f.Add(k.Token())
	}
	for _, s := range []string{"", "cjEuMS5NWC4wMUo", "cjEuMS5NWC4wMUo=", "cjEuLTEuTVguMDFK", "cjIuMS5NWC4wMUo", "====", "r1.1.MX.01J"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		k, err := audit.ParseReportToken(tok)
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind != problem.KindInvalid || p.Field != "page_token" {
				t.Fatalf("ParseReportToken(%q) = %v, want Invalid naming page_token", tok, err)
			}
			return
		}
		if got := k.Token(); got != tok {
			t.Fatalf("ParseReportToken(%q) = %+v, whose token is %q", tok, k, got)
		}
		if k.CreatedAt.Location() != time.UTC || k.Origin == "" || k.ID == "" || len(k.ID) > audit.MaxBulletinIDBytes {
			t.Fatalf("ParseReportToken(%q) = %+v: not a key the log could hold", tok, k)
		}
	})
}
