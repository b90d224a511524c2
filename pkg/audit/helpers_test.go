package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

const (
	testOrigin = "iant.test/audit"
	td         = "spiffe://iant.test"
)

// t0 is the time every test's events count from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey returns a note key pair made from a fixed seed, so golden
// checkpoints are reproducible. seed 1 is the log's key.
func testKey(tb testing.TB, name string, seed byte) (note.Signer, note.Verifier) {
	tb.Helper()
	skey, vkey := testKeyText(tb, name, seed)
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}

// testKeyText returns the note signer and verifier keys of testKey.
func testKeyText(tb testing.TB, name string, seed byte) (skey, vkey string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), name)
	if err != nil {
		tb.Fatal(err)
	}
	return skey, vkey
}

// fixedClock returns a clock stuck at t0.
func fixedClock() func() time.Time { return func() time.Time { return t0 } }

// svidSource is an x509svid.Source of one fixed SVID.
type svidSource struct{ svid *x509svid.SVID }

func (s svidSource) GetX509SVID() (*x509svid.SVID, error) { return s.svid, nil }

// fixture is a log in a temporary directory with the SVIDs of the
// secretariat's node and of the nodes of member states, minted by a test
// CA, so receipts are really signed and verified.
type fixture struct {
	tb   testing.TB
	ca   *identitytest.CA
	lg   *audit.Log
	path string
	v    note.Verifier
	sec  *x509svid.SVID
	svid map[string]*x509svid.SVID
}

// newFixture opens a log, closed on cleanup.
func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ca := identitytest.NewCA(tb, "iant.test")
	f := &fixture{tb: tb, ca: ca, path: filepath.Join(tb.TempDir(), "audit.db"), svid: map[string]*x509svid.SVID{},
		sec: ca.SVID(tb, identity.Principal{Role: identity.RoleSecretariatNode, Name: "sec"})}
	f.lg, f.v = f.open(f.path)
	return f
}

// open opens (another handle on) a log at path with the fixture's keys.
func (f *fixture) open(path string) (*audit.Log, note.Verifier) {
	f.tb.Helper()
	s, v := testKey(f.tb, testOrigin, 1)
	lg, err := audit.OpenLog(context.Background(), path, testOrigin, f.signers(s), audit.WithClock(fixedClock()))
	if err != nil {
		f.tb.Fatal(err)
	}
	f.tb.Cleanup(func() { lg.Close() })
	return lg, v
}

func (f *fixture) signers(s note.Signer) audit.Signers {
	return audit.Signers{Checkpoint: s, Entries: svidSource{f.sec}}
}

// nodeSVID returns the SVID of state's node "n1".
func (f *fixture) nodeSVID(state string) *x509svid.SVID {
	if s, ok := f.svid[state]; ok {
		return s
	}
	s := f.ca.SVID(f.tb, identity.Principal{State: state, Role: identity.RoleNode, Name: "n1"})
	f.svid[state] = s
	return s
}

// reporter is the state whose node reports e.
func reporter(e audit.Event) string {
	switch e.Kind {
	case audit.EventPosted, audit.EventReleased:
		return e.Origin
	case audit.EventForwarded:
		return strings.Split(strings.TrimPrefix(e.Actor, td+"/state/"), "/")[0] // the forwarding node's state
	}
	return e.State
}

// receipt signs e with ev as its reporter's node and verifies it.
func (f *fixture) receipt(e audit.Event, ev audit.Evidence) *audit.Receipt {
	f.tb.Helper()
	data, err := audit.SignReceipt(e, ev, f.nodeSVID(reporter(e)))
	if err != nil {
		f.tb.Fatal(err)
	}
	r, err := audit.VerifyReceipt(data, f.ca.Bundle(), f.ca.TD, reporter(e), time.Now())
	if err != nil {
		f.tb.Fatal(err)
	}
	return r
}

// submission is e reported by its state's node, carrying the attestation
// of h (nil: none) and the forward statement of fwd (nil: none).
func (f *fixture) submission(e audit.Event, h *audit.SignedHeader, fwd *audit.SignedForward) audit.Submission {
	f.tb.Helper()
	var ev audit.Evidence
	if h != nil {
		ev.Header = []byte("attestation of " + h.Origin + "/" + h.ID)
	}
	if fwd != nil {
		ev.Forward = []byte("forward of " + fwd.ID + " to " + fwd.Recipient)
	}
	return audit.Submission{Receipt: f.receipt(e, ev), Header: h, Forward: fwd, Published: e.At.Add(time.Second)}
}

