package hostile_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/sealtest"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestCollidingCiphertextForTwoRecipients: MX's node, compromised, seals one
// bulletin for CO and PE whose single ciphertext, under the one signature
// of MX's genuine key, opens to bulletin A under the content key wrapped
// for PE and to bulletin B (same id, header facts and recipients, other
// title and body) under the key wrapped for CO: an AES-GCM key collision,
// each plaintext a bulletin that binds to the signed header. It publishes
// each state its copy.
//
// Sealed in version 3, the header commits to PE's key: PE reads A, the
// one plaintext the signed header and ciphertext determine, and CO
// refuses its copy (the key does not match the commitment; receive.open,
// audited as MX's). Sealed in version 2, which commits to no key, both
// refuse it (the version is refused; receive.open). Either way no node
// stores or shows B, PE shows A at most, and the secretariat's report
// has PE's delivery at most, never CO's.
func TestCollidingCiphertextForTwoRecipients(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	mx := newAttacker(t, nw, "MX")
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	nodes := map[string]iantv1.BulletinServiceClient{}
	for _, cc := range []string{"MX", "CO", "PE"} {
		nodes[cc] = nettest.Dial(t, nw, testenv.FocalPoint(cc))
	}
	tests := []struct {
		name    string
		version int
		reader  string // the state that stores A; "" for none
	}{
		{"version 3, committed to PE's key", seal.Version3, "PE"},
		{"version 2, no commitment", seal.Version2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ulid.Make().String()
			now := time.Now().UTC().Truncate(time.Millisecond)
			want := map[string]*iantv1.Bulletin{
				"PE": bulletinOf(green(fmt.Sprintf("what MX shows PE (version %d)", tt.version), "CO", "PE"), id, "MX", now, "CO", "PE"),
				"CO": bulletinOf(green(fmt.Sprintf("what MX shows CO (version %d)", tt.version), "CO", "PE"), id, "MX", now, "CO", "PE"),
			}
			want["CO"].Body = fmt.Sprintf("Another subject altogether (version %d); no travel document involved.", tt.version)
			tf := mx.sealTwoFaced(t, nw, tt.version, want)
			tf.check(t, nw, want)
			for _, cc := range []string{"CO", "PE"} {
				c, err := tf.sealed.For(cc)
				mx.publish(t, cc, id, must(t, c, err))
			}
			for _, cc := range []string{"CO", "PE"} {
				if cc == tt.reader {
					got := nettest.WaitStored(t, nodes[cc], id).GetBulletin()
					if got.GetTitle() != want[cc].GetTitle() || got.GetBody() != want[cc].GetBody() || got.GetOrigin() != "MX" {
						t.Errorf("%s shows %q from %s, want MX's %q", cc, got.GetTitle(), got.GetOrigin(), want[cc].GetTitle())
					}
					continue
				}
				refusedWith(t, auditor, "MX", id, cc, "receive.open")
				waitParked(t, nw, cc, "MX", 0) // a verdict, not a wait
				notShown(t, nodes[cc], "MX", id)
			}
			nowhere(t, nodes, want["CO"])
			delivered := map[string]int{}
			if tt.reader != "" {
				delivered[tt.reader] = 1
				r := nettest.WaitReportOf(t, auditor, "MX", id, func(r *iantv1.BulletinReport) bool {
					return nettest.Recipient(r, tt.reader).GetDeliverTime() != nil
				})
				if d := nettest.Recipient(r, "CO").GetDeliverTime(); d != nil {
					t.Errorf("the report has CO delivered at %v", d.AsTime())
				}
				if n := countRefusals(t, auditor, "MX", id, tt.reader); n != 0 {
					t.Errorf("the log holds %d refusals by %s, want none", n, tt.reader)
				}
			}
			checkDeliveries(t, auditor, "MX", id, delivered)
		})
	}
}

