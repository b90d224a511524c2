package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
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

// openLog opens a log in a fresh temporary directory, closed on cleanup,
// and returns it with the path of its database and the verifier of its key.
func openLog(tb testing.TB) (*audit.Log, string, note.Verifier) {
	tb.Helper()
	s, v := testKey(tb, testOrigin, 1)
	path := filepath.Join(tb.TempDir(), "audit.db")
	lg, err := audit.OpenLog(context.Background(), path, s, testOrigin, audit.WithClock(fixedClock()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lg.Close() })
	return lg, path, v
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

func read(id, state, who string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventRead, BulletinID: id, Origin: "MX", State: state,
		Actor: person(state, "analyst", who), At: at}
}

func acked(id, state, who string, at time.Time) audit.Event {
	return audit.Event{Kind: audit.EventAcknowledged, BulletinID: id, Origin: "MX", State: state,
		Actor: person(state, "focal-point", who), At: at}
}

// nthEvent returns a distinct valid event for each i.
func nthEvent(i int) audit.Event {
	states := []string{"AR", "BR", "CA", "CO", "JM", "PA", "US"}
	id := fmt.Sprintf("01JAUDIT%018d", i/len(states))
	return delivered(id, states[i%len(states)], t0.Add(time.Duration(i)*time.Second))
}

// fill appends n distinct events to lg and returns their raw bytes.
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