// submit submits subs and returns their outcomes, failing on an error.
func (f *fixture) submit(subs ...audit.Submission) []audit.Outcome {
	f.tb.Helper()
	out, err := f.lg.Submit(context.Background(), subs)
	if err != nil {
		f.tb.Fatal(err)
	}
	return out
}

// accept submits e and fails unless it is logged.
func (f *fixture) accept(e audit.Event, h *audit.SignedHeader) uint64 {
	f.tb.Helper()
	o := f.submit(f.submission(e, h, nil))[0]
	if o.Err != nil {
		f.tb.Fatalf("Submit(%s of %s at %s) = %v, want it logged", e.Kind, e.BulletinID, e.State, o.Err)
	}
	return o.Index
}

// post logs bulletin id of MX: its posted receipt with its header, and a
// released receipt per recipient. It returns the header.
func (f *fixture) post(id string, p bulletin.Precedence, at time.Time, recipients ...string) *audit.SignedHeader {
	f.tb.Helper()
	h := header(id, p, at, recipients...)
	f.accept(posted(id, p, at), h)
	for _, r := range recipients {
		f.accept(released(id, r, at), nil)
	}
	return h
}

// header is the signed header of bulletin id of MX.
func header(id string, p bulletin.Precedence, at time.Time, recipients ...string) *audit.SignedHeader {
	return &audit.SignedHeader{Origin: "MX", ID: id, Signer: node("MX"), Precedence: p, CreatedAt: at,
		ExpiresAt: at.Add(7 * 24 * time.Hour), Recipients: recipients}
}

// openLog opens a log in a fresh temporary directory, closed on cleanup,
// and returns it with the path of its database and the verifier of its key.
func openLog(tb testing.TB) (*audit.Log, string, note.Verifier) {
	tb.Helper()
	f := newFixture(tb)
	return f.lg, f.path, f.v
}

func node(state string) string { return fmt.Sprintf("%s/state/%s/node/n1", td, state) }
func person(state, role, name string) string {
	return fmt.Sprintf("%s/state/%s/%s/%s", td, state, role, name)
}

// posted, delivered, ... build valid events of bulletin id from MX.
func posted(id string, p bulletin.Precedence, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: "MX",
		Actor: person("MX", "focal-point", "ana"), Precedence: p, At: at}
}

func released(id, state string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventReleased, BulletinID: id, Origin: "MX", State: state, Actor: node("MX"), At: at}
}

func delivered(id, state string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventDelivered, BulletinID: id, Origin: "MX", State: state, Actor: node(state), At: at}
}

// forwarded is from's node reporting that it forwarded MX's bulletin id
// to to.
func forwarded(id, from, to string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventForwarded, BulletinID: id, Origin: "MX", State: to, Actor: node(from), At: at}
}

func read(id, state, who string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventRead, BulletinID: id, Origin: "MX", State: state,
		Actor: person(state, "analyst", who), At: at}
}

func acked(id, state, who string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventAcknowledged, BulletinID: id, Origin: "MX", State: state,
		Actor: person(state, "focal-point", who), At: at}
}

// nthEvent returns a distinct valid event of the log's own for each i: a
// refusal it logged.
func nthEvent(i int) audit.Event {
	states := []string{"AR", "BR", "CA", "CO", "JM", "PA", "US"}
	id := fmt.Sprintf("01JAUDIT%018d", i/len(states))
	s := states[i%len(states)]
	return audit.Event{Kind: audit.EventRefused, BulletinID: id, Origin: "MX", State: s, Actor: node(s),
		Rule: "receipt.test", At: t0.Add(time.Duration(i) * time.Second)}
}

// fill appends n distinct events to lg and returns the raw bytes of all
// its entries.
func fill(tb testing.TB, lg *audit.Log, n int) [][]byte {
	tb.Helper()
	ctx := context.Background()
	events := make([]audit.Event, n)
	for i := range events {
		events[i] = nthEvent(int(lg.Size()) + i)
	}
	if _, err := lg.AppendAll(ctx, events); err != nil {
		tb.Fatal(err)
	}
	raws, err := lg.Entries(ctx, 0, lg.Size())
	if err != nil {
		tb.Fatal(err)
	}
	return raws
}

// checkpointAt returns the checkpoint of lg's tree of the given size, as an
// auditor who saw it then would have kept it.
func checkpointAt(tb testing.TB, lg *audit.Log, size uint64) audit.Checkpoint {
	tb.Helper()
	root, err := lg.RootAt(context.Background(), size)
	if err != nil {
		tb.Fatal(err)
	}
	return audit.Checkpoint{Origin: lg.Origin(), Size: size, Root: root}
}
