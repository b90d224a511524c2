package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"
)

// These tests play a compromised member state's node: it holds its own
// genuine node keys and uses them outside Seal and Forward, as an
// attacker with the package's documented formats would.

var forgeCreated = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// forgeNet is a set of state nodes whose keys every test can use.
type forgeNet map[string]*NodeKeys

func newForgeNet(tb testing.TB, states ...string) forgeNet {
	tb.Helper()
	n := forgeNet{}
	for _, s := range states {
		k, err := GenerateNodeKeys(s)
		if err != nil {
			tb.Fatal(err)
		}
		n[s] = k
	}
	return n
}

func nodeID(state string) string { return "spiffe://iant.test/state/" + state + "/node/main" }

// lookup vouches for each node's current signing key.
func (n forgeNet) lookup(state, keyID string) (SignerKey, error) {
	k, ok := n[state]
	if !ok || k.signID != keyID {
		return SignerKey{}, fmt.Errorf("no key %s of %s", keyID, state)
	}
	return SignerKey{Public: k.sign.Public().(ed25519.PublicKey)}, nil
}

func (n forgeNet) seal(tb testing.TB, origin string, to ...string) *Sealed {
	tb.Helper()
	var pks []PublicKeys
	for _, r := range to {
		pks = append(pks, n[r].Public())
	}
	hdr := Header{ID: "01JFORGE", Origin: origin, Signer: nodeID(origin), CreatedAt: forgeCreated, ExpiresAt: forgeCreated.Add(48 * time.Hour)}
	s, err := Seal(hdr, []byte("the origin's bulletin"), pks, n[origin])
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (n forgeNet) forward(tb testing.TB, s *Sealed, self, to string) *Forwarded {
	tb.Helper()
	st := ForwardStatement{Signer: nodeID(self), Reason: "test", At: forgeCreated.Add(time.Hour)}
	f, err := Forward(s, self, n[self], n[to].Public(), st, n[self])
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (n forgeNet) openForwarded(f *Forwarded, self string) ([]byte, error) {
	return OpenForwarded(f, self, n[self], n.lookup, Policy{}, forgeCreated.Add(2*time.Hour))
}

// wrapFor wraps key for state under info.
func (n forgeNet) wrapFor(tb testing.TB, state string, info, key []byte) []byte {
	tb.Helper()
	a, _ := SuiteV1.lookup()
	pk, err := a.kem.NewPublicKey(n[state].kemPub)
	if err != nil {
		tb.Fatal(err)
	}
	enc, err := hpke.Seal(pk, a.kdf, a.aead, info, key)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// resign has state's node sign f's statement as it now stands, naming
// itself as forwarder and signer.
func (n forgeNet) resign(f *Forwarded, state string) {
	f.Statement.Forwarder, f.Statement.Signer, f.Statement.SignKeyID = state, nodeID(state), n[state].signID
	f.Statement.KeyHash = sha256.Sum256(f.Key)
	f.Signature = ed25519.Sign(n[state].sign, statementMessage(&f.Statement))
}

// TestMaliciousOriginTwoPlaintexts: an origin seals one ciphertext that
// opens under two content keys, wraps one key for BR and the other for
// US, and signs once. Without a key commitment (version 2) BR and US each
// open it and read different bulletins under one signature; in version 3
// the recipient whose key is not the committed one is refused.
func TestMaliciousOriginTwoPlaintexts(t *testing.T) {
	n := newForgeNet(t, "MX", "BR", "US")
	for _, v := range []int{Version2, Version3} {
		t.Run(fmt.Sprintf("version %d", v), func(t *testing.T) {
			s := n.sealTwoKeys(t, v)
			pol := Policy{MinVersion: v}
			ptBR, err := Open(s, "BR", n["BR"], n.lookup, pol, forgeCreated)
			if err != nil {
				t.Fatalf("Open at BR = %v", err)
			}
			ptUS, err := Open(s, "US", n["US"], n.lookup, pol, forgeCreated)
			switch {
			case v == Version2 && (err != nil || bytes.Equal(ptBR, ptUS)):
				t.Fatalf("Open at US = %q, %v; the version 2 attack should give another plaintext", ptUS, err)
			case v == Version3 && !errors.Is(err, ErrKeyCommitment):
				t.Errorf("Open at US = %v, want %v", err, ErrKeyCommitment)
			}
		})
	}
}

// sealTwoKeys seals as MX would, but with content key k1 for BR and k2
// for US over one colliding ciphertext; version 3 commits to k1.
func (n forgeNet) sealTwoKeys(tb testing.TB, version int) *Sealed {
	tb.Helper()
	mx := n["MX"]
	k1, k2 := make([]byte, 32), make([]byte, 32)
	rand.Read(k1)
	rand.Read(k2)
	s := &Sealed{Header: Header{
		Version: version, Suite: SuiteV1, ID: "01JTWOFACED", Origin: "MX", Signer: nodeID("MX"),
		SignKeyID: mx.signID, Recipients: []string{"BR", "US"}, CreatedAt: forgeCreated,
	}}
	if version >= Version3 {
		s.KeyCommitment = keyCommitment(k1)
	}
	s.Ciphertext = collidingCiphertext(tb, k1, k2, contentAAD(&s.Header))
	s.CiphertextHash = sha256.Sum256(s.Ciphertext)
	for i, k := range [][]byte{k1, k2} {
		r := s.Recipients[i]
		enc := n.wrapFor(tb, r, wrapInfo(&s.Header, r, n[r].kemID), k)
		s.Keys = append(s.Keys, WrappedKey{Recipient: r, KEMKeyID: n[r].kemID, Enc: enc})
	}
	s.Signature = ed25519.Sign(mx.sign, signedMessage(&s.Header, s.Keys))
	return s
}

// TestMaliciousForwarder: BR received MX's bulletin and forwards it to PE,
// but changes what it forwards, or forwards what it may not; every
// variant is refused at PE with its own sentinel.
func TestMaliciousForwarder(t *testing.T) {
	n := newForgeNet(t, "MX", "BR", "US", "PE", "CO")
	s := n.seal(t, "MX", "BR", "US")
	tests := []struct {
		name  string
		forge func(t *testing.T) *Forwarded
		at    string // opening state, default PE
		want  error
	}{
		{"changes an origin header byte and signs for it", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			f.Sealed.Precedence = 1 // e.g. upgrade to FLASH
			f.Statement.HeaderHash = f.Sealed.Header.Hash()
			n.resign(f, "BR")
			return f
		}, "", ErrSignature},
		{"substitutes another content key", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			other := make([]byte, 32)
			rand.Read(other)
			f.Key = n.wrapFor(t, "PE", forwardInfo(&f.Sealed.Header, "BR", "PE", n["PE"].kemID), other)
			n.resign(f, "BR")
			return f
		}, "", ErrKeyCommitment},
		{"wraps the key under the origin's info", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			key := n.unwrapAt(t, s, "BR")
			f.Key = n.wrapFor(t, "PE", wrapInfo(&f.Sealed.Header, "PE", n["PE"].kemID), key)
			n.resign(f, "BR")
			return f
		}, "", ErrUnwrap},
		{"forges the statement's origin", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			f.Statement.Origin = "US"
			n.resign(f, "BR")
			return f
		}, "", ErrStatement},
		{"invents a bulletin from MX signed with its own key", func(t *testing.T) *Forwarded {
			return n.forward(t, n.inventFrom(t, "MX", "BR", n["BR"].signID), "BR", "PE")
		}, "", ErrSigner},
		{"invents a bulletin from MX naming MX's key", func(t *testing.T) *Forwarded {
			return n.forward(t, n.inventFrom(t, "MX", "BR", n["MX"].signID), "BR", "PE")
		}, "", ErrSignature},
		{"forwards a bulletin it never received", func(t *testing.T) *Forwarded {
			// BR leaks the content key to CO, which forwards as itself.
			f := n.forward(t, s, "BR", "PE")
			f.Key = n.wrapFor(t, "PE", forwardInfo(&f.Sealed.Header, "CO", "PE", n["PE"].kemID), n.unwrapAt(t, s, "BR"))
			n.resign(f, "CO")
			return f
		}, "", ErrNotHeld},
		{"forwards a forward onward", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			f.Statement.Recipient, f.Statement.KEMKeyID = "CO", n["CO"].kemID
			f.Key = n.wrapFor(t, "CO", forwardInfo(&f.Sealed.Header, "PE", "CO", n["CO"].kemID), n.unwrapAt(t, s, "BR"))
			n.resign(f, "PE")
			return f
		}, "CO", ErrNotHeld},
		{"the originator forwards its own", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			f.Key = n.wrapFor(t, "PE", forwardInfo(&f.Sealed.Header, "MX", "PE", n["PE"].kemID), n.unwrapAt(t, s, "BR"))
			n.resign(f, "MX")
			return f
		}, "", ErrOwnForward},
		{"forwards to a recipient of the origin", func(t *testing.T) *Forwarded {
			f := n.forward(t, s, "BR", "PE")
			f.Statement.Recipient, f.Statement.KEMKeyID = "US", n["US"].kemID
			f.Key = n.wrapFor(t, "US", forwardInfo(&f.Sealed.Header, "BR", "US", n["US"].kemID), n.unwrapAt(t, s, "BR"))
			n.resign(f, "BR")
			return f
		}, "US", ErrAlreadyRecipient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at == "" {
				at = "PE"
			}
			f := tt.forge(t)
			if _, err := f.Marshal(); err != nil {
				t.Fatalf("forged forward does not even encode: %v", err)
			}
			if _, err := n.openForwarded(f, at); !errors.Is(err, tt.want) {
				t.Errorf("OpenForwarded at %s = %v, want %v", at, err, tt.want)
			}
		})
	}
	if _, err := n.openForwarded(n.forward(t, s, "BR", "PE"), "PE"); err != nil {
		t.Fatalf("OpenForwarded of an honest forward = %v", err)
	}
}

