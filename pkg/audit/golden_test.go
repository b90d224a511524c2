package audit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

var update = flag.Bool("update", false, "rewrite the golden files of the current leaf format in testdata/v2")

// Golden files, one directory per leaf format. They are never deleted: a
// later format adds a directory beside them, and these tests keep proving
// that entries of every format still decode to the same events and hash
// to the same checkpoint. -update rewrites only the current format's.
const (
	goldenV1 = "testdata/v1" // leaf format 1: events alone (frozen)
	goldenV2 = "testdata/v2" // leaf format 2: signed receipts
)

const goldenID = "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3"

// goldenEvents is one of each kind, with every optional field used once:
// the entries of testdata/v1.
func goldenEvents() []audit.Event {
	const id = goldenID
	return []audit.Event{
		posted(id, bulletin.Flash, t0),
		released(id, "BR", t0.Add(10*time.Millisecond)),
		delivered(id, "BR", t0.Add(1500*time.Millisecond)),
		read(id, "BR", "joao", t0.Add(2*time.Minute)),
		acked(id, "BR", "maria", t0.Add(5*time.Minute+123456789*time.Nanosecond)),
		{Kind: audit.EventRefused, BulletinID: id, Origin: "MX", State: "US", Actor: person("US", "analyst", "bo"),
			Rule: "read.red-focal-points-only", At: t0.Add(6 * time.Minute), Detail: "marking RED, role analyst"},
		{Kind: audit.EventEscalated, BulletinID: id, Origin: "MX", State: "CA", Precedence: bulletin.Flash,
			At: t0.Add(15 * time.Minute), Detail: "acknowledgement was due 2026-03-01T12:15:00Z"},
	}
}

// TestGoldenV1 checks that the entries of leaf format 1 still decode, as
// leaves, to the events they recorded, and still hash to their signed
// checkpoint.
func TestGoldenV1(t *testing.T) {
	events := goldenEvents()
	lines := goldenLines(t, goldenV1, "events.jsonl")
	if len(lines) != len(events) {
		t.Fatalf("events.jsonl has %d lines, want %d", len(lines), len(events))
	}
	for i, line := range lines {
		leaf, err := audit.ParseLeaf(line)
		if err != nil || leaf.Format != audit.LeafEvent || leaf.Receipt != nil {
			t.Fatalf("line %d: ParseLeaf = format %d, %v; want format 1", i+1, leaf.Format, err)
		}
		if diff := cmp.Diff(events[i], leaf.Event, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i+1, diff)
		}
		if b, _ := audit.MarshalEvent(events[i]); !bytes.Equal(b, line) {
			t.Errorf("MarshalEvent(event %d) = %s, golden %s", i, b, line)
		}
	}
	cp := goldenCheckpoint(t, goldenV1)
	if err := audit.VerifyLog(context.Background(), lines, cp); err != nil || cp.Size != uint64(len(lines)) {
		t.Errorf("VerifyLog(golden v1, its checkpoint of size %d) = %v", cp.Size, err)
	}
}

// goldenSigners names who signs each entry of testdata/v2, in order.
var goldenSigners = []struct {
	kind  audit.EventKind
	state string // "" for the secretariat's node
}{
	{audit.EventPosted, "MX"}, {audit.EventReleased, "MX"}, {audit.EventReleased, "MX"},
	{audit.EventDelivered, "BR"}, {audit.EventRead, "BR"}, {audit.EventAcknowledged, "BR"},
	{audit.EventDelivered, "CA"}, // forwarded by BR
	{audit.EventRefused, ""},     // US reported a delivery it was never released
	{audit.EventEscalated, ""},   // CA (forwarded, unacknowledged)
	{audit.EventEscalated, ""},   // US
}

