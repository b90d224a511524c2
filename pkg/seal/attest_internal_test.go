package seal

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

// TestForgedForwardAttestations: a compromised state's node signs, with
// its genuine key, statements about bulletins it may not speak for, and
// presents them with the origin's genuine attestation, as a receipt's
// evidence would carry them. Verify refuses each with its own sentinel.
func TestForgedForwardAttestations(t *testing.T) {
	n := newForgeNet(t, "MX", "BR", "US", "PE", "CO")
	s := n.seal(t, "MX", "BR", "US")
	genuine := func(t *testing.T) *ForwardAttestation {
		a, err := n.forward(t, s, "BR", "PE").Attest()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	signAs := func(a *ForwardAttestation, state string) *ForwardAttestation {
		st := &a.Statement
		st.Forwarder, st.Signer, st.SignKeyID = state, nodeID(state), n[state].signID
		a.Signature = signStatement(n[state], st)
		return a
	}
	tests := []struct {
		name  string
		forge func(t *testing.T) *ForwardAttestation
		want  error
	}{
		{"the origin forwards its own bulletin", func(t *testing.T) *ForwardAttestation { return signAs(genuine(t), "MX") }, ErrOwnForward},
		{"a state never released it forwards", func(t *testing.T) *ForwardAttestation { return signAs(genuine(t), "CO") }, ErrNotHeld},
		{"forwarded to a recipient of the origin", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Statement.Recipient = "US"
			return signAs(a, "BR")
		}, ErrAlreadyRecipient},
		{"forwarded back to the origin", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Statement.Recipient = "MX"
			return signAs(a, "BR")
		}, ErrAlreadyRecipient},
		{"the statement names another header", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Statement.HeaderHash[0] ^= 1
			return signAs(a, "BR")
		}, ErrStatement},
		{"forwarded before the bulletin was created", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Statement.At = forgeCreated.Add(-time.Hour)
			return signAs(a, "BR")
		}, ErrStatement},
		{"forwarded after it expired", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Statement.At = forgeCreated.Add(49 * time.Hour)
			return signAs(a, "BR")
		}, ErrExpired},
		{"signed by another state's key", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Signature = signStatement(n["US"], &a.Statement)
			return a
		}, ErrSignature},
		{"an origin header altered", func(t *testing.T) *ForwardAttestation {
			a := genuine(t)
			a.Origin.Header.Precedence = 1
			a.Statement.HeaderHash = a.Origin.Header.Hash()
			return signAs(a, "BR")
		}, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.forge(t)
			b, err := a.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalForwardAttestation(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.Verify(n.lookup, Policy{}); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if err := genuine(t).Verify(n.lookup, Policy{}); err != nil {
		t.Errorf("Verify(genuine) = %v", err)
	}
	// A forward back to the origin, made with genuine keys outside
	// Forward, is refused at the origin as well.
	f := n.forward(t, s, "BR", "PE")
	f.Statement.Recipient, f.Statement.KEMKeyID = "MX", n["MX"].kemID
	key := n.unwrapAt(t, s, "BR")
	f.Key = n.wrapFor(t, "MX", forwardInfo(&f.Sealed.Header, "BR", "MX", n["MX"].kemID), key)
	n.resign(f, "BR")
	if _, err := OpenForwarded(f, "MX", n["MX"], n.lookup, Policy{}, forgeCreated.Add(2*time.Hour)); !errors.Is(err, ErrAlreadyRecipient) {
		t.Errorf("OpenForwarded at the origin = %v, want ErrAlreadyRecipient", err)
	}
}

// signStatement signs st with k's signing key, as Forward does.
func signStatement(k *NodeKeys, st *ForwardStatement) []byte {
	return ed25519.Sign(k.sign, statementMessage(st))
}
