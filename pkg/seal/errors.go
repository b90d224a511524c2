package seal

import "errors"

// Sentinel errors. Each is the fixed public message of one refusal; the
// returned error wraps it with a detail meant for logs and audit records
// only. Match with [errors.Is]. Details never contain plaintext or keys.
var (
	// ErrSuite means the suite is unknown or not allowed by the [Policy].
	ErrSuite = errors.New("seal: suite not allowed")
	// ErrVersion means the envelope, header or entry version is not known
	// to this package (the sender may run newer software): not a verdict
	// on the bulletin.
	ErrVersion = errors.New("seal: unsupported version")
	// ErrVersionRefused means a known but weaker format version that the
	// [Policy] does not accept (see [Policy.MinVersion]), or one that
	// cannot be forwarded. Unlike [ErrVersion] it is a verdict.
	ErrVersionRefused = errors.New("seal: format version refused")
	// ErrMalformed means bytes or fields break the format (lengths, limits,
	// duplicates, trailing bytes, missing fields).
	ErrMalformed = errors.New("seal: malformed")
	// ErrTooLarge means a plaintext or recipient list exceeds [MaxCiphertext] or
	// [MaxRecipients].
	ErrTooLarge = errors.New("seal: too large")
	// ErrKey means a public or private key does not parse or its key ID does not
	// match it.
	ErrKey = errors.New("seal: invalid key")

	// ErrSigner means the header's signer is not the node of its origin state, or
	// the signing key is not that node's.
	ErrSigner = errors.New("seal: signer not valid for origin")
	// ErrNotRecipient means the opening state is not among the recipients.
	ErrNotRecipient = errors.New("seal: not a recipient")
	// ErrAudience means an opening of a confidential audience that a
	// [Version5] message carries (a recipient, its key and salt) is not
	// committed to by its signed header: the copy was not addressed to
	// that state.
	ErrAudience = errors.New("seal: not in the committed audience")
	// ErrSignature means the origin's signature over header and wrapped keys, or
	// a forwarder's over its statement, does not verify.
	ErrSignature = errors.New("seal: signature invalid")
	// ErrKeyRetired means the signing key was retired before the bulletin
	// was created (or, for a forward, before the statement was made).
	ErrKeyRetired = errors.New("seal: signing key retired")
	// ErrKeyCompromised means the signature holds but its key's node
	// retired the key as compromised ([NodeKeys.RotateSignCompromised]):
	// anyone may have signed with it, at any time it names.
	ErrKeyCompromised = errors.New("seal: signing key compromised")
	// ErrExpired means the bulletin's ExpiresAt has passed.
	ErrExpired = errors.New("seal: bulletin expired")
	// ErrUnknownKey means the key ring holds no private key with the wrapped
	// key's KEM key ID (e.g. it was rotated out).
	ErrUnknownKey = errors.New("seal: unknown decryption key")
	// ErrUnwrap means the wrapped content key does not decrypt.
	ErrUnwrap = errors.New("seal: cannot unwrap content key")
	// ErrCiphertextHash means the ciphertext does not match the header's hash.
	ErrCiphertextHash = errors.New("seal: ciphertext hash mismatch")
	// ErrKeyCommitment means the unwrapped content key is not the one the
	// origin's signed header commits to: a recipient was given another key
	// than the others, by the origin or by a forwarder.
	ErrKeyCommitment = errors.New("seal: content key does not match its commitment")
	// ErrDecrypt means the ciphertext does not decrypt under the content key.
	ErrDecrypt = errors.New("seal: cannot decrypt")

	// ErrBinding means a sealed header does not match the bulletin decoded
	// from its plaintext ([Header.Bind]).
	ErrBinding = errors.New("seal: header does not match the bulletin")

	// ErrStatement means a forward statement does not describe the
	// bulletin it comes with (origin, id, header hash, wrapped key hash,
	// time).
	ErrStatement = errors.New("seal: forward statement does not match the bulletin")
	// ErrOwnForward means the origin state "forwarded" its own bulletin; an
	// origin releases its bulletin to more states by sealing it again.
	ErrOwnForward = errors.New("seal: origin cannot forward its own bulletin")
	// ErrNotHeld means the forwarding state is not a recipient of the
	// origin's bulletin, so it never held it (this also refuses forwards
	// of forwards).
	ErrNotHeld = errors.New("seal: forwarder did not receive the bulletin")
	// ErrAlreadyRecipient means a forward is addressed to a state the
	// origin already released the bulletin to, or to the origin.
	ErrAlreadyRecipient = errors.New("seal: already a recipient of the bulletin")

	// ErrEntryUnsigned means a directory entry carries no signature or chain.
	ErrEntryUnsigned = errors.New("seal: directory entry not signed")
	// ErrEntryChain means a directory entry's certificate chain does not verify
	// against the trust bundle.
	ErrEntryChain = errors.New("seal: directory entry chain not trusted")
	// ErrEntrySignature means a directory entry's signature does not verify.
	ErrEntrySignature = errors.New("seal: directory entry signature invalid")
	// ErrEntrySigner means a directory entry is not signed by the node it names,
	// or that node is not the node of the entry's state.
	ErrEntrySigner = errors.New("seal: directory entry signer not the state's node")
	// ErrEntryExpired means a directory entry is not valid at the given time.
	ErrEntryExpired = errors.New("seal: directory entry not valid at this time")
	// ErrEntryState means a directory entry that verified was published
	// under another state than its own ([VerifyEntryOf]).
	ErrEntryState = errors.New("seal: directory entry of another state")
)
