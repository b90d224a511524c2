package seal_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// TestTamper changes one field of a sealed bulletin at a time; each change
// is refused with its own sentinel.
func TestTamper(t *testing.T) {
	for _, v := range []int{seal.Version1, seal.Version2, seal.Version3} {
		t.Run(fmt.Sprintf("version %d", v), func(t *testing.T) { testTamper(t, v) })
	}
}

func testTamper(t *testing.T, version int) {
	n := newNetwork(t, "MX", "BR", "US")
	n.minVersion = seal.Version1 // tamper with every version, not only refuse the old ones
	hdr := n.header("MX")
	hdr.Version = version
	other := map[int]int{seal.Version1: seal.Version2, seal.Version2: seal.Version1, seal.Version3: seal.Version2}[version]
	orig, err := seal.Seal(hdr, body, n.public("BR", "US"), n.keys["MX"])
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) { b[i] ^= 0x01 }
	tests := []struct {
		name   string
		mutate func(*seal.Sealed)
		want   error
	}{
		{"id", func(s *seal.Sealed) { s.ID = "01JBULLETIN0002" }, seal.ErrSignature},
		{"origin", func(s *seal.Sealed) { s.Origin = "BR" }, seal.ErrSigner},
		{"other recipient", func(s *seal.Sealed) { s.Recipients[0], s.Keys[0].Recipient = "CA", "CA" }, seal.ErrSignature},
		{"own recipient entry", func(s *seal.Sealed) { s.Recipients[1], s.Keys[1].Recipient = "CA", "CA" }, seal.ErrNotRecipient},
		{"recipient without its key", func(s *seal.Sealed) { s.Recipients[0] = "CA" }, seal.ErrMalformed},
		{"recipients reordered", func(s *seal.Sealed) {
			s.Recipients[0], s.Recipients[1] = s.Recipients[1], s.Recipients[0]
			s.Keys[0], s.Keys[1] = s.Keys[1], s.Keys[0]
		}, seal.ErrSignature},
		{"recipient dropped", func(s *seal.Sealed) { s.Recipients, s.Keys = s.Recipients[1:], s.Keys[1:] }, seal.ErrSignature},
		{"marking", func(s *seal.Sealed) { s.Marking ^= 1 }, seal.ErrSignature},
		{"precedence", func(s *seal.Sealed) { s.Precedence ^= 1 }, seal.ErrSignature},
		{"created", func(s *seal.Sealed) { s.CreatedAt = s.CreatedAt.Add(time.Second) }, seal.ErrSignature},
		{"expiry extended", func(s *seal.Sealed) { s.ExpiresAt = s.ExpiresAt.Add(time.Hour) }, seal.ErrSignature},
		{"expiry removed", func(s *seal.Sealed) { s.ExpiresAt = time.Time{} }, seal.ErrSignature},
		{"ciphertext", func(s *seal.Sealed) { flip(s.Ciphertext, len(s.Ciphertext)/2) }, seal.ErrCiphertextHash},
		{"ciphertext truncated", func(s *seal.Sealed) { s.Ciphertext = s.Ciphertext[:len(s.Ciphertext)-1] }, seal.ErrCiphertextHash},
		{"ciphertext hash", func(s *seal.Sealed) { flip(s.CiphertextHash[:], 0) }, seal.ErrSignature},
		{"own wrapped key", func(s *seal.Sealed) { flip(s.Keys[1].Enc, 5) }, seal.ErrSignature},
		{"other wrapped key", func(s *seal.Sealed) { flip(s.Keys[0].Enc, 1167) }, seal.ErrSignature},
		{"own KEM key id", func(s *seal.Sealed) { s.Keys[1].KEMKeyID = otherHex(s.Keys[1].KEMKeyID) }, seal.ErrSignature},
		{"signature", func(s *seal.Sealed) { flip(s.Signature, 10) }, seal.ErrSignature},
		{"signature truncated", func(s *seal.Sealed) { s.Signature = s.Signature[:63] }, seal.ErrSignature},
		{"sign key id", func(s *seal.Sealed) { s.SignKeyID = otherHex(s.SignKeyID) }, seal.ErrSigner},
		{"suite", func(s *seal.Sealed) { s.Suite.KDF = "HKDF-SHA384" }, seal.ErrSuite},
		{"version", func(s *seal.Sealed) { s.Version = 4 }, seal.ErrVersion},
		{"other version", func(s *seal.Sealed) { s.Version, s.KeyCommitment = other, [32]byte{} }, seal.ErrSignature},
		{"no signature", func(s *seal.Sealed) { s.Signature = nil }, seal.ErrMalformed},
	}
	if version == seal.Version3 {
		tests = append(tests, struct {
			name   string
			mutate func(*seal.Sealed)
			want   error
		}{"key commitment", func(s *seal.Sealed) { flip(s.KeyCommitment[:], 31) }, seal.ErrSignature})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(t, orig)
			tt.mutate(s)
			if _, err := n.open(s, "US"); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := n.open(orig, "US"); err != nil {
		t.Fatalf("Open(original) = %v after tampering with copies", err)
	}
}

