package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOpenErrDecrypt reaches the last check of Open, which an outsider
// cannot: the origin itself signs a header whose AAD-bound fields no longer
// match the ciphertext.
func TestOpenErrDecrypt(t *testing.T) {
	mx, err := GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	br, err := GenerateNodeKeys("BR")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	hdr := Header{ID: "b1", Origin: "MX", Signer: "spiffe://iant.test/state/MX/node/main", CreatedAt: created}
	s, err := Seal(hdr, []byte("body"), []PublicKeys{br.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	s.Marking++ // in the AAD, not in the HPKE info
	s.Signature = ed25519.Sign(mx.sign, signedMessage(&s.Header, s.Keys))
	lookup := func(string, string) (SignerKey, error) {
		return SignerKey{Public: mx.sign.Public().(ed25519.PublicKey)}, nil
	}
	if _, err := Open(s, "BR", br, lookup, Policy{}, created); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Open = %v, want ErrDecrypt", err)
	}
	s.ID = "b2" // in the HPKE info too
	s.Signature = ed25519.Sign(mx.sign, signedMessage(&s.Header, s.Keys))
	if _, err := Open(s, "BR", br, lookup, Policy{}, created); !errors.Is(err, ErrUnwrap) {
		t.Errorf("Open = %v, want ErrUnwrap", err)
	}
}

func TestDecoderLimits(t *testing.T) {
	d := decoder{b: []byte{0xff, 0xff, 1, 2, 3}}
	if p := d.blob("x", 2, 10); p != nil || !errors.Is(d.err, ErrMalformed) {
		t.Errorf("blob over limit = %v, %v, want nil, ErrMalformed", p, d.err)
	}
	if v := d.u8("y"); v != 0 {
		t.Errorf("u8 after error = %d, want 0", v)
	}
}

func TestKeysDigestMatchesEncoding(t *testing.T) {
	keys := []WrappedKey{{Recipient: "BR", KEMKeyID: "k1", Enc: []byte{1, 2, 3}}, {Recipient: "US", KEMKeyID: "k2", Enc: []byte{4}}}
	want := sha256.Sum256(appendKeys([]byte(domainKeyList), Version1, keys))
	if got := keysDigest(keys); !bytes.Equal(got, want[:]) {
		t.Errorf("keysDigest = %x, want %x", got, want)
	}
}

func TestKeysDigestV2UsesHashes(t *testing.T) {
	keys := []WrappedKey{{Recipient: "BR", KEMKeyID: "k1", Enc: []byte{1, 2, 3}}, {Recipient: "US", KEMKeyID: "k2", Enc: []byte{4}}}
	hashed := []WrappedKey{keys[0], {Recipient: "US", KEMKeyID: "k2", EncHash: sha256.Sum256([]byte{4})}}
	if got, want := keysDigestV2(hashed), keysDigestV2(keys); !bytes.Equal(got, want) {
		t.Errorf("keysDigestV2(with hash) = %x, want %x (with key)", got, want)
	}
	hashed[1].EncHash[0] ^= 1
	if got, want := keysDigestV2(hashed), keysDigestV2(keys); bytes.Equal(got, want) {
		t.Error("keysDigestV2 ignores a changed key hash")
	}
}

// FuzzParseEntry: the directory entry decoder never panics, and whatever
// it accepts (versions 1 to 4) re-encodes to the same bytes.
func FuzzParseEntry(f *testing.F) {
	for _, name := range []string{"testdata/v1/entry-MX.bin", "testdata/v3/entry-MX.bin", "testdata/compromised/entry-MX.bin", "testdata/compromised4/entry-MX.bin"} {
		signed, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		n := binary.BigEndian.Uint32(signed[9:13]) // see SignEntry's format
		f.Add(signed[13 : 13+n])
	}
	f.Add([]byte{2})
	e := compromisedEntry(f)
	f.Add(appendEntry(nil, &e)) // version 3
	e.Version, e.CompromisedSign = Version4, []string{strings.Repeat("0f", 16), strings.Repeat("a1", 16)}
	f.Add(appendEntry(nil, &e)) // version 4
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := parseEntry(in)
		if err != nil {
			return
		}
		if out := appendEntry(nil, &e); !bytes.Equal(in, out) {
			t.Fatalf("appendEntry(parseEntry(in)) != in\n in: %x\nout: %x", in, out)
		}
	})
}

// TestEntryVersion3Flags: a version 3 entry carries each retired key's
// flags; a flag bit it does not know, a compromised key in a version 2
// entry, and a version 4 entry are refused, naming what is wrong.
func TestEntryVersion3Flags(t *testing.T) {
	e := compromisedEntry(t)
	b := appendEntry(nil, &e)
	got, err := parseEntry(b)
	if err != nil || !got.RetiredSign[0].Compromised || got.RetiredSign[1].Compromised {
		t.Fatalf("parseEntry(v3) = %+v, %v", got.RetiredSign, err)
	}
	for _, tt := range []struct {
		name string
		mut  func([]byte) []byte
		want error
		msg  string
	}{
		{"unknown flag bit", func(b []byte) []byte { b[len(b)-1] = 2; return b }, ErrMalformed, "flags"},
		{"version 5", func(b []byte) []byte { b[0] = 5; return b }, ErrVersion, "version 5"},
		{"truncated flags", func(b []byte) []byte { return b[:len(b)-1] }, ErrMalformed, "flags"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEntry(tt.mut(bytes.Clone(b)))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("parseEntry = %v, want %v naming %q", err, tt.want, tt.msg)
			}
		})
	}
	e.Version = Version2
	if err := e.check(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "compromised") {
		t.Errorf("check(v2 with a compromised key) = %v", err)
	}
}

// compromisedEntry is an entry of MX whose newest retired key is
// compromised, the older one not.
func compromisedEntry(tb testing.TB) DirectoryEntry {
	tb.Helper()
	k, err := GenerateNodeKeys("MX")
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if k, err = k.RotateSign(at); err != nil {
		tb.Fatal(err)
	}
	if k, err = k.RotateSignCompromised(at.Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	return k.Entry("spiffe://iant.test/state/MX/node/node", at, at.Add(24*time.Hour), 7)
}

// TestEntryVersion4Compromised: a version 4 entry names compromised keys
// beyond its retired ones; a bad ID, a repeated one, one listed as
// retired or current, and too many are refused, naming the list.
func TestEntryVersion4Compromised(t *testing.T) {
	base := compromisedEntry(t)
	base.Version = Version4
	id := strings.Repeat("0f", 16)
	for _, tt := range []struct {
		name string
		ids  []string
		want error
	}{
		{"one", []string{id}, nil},
		{"none", nil, nil},
		{"upper-case", []string{strings.ToUpper(strings.Repeat("af", 16))}, ErrMalformed},
		{"short", []string{id[:30]}, ErrMalformed},
		{"repeated", []string{id, id}, ErrMalformed},
		{"retired", []string{base.RetiredSign[1].KeyID}, ErrMalformed},
		{"current", []string{base.SignKeyID}, ErrMalformed},
		{"too many", slices.Repeat([]string{id}, MaxCompromisedSignKeys+1), ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.CompromisedSign = tt.ids
			err := e.check()
			if !errors.Is(err, tt.want) || err != nil && !strings.Contains(err.Error(), "compromised signing key") {
				t.Fatalf("check() = %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			got, err := parseEntry(appendEntry(nil, &e))
			if err != nil || !slices.Equal(got.CompromisedSign, tt.ids) {
				t.Errorf("parseEntry(appendEntry) = %v, %v", got.CompromisedSign, err)
			}
		})
	}
}