// unwrapAt returns the content key of s as state, a recipient, unwraps it.
func (n forgeNet) unwrapAt(tb testing.TB, s *Sealed, state string) []byte {
	tb.Helper()
	a, _ := s.Suite.lookup()
	i := indexOf(s.Recipients, state)
	wk := s.Keys[i]
	key, err := unwrap(wk.Enc, wk.KEMKeyID, wrapInfo(&s.Header, state, wk.KEMKeyID), n[state], &s.Header, a)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// inventFrom has forger seal a bulletin claiming origin, for forger and
// US, signed with forger's key under the key ID signKeyID.
func (n forgeNet) inventFrom(tb testing.TB, origin, forger, signKeyID string) *Sealed {
	tb.Helper()
	s := n.seal(tb, forger, forger, "US")
	s.Origin, s.Signer, s.SignKeyID = origin, nodeID(origin), signKeyID
	// Re-wrap for the new header (the info names the origin) and re-sign.
	key := make([]byte, 32)
	rand.Read(key)
	s.KeyCommitment = keyCommitment(key)
	aead, _ := newAESGCM(key)
	s.Ciphertext = aead.Seal(nil, zeroNonce[:], []byte("invented"), contentAAD(&s.Header))
	s.CiphertextHash = sha256.Sum256(s.Ciphertext)
	for i, r := range s.Recipients {
		s.Keys[i].Enc = n.wrapFor(tb, r, wrapInfo(&s.Header, r, n[r].kemID), key)
	}
	s.Signature = ed25519.Sign(n[forger].sign, signedMessage(&s.Header, s.Keys))
	return s
}
