// Package seal signs and end-to-end encrypts bulletins between member
// state nodes, and signs and verifies the directory entries that publish
// the nodes' keys (see DESIGN.md, "Sealing: signed and end-to-end
// encrypted"). It is a pure library: no I/O, no clocks (callers pass now).
//
// A sealed bulletin has a clear [Header] (id, origin, signer, precedence,
// marking, recipient states, times, ciphertext hash), the body encrypted
// once under a fresh random content key, that key wrapped with HPKE
// (RFC 9180, crypto/hpke) for each recipient state's node, and the origin
// node's Ed25519 signature. The backbone sees only the header.
//
// Walk-through:
//
//	keys, err := seal.GenerateNodeKeys("MX")         // once per node; store keys.MarshalPrivate() 0600
//	signed, err := seal.SignEntry(keys.Entry(nodeID, nb, na, seq), svid) // publish in the directory
//	e, err := seal.VerifyEntry(signed, bundle, td, now)  // on every other node
//	s, err := seal.Seal(hdr, plaintext, []seal.PublicKeys{e.PublicKeys(), ...}, keys)
//	b, err := s.Marshal()                            // to the backbone
//	s, err = seal.Unmarshal(b)                       // at a recipient; s.Header routes and audits
//	pt, err := seal.Open(s, "BR", seal.Ring{cur, old}, lookup, seal.Policy{}, now)
//
// # Construction
//
// With suite S = [SuiteV1] (MLKEM768-X25519, HKDF-SHA256, AES-256-GCM,
// Ed25519) and H = SHA-256:
//
//	K      = 32 random bytes, one per bulletin
//	aad    = H("iant/content-aad/v1\x00" ‖ header without ciphertext hash)
//	ct     = AES-256-GCM(K, nonce 0, body, aad)   // K is used once, so a fixed nonce is safe
//	hash   = H(ct)                                // Header.CiphertextHash
//	info_r = "iant/wrap/v1\x00" ‖ str(S.KEM, S.KDF, S.AEAD, S.Sig, id, origin, r, kem-key-id)
//	enc_r  = HPKE.Seal(pk_r, info_r, K)           // single-shot base mode, one per recipient r
//	sig    = Ed25519(sk_origin, "iant/sealed-signature/v1\x00" ‖ H(header) ‖ keys)
//	keys   = H("iant/wrapped-keys/v1\x00" ‖ wrapped-key list)                     // version 1
//	keys   = H("iant/wrapped-keys/v2\x00" ‖ u8 n ‖ n × (str r, str kem-key-id, H(enc_r)))  // version 2
//
// info binds a wrapped key to its bulletin, recipient and suite, and the
// signature covers every wrapped key (in version 2 through its hash), so
// no key can be moved or swapped.
// Key IDs are hex(H("iant/key-id/v1\x00" ‖ alg ‖ "\x00" ‖ public key)[:16]).
// A directory entry is signed by the node's SVID key over
// "iant/directory-entry/v1\x00" ‖ entry.
//
// # Wire format
//
// Big-endian; str and blob16 are a u16 length and bytes, blob32 a u32
// length and bytes. Strings are 1 to a bounded number of printable ASCII
// bytes. Version 1:
//
//	"IANTSEAL" u8(1)
//	str KEM, KDF, AEAD, Sig, id, origin, signer, sign-key-id
//	i32 precedence, i32 marking
//	u8 n (1..64), n × str recipient        (unique)
//	i64 created, i64 expires               (Unix ns, 0 = none)
//	[32] ciphertext hash
//	blob32 ciphertext                      (1..1 MiB)
//	u8 n, n × (str recipient, str kem-key-id, blob16 enc)   (in recipient order)
//	blob16 signature
//
// "header" above is the same bytes from u8(1) to the hash. The encoding is
// canonical: [Unmarshal] refuses anything [Sealed.Marshal] would not write
// (trailing bytes, unknown versions, limits exceeded, duplicates), so
// Marshal(Unmarshal(b)) == b. Unknown suites parse; [Open] refuses them.
//
// Version 2 is the same but for the wrapped-key list, where each entry is
// either the key or its hash:
//
//	u8 n, n × (str recipient, str kem-key-id, u8 1 ‖ blob16 enc  or  u8 0 ‖ [32] H(enc))
//
// In version 1 every recipient's copy carries all wrapped keys (about 1.2
// KB each), because the signature covers the whole list. In version 2
// [Sealed.For] makes each recipient's copy with its own wrapped key and
// the hashes of the others (34 bytes plus the names each), and the
// signature still verifies: a broadcast to 35 states is then about 5 KB a
// copy instead of 44 KB.
//
// # Errors
//
// Every refusal wraps one sentinel of errors.go, whose text is the fixed
// public message; the wrapped detail is for logs and audit only. [Open]
// documents the order of its checks.
//
// # Concurrency
//
// All functions are safe for concurrent use. [NodeKeys], [Ring] and
// [Policy] are read-only after construction. [Open] and [Sealed.Marshal]
// only read their *Sealed; do not modify a Sealed while another goroutine
// uses it. Results never alias their inputs.
package seal
