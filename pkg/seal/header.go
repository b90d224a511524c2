package seal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Versions of the sealed format and header.
const (
	// Version1 signs the wrapped keys as one list, so every recipient's
	// copy carries every wrapped key (about 1.2 KB each).
	Version1 = 1
	// Version2 signs the hash of each wrapped key, so a recipient's copy
	// ([Sealed.For]) carries its own wrapped key and only the hashes of
	// the others.
	Version2 = 2
	// Version3 is version 2 with a key commitment in the signed header
	// ([Header.KeyCommitment]), so one signed ciphertext opens to one
	// plaintext only, whichever wrapped key a recipient is given. [Seal]
	// was written by default before version 4; [Open] requires version 3
	// or later unless the [Policy] says otherwise; only versions 3 and 4
	// can be forwarded ([Forward]).
	Version3 = 3
	// Version4 is version 3 with the message's kind in the signed header
	// ([Header.Kind], [Header.Revision], [Header.Subkind], [Header.Ref]):
	// revisions, revocations, replies and consents are signed and checked
	// like bulletins, and a receiver orders them by what the origin
	// signed. [Seal] writes it by default.
	Version4 = 4
	// Version5 is version 4 with a confidential audience: the signed
	// header commits to the recipient set ([Header.Audience]) instead of
	// naming it, and each recipient's copy opens its own entry only
	// (see the package doc, "Confidential audience"). [Seal] writes it
	// when the caller sets it; it is never forwarded.
	Version5 = 5
)

// Domain-separation strings. Each hash, signature and HPKE info starts with
// one, so a value made for one purpose is never valid for another.
const (
	domainKeyID     = "iant/key-id/v1\x00"
	domainAAD       = "iant/content-aad/v1\x00"
	domainWrap      = "iant/wrap/v1\x00"
	domainSignature = "iant/sealed-signature/v1\x00"
	domainKeyList   = "iant/wrapped-keys/v1\x00"
	domainKeyListV2 = "iant/wrapped-keys/v2\x00"
	domainEntry     = "iant/directory-entry/v1\x00"
	domainCommit    = "iant/key-commitment/v1\x00"
	domainFwdWrap   = "iant/forward-wrap/v1\x00"
	domainStatement = "iant/forward-statement/v1\x00"
	domainAudience  = "iant/audience-entry/v1\x00"
)

// Header is the clear part of a sealed bulletin: only what routing and
// audit need, never the title or body.
type Header struct {
	// Version is the format version; [Seal] sets 0 to [Version4].
	Version int
	// Suite names the algorithms; [Seal] sets the zero Suite to [SuiteV1].
	Suite Suite
	// ID is the bulletin ID, unique per origin.
	ID string
	// Origin is the originating member state's code, e.g. "MX".
	Origin string
	// Signer is the SPIFFE ID of Origin's node, which signs the bulletin.
	Signer string
	// SignKeyID is the [KeyID] of the signer's Ed25519 key; [Seal] sets it.
	SignKeyID string
	// Precedence and Marking are the bulletin's precedence and marking as
	// opaque numbers: this package only carries and authenticates them.
	Precedence, Marking int32
	// Recipients are the recipient states' codes, unique, in the order of
	// [Sealed.Keys]; [Seal] fills it from its recipients. In [Version5]
	// it is not signed: it names the recipients whose audience entries
	// this value opens (every recipient at the origin, only its own in a
	// recipient's copy), and decoders fill it from the wrapped keys.
	Recipients []string
	// Audience is the commitment to the recipient set of a [Version5]
	// header: exactly [AudienceSize] entries in ascending byte order, one
	// per recipient and the rest random padding; nil in earlier versions.
	// [Seal] sets it.
	Audience [][32]byte
	// CreatedAt is when the bulletin was sealed; required.
	CreatedAt time.Time
	// ExpiresAt, if not zero, is when [Open] starts refusing it with
	// [ErrExpired]; it must be after CreatedAt.
	ExpiresAt time.Time
	// Kind is what the message is ([Version4] only; zero before, where
	// every message is a bulletin: see [Header.MessageKind]); [Seal] sets
	// 0 to [KindBulletin] in version 4.
	Kind Kind
	// Revision is the bulletin's revision the message carries or revokes:
	// 1 for a first version, a reply or a consent, 2 or more for a
	// revision ([Version4] only; [Seal] sets 0 to 1 in version 4).
	Revision uint32
	// Subkind is a reply's kind ([ReplySighting] ...), a consent decision
	// ([ConsentGranted], [ConsentRefused]) or, for a revocation that
	// withdraws only its recipients' copies, [RevocationNarrowed]; 0
	// otherwise.
	Subkind uint8
	// Ref names the bulletin (or reply) a reply answers or a consent is
	// about; zero for other kinds.
	Ref Ref
	// KeyCommitment is SHA-256("iant/key-commitment/v1\x00" ‖ K) of the
	// content key K ([Version3] only; zero in earlier versions); [Seal]
	// sets it.
	KeyCommitment [32]byte
	// CiphertextHash is SHA-256 of [Sealed.Ciphertext]; [Seal] sets it.
	CiphertextHash [32]byte
}

