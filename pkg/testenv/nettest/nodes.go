package nettest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// NodeSource loads the SVID of state cc's node ("" for the secretariat's)
// from the network's PKI: what a node holds, and what a compromised node
// would attack with.
func NodeSource(t testing.TB, nw *testenv.Network, cc string) *identity.FileSource {
	t.Helper()
	e, ok := nw.PKI.Find(testenv.NodePrincipal(cc))
	if !ok {
		t.Fatalf("no node SVID of %q", cc)
	}
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// NodeSVID is the current SVID of [NodeSource].
func NodeSVID(t testing.TB, nw *testenv.Network, cc string) *x509svid.SVID {
	t.Helper()
	svid, err := NodeSource(t, nw, cc).GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	return svid
}

// NodeBackbone connects to the network's embedded backbone as state cc's
// node ("" for the secretariat's), with the node's own genuine SVID.
func NodeBackbone(t testing.TB, nw *testenv.Network, cc string) *backbone.Client {
	t.Helper()
	src := NodeSource(t, nw, cc)
	c, err := backbone.Connect(t.Context(), backbone.ClientConfig{
		URLs: []string{nw.Backbone.ClientURL()}, TrustDomain: nw.TD, SVID: src, Bundle: src, Name: "test-" + cc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// SecretariatBackbone is NodeBackbone as the secretariat's node.
func SecretariatBackbone(t testing.TB, nw *testenv.Network) *backbone.Client {
	t.Helper()
	return NodeBackbone(t, nw, "")
}

// NodeKeys reads the current sealing keys of state cc's node from its key
// file: what a compromised node holds.
func NodeKeys(t testing.TB, nw *testenv.Network, cc string) *seal.NodeKeys {
	t.Helper()
	path := filepath.Join(filepath.Dir(nw.PKI.Dir), "data", strings.ToLower(cc), "node.keys")
	ks, err := keystore.Open(path, strings.ToUpper(cc), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ks.Current()
}

// PublishEntry signs the directory entry of keys, the keys of state cc's
// node (e.g. of a node that never started, [testenv.Options.Idle]), with
// the node's genuine SVID and publishes it, as the node would at start.
func PublishEntry(t testing.TB, nw *testenv.Network, cc string, keys *seal.NodeKeys) {
	t.Helper()
	svid := NodeSVID(t, nw, cc)
	nb := time.Now().Add(-time.Minute)
	for _, c := range svid.Certificates {
		if c.NotBefore.After(nb) {
			nb = c.NotBefore
		}
	}
	signed, err := seal.SignEntry(keys.Entry(svid.ID.String(), nb, time.Now().Add(24*time.Hour), uint64(time.Now().UnixNano())), svid)
	if err != nil {
		t.Fatal(err)
	}
	if err := NodeBackbone(t, nw, cc).PublishDirectoryEntry(t.Context(), signed); err != nil {
		t.Fatal(err)
	}
}

// Inspected returns opts with the test inspector
// ([backbonetest.InspectorID]) allowed on the network's embedded backbone,
// so that [InboxMessage] can read what the backbone stores.
func Inspected(opts testenv.Options) testenv.Options {
	td := opts.TrustDomain
	if td == "" {
		td = "iant.test"
	}
	opts.Inspectors = append(opts.Inspectors, backbonetest.InspectorID(spiffeid.RequireTrustDomainFromString(td)))
	return opts
}

// InboxMessage returns the subject and bytes of the copy stored at
// sequence seq of the inbox stream of nw's embedded backbone, as the
// backbone holds it: read as the test inspector, with an SVID minted from
// the network's development CA. The network must have been started with
// [Inspected] options; no node may read a stored copy.
func InboxMessage(t testing.TB, nw *testenv.Network, seq uint64) (subject string, data []byte) {
	t.Helper()
	svid, bundle := inspector(t, nw)
	return backbonetest.ReadInbox(t, nw.Backbone.ClientURL(), svid, bundle, seq)
}

// InboxCopy is [InboxMessage] of the last copy of bulletin id stored for
// recipient from origin, decoded.
func InboxCopy(t testing.TB, nw *testenv.Network, recipient, origin, id string) *seal.Sealed {
	t.Helper()
	svid, bundle := inspector(t, nw)
	s, err := seal.Unmarshal(backbonetest.ReadInboxCopy(t, nw.Backbone.ClientURL(), svid, bundle, recipient, origin, id))
	if err != nil {
		t.Fatalf("stored copy of %s for %s: %v", id, recipient, err)
	}
	return s
}

// SealedTo returns the ID of the KEM key that s wraps its content key
// with for recipient, "" if none.
func SealedTo(s *seal.Sealed, recipient string) string {
	for _, k := range s.Keys {
		if k.Recipient == recipient {
			return k.KEMKeyID
		}
	}
	return ""
}

// inspector mints the test inspector's SVID from nw's development CA.
func inspector(t testing.TB, nw *testenv.Network) (*x509svid.SVID, *x509bundle.Bundle) {
	t.Helper()
	ca := identitytest.LoadCA(t, nw.TD, nw.PKI.BundleFile, filepath.Join(nw.PKI.Dir, "ca", "ca.key"))
	return ca.SVIDForID(t, backbonetest.InspectorID(nw.TD)), ca.Bundle()
}
