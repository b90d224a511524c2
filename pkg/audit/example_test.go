package audit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
)

// The secretariat logs what it says itself (here, a refusal of a forged
// receipt), signed by its node's SVID, and hands out a checkpoint and a
// proof; an auditor verifies them, and who said it, with nothing but the
// log's public key and the trust bundle.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)

	const origin = "iant.example/audit"
	skey, vkey, _ := note.GenerateKey(bytes.NewReader(make([]byte, 32)), origin) // use crypto/rand.Reader
	signer, _ := note.NewSigner(skey)
	svid, bundle := exampleSVID("spiffe://iant.example/secretariat/node/sec")
	lg, err := audit.OpenLog(ctx, filepath.Join(dir, "audit.db"), origin,
		audit.Signers{Checkpoint: signer, Entries: svidSource{svid}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lg.Close()

	i, _ := lg.Append(ctx, audit.Event{Kind: audit.EventRefused, BulletinID: "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", Origin: "MX",
		State: "BR", Actor: "spiffe://iant.example/state/BR/node/br1", Rule: "receipt.not_recipient",
		Detail: "refused delivered receipt", At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	signed, _ := lg.Checkpoint(ctx)
	proof, _ := lg.InclusionProof(ctx, i, lg.Size())
	_, raw, _ := lg.Entry(ctx, i)

	// Offline, at the auditor's desk.
	verifier, _ := note.NewVerifier(vkey)
	cp, err := audit.VerifyCheckpoint(signed, origin, verifier)
	fmt.Println("checkpoint:", cp.Size, "entries", err)
	fmt.Println("inclusion:", audit.VerifyInclusion(cp, i, raw, proof))
	leaf, _ := audit.ParseLeaf(raw)
	who, err := leaf.Receipt.Verify(bundle, spiffeid.RequireTrustDomainFromString("iant.example"), time.Now())
	fmt.Println(leaf.Event.Kind, leaf.Event.Rule, "said by", who, err)
	// Output:
	// checkpoint: 1 entries <nil>
	// inclusion: <nil>
	// refused receipt.not_recipient said by spiffe://iant.example/secretariat/node/sec <nil>
}

// exampleSVID mints an SVID for id from a fresh CA, and the CA's bundle.
func exampleSVID(id string) (*x509svid.SVID, *x509bundle.Bundle) {
	sid := spiffeid.RequireFromString(id)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, URIs: []*url.URL{sid.TrustDomain().ID().URL()}}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: caTmpl.NotBefore, NotAfter: caTmpl.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, URIs: []*url.URL{sid.URL()}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	cert, _ := x509.ParseCertificate(der)
	return &x509svid.SVID{ID: sid, Certificates: []*x509.Certificate{cert}, PrivateKey: key},
		x509bundle.FromX509Authorities(sid.TrustDomain(), []*x509.Certificate{caCert})
}