// nowhere checks that no node lists b's title or body, and that only
// one holds its id at most.
func nowhere(t *testing.T, nodes map[string]iantv1.BulletinServiceClient, b *iantv1.Bulletin) {
	t.Helper()
	holders := 0
	for cc, c := range nodes {
		list, err := c.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, sb := range list.GetBulletins() {
			got := sb.GetBulletin()
			if got.GetTitle() == b.GetTitle() || got.GetBody() == b.GetBody() {
				t.Errorf("%s lists %s/%s titled %q: the plaintext MX meant for CO", cc, got.GetOrigin(), got.GetId(), got.GetTitle())
			}
			if got.GetId() == b.GetId() && got.GetOrigin() == b.GetOrigin() {
				holders++
			}
		}
	}
	if holders > 1 {
		t.Errorf("%d nodes hold %s/%s, want one at most", holders, b.GetOrigin(), b.GetId())
	}
}

// twoFaced is a bulletin sealed as MX's node would, but with one content
// key per recipient over one ciphertext that opens under both.
type twoFaced struct {
	sealed *seal.Sealed
	keys   map[string][]byte // content key wrapped for each recipient
	aad    []byte
}

// sealTwoFaced seals, with a's genuine signing key, a version (2 or 3)
// bulletin for the states of want (each the bulletin that state is to
// read; all with the same header facts) under one ciphertext: PE's key
// decrypts it to want["PE"], CO's to want["CO"]. Version 3 commits to
// PE's key.
func (a *attacker) sealTwoFaced(t *testing.T, nw *testenv.Network, version int, want map[string]*iantv1.Bulletin) *twoFaced {
	t.Helper()
	b := want["PE"]
	k1, k2, head, skip := twoFacedKeys(t)
	tf := &twoFaced{keys: map[string][]byte{"PE": k1, "CO": k2}}
	s := &seal.Sealed{Header: seal.Header{Version: version, Suite: seal.SuiteV1, ID: b.GetId(), Origin: a.state,
		Signer: a.nodeID, SignKeyID: a.keys.Public().SignKeyID, Precedence: int32(b.GetPrecedence()),
		Marking: int32(b.GetMarking()), Recipients: b.GetRecipients(), CreatedAt: b.GetCreateTime().AsTime()}}
	if version >= seal.Version3 {
		s.KeyCommitment = sha256.Sum256(append([]byte("iant/key-commitment/v1\x00"), k1...))
	}
	aad := sha256.Sum256(append([]byte("iant/content-aad/v1\x00"), encodeHeader(&s.Header)...))
	tf.aad = aad[:]
	body, free := twoFacedBody(t, k1, k2, head, skip, plaintext(t, want["PE"]), plaintext(t, want["CO"]))
	s.Ciphertext = sealtest.Collide(t, k1, k2, tf.aad, body, free)
	s.CiphertextHash = sha256.Sum256(s.Ciphertext)
	digest := sha256.New()
	digest.Write([]byte("iant/wrapped-keys/v2\x00"))
	digest.Write([]byte{byte(len(s.Recipients))})
	for _, r := range s.Recipients {
		pub := nettest.NodeKeys(t, nw, r).Public()
		enc := wrapKey(t, &s.Header, pub, tf.keys[r])
		s.Keys = append(s.Keys, seal.WrappedKey{Recipient: r, KEMKeyID: pub.KEMKeyID, Enc: enc})
		h := sha256.Sum256(enc)
		digest.Write(append(appendStr(appendStr(nil, r), pub.KEMKeyID), h[:]...))
	}
	hh := s.Header.Hash()
	msg := append(append([]byte("iant/sealed-signature/v1\x00"), hh[:]...), digest.Sum(nil)...)
	s.Signature = ed25519.Sign(a.sign, msg)
	tf.sealed = s
	return tf
}

