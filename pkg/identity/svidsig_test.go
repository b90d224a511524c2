package identity_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

func TestSVIDSignatures(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	svid := ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "node"})
	other := ca.SVID(t, identity.Principal{State: "US", Role: identity.RoleNode, Name: "node"})
	msg := []byte("iant/test/v1\x00hello")
	sig, err := identity.SignWithSVIDKey(svid.PrivateKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	pub := svid.Certificates[0].PublicKey
	if !identity.VerifySVIDSignature(pub, msg, sig) {
		t.Error("a valid signature did not verify")
	}
	if identity.VerifySVIDSignature(pub, []byte("iant/other/v1\x00hello"), sig) {
		t.Error("a signature verified for another message")
	}
	if identity.VerifySVIDSignature(other.Certificates[0].PublicKey, msg, sig) {
		t.Error("a signature verified under another key")
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edSig, err := identity.SignWithSVIDKey(edKey, msg)
	if err != nil || !identity.VerifySVIDSignature(edKey.Public(), msg, edSig) {
		t.Errorf("Ed25519 round trip = %v", err)
	}
	if identity.VerifySVIDSignature("not a key", msg, sig) {
		t.Error("an unknown key type verified")
	}
}