// Hash returns SHA-256 of h's canonical encoding with its ciphertext
// hash: the header as the origin signs it, and as a [ForwardStatement]
// names it.
func (h *Header) Hash() [32]byte {
	return sha256.Sum256(appendHeader(make([]byte, 0, 512), h, true))
}

// knownVersion reports whether v is a sealed format version this package
// reads.
func knownVersion(v int) bool { return v >= Version1 && v <= Version5 }

// hashesKeys reports whether version v signs each wrapped key through its
// hash, so copies may carry hashes for the others' keys.
func hashesKeys(v int) bool { return v >= Version2 && v <= Version5 }

// IsConfidential reports whether h's audience is confidential
// ([Version5]): its signed part names no recipient.
func (h *Header) IsConfidential() bool { return h.Version == Version5 }

// check validates h's fields as the format requires; it knows nothing of
// identities, keys or the region table.
func (h *Header) check() error {
	if err := h.checkFields(); err != nil {
		return err
	}
	return checkAudience(h)
}

// checkFields is check but for the audience, which [Seal] makes last.
func (h *Header) checkFields() error {
	if !knownVersion(h.Version) {
		return fmt.Errorf("%w: header version %d", ErrVersion, h.Version)
	}
	if h.Version < Version3 && h.KeyCommitment != ([32]byte{}) {
		return fmt.Errorf("%w: key commitment in a version %d header", ErrMalformed, h.Version)
	}
	if h.Version < Version4 && (h.Kind != 0 || h.Revision != 0 || h.Subkind != 0 || !h.Ref.IsZero()) {
		return fmt.Errorf("%w: message kind in a version %d header", ErrMalformed, h.Version)
	}
	strs := []struct {
		field, s string
		max      int
	}{
		{"suite KEM", h.Suite.KEM, maxAlgName},
		{"suite KDF", h.Suite.KDF, maxAlgName},
		{"suite AEAD", h.Suite.AEAD, maxAlgName},
		{"suite signature", h.Suite.Sig, maxAlgName},
		{"id", h.ID, maxID},
		{"origin", h.Origin, maxState},
		{"signer", h.Signer, maxSPIFFEID},
		{"sign key id", h.SignKeyID, maxKeyID},
	}
	for _, f := range strs {
		if err := checkString(f.field, f.s, f.max); err != nil {
			return err
		}
	}
	if err := checkRecipients(h.Recipients); err != nil {
		return err
	}
	if err := checkTimes(h.CreatedAt, h.ExpiresAt); err != nil {
		return err
	}
	if h.Version >= Version4 {
		return h.checkKind()
	}
	return nil
}

func checkRecipients(rs []string) error {
	if len(rs) == 0 || len(rs) > MaxRecipients {
		return fmt.Errorf("%w: %d recipients, want 1 to %d", ErrMalformed, len(rs), MaxRecipients)
	}
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if err := checkString("recipient", r, maxState); err != nil {
			return err
		}
		if seen[r] {
			return fmt.Errorf("%w: duplicate recipient %q", ErrMalformed, r)
		}
		seen[r] = true
	}
	return nil
}

func checkTimes(created, expires time.Time) error {
	if created.IsZero() {
		return fmt.Errorf("%w: created time is required", ErrMalformed)
	}
	if err := checkTime("created time", created); err != nil {
		return err
	}
	if err := checkTime("expiry time", expires); err != nil {
		return err
	}
	if !expires.IsZero() && !expires.After(created) {
		return fmt.Errorf("%w: expiry time not after created time", ErrMalformed)
	}
	return nil
}

// appendHeader appends the canonical encoding of a checked header:
//
//	u8 version
//	str KEM, KDF, AEAD, Sig
//	str id, origin, signer, sign-key-id
//	i32 precedence, i32 marking
//	u8 n, n × str recipient       (version 5: AudienceSize × [32] entry)
//	i64 created, i64 expires      (Unix ns; 0 = zero time)
//	message fields                (version 4 only, see appendKind)
//	[32] key commitment           (versions 3 and 4)
//	[32] ciphertext hash          (only if withHash)
func appendHeader(b []byte, h *Header, withHash bool) []byte {
	b = append(b, byte(h.Version))
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, h.Signer, h.SignKeyID} {
		b = appendString(b, s)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(h.Precedence))
	b = binary.BigEndian.AppendUint32(b, uint32(h.Marking))
	if h.Version == Version5 {
		b = appendAudience(b, h.Audience)
	} else {
		b = append(b, byte(len(h.Recipients)))
		for _, r := range h.Recipients {
			b = appendString(b, r)
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(h.CreatedAt)))
	b = binary.BigEndian.AppendUint64(b, uint64(unixNano(h.ExpiresAt)))
	if h.Version >= Version4 {
		b = appendKind(b, h)
	}
	if h.Version >= Version3 {
		b = append(b, h.KeyCommitment[:]...)
	}
	if withHash {
		b = append(b, h.CiphertextHash[:]...)
	}
	return b
}

