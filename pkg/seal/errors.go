package seal

import "errors"

// Sentinel errors. Each is the fixed public message of one refusal; the
// returned error wraps it with a detail meant for logs and audit records
// only. Match with [errors.Is]. Details never contain plaintext or keys.
var (
	// ErrSuite means the suite is unknown or not allowed by the [Policy].
	ErrSuite = errors.New("seal: suite not allowed")
	// ErrVersion means the envelope, header or entry version is not supported.
	ErrVersion = errors.New("seal: unsupported version")
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
	// ErrSignature means the origin's signature over header and wrapped keys does
	// not verify.
	ErrSignature = errors.New("seal: signature invalid")
	// ErrExpired means the bulletin's ExpiresAt has passed.
	ErrExpired = errors.New("seal: bulletin expired")
	// ErrUnknownKey means the key ring holds no private key with the wrapped
	// key's KEM key ID (e.g. it was rotated out).
	ErrUnknownKey = errors.New("seal: unknown decryption key")
	// ErrUnwrap means the wrapped content key does not decrypt.
	ErrUnwrap = errors.New("seal: cannot unwrap content key")
	// ErrCiphertextHash means the ciphertext does not match the header's hash.
	ErrCiphertextHash = errors.New("seal: ciphertext hash mismatch")
	// ErrDecrypt means the ciphertext does not decrypt under the content key.
	ErrDecrypt = errors.New("seal: cannot decrypt")

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
)
