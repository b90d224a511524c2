package seal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// forwardedMagic starts every forwarded bulletin.
const forwardedMagic = "IANTFWRD"

// Limits of the forwarded format.
const (
	// forwardedVersion is the version of the forwarded format.
	forwardedVersion = 1
	// maxReason bounds ForwardStatement.Reason.
	maxReason = 256
	// maxForwardedOrigin bounds the origin's bulletin inside a forward:
	// the largest ciphertext and room for header, hashed keys, signature.
	maxForwardedOrigin = MaxCiphertext + 64<<10
)

// forwardInfo returns the HPKE info of a content key that forwarder wraps
// for recipient under KEM key kemKeyID:
//
//	"iant/forward-wrap/v1\x00" str KEM, KDF, AEAD, Sig, id, origin, forwarder, recipient, kem-key-id
//
// Its own domain keeps a forwarded key from passing as an origin's.
func forwardInfo(h *Header, forwarder, recipient, kemKeyID string) []byte {
	b := []byte(domainFwdWrap)
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, forwarder, recipient, kemKeyID} {
		b = appendString(b, s)
	}
	return b
}

// statementMessage returns what the forwarder signs:
// "iant/forward-statement/v1\x00" ‖ the statement's encoding.
func statementMessage(st *ForwardStatement) []byte {
	return appendStatement([]byte(domainStatement), st)
}

// appendStatement appends the canonical encoding of a statement:
//
//	str origin, str id, [32] header-hash,
//	str forwarder, str signer, str sign-key-id,
//	str recipient, str kem-key-id, [32] key-hash,
//	str reason, i64 at
func appendStatement(b []byte, st *ForwardStatement) []byte {
	b = appendString(b, st.Origin)
	b = appendString(b, st.ID)
	b = append(b, st.HeaderHash[:]...)
	for _, s := range []string{st.Forwarder, st.Signer, st.SignKeyID, st.Recipient, st.KEMKeyID} {
		b = appendString(b, s)
	}
	b = append(b, st.KeyHash[:]...)
	b = appendString(b, st.Reason)
	return binary.BigEndian.AppendUint64(b, uint64(unixNano(st.At)))
}

// readStatement decodes what appendStatement wrote.
func readStatement(d *decoder) ForwardStatement {
	var st ForwardStatement
	st.Origin = d.str("statement origin", maxState)
	st.ID = d.str("statement id", maxID)
	copy(st.HeaderHash[:], d.take(32, "statement header hash"))
	st.Forwarder = d.str("forwarder", maxState)
	st.Signer = d.str("forwarder signer", maxSPIFFEID)
	st.SignKeyID = d.str("forwarder sign key id", maxKeyID)
	st.Recipient = d.str("forward recipient", maxState)
	st.KEMKeyID = d.str("forward kem key id", maxKeyID)
	copy(st.KeyHash[:], d.take(32, "forward key hash"))
	st.Reason = d.str("forward reason", maxReason)
	st.At = wireTime(int64(d.u64("forward time")))
	return st
}

// check validates the statement's fields as the format requires.
func (st *ForwardStatement) check() error {
	for _, f := range []struct {
		field, s string
		max      int
	}{
		{"statement origin", st.Origin, maxState},
		{"statement id", st.ID, maxID},
		{"forwarder", st.Forwarder, maxState},
		{"forwarder signer", st.Signer, maxSPIFFEID},
		{"forwarder sign key id", st.SignKeyID, maxKeyID},
		{"forward recipient", st.Recipient, maxState},
		{"forward kem key id", st.KEMKeyID, maxKeyID},
	} {
		if err := checkString(f.field, f.s, f.max); err != nil {
			return err
		}
	}
	if err := checkText("forward reason", st.Reason, maxReason); err != nil {
		return err
	}
	if st.At.IsZero() {
		return fmt.Errorf("%w: forward time is required", ErrMalformed)
	}
	return checkTime("forward time", st.At)
}

