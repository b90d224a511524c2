// Package seal signs and end-to-end encrypts bulletins between member
// state nodes, lets a state that received a bulletin forward it without
// being able to speak for its origin, and signs and verifies the
// directory entries that publish the nodes' keys (see DESIGN.md,
// "Sealing: signed and end-to-end encrypted" and "Threat model"). It is a
// pure library: no I/O, no clocks (callers pass now). Key files live in
// package keystore.
//
// A sealed bulletin has a clear [Header] (id, origin, signer, precedence,
// marking, recipient states, times, what the message is, key commitment,
// ciphertext hash), the
// body encrypted once under a fresh random content key, that key wrapped
// with HPKE (RFC 9180, crypto/hpke) for each recipient state's node, and
// the origin node's Ed25519 signature. The backbone sees only the header;
// a version 5 header commits to its recipients without naming them.
//
// Walk-through:
//
//	keys, err := seal.GenerateNodeKeys("MX")         // once per node (package keystore stores them)
//	signed, err := seal.SignEntry(keys.Entry(nodeID, nb, na, seq), svid) // publish in the directory
//	e, err := seal.VerifyEntry(signed, bundle, td, now)  // on every other node
//	s, err := seal.Seal(hdr, plaintext, []seal.PublicKeys{e.PublicKeys(), ...}, keys)
//	copies, err := s.Copies()                        // one per recipient, to the backbone
//	s, err = seal.Unmarshal(b)                       // at a recipient; s.Header routes and audits
//	pt, err := seal.Open(s, "BR", ring, lookup, seal.Policy{}, now)
//	err = s.Header.Bind(&bulletinDecodedFromPt)      // header and content agree
//	f, err := seal.Forward(s, "BR", ring, pePublic, statement, keys) // BR shares its copy with PE
//	pt, err = seal.OpenForwarded(f, "PE", ring, lookup, seal.Policy{}, now)
//	att, err := s.Attest()                           // what the origin signed, without content
//	err = att.Verify(lookup, seal.Policy{})          // e.g. at the audit
//	fatt, err := f.Attest()                          // and what the forwarder signed
//	err = fatt.Verify(lookup, seal.Policy{})
//
// # Construction
//
// With suite S = [SuiteV1] (MLKEM768-X25519, HKDF-SHA256, AES-256-GCM,
// Ed25519) and H = SHA-256:
//
//	K      = 32 random bytes, one per bulletin
//	commit = H("iant/key-commitment/v1\x00" ‖ K)  // Header.KeyCommitment, versions 3 and 4
//	aad    = H("iant/content-aad/v1\x00" ‖ header without ciphertext hash)
//	ct     = AES-256-GCM(K, nonce 0, body, aad)   // K is used once, so a fixed nonce is safe
//	hash   = H(ct)                                // Header.CiphertextHash
//	info_r = "iant/wrap/v1\x00" ‖ str(S.KEM, S.KDF, S.AEAD, S.Sig, id, origin, r, kem-key-id)
//	enc_r  = HPKE.Seal(pk_r, info_r, K)           // single-shot base mode, one per recipient r
//	sig    = Ed25519(sk_origin, "iant/sealed-signature/v1\x00" ‖ H(header) ‖ keys)
//	keys   = H("iant/wrapped-keys/v1\x00" ‖ wrapped-key list)                     // version 1
//	keys   = H("iant/wrapped-keys/v2\x00" ‖ u8 n ‖ n × (str r, str kem-key-id, H(enc_r)))  // versions 2, 3
//
// info binds a wrapped key to its bulletin, recipient and suite, and the
// signature covers every wrapped key (from version 2 through its hash), so
// no key can be moved or swapped. H(header) covers the version byte, so
// the digests of versions 2 and 3 cannot be confused.
//
// # Messages
//
// Every message of a bulletin's life crosses states sealed and signed
// like the bulletin itself, so a receiver believes an origin about its
// own revisions and revocations, and a replying state about its reply,
// only on their signatures. Version 4 puts in the signed header what
// routing, ordering and the audit need ([Header.Kind], [Header.Revision],
// [Header.Subkind], [Header.Ref]):
//
//	kind        revision  subkind              ref
//	bulletin    1         0                    none
//	revision    2, 3, ... 0                    none
//	revocation  the last  0, or narrowed       none     (no expiry)
//	reply       1         sighting, rfi,       the bulletin (or reply) answered
//	                      answer or note
//	consent request   1   0                    the bulletin to forward
//	consent decision  1   granted or refused   the bulletin to forward
//	translation       1   0                    the bulletin translated
//
// A receiver orders an origin's messages about one bulletin by the signed
// revision (an older revision never replaces a newer one; a revocation
// withdraws what it names and every older revision), and the audit checks
// a recipient's confirmation of a revocation, or the delivery of a
// reply, against the header its origin signed. A kind or subkind this
// package does not know is [ErrVersion] (newer software), as an unknown
// version is. Versions 1 to 3 carry bulletins only ([Header.MessageKind]).
//
// # Confidential audience
//
// Version 5 lets an origin warn several states without telling each who
// else was warned. Its signed header names no recipient; in their place
// it commits to the recipient set with [AudienceSize] (64) entries in
// ascending byte order:
//
//	salt_r  = 32 random bytes, one per recipient r
//	entry_r = H("iant/audience-entry/v1\x00" ‖ salt_r ‖ str r ‖ str kem-key-id_r ‖ H(enc_r))
//	pad     = 32 random bytes, as many as fill the 64
//	sig     = Ed25519(sk_origin, "iant/sealed-signature/v1\x00" ‖ H(header))
//
// Each recipient's copy carries its own opening only (r, its KEM key id,
// salt_r and enc_r): [Open] recomputes entry_r and finds it among the
// signed entries ([ErrAudience] if not), so the recipient knows the copy
// is genuine and addressed to it. It learns nothing of the others: every
// other entry is a hash under a salt it never sees, indistinguishable
// from the random padding, the padding makes every copy the same size
// whatever the audience (up to 64), and the sorted order carries no
// position. Because entry_r covers H(enc_r), the signature covers every
// wrapped key as in version 2. The content key, its commitment and the
// ciphertext are those of version 4, and so is the AAD (the header
// includes the audience). The body is one ciphertext for everyone, so
// the node seals a confidential bulletin's content without its
// recipients and releasability ([Header.Bind] checks it).
//
// The origin's own value (and [Sealed.Attest] of it) carries every
// opening: the origin's node hands that attestation to the secretariat,
// which so learns and verifies the full audience; a recipient attests
// its copy with its own opening, which the secretariat checks against
// the same signed header. Version 5 messages are never forwarded: a
// forward would widen an audience no recipient may know. What the
// backbone operator still sees is in docs/security.md (per-copy
// subjects: one copy per recipient, each on its recipient's subject).
//
// # Key commitment
//
// AES-GCM is not key-committing: an origin can build one ciphertext that
// authenticates under two keys and decrypts to two different bodies
// (a key-collision ciphertext, "invisible salamanders"), wrap one key for
// one recipient and the other for another, and sign once; each recipient
// then holds a valid signature over different content, and a recipient
// that forwards would pass on what others never saw. Version 3 puts
// commit = H("iant/key-commitment/v1\x00" ‖ K) in the signed header and
// in the AAD; [Open] and [OpenForwarded] recompute it from the unwrapped
// key and refuse a mismatch ([ErrKeyCommitment]) before decrypting. Two
// keys with one commitment would be a SHA-256 collision, so the signed
// header and ciphertext determine the plaintext. The commitment reveals
// nothing about a uniformly random 256-bit K beyond what SHA-256's
// preimage resistance allows, and the domain string keeps it distinct
// from any other hash of K. Versions 1 and 2 have no commitment: their
// origin can equivocate, so [Policy.MinVersion] refuses them by default
// ([ErrVersionRefused], a verdict; an unknown version is [ErrVersion],
// which callers wait out instead) and they open only where a caller
// explicitly reads archives.
//
// # Forwards
//
// A state that received a version 3 or 4 message forwards it to a state the
// origin did not release it to with [Forward]. The [Forwarded] bulletin
// carries the origin's header, ciphertext and signature unchanged, every
// origin wrapped key reduced to its hash (so the origin's signature still
// verifies), the same content key wrapped anew for the new recipient,
// and the forwarder's statement signed by its node key:
//
//	info_f = "iant/forward-wrap/v1\x00" ‖ str(S.KEM, S.KDF, S.AEAD, S.Sig, id, origin, forwarder, recipient, kem-key-id)
//	enc_f  = HPKE.Seal(pk_recipient, info_f, K)
//	stmt   = str origin, str id, [32] H(origin header), str forwarder, str signer,
//	         str sign-key-id, str recipient, str kem-key-id, [32] H(enc_f), str reason, i64 at
//	sig_f  = Ed25519(sk_forwarder, "iant/forward-statement/v1\x00" ‖ stmt)
//
// The receiver checks the origin's signature against the origin's
// directory entry, the statement's signature against the forwarder's,
// that the forwarder was one of the origin's recipients (it held the
// bulletin) and not the origin (an origin releases to more states by
// sealing again), and that the content key matches the origin's
// commitment, so a forwarder can neither invent nor alter a bulletin nor
// give the new recipient other content. [OpenForwarded] documents the
// order. Forwards of forwards are refused: the second forwarder was not
// one of the origin's recipients ([ErrNotHeld]). A forwarder passes its
// origin's revocation on to the states it forwarded to the same way: the
// origin's signed revocation, which it cannot forge.
//
// # Attestations
//
// An [Attestation] is what an origin signed about a bulletin, without its
// content: the header (key commitment and ciphertext hash included), the
// hash of every wrapped key and the origin's signature, which verifies
// over these alone ([Attestation.Verify]: suite and version policy, the
// signer is the origin's node, its key was current or not yet retired at
// CreatedAt). Every recipient's copy attests the same bytes. A
// [ForwardAttestation] adds a forwarder's statement and signature;
// [ForwardAttestation.Verify] also checks the statement against the
// attested header as [OpenForwarded] does: it names that header, the
// forwarder held the bulletin and is not its origin, the recipient was
// not released it. Neither reveals the body or a wrapped key: recipients
// hand them to the delivery audit as evidence of what they received.
//
// # Signing keys
//
// A node rotates its signing key with [NodeKeys.RotateSign]; its
// directory entry (version 2) then publishes the retired keys with their
// retirement times, at most [MaxRetiredSignKeys]. A [SignerLookup]
// returns a [SignerKey] with its RetiredAt, and a retired key verifies
// only a bulletin created (a statement made) before it was retired
// ([ErrKeyRetired]). Times are the signer's claim: a thief of a key that
// was retired but not deleted could backdate, and so could a thief of the
// current key. So after a compromise the node retires the key with
// [NodeKeys.RotateSignCompromised]: its entry (version 3) flags it
// ([RetiredSignKey.Compromised]), the lookup says so
// ([SignerKey.Compromised]), and the key verifies nothing, whatever the
// date ([ErrKeyCompromised]); a receiver may still take what it already
// held. The flag outlives the retired list: a compromised key a later
// rotation drops, or one marked after it was dropped
// ([NodeKeys.MarkDroppedSignCompromised]), is named in the entry
// (version 4, [DirectoryEntry.CompromisedSign], at most
// [MaxCompromisedSignKeys]) and verifies nothing. Key IDs are hex(H("iant/key-id/v1\x00" ‖ alg ‖ "\x00" ‖
// public key)[:16]). A directory entry is signed by the node's SVID key
// over "iant/directory-entry/v1\x00" ‖ entry.
//
// # Wire format
//
// Big-endian; str and blob16 are a u16 length and bytes, blob32 a u32
// length and bytes; times are i64 Unix nanoseconds, 0 for none. Strings
// are 1 to a bounded number of printable ASCII bytes without spaces; a
// forward's reason is 1 to 256 printable ASCII bytes, spaces allowed.
// Every decoder is canonical: it refuses anything its encoder would not
// write (trailing bytes, unknown versions, limits exceeded, duplicates),
// so encode(decode(b)) == b. Unknown suites parse; [Open] refuses them.
//
// Sealed bulletin, version 1:
//
//	"IANTSEAL" u8(1)
//	str KEM, KDF, AEAD, Sig, id, origin, signer, sign-key-id
//	i32 precedence, i32 marking
//	u8 n (1..64), n × str recipient        (unique)
//	i64 created, i64 expires
//	[32] ciphertext hash
//	blob32 ciphertext                      (1..1 MiB)
//	u8 n, n × (str recipient, str kem-key-id, blob16 enc)   (in recipient order)
//	blob16 signature
//
// "header" above is the same bytes from u8(version) to the hash. Version 2
// is the same but for the wrapped-key list, where each entry is either the
// key or its hash:
//
//	u8 n, n × (str recipient, str kem-key-id, u8 1 ‖ blob16 enc  or  u8 0 ‖ [32] H(enc))
//
// Version 3 is version 2 with the key commitment after the times:
//
//	... i64 created, i64 expires, [32] key commitment, [32] ciphertext hash ...
//
// Version 4 is version 3 with the message fields after the times:
//
//	... i64 created, i64 expires,
//	u8 kind, u32 revision, u8 subkind, u8 0  or  u8 1 ‖ str ref-origin ‖ str ref-id,
//	[32] key commitment, [32] ciphertext hash ...
//
// Version 5 is version 4 with the audience in place of the recipient
// list, and openings as wrapped keys (every key present, none hashed):
//
//	... i32 marking, 64 × [32] audience entry (strictly ascending), i64 created ...
//	u8 n (1..64), n × (str recipient, str kem-key-id, [32] salt, blob16 enc)
//
// In version 1 every recipient's copy carries all wrapped keys (about 1.2
// KB each), because the signature covers the whole list. From version 2
// [Sealed.For] makes each recipient's copy with its own wrapped key and
// the hashes of the others (34 bytes plus the names each), and the
// signature still verifies: a broadcast to 35 states is then about 5 KB a
// copy instead of 44 KB.
//
// Forwarded bulletin, version 1 (about 2 KB beyond the ciphertext):
//
//	"IANTFWRD" u8(1)
//	blob32 origin       (a version 3 or 4 sealed message, every wrapped key as its hash)
//	stmt                (as in "Forwards")
//	blob16 enc_f, blob16 sig_f
//
// Attestation, version 1, and forward attestation, version 1:
//
//	"IANTHATT" u8(1) header u8 n, n × (str recipient, str kem-key-id, [32] H(enc)) blob16 signature
//	"IANTFATT" u8(1) blob32 attestation stmt blob16 sig_f
//
// where header is the sealed format's, from its version byte (2 to 5)
// to the ciphertext hash. With a version 5 header each key is an
// opening: (str recipient, str kem-key-id, [32] salt, [32] H(enc)).
//
// Directory entry (what the SVID signs), versions 1 and 2:
//
//	u8 version, str node-id, str state, str kem-key-id, blob16 kem-public,
//	str sign-key-id, blob16 sign-public, i64 not-before, i64 not-after,
//	u64 sequence
//	version 2 only: u8 n (0..8), n × (str key-id, blob16 public, i64 retired-at)
//
// with retired keys newest first (retirement times strictly decreasing).
// A signed entry is "IANTDENT" u8(1) blob32(entry) blob16(signature) u8(n)
// n × blob32(cert DER) ([SignEntry]). The private formats of
// [NodeKeys.MarshalPrivate] ("IANTNKEY", versions 1 and 2) and
// [KEMKey.MarshalPrivate] ("IANTKEMK") are documented there.
//
// # Errors
//
// Every refusal wraps one sentinel of errors.go, whose text is the fixed
// public message; the wrapped detail is for logs and audit only. [Open]
// and [OpenForwarded] document the order of their checks.
//
// # Concurrency
//
// All functions are safe for concurrent use. [NodeKeys], [KEMKey], [Ring]
// and [Policy] are read-only after construction. [Open], [OpenForwarded]
// and the Marshal methods only read their input; do not modify a
// [Sealed] or [Forwarded] while another goroutine uses it. Results never
// alias their inputs.
package seal
