package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrKeyType is returned (wrapped) by [SignWithSVIDKey] for a key type an
// SVID cannot carry.
var ErrKeyType = errors.New("identity: unsupported SVID key type")

// SignWithSVIDKey signs msg with an SVID's private key, choosing the scheme
// by key type: ECDSA over SHA-256 (ASN.1), RSA-PSS over SHA-256, or
// Ed25519 over msg itself. Callers put a domain-separation prefix in msg so
// a signature for one purpose is never valid for another.
func SignWithSVIDKey(key crypto.Signer, msg []byte) ([]byte, error) {
	digest := sha256.Sum256(msg)
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		return key.Sign(rand.Reader, digest[:], crypto.SHA256)
	case *rsa.PublicKey:
		return key.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	case ed25519.PublicKey:
		return key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	return nil, fmt.Errorf("%w %T", ErrKeyType, key.Public())
}

// VerifySVIDSignature reports whether sig is a [SignWithSVIDKey] signature
// of msg by the holder of pub (a certificate's public key).
func VerifySVIDSignature(pub any, msg, sig []byte) bool {
	digest := sha256.Sum256(msg)
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest[:], sig)
	case *rsa.PublicKey:
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case ed25519.PublicKey:
		return ed25519.Verify(pub, msg, sig)
	}
	return false
}