// check verifies, outside the network, that tf is the attack it means
// to be: MX's signature holds; each recipient's key decrypts the one
// ciphertext to the bulletin in want for it; and seal.Open, allowed
// tf's version, gives each recipient its bulletin when nothing is
// committed (version 2) and refuses CO's key (ErrKeyCommitment) when PE's
// is (version 3).
func (tf *twoFaced) check(t *testing.T, nw *testenv.Network, want map[string]*iantv1.Bulletin) {
	t.Helper()
	s := tf.sealed
	pol := seal.Policy{TrustDomain: nw.TD, MinVersion: s.Version}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		pub := nettest.NodeKeys(t, nw, state).Public()
		if pub.SignKeyID != keyID {
			return seal.SignerKey{}, fmt.Errorf("no key %s of %s", keyID, state)
		}
		return seal.SignerKey{Public: pub.SignPublic}, nil
	}
	att, err := s.Attest()
	if err == nil {
		err = att.Verify(lookup, pol)
	}
	if err != nil {
		t.Fatalf("MX's signature does not verify: %v (the attack is built wrong)", err)
	}
	for r, key := range tf.keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := aead.Open(nil, make([]byte, 12), s.Ciphertext, tf.aad)
		if err != nil {
			t.Fatalf("%s's key does not open the ciphertext: %v (the collision is built wrong)", r, err)
		}
		checkPlaintext(t, r+"'s key", pt, want[r])
		c, err := s.For(r)
		if err != nil {
			t.Fatal(err)
		}
		pt, err = seal.Open(c, r, nettest.NodeKeys(t, nw, r), lookup, pol, time.Now())
		switch {
		case s.Version >= seal.Version3 && r != "PE":
			if !errors.Is(err, seal.ErrKeyCommitment) {
				t.Fatalf("seal.Open at %s = %v, want %v", r, err, seal.ErrKeyCommitment)
			}
		case err != nil:
			t.Fatalf("seal.Open at %s = %v", r, err)
		default:
			checkPlaintext(t, "seal.Open at "+r, pt, want[r])
		}
	}
}

// checkPlaintext fails the test unless pt decodes to want (the fields
// that hide the other bulletin aside).
func checkPlaintext(t *testing.T, what string, pt []byte, want *iantv1.Bulletin) {
	t.Helper()
	var got iantv1.Bulletin
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(pt, &got); err != nil {
		t.Fatalf("%s decrypts to no bulletin: %v (the attack is built wrong)", what, err)
	}
	if !proto.Equal(&got, want) {
		t.Fatalf("%s decrypts to %v, want %v (the attack is built wrong)", what, &got, want)
	}
}

