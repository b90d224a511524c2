package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// timeLinePrefix starts the checkpoint extension line that dates it. C2SP
// tlog-checkpoint lets a log add lines after the root hash; this log adds
// one, "time 2026-03-01T12:00:00Z" (RFC 3339, UTC, seconds).
const timeLinePrefix = "time "

// Checkpoint is a log's signed tree head: how many entries it holds and the
// RFC 6962 root hash over them, as of Time. Get one from [Log.Checkpoint]
// and read it with [VerifyCheckpoint].
type Checkpoint struct {
	// Origin names the log.
	Origin string
	// Size is the number of entries.
	Size uint64
	// Root is the RFC 6962 root hash of the first Size entries (32 bytes).
	Root []byte
	// Time is when the log signed the checkpoint; zero if the checkpoint
	// carries no time line. It is not part of what consistency proves.
	Time time.Time
}

// Checkpoint returns the current tree head as a C2SP tlog-checkpoint
// (https://c2sp.org/tlog-checkpoint) — origin, size, base64 root hash and
// a time extension line — signed as a note (https://c2sp.org/signed-note)
// with the log's signer. After Close it returns [ErrClosed].
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	signed, err := l.checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint: %w", err)
	}
	return signed, nil
}

func (l *Log) checkpoint(ctx context.Context) ([]byte, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	size, root := l.head()
	return signCheckpoint(Checkpoint{Origin: l.origin, Size: size, Root: root, Time: l.now()}, l.signer)
}

// signCheckpoint writes cp as a C2SP checkpoint body and signs it.
func signCheckpoint(cp Checkpoint, signer note.Signer) ([]byte, error) {
	body := log.Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Root}.Marshal()
	if !cp.Time.IsZero() {
		body = fmt.Appendf(body, "%s%s\n", timeLinePrefix, cp.Time.UTC().Format(time.RFC3339))
	}
	signed, err := note.Sign(&note.Note{Text: string(body)}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return signed, nil
}

// VerifyCheckpoint checks that signed is a checkpoint of the log origin
// signed by v, and returns it. Errors wrap [ErrSignature] (no valid
// signature by v), [ErrOrigin] (another log) or [ErrMalformedCheckpoint]
// (not a well-formed checkpoint: a non-canonical size, a root that is not
// 32 bytes, an empty tree whose root is not the empty hash, a bad time
// line). Signatures by other keys are allowed and ignored, so witnesses
// may cosign the same note.
func VerifyCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, error) {
	cp, err := verifyCheckpoint(signed, origin, v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: verify checkpoint: %w", err)
	}
	return cp, nil
}

func verifyCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, error) {
	if v == nil {
		return Checkpoint{}, fmt.Errorf("%w: no verifier", ErrSignature)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	var unverified *note.UnverifiedNoteError
	var invalidSig *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified), errors.As(err, &invalidSig):
		return Checkpoint{}, fmt.Errorf("%w %s", ErrSignature, v.Name())
	case err != nil:
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if cp.Origin != origin {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint of %q, want %q", ErrOrigin, cp.Origin, origin)
	}
	return cp, nil
}

// parseCheckpoint reads a checkpoint body. It accepts only what
// signCheckpoint writes for the three standard lines, and ignores
// extension lines it does not know.
func parseCheckpoint(text string) (Checkpoint, error) {
	var c log.Checkpoint
	rest, err := c.Unmarshal([]byte(text))
	switch {
	case err != nil:
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
	case !bytes.HasPrefix([]byte(text), c.Marshal()):
		return Checkpoint{}, fmt.Errorf("%w: size or root not in canonical form", ErrMalformedCheckpoint)
	case len(c.Hash) != hasher.Size():
		return Checkpoint{}, fmt.Errorf("%w: root hash is %d bytes, want %d", ErrMalformedCheckpoint, len(c.Hash), hasher.Size())
	case c.Size == 0 && !bytes.Equal(c.Hash, hasher.EmptyRoot()):
		return Checkpoint{}, fmt.Errorf("%w: empty tree with a root other than the empty hash", ErrMalformedCheckpoint)
	}
	cp := Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Hash}
	for line := range strings.Lines(string(rest)) {
		v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), timeLinePrefix)
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil || !cp.Time.IsZero() {
			return Checkpoint{}, fmt.Errorf("%w: bad or repeated time line", ErrMalformedCheckpoint)
		}
		cp.Time = t.UTC()
	}
	return cp, nil
}
