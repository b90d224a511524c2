package membership_test

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const network = "iant.test"

// day0 is the clock of the tests.
var day0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// testKey returns a fixed membership key of network (deterministic, for
// golden files) and its verifier key.
func testKey(tb testing.TB, network string, seed byte) (note.Signer, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)), network+"/membership")
	if err != nil {
		tb.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	return s, vkey
}

func verifier(tb testing.TB, vkey string) note.Verifier {
	tb.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// signText signs text as a note with s, as a secretariat would sign any
// text it was made to.
func signText(s note.Signer, text string) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, s)
}

// noteText returns the text of a signed note.
func noteText(signed []byte) string {
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	return string(text) + "\n"
}
