package attest_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/attest"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/seal"
)

var (
	td      = spiffeid.RequireTrustDomainFromString("iant.test")
	created = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
)

// nodes are the member states' node keys of a test network.
type nodes map[string]*seal.NodeKeys

func newNodes(t testing.TB, states ...string) nodes {
	t.Helper()
	n := nodes{}
	for _, s := range states {
		k, err := seal.GenerateNodeKeys(s)
		if err != nil {
			t.Fatal(err)
		}
		n[s] = k
	}
	return n
}

// lookup is the directory: each state's current signing key.
func (n nodes) lookup(_ context.Context, state, keyID string) (ed25519.PublicKey, error) {
	k, ok := n[state]
	if !ok || k.Public().SignKeyID != keyID {
		return nil, fmt.Errorf("%w: no key %s of %s", audit.ErrAttestation, keyID, state)
	}
	return k.Public().SignPublic, nil
}

// seal seals a FLASH bulletin id of origin for to.
func (n nodes) seal(t testing.TB, origin, id string, to ...string) *seal.Sealed {
	t.Helper()
	var pubs []seal.PublicKeys
	for _, s := range to {
		pubs = append(pubs, n[s].Public())
	}
	s, err := seal.Seal(seal.Header{ID: id, Origin: origin, Signer: "spiffe://iant.test/state/" + origin + "/node/main",
		Precedence: int32(bulletin.Flash), CreatedAt: created, ExpiresAt: created.Add(time.Hour)},
		[]byte("the body, never in an attestation"), pubs, n[origin])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHeaderAttestations(t *testing.T) {
	n := newNodes(t, "MX", "BR", "US", "CA")
	v := attest.Verifiers(n.lookup, td)
	s := n.seal(t, "MX", "01JATT", "BR", "US")
	want := audit.SignedHeader{Origin: "MX", ID: "01JATT", Signer: "spiffe://iant.test/state/MX/node/main",
		Precedence: bulletin.Flash, CreatedAt: created, ExpiresAt: created.Add(time.Hour), Recipients: []string{"BR", "US"}}

	fromOrigin, err := attest.Header(s)
	if err != nil {
		t.Fatal(err)
	}
	copies, err := s.Copies()
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := copies[1].Marshal()
	fromCopy, err := attest.FromCopy(wire)
	if err != nil {
		t.Fatal(err)
	}
	for name, att := range map[string][]byte{"origin's": fromOrigin, "US's copy's": fromCopy} {
		got, err := v.Header(context.Background(), att)
		if err != nil {
			t.Fatalf("%s attestation: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s attestation (-want +got):\n%s", name, diff)
		}
		if len(att) > audit.MaxEvidenceBytes {
			t.Errorf("%s attestation is %d bytes, over the audit's limit", name, len(att))
		}
	}

	// Every byte flipped: a verdict, never a header.
	for i := range fromOrigin {
		bad := append([]byte(nil), fromOrigin...)
		bad[i] ^= 0x40
		if h, err := v.Header(context.Background(), bad); err == nil && !cmp.Equal(h, want) {
			t.Fatalf("byte %d flipped: accepted %+v", i, h)
		} else if err != nil && !errors.Is(err, audit.ErrAttestation) {
			t.Fatalf("byte %d flipped: %v, want ErrAttestation", i, err)
		}
	}

	// A header signed by another state's key is a verdict; a directory
	// that cannot be read is not.
	forged := n.seal(t, "BR", "01JATT", "US")
	forged.Origin = "MX"
	att, _ := attest.Header(forged)
	if _, err := v.Header(context.Background(), att); !errors.Is(err, audit.ErrAttestation) {
		t.Errorf("header re-labelled as MX's = %v, want ErrAttestation", err)
	}
	down := attest.Verifiers(func(context.Context, string, string) (ed25519.PublicKey, error) {
		return nil, errors.New("backbone unreachable")
	}, td)
	if _, err := down.Header(context.Background(), fromOrigin); err == nil || errors.Is(err, audit.ErrAttestation) {
		t.Errorf("Header with the directory unreachable = %v, want a temporary error", err)
	}
}

func TestForwardStatements(t *testing.T) {
	n := newNodes(t, "MX", "BR", "CA")
	v := attest.Verifiers(n.lookup, td)
	h, err := v.Header(context.Background(), mustHeader(t, n.seal(t, "MX", "01JFWD", "BR")))
	if err != nil {
		t.Fatal(err)
	}
	// BR forwards: it seals the bulletin anew, as its sender, for CA.
	fwd := n.seal(t, "BR", "01JFWD", "CA")
	got, err := v.Forward(context.Background(), h, mustHeader(t, fwd))
	want := audit.SignedForward{Origin: "MX", ID: "01JFWD", Forwarder: "BR", Signer: "spiffe://iant.test/state/BR/node/main",
		Recipient: "CA", At: created}
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("Forward = %v (-want +got):\n%s", err, diff)
	}
	other := n.seal(t, "BR", "01JOTHER", "CA")
	if _, err := v.Forward(context.Background(), h, mustHeader(t, other)); !errors.Is(err, audit.ErrAttestation) {
		t.Errorf("Forward of another bulletin = %v, want ErrAttestation", err)
	}
}

func mustHeader(t testing.TB, s *seal.Sealed) []byte {
	t.Helper()
	b, err := attest.Header(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzVerifyHeader checks that verifying arbitrary bytes never panics, and
// that whatever it accepts is a valid header of the one bulletin sealed.
func FuzzVerifyHeader(f *testing.F) {
	n := newNodes(f, "MX", "BR")
	s := n.seal(f, "MX", "01JFUZZ", "BR")
	att := mustHeader(f, s)
	f.Add(att)
	f.Add([]byte("IANTSEAL"))
	v := attest.Verifiers(n.lookup, td)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := v.Header(context.Background(), b)
		if err != nil {
			if !errors.Is(err, audit.ErrAttestation) {
				t.Fatalf("Header(%x) = %v, want a verdict", b, err)
			}
			return
		}
		if err := h.Validate(); err != nil || h.ID != "01JFUZZ" || h.Origin != "MX" {
			t.Fatalf("Header accepted %+v (%v)", h, err)
		}
	})
}
