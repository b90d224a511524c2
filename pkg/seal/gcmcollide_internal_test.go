package seal

import (
	"crypto/rand"
	"testing"

	"github.com/oas-cicte/iant/pkg/seal/sealtest"
)

// collidingCiphertext returns a ciphertext of two blocks plus tag that
// AES-256-GCM with the zero nonce and aad authenticates under both k1 and
// k2 (package sealtest). Its first block is solved for; the second is
// random.
func collidingCiphertext(tb testing.TB, k1, k2, aad []byte) []byte {
	tb.Helper()
	ct := make([]byte, 32)
	rand.Read(ct[16:])
	return sealtest.Collide(tb, k1, k2, aad, ct, 0)
}

func TestCollidingCiphertextOpensUnderBothKeys(t *testing.T) {
	tests := []struct {
		name          string
		aadLen, ctLen int
		free          int // the block solved for
	}{
		{"two blocks, first free", 32, 32, 0},
		{"partial aad and last block, middle free", 45, 37, 1},
		{"last block free", 32, 64, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k1, k2, aad := make([]byte, 32), make([]byte, 32), make([]byte, tt.aadLen)
			rand.Read(k1)
			rand.Read(k2)
			rand.Read(aad)
			want := make([]byte, tt.ctLen)
			rand.Read(want)
			ks := sealtest.Keystream(t, k1, tt.ctLen)
			ct := make([]byte, tt.ctLen)
			for i := range ct {
				ct[i] = want[i] ^ ks[i]
			}
			ct = sealtest.Collide(t, k1, k2, aad, ct, tt.free)
			var pts [][]byte
			for _, k := range [][]byte{k1, k2} {
				aead, err := newAESGCM(k)
				if err != nil {
					t.Fatal(err)
				}
				pt, err := aead.Open(nil, zeroNonce[:], ct, aad)
				if err != nil {
					t.Fatalf("colliding ciphertext does not open: %v (the construction is wrong)", err)
				}
				pts = append(pts, pt)
			}
			if string(pts[0]) == string(pts[1]) {
				t.Error("both keys give the same plaintext")
			}
			free := func(i int) bool { return i >= 16*tt.free && i < 16*tt.free+16 }
			for i := range want {
				if !free(i) && pts[0][i] != want[i] {
					t.Fatalf("byte %d under k1 is %#x, want the chosen %#x", i, pts[0][i], want[i])
				}
			}
		})
	}
}
