package members_test

import (
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestRenewalKeepsNetworkWorking renews every SVID of a running network's
// development PKI (new keys, new serials), then denies the serial of
// MX's node's old certificate: the backbone cuts MX's node, which
// reconnects at once with its new certificate (read from the files, no
// restart), and bulletins go on flowing both ways.
func TestRenewalKeepsNetworkWorking(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}})
	node, _ := nw.PKI.Find(testenv.NodePrincipal("MX"))
	old := certSerial(t, node.CertFile)
	until(t, "MX's node on the backbone", func() bool { return connected(nw, "MX") })
	before := nodeConns(nw, "MX")["MX"]

	if _, err := devpki.Renew(t.Context(), nw.PKI.Dir, devpki.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	if certSerial(t, node.CertFile) == old {
		t.Fatal("Renew kept the node's serial")
	}
	admin := nettest.AdminClient(t, nw)
	if _, err := admin.Deny(t.Context(), &iantv1.DenyRequest{Serial: old, Reason: "retired by renewal"}); err != nil {
		t.Fatal(err)
	}
	until(t, "MX's node back on the backbone with its new certificate", func() bool {
		ids := nodeConns(nw, "MX")["MX"]
		return len(ids) > 0 && ids[0] != before[0]
	})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	a := nettest.Post(t, mx, nettest.Draft("after renewal, from MX", "US"))
	b := nettest.Post(t, us, nettest.Draft("after renewal, from US", "MX"))
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), a.GetBulletin().GetId())
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("MX")), b.GetBulletin().GetId())
}
