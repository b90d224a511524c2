package seal_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/oas-cicte/iant/pkg/seal"
)

// TestMinVersion: versions without a key commitment open only where the
// policy explicitly allows them, and their refusal is a verdict
// (ErrVersionRefused), not an unknown version to wait out (ErrVersion).
func TestMinVersion(t *testing.T) {
	n := newNetwork(t, "MX", "BR")
	sealed := map[int]*seal.Sealed{}
	for _, v := range []int{seal.Version1, seal.Version2, seal.Version3} {
		hdr := n.header("MX")
		hdr.Version = v
		s, err := seal.Seal(hdr, body, n.public("BR"), n.keys["MX"])
		if err != nil {
			t.Fatal(err)
		}
		sealed[v] = s
	}
	tests := []struct {
		version, min int
		want         error
	}{
		{seal.Version1, 0, seal.ErrVersionRefused},
		{seal.Version2, 0, seal.ErrVersionRefused},
		{seal.Version3, 0, nil},
		{seal.Version1, seal.Version2, seal.ErrVersionRefused},
		{seal.Version2, seal.Version2, nil},
		{seal.Version1, seal.Version1, nil},
		{seal.Version3, seal.Version3, nil},
		{seal.Version2, seal.Version3, seal.ErrVersionRefused},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("version %d min %d", tt.version, tt.min), func(t *testing.T) {
			pol := seal.Policy{TrustDomain: n.ca.TD, MinVersion: tt.min}
			_, err := seal.Open(sealed[tt.version], "BR", n.keys["BR"], n.lookup, pol, created)
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
			if errors.Is(err, seal.ErrVersion) {
				t.Errorf("Open = %v, which callers would redeliver for ever", err)
			}
		})
	}
	if _, err := sealed[seal.Version3].For("BR"); err != nil {
		t.Errorf("For of a version 3 bulletin = %v", err)
	}
}
