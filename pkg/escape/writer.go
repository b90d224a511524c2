package escape

import (
	"io"
	"sync"
	"unicode/utf8"
)

// Writer passes everything written through [Block] on its way to an
// underlying writer: a safety net under a program's human output, so that
// text no caller escaped still cannot act on the terminal. A character
// split across writes is held back until it is complete; Flush writes (and
// escapes) what is held at the end. Printable text passes unchanged. A
// Writer is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // an incomplete UTF-8 sequence at the end of the last write
}

// NewWriter returns a Writer escaping onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p (with what an earlier write left incomplete) and writes
// it. It reports len(p) when the underlying write succeeds.
func (e *Writer) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	buf := append(e.pending, p...)
	cut := completeUpTo(buf)
	e.pending = append([]byte(nil), buf[cut:]...)
	if cut == 0 {
		return len(p), nil
	}
	if _, err := io.WriteString(e.w, Block(string(buf[:cut]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is held back, escaped: bytes that never became a
// character.
func (e *Writer) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pending) == 0 {
		return nil
	}
	s := Block(string(e.pending))
	e.pending = nil
	_, err := io.WriteString(e.w, s)
	return err
}

// completeUpTo returns the length of buf without a trailing sequence that
// could still become a valid character with more bytes.
func completeUpTo(buf []byte) int {
	for back := 1; back <= utf8.UTFMax-1 && back <= len(buf); back++ {
		i := len(buf) - back
		if !utf8.RuneStart(buf[i]) {
			continue
		}
		if !utf8.FullRune(buf[i:]) {
			return i
		}
		break
	}
	return len(buf)
}
