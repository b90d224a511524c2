package seal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/seal"
)

// created is the creation time of test bulletins.
var created = time.Date(2026, 11, 2, 15, 4, 5, 0, time.UTC)

// network is a set of state nodes with keys published in a verified
// directory, as a node would see it.
type network struct {
	// minVersion is the Policy.MinVersion of open; zero is the default.
	minVersion int
	ca         *identitytest.CA
	keys       map[string]*seal.NodeKeys
	dir        map[string]seal.DirectoryEntry // by state
}

// newNetwork gives each state a node with fresh keys, signs its directory
// entry with its SVID and verifies it.
func newNetwork(tb testing.TB, states ...string) *network {
	tb.Helper()
	n := &network{
		ca:   identitytest.NewCA(tb, "iant.test"),
		keys: map[string]*seal.NodeKeys{},
		dir:  map[string]seal.DirectoryEntry{},
	}
	for _, st := range states {
		n.add(tb, st)
	}
	return n
}

func (n *network) add(tb testing.TB, state string) *seal.NodeKeys {
	tb.Helper()
	k, err := seal.GenerateNodeKeys(state)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	signed, err := seal.SignEntry(k.Entry(n.nodeID(state), now, now.Add(30*24*time.Hour), 1), n.svid(tb, state))
	if err != nil {
		tb.Fatal(err)
	}
	e, err := seal.VerifyEntry(signed, n.ca.Bundle(), n.ca.TD, now)
	if err != nil {
		tb.Fatal(err)
	}
	n.keys[state], n.dir[state] = k, e
	return k
}

func (n *network) principal(state string) identity.Principal {
	return identity.Principal{State: state, Role: identity.RoleNode, Name: "main"}
}

func (n *network) nodeID(state string) string { return n.principal(state).ID(n.ca.TD).String() }

func (n *network) svid(tb testing.TB, state string) *x509svid.SVID {
	tb.Helper()
	return n.ca.SVID(tb, n.principal(state))
}

// lookup is the SignerLookup a node builds from its verified directory.
func (n *network) lookup(state, keyID string) (seal.SignerKey, error) {
	e, ok := n.dir[state]
	if !ok {
		return seal.SignerKey{}, fmt.Errorf("no entry for %s", state)
	}
	k, ok := e.SignKey(keyID)
	if !ok {
		return seal.SignerKey{}, fmt.Errorf("no key %s for %s", keyID, state)
	}
	return k, nil
}

func (n *network) public(states ...string) []seal.PublicKeys {
	var out []seal.PublicKeys
	for _, s := range states {
		out = append(out, n.dir[s].PublicKeys())
	}
	return out
}

// header returns a header for a bulletin from origin.
func (n *network) header(origin string) seal.Header {
	return seal.Header{
		ID:         "01JBULLETIN0001",
		Origin:     origin,
		Signer:     n.nodeID(origin),
		Precedence: 2,
		Marking:    3,
		CreatedAt:  created,
		ExpiresAt:  created.Add(72 * time.Hour),
	}
}

func (n *network) seal(tb testing.TB, origin string, plaintext []byte, to ...string) *seal.Sealed {
	tb.Helper()
	s, err := seal.Seal(n.header(origin), plaintext, n.public(to...), n.keys[origin])
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (n *network) open(s *seal.Sealed, self string) ([]byte, error) {
	return seal.Open(s, self, n.keys[self], n.lookup, n.policy(), created.Add(time.Hour))
}

// policy is the Policy of open.
func (n *network) policy() seal.Policy {
	return seal.Policy{TrustDomain: n.ca.TD, MinVersion: n.minVersion}
}

// clone deep-copies s through its wire form.
func clone(tb testing.TB, s *seal.Sealed) *seal.Sealed {
	tb.Helper()
	b, err := s.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := seal.Unmarshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
