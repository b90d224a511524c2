// Package sealtest builds, for tests only, what a dishonest origin needs
// against AES-256-GCM without key commitment: one ciphertext and tag that
// authenticate under two different keys (a key-collision ciphertext,
// "invisible salamanders"; Dodis et al. 2018, Len et al. 2021). GCM's tag
// is a polynomial in the ciphertext blocks evaluated at H = AES_K(0), so
// one free ciphertext block can be solved for in GF(2^128) to make the
// tags under both keys equal. pkg/seal's key commitment is what stops
// such a ciphertext; the tests of pkg/seal and tests/hostile use this
// package to show it.
//
// Everything here uses GCM's zero 96-bit nonce, as pkg/seal does for its
// single-use content keys:
//
//	ks1 := sealtest.Keystream(t, k1, n)             // ct = pt XOR ks1 opens to pt under k1
//	ctTag := sealtest.Collide(t, k1, k2, aad, ct, j) // block j of ct solved for; opens under k1 and k2
//
// Only tests import it (pkg/archtest checks that no package's non-test
// code does).
package sealtest

import (
	"crypto/aes"
	"encoding/binary"
	"testing"
)

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

// counterBlock returns AES_K(0^96 ‖ i), the i-th counter block of GCM
// with the zero nonce: 1 is J0 (it masks the tag), 2 onwards the
// keystream.
func counterBlock(tb testing.TB, key []byte, i uint32) []byte {
	tb.Helper()
	blk, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatalf("sealtest: key: %v", err)
	}
	var in, out [16]byte
	binary.BigEndian.PutUint32(in[12:], i)
	blk.Encrypt(out[:], in[:])
	return out[:]
}

// Keystream returns the first n bytes of the keystream AES-GCM under key
// with the zero nonce XORs with the plaintext: the ciphertext of pt is pt
// XOR Keystream(key, len(pt)). key is 16, 24 or 32 bytes.
func Keystream(tb testing.TB, key []byte, n int) []byte {
	tb.Helper()
	ks := make([]byte, 0, n+16)
	for i := uint32(2); len(ks) < n; i++ {
		ks = append(ks, counterBlock(tb, key, i)...)
	}
	return ks[:n]
}

// Collide returns a copy of ct with its block free (bytes 16*free to
// 16*free+16, which must lie within ct) replaced, followed by a tag, such
// that AES-GCM with the zero nonce and aad authenticates the result under
// both k1 and k2. Every other byte of ct is kept, so each key decrypts
// those bytes to what the caller chose; block free decrypts to noise
// under both.
func Collide(tb testing.TB, k1, k2, aad, ct []byte, free int) []byte {
	tb.Helper()
	if free < 0 || 16*free+16 > len(ct) {
		tb.Fatalf("sealtest: block %d is not a whole block of a %d-byte ciphertext", free, len(ct))
	}
	h1, e1 := gfFrom(counterBlock(tb, k1, 0)), gfFrom(counterBlock(tb, k1, 1))
	h2, e2 := gfFrom(counterBlock(tb, k2, 0)), gfFrom(counterBlock(tb, k2, 1))
	out := append([]byte(nil), ct...)
	clear(out[16*free : 16*free+16])
	// The tag is GHASH_H(aad, ct) + E_K(J0), and block free of ct enters
	// GHASH with coefficient H^e, e = blocks(ct) - free + 1 (the blocks
	// after it and the length block).
	e := (len(ct)+15)/16 - free + 1
	r1, r2 := ghash(h1, aad, out), ghash(h2, aad, out) // with the block zero
	den := h1.pow(e).add(h2.pow(e))
	if den == (gf{}) {
		tb.Fatal("sealtest: H1^e = H2^e; try other keys") // 2^-128
	}
	c := r1.add(r2).add(e1).add(e2).mul(den.inv())
	copy(out[16*free:], c.bytes())
	tag := ghash(h1, aad, out).add(e1)
	return append(out, tag.bytes()...)
}
