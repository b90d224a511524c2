package statenode_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// copyOf seals a bulletin of origin for CO with keys, as a copy on
// CO's inbox published at published.
func copyOf(t *testing.T, nw *testenv.Network, keys *seal.NodeKeys, origin string, version int, published time.Time) backbone.Msg {
	t.Helper()
	id := ulid.Make().String()
	b := nettest.Draft("class test", "CO")
	b.Id, b.Origin, b.Author = id, origin, "spiffe://iant.test/state/"+origin+"/focal-point/focal"
	b.CreateTime, b.Recipients = timestamppb.New(time.Now().UTC().Truncate(time.Millisecond)), []string{"CO"}
	pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.Seal(seal.Header{Version: version, ID: id, Origin: origin, Signer: testenv.NodePrincipal(origin).ID(nw.TD).String(),
		Precedence: int32(b.GetPrecedence()), Marking: int32(b.GetMarking()), CreatedAt: b.GetCreateTime().AsTime()},
		pt, []seal.PublicKeys{nettest.NodeKeys(t, nw, "CO").Public()}, keys)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return backbone.Msg{Subject: backbone.InboxSubject("CO", origin, id), Recipient: "CO", Origin: origin, ID: id,
		Data: data, NumDelivered: 1, Published: published}
}

// TestReceiveClassifiesFailures hands CO's node copies whose opening
// fails in each way receive.go's table lists, and checks which are
// rejected (backbone.ErrReject: terminated, audited), which are parked
// (nil: acknowledged, kept at the node) and which are only redelivered:
// a verdict rejects; a directory that does not vouch yet and an unknown
// format version park; a cancelled context (a closing node) and a
// closed store redeliver.
func TestReceiveClassifiesFailures(t *testing.T) {
	const gt = "GT" // its node never starts: the test publishes its entry
	nw := nettest.Start(t, testenv.Options{States: []string{"CO", gt, "MX"}, Idle: []string{gt},
		NodeConfig: func(cc string, c *statenode.Config) { c.EntryWait = time.Minute }})
	co := nw.Node("CO")
	gtKeys, err := seal.GenerateNodeKeys(gt)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rejected := func(err error) bool { return errors.Is(err, backbone.ErrReject) }

	// GT has no entry: not vouched for yet, until EntryWait has passed
	// since the copy was published: parked meanwhile.
	young := copyOf(t, nw, gtKeys, gt, 0, now)
	if err := statenode.Receive(co, t.Context(), young); err != nil {
		t.Errorf("no entry yet, copy just published: %v, want parked (nil)", err)
	}
	if p := parkedFrom(t, co, gt); p.Copies != 1 {
		t.Errorf("GT's parked copies at CO: %+v, want 1", p)
	}
	if err := statenode.Receive(co, t.Context(), copyOf(t, nw, gtKeys, gt, 0, now.Add(-time.Hour))); !rejected(err) {
		t.Errorf("no entry an hour after the copy was published: %v, want rejected", err)
	}
	nettest.PublishEntry(t, nw, gt, gtKeys)

	// The node closing: its context ends while it reads GT's entry (not
	// cached yet). The copy is handed back, and opens afterwards.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := statenode.Receive(co, ctx, young); err == nil || rejected(err) {
		t.Errorf("context ended: %v, want a temporary error", err)
	}
	if err := statenode.Receive(co, t.Context(), young); err != nil {
		t.Fatalf("the same copy afterwards: %v", err)
	}
	analyst := nettest.Dial(t, nw, testenv.Analyst("CO"))
	if _, err := analyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: young.ID}); err != nil {
		t.Errorf("the copy handed back is not stored after it opened: %v", err)
	}
	// Its parked twin, decided now, leaves the park.
	waitParked(t, co, gt, 0)

	// Verdicts.
	made, err := seal.GenerateNodeKeys(gt) // keys GT's entry does not publish
	if err != nil {
		t.Fatal(err)
	}
	v2 := copyOf(t, nw, gtKeys, gt, seal.Version2, now)
	garbage := young
	garbage.Data = []byte("not a sealed copy at all")
	for name, m := range map[string]backbone.Msg{
		"a key GT's entry does not publish": copyOf(t, nw, made, gt, 0, now),
		"version 2 (refused by policy)":     v2,
		"garbage":                           garbage,
	} {
		if err := statenode.Receive(co, t.Context(), m); !rejected(err) {
			t.Errorf("%s: %v, want rejected", name, err)
		}
	}

	// A format version this node does not know yet waits for an
	// upgrade, parked.
	newer := copyOf(t, nw, gtKeys, gt, 0, now)
	newer.Data[8] = 9 // the version byte after "IANTSEAL"
	before := parkedFrom(t, co, gt).Copies
	if err := statenode.Receive(co, t.Context(), newer); err != nil {
		t.Errorf("unknown version: %v, want parked (nil)", err)
	}
	if p := parkedFrom(t, co, gt); p.Copies != before+1 {
		t.Errorf("GT's parked copies at CO after an unknown version: %+v, want %d", p, before+1)
	}

	// The store closed with the node: GT's entry is cached, the copy
	// opens, and storing it fails: redelivered, not rejected.
	last := copyOf(t, nw, gtKeys, gt, 0, now)
	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	if err := statenode.Receive(co, t.Context(), last); err == nil || rejected(err) {
		t.Errorf("closed node: %v, want a temporary error", err)
	}
}