// readHeader decodes what appendHeader wrote, after the version byte.
func readHeader(d *decoder, version uint8) Header {
	h := Header{Version: int(version)}
	h.Suite.KEM = d.str("suite KEM", maxAlgName)
	h.Suite.KDF = d.str("suite KDF", maxAlgName)
	h.Suite.AEAD = d.str("suite AEAD", maxAlgName)
	h.Suite.Sig = d.str("suite signature", maxAlgName)
	h.ID = d.str("id", maxID)
	h.Origin = d.str("origin", maxState)
	h.Signer = d.str("signer", maxSPIFFEID)
	h.SignKeyID = d.str("sign key id", maxKeyID)
	h.Precedence = int32(d.u32("precedence"))
	h.Marking = int32(d.u32("marking"))
	if h.Version == Version5 {
		h.Audience = readAudience(d)
	} else {
		readRecipients(d, &h)
	}
	h.CreatedAt = wireTime(int64(d.u64("created time")))
	h.ExpiresAt = wireTime(int64(d.u64("expiry time")))
	if h.Version >= Version4 {
		readKind(d, &h)
	}
	if h.Version >= Version3 {
		copy(h.KeyCommitment[:], d.take(32, "key commitment"))
	}
	copy(h.CiphertextHash[:], d.take(32, "ciphertext hash"))
	return h
}

// readRecipients decodes the recipient list of a header before version 5.
func readRecipients(d *decoder, h *Header) {
	n := int(d.u8("recipient count"))
	if n > MaxRecipients {
		d.fail("%d recipients, want at most %d", n, MaxRecipients)
	}
	for i := 0; i < n && d.err == nil; i++ {
		h.Recipients = append(h.Recipients, d.str("recipient", maxState))
	}
}

// contentAAD returns the AAD of the body: SHA-256 of the content-AAD
// domain and the canonical header without its ciphertext hash (which
// depends on the ciphertext), with its key commitment in version 3.
func contentAAD(h *Header) []byte {
	sum := sha256.Sum256(appendHeader([]byte(domainAAD), h, false))
	return sum[:]
}

// keyCommitment returns the commitment to content key K of a version 3
// header: SHA-256("iant/key-commitment/v1\x00" ‖ K).
func keyCommitment(key []byte) [32]byte {
	return sha256.Sum256(append([]byte(domainCommit), key...))
}

// wrapInfo returns the HPKE info for the content key wrapped for
// recipient under KEM key kemKeyID, binding it to this bulletin, this
// recipient and this suite:
//
//	"iant/wrap/v1\x00" str KEM, KDF, AEAD, Sig, id, origin, recipient, kem-key-id
func wrapInfo(h *Header, recipient, kemKeyID string) []byte {
	b := []byte(domainWrap)
	for _, s := range []string{h.Suite.KEM, h.Suite.KDF, h.Suite.AEAD, h.Suite.Sig, h.ID, h.Origin, recipient, kemKeyID} {
		b = appendString(b, s)
	}
	return b
}

// signedMessage returns what the origin signs:
//
//	"iant/sealed-signature/v1\x00" ‖ SHA-256(header) ‖ keys digest
//
// where header is the canonical header with its ciphertext hash and the
// keys digest is [keysDigest] for version 1, [keysDigestV2] for versions
// 2 and 3 (the header hash covers the version, so the digests of versions
// 2 and 3 cannot be confused). Version 5 signs the header alone: its
// audience commits to every wrapped key.
func signedMessage(h *Header, keys []WrappedKey) []byte {
	hh := h.Hash()
	b := append([]byte(domainSignature), hh[:]...)
	switch h.Version {
	case Version5:
		return b
	case Version1:
		return append(b, keysDigest(keys)...)
	}
	return append(b, keysDigestV2(keys)...)
}

// keysDigest returns SHA-256("iant/wrapped-keys/v1\x00" ‖ appendKeys(keys)),
// streaming the keys into the hash rather than copying them.
func keysDigest(keys []WrappedKey) []byte {
	d := sha256.New()
	d.Write([]byte(domainKeyList))
	d.Write([]byte{byte(len(keys))})
	var scratch []byte
	for _, k := range keys {
		scratch = appendString(scratch[:0], k.Recipient)
		scratch = appendString(scratch, k.KEMKeyID)
		scratch = binary.BigEndian.AppendUint16(scratch, uint16(len(k.Enc)))
		d.Write(scratch)
		d.Write(k.Enc)
	}
	return d.Sum(nil)
}

// keysDigestV2 returns the keys digest of versions 2 and 3, which needs
// only the hash of each wrapped key:
//
//	SHA-256("iant/wrapped-keys/v2\x00" ‖ u8 n ‖ n × (str recipient, str kem-key-id, [32] SHA-256(enc)))
func keysDigestV2(keys []WrappedKey) []byte {
	d := sha256.New()
	d.Write([]byte(domainKeyListV2))
	d.Write([]byte{byte(len(keys))})
	var scratch []byte
	for _, k := range keys {
		scratch = appendString(scratch[:0], k.Recipient)
		scratch = appendString(scratch, k.KEMKeyID)
		h := k.encHash()
		scratch = append(scratch, h[:]...)
		d.Write(scratch)
	}
	return d.Sum(nil)
}