// TestGoldenV2 checks that the entries of leaf format 2 decode to signed
// receipts in canonical form, that each signature still verifies against
// the saved trust bundle and names who said it, and that the entries hash
// to their signed checkpoint.
func TestGoldenV2(t *testing.T) {
	if *update {
		writeGoldenV2(t)
	}
	lines := goldenLines(t, goldenV2, "leaves.jsonl")
	if len(lines) != len(goldenSigners) {
		t.Fatalf("leaves.jsonl has %d lines, want %d", len(lines), len(goldenSigners))
	}
	tdom := spiffeid.RequireTrustDomainFromString("iant.test")
	bundle, err := x509bundle.Load(tdom, filepath.Join(goldenV2, "bundle.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range lines {
		leaf, err := audit.ParseLeaf(line)
		if err != nil || leaf.Format != audit.LeafReceipt {
			t.Fatalf("line %d: ParseLeaf = format %d, %v; want format 2", i+1, leaf.Format, err)
		}
		if again, err := leaf.Receipt.Marshal(); err != nil || !bytes.Equal(again, line) {
			t.Errorf("line %d: Marshal(ParseLeaf) = %s, %v; want the line", i+1, again, err)
		}
		signer, err := leaf.Receipt.Verify(bundle, tdom, leaf.Receipt.LeafCertificate().NotBefore)
		want := goldenSigners[i]
		wantSigner := "spiffe://iant.test/secretariat/node/sec"
		if want.state != "" {
			wantSigner = node(want.state)
		}
		if err != nil || signer.String() != wantSigner || leaf.Event.Kind != want.kind {
			t.Errorf("line %d: %s said by %v (%v), want %s said by %s", i+1, leaf.Event.Kind, signer, err, want.kind, wantSigner)
		}
	}
	cp := goldenCheckpoint(t, goldenV2)
	if err := audit.VerifyLog(context.Background(), lines, cp); err != nil || cp.Size != uint64(len(lines)) {
		t.Errorf("VerifyLog(golden v2, its checkpoint of size %d) = %v", cp.Size, err)
	}
}

// writeGoldenV2 logs the life of one bulletin through receipts really
// signed by the nodes of a fresh CA, and writes the entries, the
// checkpoint, the log's key and the CA's bundle.
func writeGoldenV2(t *testing.T) {
	t.Helper()
	f := newFixture(t)
	const id = goldenID
	h := header(id, bulletin.Flash, t0, "BR", "US")
	f.accept(posted(id, bulletin.Flash, t0), h)
	f.accept(released(id, "BR", t0), nil)
	f.accept(released(id, "US", t0), nil)
	f.accept(delivered(id, "BR", t0.Add(1500*time.Millisecond)), h)
	f.accept(read(id, "BR", "joao", t0.Add(2*time.Minute)), nil)
	f.accept(acked(id, "BR", "maria", t0.Add(5*time.Minute+123456789*time.Nanosecond)), nil)
	fwd := &audit.SignedForward{Origin: "MX", ID: id, Forwarder: "BR", Signer: node("BR"), Recipient: "CA", At: t0.Add(3 * time.Minute)}
	if o := f.submit(f.submission(delivered(id, "CA", t0.Add(4*time.Minute)), nil, fwd))[0]; o.Err != nil {
		t.Fatal(o.Err)
	}
	other := delivered("01JNOTRELEASEDTOUS000000000", "US", t0)
	f.post(other.BulletinID, bulletin.Routine, t0, "BR")
	if o := f.submit(f.submission(delivered(other.BulletinID, "US", t0), nil, nil))[0]; o.Err == nil {
		t.Fatal("a delivery by a state never released the bulletin was logged")
	}
	if _, err := f.lg.Escalations(context.Background(), t0.Add(time.Hour), audit.Deadlines{}); err != nil {
		t.Fatal(err)
	}
	raws, err := f.lg.Entries(context.Background(), 0, f.lg.Size())
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for _, raw := range raws {
		leaf, _ := audit.ParseLeaf(raw)
		if leaf.Event.BulletinID == other.BulletinID && leaf.Event.Kind != audit.EventRefused {
			continue // the other bulletin's own entries are not part of the fixture
		}
		lines.Write(append(raw, '\n'))
	}
	writeGoldenDir(t, goldenV2, f, lines.Bytes())
}

// writeGoldenDir writes leaves.jsonl and a checkpoint over its entries.
func writeGoldenDir(t *testing.T, dir string, f *fixture, jsonl []byte) {
	t.Helper()
	var leaves [][]byte
	for _, l := range bytes.Split(bytes.TrimSuffix(jsonl, []byte("\n")), []byte("\n")) {
		leaves = append(leaves, l)
	}
	s, _ := testKey(t, testOrigin, 1)
	cpBody := fmt.Sprintf("%s\n%d\n%s\ntime 2026-03-01T12:00:00Z\n", testOrigin, len(leaves), base64.StdEncoding.EncodeToString(mth(leaves)))
	signed, err := note.Sign(&note.Note{Text: cpBody}, s)
	if err != nil {
		t.Fatal(err)
	}
	_, vkey := testKeyText(t, testOrigin, 1)
	var bundle bytes.Buffer
	for _, c := range f.ca.Bundle().X509Authorities() {
		pem.Encode(&bundle, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"leaves.jsonl": jsonl, "checkpoint.txt": signed, "log.vkey": []byte(vkey + "\n"),
		"bundle.pem": bundle.Bytes()}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goldenLines reads a JSON-lines golden file.
func goldenLines(t *testing.T, dir, name string) [][]byte {
	t.Helper()
	return bytes.Split(bytes.TrimSuffix(readGolden(t, dir, name), []byte("\n")), []byte("\n"))
}

// goldenCheckpoint reads and verifies a golden directory's checkpoint.
func goldenCheckpoint(t *testing.T, dir string) audit.Checkpoint {
	t.Helper()
	v, err := note.NewVerifier(strings.TrimSpace(string(readGolden(t, dir, "log.vkey"))))
	if err != nil {
		t.Fatalf("log.vkey: %v", err)
	}
	cp, err := audit.VerifyCheckpoint(readGolden(t, dir, "checkpoint.txt"), testOrigin, v)
	if err != nil {
		t.Fatalf("golden checkpoint: %v", err)
	}
	return cp
}

func readGolden(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	return b
}