// plaintext is b as a node seals it.
func plaintext(t *testing.T, b *iantv1.Bulletin) []byte {
	t.Helper()
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// skipNum is the number of the unknown protobuf field (wire type bytes)
// that hides, in each plaintext, what the other key reads.
const skipNum = 999

// twoFacedKeys draws AES-256 keys k1 and k2 until the first three bytes
// of one ciphertext can decrypt to the start of an unknown bytes field
// under each: under k1, a 2-byte tag and the 2-byte length 128·y (head is
// the tag and 0x80; the caller picks y); under k2, a 2-byte tag and the
// 1-byte length skip. Each test of a pair succeeds with probability about
// 1/64.
func twoFacedKeys(t *testing.T) (k1, k2, head []byte, skip int) {
	t.Helper()
	for range 1 << 14 {
		k1, k2 = make([]byte, 32), make([]byte, 32)
		rand.Read(k1)
		rand.Read(k2)
		ks1, ks2 := sealtest.Keystream(t, k1, 3), sealtest.Keystream(t, k2, 3)
		d := []byte{ks1[0] ^ ks2[0], ks1[1] ^ ks2[1], ks1[2] ^ ks2[2]}
		if skip = int(0x80 ^ d[2]); skip < 1 || skip > 127 {
			continue
		}
		for f := protowire.Number(21); f < 2048; f++ { // fields 1-20 are the bulletin's
			tag := protowire.AppendTag(nil, f, protowire.BytesType)
			num, typ, n := protowire.ConsumeTag([]byte{tag[0] ^ d[0], tag[1] ^ d[1]})
			if n == 2 && typ == protowire.BytesType && num > 20 {
				return k1, k2, append(tag, 0x80), skip
			}
		}
	}
	t.Fatal("no pair of keys found")
	return nil, nil, nil, 0
}

// twoFacedBody lays out the body (without tag) that decrypts to pa under
// k1 and to pb under k2, and returns the index of its block left for
// sealtest.Collide. Under k1 it reads: tag, length 128·y (head and y),
// skipped bytes, pa, an unknown field to the end. Under k2: tag, length
// skip, skipped bytes, pb, an unknown field to the end. pb lies in what
// k1 skips, pa in k2's last field, and the solved block, last, in both
// last fields.
func twoFacedBody(t *testing.T, k1, k2, head []byte, skip int, pa, pb []byte) ([]byte, int) {
	t.Helper()
	const fieldMax = 2 + 3 // a skipping field's tag and length, at most
	startB := 3 + skip
	y := (startB + len(pb) + fieldMax - 4 + 127) / 128
	if y > 127 {
		t.Fatalf("bulletin of %d bytes is too long for the layout", len(pb))
	}
	startA := 4 + 128*y
	size := (startA + len(pa) + fieldMax + 16 + 15) / 16 * 16
	tailA, tailB := skipTo(startA+len(pa), size), skipTo(startB+len(pb), size)
	for tailA == nil || tailB == nil { // a length at a varint's size boundary
		size += 16
		tailA, tailB = skipTo(startA+len(pa), size), skipTo(startB+len(pb), size)
	}
	ptA, ptB := make([]byte, size), make([]byte, size)
	copy(ptA, append(head, byte(y)))
	copy(ptA[startA:], append(append([]byte(nil), pa...), tailA...))
	copy(ptB[startB:], append(append([]byte(nil), pb...), tailB...))
	ks1, ks2 := sealtest.Keystream(t, k1, size), sealtest.Keystream(t, k2, size)
	ct := make([]byte, size)
	rand.Read(ct)
	for i := range ct {
		switch {
		case i < 4 || i >= startA && i < startA+len(pa)+len(tailA):
			ct[i] = ptA[i] ^ ks1[i]
		case i >= startB && i < startB+len(pb)+len(tailB):
			ct[i] = ptB[i] ^ ks2[i]
		}
	}
	return ct, size/16 - 1
}

// skipTo returns the tag and length of an unknown bytes field starting
// at offset from whose content ends at offset to, or nil if no length
// fits exactly.
func skipTo(from, to int) []byte {
	tag := protowire.AppendTag(nil, skipNum, protowire.BytesType)
	for n := 1; n <= 3; n++ {
		if l := to - from - len(tag) - n; l >= 0 && protowire.SizeVarint(uint64(l)) == n {
			return protowire.AppendVarint(tag, uint64(l))
		}
	}
	return nil
}

// encodeHeader is a sealed header's documented encoding (package seal,
// "Wire format") without its ciphertext hash, for a header without
// expiry.
func encodeHeader(h *seal.Header) []byte {
	b := []byte{byte(h.Version)}
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, h.Signer, h.SignKeyID} {
		b = appendStr(b, s)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(h.Precedence))
	b = binary.BigEndian.AppendUint32(b, uint32(h.Marking))
	b = append(b, byte(len(h.Recipients)))
	for _, r := range h.Recipients {
		b = appendStr(b, r)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(h.CreatedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, 0) // no expiry
	if h.Version >= seal.Version3 {
		b = append(b, h.KeyCommitment[:]...)
	}
	return b
}

// wrapKey wraps key for to's KEM key under the header's wrap info:
// "iant/wrap/v1\x00" str(KEM, KDF, AEAD, Sig, id, origin, recipient,
// kem-key-id).
func wrapKey(t *testing.T, h *seal.Header, to seal.PublicKeys, key []byte) []byte {
	t.Helper()
	info := []byte("iant/wrap/v1\x00")
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, to.State, to.KEMKeyID} {
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
