package statenode_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// nodeKeys reads a state node's key file from its data directory.
func nodeKeys(t *testing.T, dir, cc string) *keystore.Store {
	t.Helper()
	ks, err := keystore.Open(filepath.Join(dir, "data", cc, "node.keys"), strings.ToUpper(cc), keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestBackboneSeesOnlyTheSealedHeader(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), nettest.Inspected(testenv.Options{Dir: dir, States: []string{"AR", "BR", "CA"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	b := nettest.Draft("Secret title 7f3a", "BR")
	b.Body = "Secret body 9c2e about a named person"
	b.Indicators[0].Value = "INDICATOR-55d1"
	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("AR")), b).GetBulletin()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("BR")), posted.GetId())

	subject, raw := nettest.InboxMessage(t, nw, 1)
	if subject != backbone.InboxSubject("BR", "AR", posted.GetId()) {
		t.Errorf("subject = %s", subject)
	}
	for _, secret := range []string{"Secret title 7f3a", "Secret body 9c2e", "INDICATOR-55d1"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the backbone's copy contains %q in the clear", secret)
		}
	}
	if !bytes.Contains(raw, []byte(posted.GetId())) {
		t.Errorf("the backbone's copy lacks the bulletin id in its clear header")
	}
	// Nor do the backbone's files on disk.
	filepath.WalkDir(filepath.Join(dir, "data", "backbone"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte("Secret body 9c2e")) {
			t.Errorf("backbone file %s holds the body in the clear", path)
		}
		return nil
	})

	// CA's node, handed the raw bytes, cannot open them.
	s, err := seal.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	noKey := func(string, string) (seal.SignerKey, error) { return seal.SignerKey{}, errors.New("unused") }
	_, err = seal.Open(s, "CA", nodeKeys(t, dir, "ca").Ring(), noKey, seal.Policy{TrustDomain: nw.TD}, time.Now())
	if !errors.Is(err, seal.ErrNotRecipient) {
		t.Errorf("CA opening BR's copy = %v, want ErrNotRecipient", err)
	}
}

func TestKeyRotationDuringTrafficLosesNothing(t *testing.T) {
	nw := nettest.StartStates(t, "MX", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	var ids []string
	for i := range 6 {
		ids = append(ids, nettest.Post(t, fp, nettest.Draft("rotation "+string(rune('a'+i)), "US")).GetBulletin().GetId())
		if i == 2 {
			if err := nw.Node("US").RotateKeys(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range ids {
		nettest.WaitStored(t, analyst, id)
	}
}

func TestReplayedIDWithNewContentIsRejected(t *testing.T) {
	dir := t.TempDir()
	nw, err := testenv.Start(t.Context(), nettest.Inspected(testenv.Options{Dir: dir, States: []string{"AR", "BR"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("AR")), nettest.Draft("original", "BR")).GetBulletin()
	analyst := nettest.Dial(t, nw, testenv.Analyst("BR"))
	nettest.WaitStored(t, analyst, posted.GetId())

	// AR's own node key and backbone identity re-seal the same id with new
	// content: a valid signature, but not the bulletin BR already holds.
	_, raw := nettest.InboxMessage(t, nw, 1)
	orig, err := seal.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	br := nodeKeys(t, dir, "br").Current()
	ar := nodeKeys(t, dir, "ar").Current()
	pt := []byte("not the original bulletin")
	s2, err := seal.Seal(seal.Header{ID: orig.ID, Origin: "AR", Signer: orig.Signer, Precedence: orig.Precedence,
		Marking: orig.Marking, Recipients: orig.Recipients, CreatedAt: orig.CreatedAt}, pt, []seal.PublicKeys{br.Public()}, ar)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e, _ := nw.PKI.Find(testenv.NodePrincipal("AR"))
	src, err := identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
	if err != nil {
		t.Fatal(err)
	}
	arBB, err := backbone.Connect(t.Context(), backbone.ClientConfig{URLs: []string{nw.Backbone.ClientURL()}, TrustDomain: nw.TD, SVID: src, Bundle: src})
	if err != nil {
		t.Fatal(err)
	}
	defer arBB.Close()
	// Other bytes under the same id are another copy for the backbone (its
	// Nats-Msg-Id binds the bytes), so it reaches BR's node.
	if ack, err := arBB.PublishInbox(t.Context(), "BR", "AR", orig.ID, data); err != nil || ack.Duplicate {
		t.Fatalf("republish of the same id with new content = %+v, %v; want stored", ack, err)
	}
	// BR keeps the original: the node's store refuses other content under
	// a stored id (store.ErrConflict, rejected as receive.replay).
	marker := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("AR")), nettest.Draft("marker", "BR")).GetBulletin()
	nettest.WaitStored(t, analyst, marker.GetId())
	got, err := analyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: posted.GetId()})
	if err != nil || got.GetBulletin().GetBulletin().GetTitle() != "original" {
		t.Errorf("BR holds %v, %v; want the original", got, err)
	}
}
