package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
)

func TestCheckpointVerifies(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	fill(t, lg, 9)
	signed, err := lg.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.VerifyCheckpoint(signed, testOrigin, v)
	if err != nil {
		t.Fatalf("VerifyCheckpoint = %v", err)
	}
	if cp.Origin != testOrigin || cp.Size != 9 || !bytes.Equal(cp.Root, lg.Root()) || !cp.Time.Equal(t0) {
		t.Errorf("VerifyCheckpoint = %+v, want origin %q, size 9, the log's root, time %v", cp, testOrigin, t0)
	}
	body := string(signed[:bytes.Index(signed, []byte("\n\n"))+1])
	if lines := strings.Split(body, "\n"); len(lines) != 5 || lines[0] != testOrigin || lines[1] != "9" ||
		lines[3] != "time 2026-03-01T12:00:00Z" {
		t.Errorf("checkpoint body = %q, want origin, size, root, time lines", body)
	}
}

func TestVerifyCheckpointRefuses(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	fill(t, lg, 3)
	signed, err := lg.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey := testKey(t, testOrigin, 2)    // same name, other key
	_, otherName := testKey(t, "other.test", 1) // other name
	tests := []struct {
		name   string
		signed []byte
		origin string
		v      note.Verifier
		want   error
	}{
		{"wrong key", signed, testOrigin, otherKey, audit.ErrSignature},
		{"wrong key name", signed, testOrigin, otherName, audit.ErrSignature},
		{"wrong origin", signed, "other.test/log", v, audit.ErrOrigin},
		{"altered size", bytes.Replace(signed, []byte("\n3\n"), []byte("\n4\n"), 1), testOrigin, v, audit.ErrSignature},
		{"not a note", []byte("hello"), testOrigin, v, audit.ErrMalformedCheckpoint},
		{"nil verifier", signed, testOrigin, nil, audit.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audit.VerifyCheckpoint(tt.signed, tt.origin, tt.v); !errors.Is(err, tt.want) {
				t.Errorf("VerifyCheckpoint = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyCheckpointRefusesMalformedBody(t *testing.T) {
	s, v := testKey(t, testOrigin, 1)
	root := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" // SHA-256 of "", the empty tree
	tests := map[string]string{
		"two lines":         testOrigin + "\n0\n",
		"leading zero size": testOrigin + "\n00\n" + root + "\n",
		"short root":        testOrigin + "\n1\nAAAA\n",
		"empty tree root":   testOrigin + "\n0\n" + strings.Replace(root, "4", "5", 1) + "\n",
		"bad time":          testOrigin + "\n0\n" + root + "\ntime yesterday\n",
		"two times":         testOrigin + "\n0\n" + root + "\ntime 2026-03-01T12:00:00Z\ntime 2026-03-01T12:00:00Z\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			signed, err := note.Sign(&note.Note{Text: text}, s)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := audit.VerifyCheckpoint(signed, testOrigin, v); !errors.Is(err, audit.ErrMalformedCheckpoint) {
				t.Errorf("VerifyCheckpoint(%q) = %v, want ErrMalformedCheckpoint", text, err)
			}
		})
	}
	// Unknown extension lines are allowed; a missing time line is too.
	for _, text := range []string{testOrigin + "\n0\n" + root + "\n", testOrigin + "\n0\n" + root + "\nother ext\n"} {
		signed, _ := note.Sign(&note.Note{Text: text}, s)
		if cp, err := audit.VerifyCheckpoint(signed, testOrigin, v); err != nil || !cp.Time.IsZero() {
			t.Errorf("VerifyCheckpoint(%q) = %+v, %v, want no time, nil", text, cp, err)
		}
	}
}

// TestCheckpointCosigned checks that a witness's cosignature on the same
// note does not disturb verification with the log's key.
func TestCheckpointCosigned(t *testing.T) {
	ctx := context.Background()
	lg, _, v := openLog(t)
	fill(t, lg, 2)
	signed, _ := lg.Checkpoint(ctx)
	logSigner, _ := testKey(t, testOrigin, 1)
	witness, _ := testKey(t, "witness.test", 7)
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	both, err := note.Sign(&note.Note{Text: n.Text}, logSigner, witness)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyCheckpoint(both, testOrigin, v); err != nil {
		t.Errorf("VerifyCheckpoint(cosigned) = %v", err)
	}
}
