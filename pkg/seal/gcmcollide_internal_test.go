package seal

import (
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"testing"
)

// This file builds one AES-256-GCM ciphertext that opens under two
// different keys to two different plaintexts (a key-collision ciphertext,
// "invisible salamanders"; Dodis et al. 2018, Len et al. 2021). GCM's tag
// is a polynomial in the ciphertext blocks evaluated at H = AES_K(0), so
// one free ciphertext block can be solved for in GF(2^128) to make the
// tags under both keys equal. It shows the attack key commitment stops.

// gf is an element of GF(2^128) in GCM's bit order: hi holds bytes 0-7
// big-endian, and the most significant bit of byte 0 is the coefficient
// of x^0 (NIST SP 800-38D, 6.3).
type gf struct{ hi, lo uint64 }

func gfFrom(b []byte) gf { return gf{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])} }

func (x gf) bytes() []byte {
	b := binary.BigEndian.AppendUint64(nil, x.hi)
	return binary.BigEndian.AppendUint64(b, x.lo)
}

func (x gf) add(y gf) gf { return gf{x.hi ^ y.hi, x.lo ^ y.lo} }

// mul is Algorithm 1 of SP 800-38D.
func (x gf) mul(y gf) gf {
	var z gf
	v := y
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		if bit == 1 {
			z = z.add(v)
		}
		carry := v.lo & 1
		v = gf{v.hi >> 1, v.lo>>1 | v.hi<<63}
		if carry == 1 {
			v.hi ^= 0xe1 << 56
		}
	}
	return z
}

// pow returns x^e for e >= 1.
func (x gf) pow(e int) gf {
	r := x
	for i := 1; i < e; i++ {
		r = r.mul(x)
	}
	return r
}

// inv returns x^(2^128-2), the inverse of a non-zero x.
func (x gf) inv() gf {
	r, sq := gf{1 << 63, 0}, x // r = 1
	for i := 1; i < 128; i++ { // 2^128-2 = sum of 2^i for i in 1..127
		sq = sq.mul(sq)
		r = r.mul(sq)
	}
	return r
}

// ghash is GHASH_h over aad and ct, each zero-padded to whole blocks,
// then their bit lengths.
func ghash(h gf, aad, ct []byte) gf {
	var y gf
	for _, data := range [][]byte{aad, ct} {
		for i := 0; i < len(data); i += 16 {
			var blk [16]byte
			copy(blk[:], data[i:])
			y = y.add(gfFrom(blk[:])).mul(h)
		}
	}
	lens := binary.BigEndian.AppendUint64(nil, uint64(len(aad))*8)
	lens = binary.BigEndian.AppendUint64(lens, uint64(len(ct))*8)
	return y.add(gfFrom(lens)).mul(h)
}

// gcmKeys returns H = AES_K(0) and E_K(J0) for GCM under key with the
// zero 96-bit nonce (J0 = 0^96 ‖ 0^31 ‖ 1).
func gcmKeys(tb testing.TB, key []byte) (h, ej0 gf) {
	tb.Helper()
	blk, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	var zero, j0, out [16]byte
	blk.Encrypt(out[:], zero[:])
	h = gfFrom(out[:])
	j0[15] = 1
	blk.Encrypt(out[:], j0[:])
	return h, gfFrom(out[:])
}

// collidingCiphertext returns a ciphertext of two blocks plus tag that
// AES-256-GCM with the zero nonce and aad authenticates under both k1 and
// k2. Its first block is solved for; the second is random.
func collidingCiphertext(tb testing.TB, k1, k2, aad []byte) []byte {
	tb.Helper()
	if len(aad)%16 != 0 {
		tb.Fatalf("aad of %d bytes; the construction wants whole blocks", len(aad))
	}
	h1, e1 := gcmKeys(tb, k1)
	h2, e2 := gcmKeys(tb, k2)
	ct := make([]byte, 32)
	rand.Read(ct[16:])
	// ct[0:16] is block c of the m = aad/16 + 3 GHASH blocks, with
	// coefficient h^e where e = m - index(c) + 1 = 3 (c, c2, lengths).
	r1, r2 := ghash(h1, aad, ct), ghash(h2, aad, ct) // with c = 0
	const e = 3
	c := r1.add(r2).add(e1).add(e2).mul(h1.pow(e).add(h2.pow(e)).inv())
	copy(ct, c.bytes())
	tag := ghash(h1, aad, ct).add(e1)
	return append(ct, tag.bytes()...)
}

func TestCollidingCiphertextOpensUnderBothKeys(t *testing.T) {
	k1, k2, aad := make([]byte, 32), make([]byte, 32), make([]byte, 32)
	rand.Read(k1)
	rand.Read(k2)
	rand.Read(aad)
	ct := collidingCiphertext(t, k1, k2, aad)
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
}