// check validates f's structure: the origin's bulletin is a sane version 3 or 4
// bulletin with every wrapped key hashed, the statement's fields are sane,
// a wrapped key and a signature are present.
func (f *Forwarded) check() error {
	if err := f.Sealed.check(); err != nil {
		return err
	}
	if v := f.Sealed.Version; v < Version3 || v > Version4 {
		return fmt.Errorf("%w: forwarded bulletin of version %d, forwards carry version 3 or 4", ErrMalformed, v)
	}
	for i, k := range f.Sealed.Keys {
		if len(k.Enc) != 0 {
			return fmt.Errorf("%w: forwarded bulletin carries wrapped key %d, not its hash", ErrMalformed, i)
		}
	}
	if err := f.Statement.check(); err != nil {
		return err
	}
	switch {
	case len(f.Key) == 0 || len(f.Key) > maxEnc:
		return fmt.Errorf("%w: forwarded wrapped key of %d bytes", ErrMalformed, len(f.Key))
	case len(f.Signature) == 0 || len(f.Signature) > maxSig:
		return fmt.Errorf("%w: forwarder signature of %d bytes", ErrMalformed, len(f.Signature))
	}
	return nil
}

// consistent reports whether the statement describes the bulletin it
// comes with.
func (f *Forwarded) consistent() error {
	if err := statementNames(&f.Statement, &f.Sealed.Header); err != nil {
		return err
	}
	if f.Statement.KeyHash != sha256.Sum256(f.Key) {
		return fmt.Errorf("%w: wrapped key hash differs", ErrStatement)
	}
	return nil
}

// statementNames reports whether st names the bulletin with header h
// (origin, id, header hash) and was made after it was created.
func statementNames(st *ForwardStatement, h *Header) error {
	switch {
	case st.Origin != h.Origin:
		return fmt.Errorf("%w: statement names origin %q, the bulletin is from %q", ErrStatement, st.Origin, h.Origin)
	case st.ID != h.ID:
		return fmt.Errorf("%w: statement names bulletin %q, the bulletin is %q", ErrStatement, st.ID, h.ID)
	case st.HeaderHash != h.Hash():
		return fmt.Errorf("%w: header hash differs", ErrStatement)
	case st.At.Before(h.CreatedAt):
		return fmt.Errorf("%w: forwarded before the bulletin was created", ErrStatement)
	}
	return nil
}

// Marshal encodes f in the canonical binary format:
//
//	"IANTFWRD" u8(1)
//	blob32 origin      (the origin's bulletin as [Sealed.Marshal] writes it)
//	statement          (see the package doc)
//	blob16 key, blob16 signature
//
// It returns an error wrapping [ErrMalformed] or [ErrVersion] if f breaks
// the format's rules, which [UnmarshalForwarded] would refuse.
func (f *Forwarded) Marshal() ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("seal: marshal forward: %w", err)
	}
	origin, err := f.Sealed.Marshal()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(origin)+len(f.Key)+len(f.Signature)+1024)
	b = append(append(b, forwardedMagic...), forwardedVersion)
	b = appendBlob32(b, origin)
	b = appendStatement(b, &f.Statement)
	b = appendBlob16(b, f.Key)
	return appendBlob16(b, f.Signature), nil
}

// UnmarshalForwarded decodes a forward written by [Forwarded.Marshal]. It
// accepts only canonical input and checks structure only;
// [OpenForwarded] authenticates. It returns an error wrapping
// [ErrMalformed] or [ErrVersion] (an unknown version of the forward or of
// the origin's bulletin inside: newer software, not a verdict). The result
// does not alias b.
func UnmarshalForwarded(b []byte) (*Forwarded, error) {
	f, err := unmarshalForwarded(b)
	if err != nil {
		return nil, fmt.Errorf("seal: unmarshal forward: %w", err)
	}
	return f, nil
}

func unmarshalForwarded(b []byte) (*Forwarded, error) {
	d := decoder{b: b}
	if string(d.take(len(forwardedMagic), "magic")) != forwardedMagic {
		return nil, fmt.Errorf("%w: not a forwarded bulletin", ErrMalformed)
	}
	if v := d.u8("version"); d.err == nil && v != forwardedVersion {
		return nil, fmt.Errorf("%w: forward format version %d", ErrVersion, v)
	}
	origin := d.blob("forwarded bulletin", 4, maxForwardedOrigin)
	f := &Forwarded{Statement: readStatement(&d)}
	f.Key = d.blob("forwarded wrapped key", 2, maxEnc)
	f.Signature = d.blob("forwarder signature", 2, maxSig)
	d.done()
	if d.err != nil {
		return nil, d.err
	}
	s, err := unmarshal(origin)
	if err != nil {
		return nil, fmt.Errorf("forwarded bulletin: %w", err)
	}
	f.Sealed = *s
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}
