package seal_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
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

// TestVerifyEntryOf: MX's genuine entry verifies under MX's name and is
// refused, naming both states, under US's (a node that republished it as
// its own); any failure of VerifyEntry stays that failure.
func TestVerifyEntryOf(t *testing.T) {
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
	if got, err := seal.VerifyEntryOf(signed, n.ca.Bundle(), n.ca.TD, "MX", now); err != nil || got.State != "MX" {
		t.Errorf("VerifyEntryOf under MX = %v, %v; want MX's entry", got.State, err)
	}
	_, err = seal.VerifyEntryOf(signed, n.ca.Bundle(), n.ca.TD, "US", now)
	if !errors.Is(err, seal.ErrEntryState) || !strings.Contains(err.Error(), "under US is for MX") {
		t.Errorf("VerifyEntryOf under US = %v, want ErrEntryState naming US and MX", err)
	}
	if _, err := seal.VerifyEntryOf(signed, n.ca.Bundle(), n.ca.TD, "MX", now.Add(31*24*time.Hour)); !errors.Is(err, seal.ErrEntryExpired) {
		t.Errorf("VerifyEntryOf of an expired entry = %v, want ErrEntryExpired", err)
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

// TestEntryV2 publishes retired signing keys: a version 2 entry verifies,
// its retired keys answer SignKey with their retirement times, and every
// rule of the list holds.
func TestEntryV2(t *testing.T) {
	n := newNetwork(t)
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	if e := k.Entry(n.nodeID("MX"), created, created.Add(time.Hour), 1); e.Version != seal.Version1 {
		t.Errorf("Entry without retired keys is version %d, want 1", e.Version)
	}
	oldID := k.Public().SignKeyID
	at := time.Now().Add(-2 * time.Hour)
	for i := range 2 {
		if k, err = k.RotateSign(at.Add(time.Duration(i) * time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	e := k.Entry(n.nodeID("MX"), now, now.Add(24*time.Hour), 3)
	signed, err := seal.SignEntry(e, n.svid(t, "MX"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.VerifyEntry(signed, n.ca.Bundle(), n.ca.TD, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("VerifyEntry(v2) differs (-want +got):\n%s", diff)
	}
	if sk, ok := got.SignKey(oldID); !ok || !sk.RetiredAt.Equal(at) || !bytes.Equal(sk.Public, got.RetiredSign[1].Public) {
		t.Errorf("SignKey(oldest) = %+v, %v; want the key retired at %v", sk, ok, at)
	}
	if sk, ok := got.SignKey(got.SignKeyID); !ok || !sk.RetiredAt.IsZero() {
		t.Errorf("SignKey(current) = %+v, %v; want a current key", sk, ok)
	}
	if _, ok := got.SignKey("00"); ok {
		t.Error("SignKey(unknown) found a key")
	}
	// The last retirement time ends the entry.
	if _, err := seal.VerifyEntry(flipAt(signed, 13+len(splitEntry(t, signed))-2), n.ca.Bundle(), n.ca.TD, now); !errors.Is(err, seal.ErrEntrySignature) {
		t.Errorf("VerifyEntry with a retirement time changed = %v, want %v", err, seal.ErrEntrySignature)
	}
	if diff := cmp.Diff(splitEntry(t, signed), entryBytes(&e)); diff != "" {
		t.Fatalf("entryBytes does not encode as SignEntry does:\n%s", diff)
	}

	tests := []struct {
		name   string
		mutate func(e *seal.DirectoryEntry)
		want   error
	}{
		{"retired keys in version 1", func(e *seal.DirectoryEntry) { e.Version = seal.Version1 }, seal.ErrMalformed},
		{"retired key ID not the key's", func(e *seal.DirectoryEntry) { e.RetiredSign[0].KeyID = e.RetiredSign[1].KeyID }, seal.ErrKey},
		{"retired key repeated", func(e *seal.DirectoryEntry) {
			e.RetiredSign[1].Public, e.RetiredSign[1].KeyID = e.RetiredSign[0].Public, e.RetiredSign[0].KeyID
		}, seal.ErrMalformed},
		{"current key among the retired", func(e *seal.DirectoryEntry) {
			e.RetiredSign[0].Public, e.RetiredSign[0].KeyID = e.SignPublic, e.SignKeyID
		}, seal.ErrMalformed},
		{"retired out of order", func(e *seal.DirectoryEntry) { e.RetiredSign[0], e.RetiredSign[1] = e.RetiredSign[1], e.RetiredSign[0] }, seal.ErrMalformed},
		{"no retirement time", func(e *seal.DirectoryEntry) { e.RetiredSign[1].RetiredAt = time.Time{} }, seal.ErrMalformed},
		{"too many retired keys", func(e *seal.DirectoryEntry) {
			for len(e.RetiredSign) <= seal.MaxRetiredSignKeys {
				e.RetiredSign = append(e.RetiredSign, e.RetiredSign[0])
			}
		}, seal.ErrMalformed},
		{"version 5", func(e *seal.DirectoryEntry) { e.Version = 5 }, seal.ErrVersion},
		{"compromised keys in version 3", func(e *seal.DirectoryEntry) { e.Version, e.CompromisedSign = 3, []string{strings.Repeat("ab", 16)} }, seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := e
			bad.RetiredSign = k.RetiredSignKeys()
			tt.mutate(&bad)
			if _, err := seal.SignEntry(bad, n.svid(t, "MX")); !errors.Is(err, tt.want) {
				t.Errorf("SignEntry = %v, want %v", err, tt.want)
			}
			// What SignEntry refuses, VerifyEntry refuses when a node signs it anyway.
			if tt.want == seal.ErrVersion {
				return
			}
			if _, err := seal.VerifyEntry(resign(t, entryBytes(&bad), n.svid(t, "MX")), n.ca.Bundle(), n.ca.TD, now); !errors.Is(err, tt.want) {
				t.Errorf("VerifyEntry = %v, want %v", err, tt.want)
			}
		})
	}
}

// entryBytes encodes e as the package doc's wire format says, without
// SignEntry's checks: what a node could sign anyway.
func entryBytes(e *seal.DirectoryEntry) []byte {
	str := func(b []byte, s []byte) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(b, s...)
	}
	b := []byte{byte(e.Version)}
	b = str(b, []byte(e.NodeID))
	b = str(b, []byte(e.State))
	b = str(b, []byte(e.KEMKeyID))
	b = str(b, e.KEMPublic)
	b = str(b, []byte(e.SignKeyID))
	b = str(b, e.SignPublic)
	b = binary.BigEndian.AppendUint64(b, uint64(e.NotBefore.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.NotAfter.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, e.Sequence)
	if e.Version < seal.Version2 && len(e.RetiredSign) == 0 {
		return b
	}
	b = append(b, byte(len(e.RetiredSign)))
	for _, r := range e.RetiredSign {
		b = str(b, []byte(r.KeyID))
		b = str(b, r.Public)
		var ns int64
		if !r.RetiredAt.IsZero() {
			ns = r.RetiredAt.UnixNano()
		}
		b = binary.BigEndian.AppendUint64(b, uint64(ns))
	}
	return b
}