// TestTamperCopy tampers with a recipient's copy ([seal.Sealed.For]): the
// hashes standing for the other recipients' wrapped keys are signed too.
func TestTamperCopy(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US", "CA")
	full := n.seal(t, "MX", body, "BR", "US", "CA")
	orig, err := full.For("US")
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) { b[i] ^= 0x01 }
	tests := []struct {
		name   string
		mutate func(*seal.Sealed)
		want   error
	}{
		{"other key hash", func(s *seal.Sealed) { flip(s.Keys[0].EncHash[:], 3) }, seal.ErrSignature},
		{"other key id", func(s *seal.Sealed) { s.Keys[2].KEMKeyID = otherHex(s.Keys[2].KEMKeyID) }, seal.ErrSignature},
		{"own wrapped key", func(s *seal.Sealed) { flip(s.Keys[1].Enc, 5) }, seal.ErrSignature},
		{"own key replaced by its hash", func(s *seal.Sealed) {
			s.Keys[1].EncHash = sha256.Sum256(s.Keys[1].Enc)
			s.Keys[1].Enc = nil
		}, seal.ErrMalformed},
		{"other key replaced by a forged one", func(s *seal.Sealed) { s.Keys[0].Enc = bytes.Clone(s.Keys[1].Enc) }, seal.ErrSignature},
		{"recipient dropped", func(s *seal.Sealed) { s.Recipients, s.Keys = s.Recipients[1:], s.Keys[1:] }, seal.ErrSignature},
		{"as version 1", func(s *seal.Sealed) { s.Version = seal.Version1 }, seal.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clone(t, orig)
			tt.mutate(s)
			if _, err := n.open(s, "US"); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := n.open(orig, "US"); err != nil {
		t.Fatalf("Open(copy) = %v after tampering with clones", err)
	}
	for _, other := range []string{"BR", "CA"} {
		if _, err := n.open(clone(t, orig), other); !errors.Is(err, seal.ErrMalformed) {
			t.Errorf("Open(copy for US) at %s = %v, want %v", other, err, seal.ErrMalformed)
		}
	}
}

// TestEveryByteFlipRejected flips one bit of each byte of a marshaled
// bulletin in turn — a version 1 bulletin, version 2 and 3 bulletins with
// every wrapped key, and version 2 and 3 copies for one recipient: none of
// the results opens.
func TestEveryByteFlipRejected(t *testing.T) {
	n := newNetwork(t, "MX", "BR", "US")
	n.minVersion = seal.Version1
	sealAs := func(v int) *seal.Sealed {
		h := n.header("MX")
		h.Version = v
		s, err := seal.Seal(h, body, n.public("US", "BR"), n.keys["MX"])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	copyFor := func(s *seal.Sealed) *seal.Sealed {
		c, err := s.For("BR")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tt := range []struct {
		name string
		s    *seal.Sealed
	}{
		{"v1", sealAs(seal.Version1)},
		{"v2", sealAs(seal.Version2)},
		{"v2 copy", copyFor(sealAs(seal.Version2))},
		{"v3", sealAs(seal.Version3)},
		{"v3 copy", copyFor(sealAs(seal.Version3))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.open(tt.s, "BR"); err != nil {
				t.Fatalf("Open(untouched) = %v", err)
			}
			counts := map[string]int{}
			for i := range b {
				m := append([]byte(nil), b...)
				m[i] ^= 1 << (i % 8)
				s, err := seal.Unmarshal(m)
				if err == nil {
					_, err = n.open(s, "BR")
				}
				if err == nil {
					t.Fatalf("flipping bit %d of byte %d still opens", i%8, i)
				}
				counts[sentinel(err)]++
			}
			t.Logf("%d bytes, refusals: %v", len(b), counts)
		})
	}
}

var sentinels = []error{
	seal.ErrSuite, seal.ErrVersion, seal.ErrVersionRefused, seal.ErrMalformed, seal.ErrTooLarge, seal.ErrKey,
	seal.ErrSigner, seal.ErrNotRecipient, seal.ErrAudience, seal.ErrSignature, seal.ErrKeyRetired, seal.ErrExpired,
	seal.ErrUnknownKey, seal.ErrUnwrap, seal.ErrKeyCommitment, seal.ErrCiphertextHash, seal.ErrDecrypt,
	seal.ErrStatement, seal.ErrOwnForward, seal.ErrNotHeld, seal.ErrAlreadyRecipient,
}

// sentinel names the sentinel err wraps.
func sentinel(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}
