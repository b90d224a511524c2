package backbone_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// batchOf is n copies from MX, alternating CA and BR, ids prefix-i.
func batchOf(prefix string, n int) []backbone.InboxCopy {
	out := make([]backbone.InboxCopy, n)
	for i := range out {
		r := []string{"CA", "BR"}[i%2]
		id := fmt.Sprintf("%s%03d", prefix, i)
		out[i] = backbone.InboxCopy{Recipient: r, Origin: "MX", ID: id, Data: []byte(id)}
	}
	return out
}

func idsFor(copies []backbone.InboxCopy, recipient string) []string {
	var out []string
	for _, c := range copies {
		if c.Recipient == recipient {
			out = append(out, c.ID)
		}
	}
	return out
}

// publishBatch publishes copies as one batch and checks the acks name
// consecutive sequences.
func publishBatch(t *testing.T, c *backbone.Client, copies []backbone.InboxCopy) []backbone.PubAck {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	acks, err := c.PublishInboxBatch(ctx, copies)
	if err != nil {
		t.Fatalf("PublishInboxBatch(%d copies) = %v", len(copies), err)
	}
	if len(acks) != len(copies) {
		t.Fatalf("PublishInboxBatch returned %d acks for %d copies", len(acks), len(copies))
	}
	for i, a := range acks {
		if a.Stream != backbone.InboxStream || a.Duplicate || (i > 0 && a.Seq != acks[i-1].Seq+1) {
			t.Fatalf("ack %d = %+v after %+v, want consecutive new copies", i, a, acks[max(i-1, 0)])
		}
	}
	return acks
}

// TestPublishInboxBatch stores a batch of copies to two recipients: each
// gets its own in batch order, once; the same batch again is refused as a
// whole (its copies are stored) and published copy by copy each is a
// duplicate; a batch of one is a plain publish.
func TestPublishInboxBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA", "BR")
	mx := e.connect(t, "MX")
	caIn, brIn := make(chan backbone.Msg, 100), make(chan backbone.Msg, 100)
	consume(t, e.connect(t, "CA"), collect(caIn))
	consume(t, e.connect(t, "BR"), collect(brIn))

	copies := batchOf("b", 40)
	acks := publishBatch(t, mx, copies)
	expectNext(t, caIn, idsFor(copies, "CA")...)
	expectNext(t, brIn, idsFor(copies, "BR")...)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := mx.PublishInboxBatch(ctx, copies); !errors.Is(err, backbone.ErrBatchRefused) {
		t.Fatalf("PublishInboxBatch(the same copies) = %v, want ErrBatchRefused", err)
	}
	for i, c := range copies {
		ack, err := mx.PublishInbox(ctx, c.Recipient, c.Origin, c.ID, c.Data)
		if err != nil || !ack.Duplicate || ack.Seq != acks[i].Seq {
			t.Fatalf("PublishInbox(copy %d again) = %+v, %v; want a duplicate of seq %d", i, ack, err, acks[i].Seq)
		}
	}
	one := batchOf("single", 1)
	publishBatch(t, mx, one)
	expectNext(t, caIn, "single000")
	if !mx.BatchEnabled() {
		t.Error("BatchEnabled() = false on a stream that allows atomic publish")
	}
}

// TestPublishInboxBatchRefusals: a copy another origin's, too many copies.
func TestPublishInboxBatchRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA", "BR")
	mx := e.connect(t, "MX")
	ctx := context.Background()
	bad := batchOf("x", 3)
	bad[1].Origin = "CA"
	if _, err := mx.PublishInboxBatch(ctx, bad); !errors.Is(err, backbone.ErrForbidden) {
		t.Errorf("PublishInboxBatch(a copy as CA) = %v, want ErrForbidden", err)
	}
	if _, err := mx.PublishInboxBatch(ctx, batchOf("y", backbone.MaxBatchCopies+1)); !errors.Is(err, backbone.ErrTooLarge) {
		t.Errorf("PublishInboxBatch(%d copies) = %v, want ErrTooLarge", backbone.MaxBatchCopies+1, err)
	}
}

// TestPublishInboxBatchLeafAndCluster publishes batches through a leaf
// node's link to an R3 cluster: all copies arrive, in order, once.
func TestPublishInboxBatchLeafAndCluster(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	cfgs := backbonetest.ClusterConfigs(t, ca, 3, backbonetest.Secretariat, backbonetest.Node("MX"), backbonetest.Node("CA"), backbonetest.Node("BR"))
	c := &cluster{ca: ca, cfgs: cfgs, srvs: backbonetest.StartCluster(t, cfgs)}
	sec := c.connect(t, backbonetest.Secretariat)
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	if err := sec.Provision(ctx, []string{"MX", "CA", "BR"}); err != nil {
		t.Fatalf("Provision R3: %v", err)
	}
	mx := backbonetest.ConnectConfig(t, backbonetest.LeafClientConfig(t, ca, backbonetest.Node("MX"), c.srvs[0].LeafURL()))
	waitFor(t, "MX's leaf node linked", mx.LeafConnected)
	caIn, brIn := make(chan backbone.Msg, 100), make(chan backbone.Msg, 100)
	consume(t, c.connect(t, backbonetest.Node("CA")), collect(caIn))
	consume(t, c.connect(t, backbonetest.Node("BR")), collect(brIn))
	var all []backbone.InboxCopy
	for i := range 3 {
		copies := batchOf(fmt.Sprintf("r%d-", i), 20)
		// The leaf's interest may reach the backbone after its link is up.
		waitFor(t, "a batch taken through the leaf", func() bool {
			_, err := mx.PublishInboxBatch(ctx, copies)
			return err == nil
		})
		all = append(all, copies...)
	}
	expectNext(t, caIn, idsFor(all, "CA")...)
	expectNext(t, brIn, idsFor(all, "BR")...)
}

// TestInboxBacklog: the first copy of five waiting is handed over with
// four behind it, the last with none (the inbox is then caught up).
func TestInboxBacklog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "MX", "CA")
	mx, ca := e.connect(t, "MX"), e.connect(t, "CA")
	if b := ca.InboxBacklog(); b.Pending != 0 || b.Lag() != 0 {
		t.Fatalf("InboxBacklog() before any copy = %+v, want none", b)
	}
	publishBatch(t, mx, batchOf("q", 10)) // five for CA, five for BR
	seen := make(chan backbone.Backlog, 5)
	consume(t, ca, func(_ context.Context, m backbone.Msg) error {
		seen <- ca.InboxBacklog()
		return nil
	})
	var got []uint64
	for range 5 {
		got = append(got, (<-seen).Pending)
	}
	if want := []uint64{4, 3, 2, 1, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pending behind each copy handed over = %v, want %v", got, want)
	}
	if lag := ca.InboxBacklog().Lag(); lag != 0 {
		t.Errorf("Lag() once caught up = %v, want 0", lag)
	}
}
