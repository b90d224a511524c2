package seal

import (
	"bytes"
	"fmt"
)

// Magic strings and versions of the attestation formats.
const (
	attestationMagic        = "IANTHATT"
	forwardAttestationMagic = "IANTFATT"
	attestationVersion      = 1
	forwardAttestVersion    = 1
	// maxAttestation bounds an origin attestation inside a forward
	// attestation: the largest header and 64 hashed keys take about 18 KB.
	maxAttestation = 32 << 10
)

// IsForwarded reports whether b is, by its magic, a forwarded bulletin
// ([Forwarded.Marshal]) rather than a sealed one: which of
// [UnmarshalForwarded] and [Unmarshal] to decode it with. It checks
// nothing else.
func IsForwarded(b []byte) bool { return bytes.HasPrefix(b, []byte(forwardedMagic)) }

// appendAttestation appends a checked attestation after its magic and
// format version: the header with its ciphertext hash, the key hashes,
// the signature.
func appendAttestation(b []byte, a *Attestation) []byte {
	b = appendHeader(b, &a.Header, true)
	b = append(b, byte(len(a.Keys)))
	for _, k := range a.Keys {
		b = appendString(b, k.Recipient)
		b = appendString(b, k.KEMKeyID)
		if a.Header.Version == Version5 {
			b = append(b, k.Salt[:]...)
		}
		b = append(b, k.EncHash[:]...)
	}
	return appendBlob16(b, a.Signature)
}

// Marshal encodes a in its canonical binary format, version 1:
//
//	"IANTHATT" u8(1)
//	header                     (as signed: u8 version ... [32] ciphertext hash)
//	u8 n, n × (str recipient, str kem-key-id, [32] SHA-256(enc))
//	blob16 signature
//
// With a version 5 header each key is an audience opening:
// (str recipient, str kem-key-id, [32] salt, [32] SHA-256(enc)).
//
// It returns an error wrapping [ErrMalformed] or [ErrVersion] if a breaks
// the format's rules, which [UnmarshalAttestation] would refuse.
func (a *Attestation) Marshal() ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, fmt.Errorf("seal: marshal attestation: %w", err)
	}
	b := append([]byte(attestationMagic), attestationVersion)
	return appendAttestation(b, a), nil
}

// UnmarshalAttestation decodes an attestation written by
// [Attestation.Marshal]. It accepts only canonical input and checks
// structure only; [Attestation.Verify] authenticates. It returns an error
// wrapping [ErrMalformed] or [ErrVersion] (an unknown version of the
// attestation or of the header inside: newer software, not a verdict).
// The result does not alias b.
func UnmarshalAttestation(b []byte) (*Attestation, error) {
	a, err := unmarshalAttestation(b)
	if err != nil {
		return nil, fmt.Errorf("seal: unmarshal attestation: %w", err)
	}
	return a, nil
}

func unmarshalAttestation(b []byte) (*Attestation, error) {
	d := decoder{b: b}
	if string(d.take(len(attestationMagic), "magic")) != attestationMagic {
		return nil, fmt.Errorf("%w: not an attestation", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != attestationVersion {
		return nil, fmt.Errorf("%w: attestation format version %d", ErrVersion, v)
	}
	a, err := readAttestation(&d)
	if err != nil {
		return nil, err
	}
	if d.done(); d.err != nil {
		return nil, d.err
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	return a, nil
}

// readAttestation decodes what appendAttestation wrote.
func readAttestation(d *decoder) (*Attestation, error) {
	v := d.u8("header version")
	if d.err == nil && !knownVersion(int(v)) {
		return nil, fmt.Errorf("%w: sealed format version %d", ErrVersion, v)
	}
	a := &Attestation{Header: readHeader(d, v)}
	n := int(d.u8("wrapped key count"))
	if n > MaxRecipients {
		d.fail("%d wrapped keys, want at most %d", n, MaxRecipients)
	}
	for i := 0; i < n && d.err == nil; i++ {
		k := WrappedKey{Recipient: d.str("wrapped key recipient", maxState), KEMKeyID: d.str("kem key id", maxKeyID)}
		if v == Version5 {
			copy(k.Salt[:], d.take(SaltSize, "audience salt"))
			a.Header.Recipients = append(a.Header.Recipients, k.Recipient)
		}
		copy(k.EncHash[:], d.take(32, "wrapped key hash"))
		a.Keys = append(a.Keys, k)
	}
	a.Signature = d.blob("signature", 2, maxSig)
	return a, d.err
}

// Marshal encodes f in its canonical binary format, version 1:
//
//	"IANTFATT" u8(1)
//	blob32 origin        (the origin's attestation as [Attestation.Marshal] writes it)
//	statement            (as in the package doc's "Forwards")
//	blob16 signature     (the forwarder's, over the statement)
//
// It returns an error wrapping [ErrMalformed] or [ErrVersion] if f breaks
// the format's rules, which [UnmarshalForwardAttestation] would refuse.
func (f *ForwardAttestation) Marshal() ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("seal: marshal forward attestation: %w", err)
	}
	origin, err := f.Origin.Marshal()
	if err != nil {
		return nil, err
	}
	b := append([]byte(forwardAttestationMagic), forwardAttestVersion)
	b = appendBlob32(b, origin)
	b = appendStatement(b, &f.Statement)
	return appendBlob16(b, f.Signature), nil
}

// UnmarshalForwardAttestation decodes a forward attestation written by
// [ForwardAttestation.Marshal]. It accepts only canonical input and
// checks structure only; [ForwardAttestation.Verify] authenticates.
// Errors as for [UnmarshalAttestation]. The result does not alias b.
func UnmarshalForwardAttestation(b []byte) (*ForwardAttestation, error) {
	f, err := unmarshalForwardAttestation(b)
	if err != nil {
		return nil, fmt.Errorf("seal: unmarshal forward attestation: %w", err)
	}
	return f, nil
}

func unmarshalForwardAttestation(b []byte) (*ForwardAttestation, error) {
	d := decoder{b: b}
	if string(d.take(len(forwardAttestationMagic), "magic")) != forwardAttestationMagic {
		return nil, fmt.Errorf("%w: not a forward attestation", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != forwardAttestVersion {
		return nil, fmt.Errorf("%w: forward attestation format version %d", ErrVersion, v)
	}
	origin := d.blob("origin attestation", 4, maxAttestation)
	f := &ForwardAttestation{Statement: readStatement(&d)}
	f.Signature = d.blob("forwarder signature", 2, maxSig)
	d.done()
	if d.err != nil {
		return nil, d.err
	}
	a, err := unmarshalAttestation(origin)
	if err != nil {
		return nil, fmt.Errorf("origin attestation: %w", err)
	}
	f.Origin = *a
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}
