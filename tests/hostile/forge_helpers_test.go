package hostile_test

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// attacker is a compromised state's node: its genuine keys (as its key
// file holds them) and SVID, used outside pkg/seal's Seal and Forward with
// the formats pkg/seal documents.
type attacker struct {
	state  string
	keys   *seal.NodeKeys
	sign   ed25519.PrivateKey
	nodeID string
	bb     *backbone.Client
}

func newAttacker(t *testing.T, nw *testenv.Network, cc string) *attacker {
	t.Helper()
	k := nettest.NodeKeys(t, nw, cc)
	priv, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	// "IANTNKEY" u8 version, str state, str KEM, blob16 KEM seed, str
	// "Ed25519", blob16 Ed25519 seed, ...
	p := priv[9:]
	next := func() []byte {
		n := int(binary.BigEndian.Uint16(p))
		v := p[2 : 2+n]
		p = p[2+n:]
		return v
	}
	next()
	next()
	next()
	next()
	return &attacker{state: cc, keys: k, sign: ed25519.NewKeyFromSeed(next()),
		nodeID: testenv.NodePrincipal(cc).ID(nw.TD).String(), bb: nettest.NodeBackbone(t, nw, cc)}
}

// publish publishes data to recipient's inbox as the attacker's node.
func (a *attacker) publish(t *testing.T, recipient, id string, data []byte) {
	t.Helper()
	if _, err := a.bb.PublishInbox(t.Context(), recipient, a.state, id, data); err != nil {
		t.Fatalf("publish as %s to %s: %v", a.state, recipient, err)
	}
}

// resign names the attacker as the forwarder of f, recomputes the
// statement's hashes and signs it with the attacker's genuine key over
// "iant/forward-statement/v1\x00" ‖ statement.
func (a *attacker) resign(f *seal.Forwarded) {
	st := &f.Statement
	st.Forwarder, st.Signer, st.SignKeyID = a.state, a.nodeID, a.keys.Public().SignKeyID
	st.HeaderHash = f.Sealed.Header.Hash()
	st.KeyHash = sha256.Sum256(f.Key)
	f.Signature = ed25519.Sign(a.sign, append([]byte("iant/forward-statement/v1\x00"), encodeStatement(st)...))
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// encodeStatement is a forward statement's documented encoding.
func encodeStatement(st *seal.ForwardStatement) []byte {
	b := appendStr(appendStr(nil, st.Origin), st.ID)
	b = append(b, st.HeaderHash[:]...)
	for _, s := range []string{st.Forwarder, st.Signer, st.SignKeyID, st.Recipient, st.KEMKeyID} {
		b = appendStr(b, s)
	}
	b = append(b, st.KeyHash[:]...)
	b = appendStr(b, st.Reason)
	return binary.BigEndian.AppendUint64(b, uint64(st.At.UnixNano()))
}

// wrapForward wraps key for to's KEM key under f's forward info:
// "iant/forward-wrap/v1\x00" str(KEM, KDF, AEAD, Sig, id, origin,
// forwarder, recipient, kem-key-id).
func wrapForward(t *testing.T, f *seal.Forwarded, to seal.PublicKeys, key []byte) []byte {
	t.Helper()
	h, st := &f.Sealed.Header, &f.Statement
	info := []byte("iant/forward-wrap/v1\x00")
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, st.Forwarder, to.State, to.KEMKeyID} {
		info = appendStr(info, s)
	}
	pk, err := hpke.MLKEM768X25519().NewPublicKey(to.KEMPublic)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := hpke.Seal(pk, hpke.HKDFSHA256(), hpke.AES256GCM(), info, key)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// marshal encodes a forward, failing the test if it cannot.
func marshal(t *testing.T, f *seal.Forwarded) []byte {
	t.Helper()
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bulletinOf completes draft as node origin would post it: id, origin,
// author, creation time, recipients.
func bulletinOf(draft *iantv1.Bulletin, id, origin string, created time.Time, recipients ...string) *iantv1.Bulletin {
	b := proto.Clone(draft).(*iantv1.Bulletin)
	b.Id, b.Origin, b.Author = id, origin, "spiffe://iant.test/state/"+origin+"/focal-point/focal"
	b.CreateTime, b.Recipients = timestamppb.New(created), recipients
	return b
}

// sealAs seals b with keys (the attacker's genuine ones, or keys it made
// up), naming b's origin's node as signer, for the states to.
func sealAs(t *testing.T, nw *testenv.Network, keys *seal.NodeKeys, b *iantv1.Bulletin, to ...string) *seal.Sealed {
	t.Helper()
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var pubs []seal.PublicKeys
	for _, cc := range to {
		pubs = append(pubs, nettest.NodeKeys(t, nw, cc).Public())
	}
	s, err := seal.Seal(seal.Header{ID: b.GetId(), Origin: b.GetOrigin(), Signer: testenv.NodePrincipal(b.GetOrigin()).ID(nw.TD).String(),
		Precedence: int32(b.GetPrecedence()), Marking: int32(b.GetMarking()), Recipients: to, CreatedAt: b.GetCreateTime().AsTime()},
		pt, pubs, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// inboxCopy returns the copy of bulletin id from origin that the backbone
// holds for recipient, as published (read as the test inspector, as the
// backbone's operator could; nw must run with nettest.Inspected options).
func inboxCopy(t *testing.T, nw *testenv.Network, recipient, origin, id string) *seal.Sealed {
	t.Helper()
	return nettest.InboxCopy(t, nw, recipient, origin, id)
}

// notShown checks that c's node holds no bulletin id from origin: Get
// with that origin is NotFound and no listed bulletin is it.
func notShown(t *testing.T, c iantv1.BulletinServiceClient, origin, id string) {
	t.Helper()
	_, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: origin})
	if err == nil {
		t.Errorf("%s/%s is shown", origin, id)
	}
	list, err := c.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range list.GetBulletins() {
		if b.GetBulletin().GetId() == id && b.GetBulletin().GetOrigin() == origin {
			t.Errorf("%s/%s is listed", origin, id)
		}
	}
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }

// countRefusals counts cc's refusals, logged, of copies of (origin, id)
// published by origin's node.
func countRefusals(t *testing.T, a iantv1.AuditServiceClient, origin, id, cc string) int {
	t.Helper()
	n := 0
	for _, l := range nettest.Leaves(t, a, origin, id) {
		if e := l.Event; e.Kind == audit.EventRefused && e.State == cc {
			n++
		}
	}
	return n
}

// checkForgery verifies forgery f's signatures as the audit would (with
// the states' genuine signing keys) and fails the test unless that gives
// want (nil: every signature holds, what is wrong lies elsewhere): so a
// refusal at the receiver is for the reason the test means, not for a
// slip in how the attack was made.
func checkForgery(t *testing.T, nw *testenv.Network, f *seal.Forwarded, want error) {
	t.Helper()
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		pub := nettest.NodeKeys(t, nw, state).Public()
		if pub.SignKeyID != keyID {
			return seal.SignerKey{}, fmt.Errorf("no key %s of %s", keyID, state)
		}
		return seal.SignerKey{Public: pub.SignPublic}, nil
	}
	a, err := f.Attest()
	if err == nil {
		err = a.Verify(lookup, seal.Policy{TrustDomain: nw.TD})
	}
	if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("the forgery's attestation verifies with %v, want %v", err, want)
	}
}
