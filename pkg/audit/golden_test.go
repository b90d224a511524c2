package audit_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Golden files of encoding version 1. They are never deleted: a later
// encoding adds a directory beside them, and this test keeps proving that
// version 1 entries still decode to the same events and hash to the same
// checkpoint.
const goldenDir = "testdata/v1"

// goldenEvents is one of each kind, with every optional field used once.
func goldenEvents() []audit.Event {
	const id = "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3"
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

func TestGoldenV1(t *testing.T) {
	ctx := context.Background()
	events := goldenEvents()
	if *update {
		writeGoldenV1(t, events)
	}
	lines := strings.Split(strings.TrimSuffix(string(readGolden(t, "events.jsonl")), "\n"), "\n")
	if len(lines) != len(events) {
		t.Fatalf("events.jsonl has %d lines, want %d", len(lines), len(events))
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(readGolden(t, "log.vkey"))))
	if err != nil {
		t.Fatalf("log.vkey: %v", err)
	}
	lg, _, _ := openLog(t)
	for i, line := range lines {
		e, err := audit.UnmarshalEvent([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if b, _ := audit.MarshalEvent(events[i]); string(b) != line {
			t.Errorf("MarshalEvent(event %d) = %s, golden %s", i, b, line)
		}
		if _, err := lg.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	golden := readGolden(t, "checkpoint.txt")
	cp, err := audit.VerifyCheckpoint(golden, testOrigin, v)
	if err != nil {
		t.Fatalf("golden checkpoint: %v", err)
	}
	if cp.Size != uint64(len(events)) || !bytes.Equal(cp.Root, lg.Root()) {
		t.Errorf("golden checkpoint = size %d root %x, the events give size %d root %x", cp.Size, cp.Root, lg.Size(), lg.Root())
	}
	if signed, _ := lg.Checkpoint(ctx); !bytes.Equal(signed, golden) {
		t.Errorf("Checkpoint() =\n%s\nwant golden\n%s", signed, golden)
	}
}

func writeGoldenV1(t *testing.T, events []audit.Event) {
	t.Helper()
	var lines bytes.Buffer
	lg, _, _ := openLog(t)
	for _, e := range events {
		b, err := audit.MarshalEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(b, '\n'))
		if _, err := lg.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := lg.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, vkey := testKeyText(t, testOrigin, 1)
	files := map[string][]byte{"events.jsonl": lines.Bytes(), "checkpoint.txt": signed, "log.vkey": []byte(vkey + "\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	return b
}
