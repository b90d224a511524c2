package testenv_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/dirlock"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// directoryOf asks person p's node for its directory: node SPIFFE ID →
// address.
func directoryOf(t *testing.T, nw *testenv.Network, p identity.Principal) map[string]string {
	t.Helper()
	c, err := nw.Context(p)
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := iantv1.NewDirectoryServiceClient(conn).GetDirectory(t.Context(), &iantv1.GetDirectoryRequest{})
	if err != nil {
		t.Fatalf("GetDirectory as %s = %v", p, err)
	}
	out := map[string]string{}
	for _, n := range resp.GetNodes() {
		out[n.GetSpiffeId()] = n.GetAddress()
	}
	return out
}

// TestEveryNodeListsEveryNodesRealAddress: on free ports (BasePort 0),
// every node's directory, the secretariat's too, lists every node at the
// address it listens on, also after a node restarts.
func TestEveryNodeListsEveryNodesRealAddress(t *testing.T) {
	states := []string{"JM", "MX", "US"}
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: t.TempDir(), States: states})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	want := func() map[string]string {
		m := map[string]string{testenv.NodePrincipal("").ID(nw.TD).String(): nw.Secretariat.Addr()}
		for _, s := range states {
			m[testenv.NodePrincipal(s).ID(nw.TD).String()] = nw.Node(s).Addr()
		}
		return m
	}
	check := func(when string) {
		t.Helper()
		for _, p := range []identity.Principal{testenv.Auditor(), testenv.Analyst("JM"), testenv.FocalPoint("MX"), testenv.Analyst("US")} {
			got := directoryOf(t, nw, p)
			if diff := cmp.Diff(want(), got); diff != "" {
				t.Errorf("%s: directory at %s's node (-want +got):\n%s", when, p, diff)
			}
			for id, addr := range got {
				if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
					t.Errorf("%s: %s's node lists %s at %q, want a real port", when, p, id, addr)
				}
			}
		}
	}
	check("at start")
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartNode(t.Context(), "MX"); err != nil {
		t.Fatal(err)
	}
	check("after MX restarted")
}

// TestSecondNetworkOnTheSameDirIsRefused: the directory's lock names this
// process; once the first network closes, the directory can be used again.
func TestSecondNetworkOnTheSameDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	want := fmt.Sprintf("pid %d", os.Getpid())
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Start on %s = %v, want ErrLocked naming %q", dir, err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}})
	if err != nil {
		t.Fatalf("Start after the first closed = %v", err)
	}
	again.Close()
}
