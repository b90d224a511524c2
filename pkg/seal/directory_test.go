package seal_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/seal"
)

// splitEntry returns the entry bytes of a signed entry (see SignEntry's
// documented format).
func splitEntry(tb testing.TB, signed []byte) []byte {
	tb.Helper()
	n := binary.BigEndian.Uint32(signed[9:13])
	return bytes.Clone(signed[13 : 13+n])
}

// envelope builds a signed entry by hand from its parts.
func envelope(entry, sig []byte, chain [][]byte) []byte {
	b := append([]byte("IANTDENT"), 1)
	b = binary.BigEndian.AppendUint32(b, uint32(len(entry)))
	b = append(b, entry...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sig)))
	b = append(b, sig...)
	b = append(b, byte(len(chain)))
	for _, c := range chain {
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

// resign signs entry with svid as SignEntry would, but without its checks:
// what an attacker holding svid could publish.
func resign(tb testing.TB, entry []byte, svid *x509svid.SVID) []byte {
	tb.Helper()
	digest := sha256.Sum256(append([]byte("iant/directory-entry/v1\x00"), entry...))
	sig, err := svid.PrivateKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	var chain [][]byte
	for _, c := range svid.Certificates {
		chain = append(chain, c.Raw)
	}
	return envelope(entry, sig, chain)
}

func TestVerifyEntry(t *testing.T) {
	n := newNetwork(t)
	keys, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e := keys.Entry(n.nodeID("MX"), now, now.Add(30*24*time.Hour), 7)
	signed, err := seal.SignEntry(e, n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	entry := splitEntry(t, signed)
	other := identitytest.NewCA(t, "iant.test")
	mxID := []byte(n.nodeID("MX"))
	usID := []byte(n.nodeID("US"))

	tests := []struct {
		name string
		in   []byte
		now  time.Time
		want error
	}{
		{"valid", signed, now, nil},
		{"valid long after the SVID expired", signed, now.Add(29 * 24 * time.Hour), nil},
		{"expired", signed, now.Add(31 * 24 * time.Hour), seal.ErrEntryExpired},
		{"not yet valid", signed, now.Add(-time.Hour), seal.ErrEntryExpired},
		{"unsigned", envelope(entry, nil, nil), now, seal.ErrEntryUnsigned},
		{"signature without chain", envelope(entry, []byte{1}, nil), now, seal.ErrEntryUnsigned},
		{"signed by another state's node", resign(t, entry, n.svid(t, "US")), now, seal.ErrEntrySigner},
		{"signed by another node of the state", resign(t, entry,
			n.ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "backup"})), now, seal.ErrEntrySigner},
		{"signed by a person", resign(t, entry,
			n.ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: "ana"})), now, seal.ErrEntrySigner},
		{"US node claims MX's state", resign(t, bytes.Replace(entry, mxID, usID, 1), n.svid(t, "US")), now, seal.ErrEntrySigner},
		{"chain from another CA", resign(t, entry, other.SVID(t, n.principal("MX"))), now, seal.ErrEntryChain},
		{"tampered KEM key", flipAt(signed, 13+len(mxID)+200), now, seal.ErrEntrySignature},
		{"tampered sequence", flipAt(signed, 13+len(entry)-1), now, seal.ErrEntrySignature},
		{"tampered signature", flipAt(signed, 13+len(entry)+10), now, seal.ErrEntrySignature},
		{"trailing byte", append(bytes.Clone(signed), 0), now, seal.ErrMalformed},
		{"truncated", signed[:len(signed)-1], now, seal.ErrMalformed},
		{"bad magic", flipAt(signed, 0), now, seal.ErrMalformed},
		{"version 2", flipAt(signed, 8), now, seal.ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seal.VerifyEntry(tt.in, n.ca.Bundle(), n.ca.TD, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyEntry = %v, want %v", err, tt.want)
			}
			if err == nil {
				if diff := cmp.Diff(e, got); diff != "" {
					t.Errorf("VerifyEntry entry differs (-want +got):\n%s", diff)
				}
			}
		})
	}
	if _, err := seal.VerifyEntry(signed, n.ca.Bundle(), mustTD(t, "other.test"), now); !errors.Is(err, seal.ErrEntrySigner) {
		t.Errorf("VerifyEntry in another trust domain = %v, want ErrEntrySigner", err)
	}
}

func flipAt(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x02
	return c
}

func TestSignEntryRefuses(t *testing.T) {
	n := newNetwork(t)
	keys, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := keys.Entry(n.nodeID("MX"), now, now.Add(time.Hour), 1)
	tests := []struct {
		name  string
		entry func(e *seal.DirectoryEntry)
		svid  *x509svid.SVID
		want  error
	}{
		{"SVID of another node", nil, n.svid(t, "US"), seal.ErrEntrySigner},
		{"node ID of another state", func(e *seal.DirectoryEntry) { e.NodeID = n.nodeID("US") }, n.svid(t, "US"), seal.ErrEntrySigner},
		{"KEM key ID not the key's", func(e *seal.DirectoryEntry) { e.KEMKeyID = e.SignKeyID }, nil, seal.ErrKey},
		{"lifetime too long", func(e *seal.DirectoryEntry) { e.NotAfter = now.Add(seal.MaxEntryLifetime + time.Hour) }, nil, seal.ErrMalformed},
		{"no validity", func(e *seal.DirectoryEntry) { e.NotBefore = time.Time{} }, nil, seal.ErrMalformed},
		{"version 0", func(e *seal.DirectoryEntry) { e.Version = 0 }, nil, seal.ErrVersion},
		{"no SVID", nil, &x509svid.SVID{}, seal.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good
			if tt.entry != nil {
				tt.entry(&e)
			}
			svid := tt.svid
			if svid == nil {
				svid = n.svid(t, "MX")
			}
			if _, err := seal.SignEntry(e, svid); !errors.Is(err, tt.want) {
				t.Errorf("SignEntry = %v, want %v", err, tt.want)
			}
		})
	}
}
