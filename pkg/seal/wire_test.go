package seal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
)

func TestMarshalRoundTrip(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "JM")
	s := n.seal(t, "MX", body, "BR", "US", "JM")
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("Unmarshal(Marshal(s)) differs (-want +got):\n%s", diff)
	}
	b2, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("Marshal(Unmarshal(b)) != b")
	}
	// Unmarshal does not alias its input.
	clear(b)
	if _, err := n.open(got, "JM"); err != nil {
		t.Errorf("Open after clearing the input = %v", err)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	s := n.seal(t, "MX", body, "BR", "US")
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ctAt := bytes.Index(b, s.Ciphertext) // the ciphertext's u32 length precedes it
	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, seal.ErrMalformed},
		{"magic only", []byte("IANTSEAL"), seal.ErrMalformed},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'J'; return b }), seal.ErrMalformed},
		{"version 0", edit(func(b []byte) []byte { b[8] = 0; return b }), seal.ErrVersion},
		{"version 6", edit(func(b []byte) []byte { b[8] = 6; return b }), seal.ErrVersion},
		{"version 2 bytes as version 4", edit(func(b []byte) []byte { b[8] = 2; return b }), seal.ErrMalformed},
		{"version 3 bytes as version 4", edit(func(b []byte) []byte { b[8] = 3; return b }), seal.ErrMalformed},
		{"trailing byte", append(bytes.Clone(b), 0), seal.ErrMalformed},
		{"truncated", b[:len(b)-1], seal.ErrMalformed},
		{"duplicate recipient", bytes.ReplaceAll(b, []byte("\x00\x02US"), []byte("\x00\x02BR")), seal.ErrMalformed},
		{"ciphertext over the limit", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[ctAt-4:], seal.MaxCiphertext+1)
			return b
		}), seal.ErrMalformed},
		{"ciphertext length past the end", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[ctAt-4:], uint32(len(b)))
			return b
		}), seal.ErrMalformed},
		{"empty ciphertext", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[ctAt-4:], 0)
			return append(b[:ctAt], b[ctAt+len(s.Ciphertext):]...)
		}), seal.ErrMalformed},
		{"control character in id", bytes.Replace(b, []byte(s.ID), []byte("01JBULLETIN\n001"), 1), seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.Unmarshal(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("Unmarshal = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMarshalRejects(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	orig := n.seal(t, "MX", body, "BR", "US")
	tests := []struct {
		name   string
		mutate func(*seal.Sealed)
		want   error
	}{
		{"duplicate recipient", func(s *seal.Sealed) { s.Recipients[1], s.Keys[1].Recipient = "BR", "BR" }, seal.ErrMalformed},
		{"key for another recipient", func(s *seal.Sealed) { s.Keys[0].Recipient = "US" }, seal.ErrMalformed},
		{"missing key", func(s *seal.Sealed) { s.Keys = s.Keys[:1] }, seal.ErrMalformed},
		{"empty wrapped key in version 1", func(s *seal.Sealed) { s.Version, s.Keys[0].Enc = seal.Version1, nil }, seal.ErrMalformed},
		{"long id", func(s *seal.Sealed) { s.ID = string(bytes.Repeat([]byte("a"), 129)) }, seal.ErrMalformed},
		{"unrepresentable time", func(s *seal.Sealed) { s.ExpiresAt = s.ExpiresAt.AddDate(500, 0, 0) }, seal.ErrMalformed},
		{"unknown version", func(s *seal.Sealed) { s.Version = 7 }, seal.ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(t, orig)
			tt.mutate(s)
			if _, err := s.Marshal(); !errors.Is(err, tt.want) {
				t.Errorf("Marshal = %v, want %v", err, tt.want)
			}
		})
	}
}
