package nettest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
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
