package statenode_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/testenv/nettest"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// listAll returns how many times each bulletin id is listed at c's node.
func listAll(t *testing.T, c iantv1.BulletinServiceClient) map[string]int {
	t.Helper()
	seen := map[string]int{}
	req := &iantv1.ListBulletinsRequest{PageSize: 500}
	for {
		resp, err := c.ListBulletins(t.Context(), req)
		if err != nil {
			t.Fatalf("ListBulletins() = %v", err)
		}
		for _, b := range resp.GetBulletins() {
			seen[b.GetBulletin().GetId()]++
		}
		if resp.GetNextPageToken() == "" {
			return seen
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// delivered waits until the audit reports id delivered at state.
func delivered(t *testing.T, a iantv1.AuditServiceClient, id, state string) {
	t.Helper()
	nettest.WaitReport(t, a, id, func(r *iantv1.BulletinReport) bool {
		rs := nettest.Recipient(r, state)
		return rs != nil && rs.GetDeliverTime() != nil
	})
}

// TestRebuildAfterDatabaseLoss deletes a receiving node's database while
// it is down (issue 6, item 5): at restart it rebuilds from its inbox
// stream, every bulletin is back exactly once, new ones still arrive, and
// the audit shows each delivery once.
//
// With the whole data directory lost (node.db and its WAL, the leaf
// store, the witness file: the disk), the node's keys, kept on another
// path (Config.KeyFile), are all it needs: the copies received before
// were sealed to its current and to a retired KEM key, and signed by the
// origin's current and retired signing keys, and every one opens again.
func TestRebuildAfterDatabaseLoss(t *testing.T) {
	t.Parallel()
	for _, tc := range []lossCase{
		// The receipt outbox is in node.db and lost with it: "delivered"
		// is reported again, and the backbone and the audit log must
		// still count it once.
		{name: "database", deleted: []string{"node.db", "node.db-wal", "node.db-shm"}},
		{name: "data directory behind a leaf node, keys elsewhere, keys rotated", wholeDir: true, leaf: true, keysElsewhere: true, rotate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rebuildAfterLoss(t, tc)
		})
	}
}

// lossCase is what a node loses while it is down, and how it ran before.
type lossCase struct {
	name          string
	deleted       []string // files of its data directory
	wholeDir      bool     // the data directory, all of it
	leaf          bool     // US runs behind its own leaf node (its store in the data directory)
	keysElsewhere bool     // Config.KeyFile outside the data directory
	rotate        bool     // US rotates its KEM key, MX its signing key, while bulletins arrive
}

func rebuildAfterLoss(t *testing.T, tc lossCase) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "us", "node.keys")
	var leaves []string
	if tc.leaf {
		leaves = []string{"US"}
	}
	nw, err := testenv.Start(t.Context(), testenv.Options{Dir: dir, States: []string{"MX", "US"}, LeafStates: leaves,
		NodeConfig: func(cc string, c *statenode.Config) {
			if cc == "US" && tc.keysElsewhere {
				c.KeyFile = keyFile
			}
		}})
	if err != nil {
		t.Fatalf("testenv.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Errorf("close network: %v", err)
		}
	})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())

	const before, during, after = 30, 5, 3
	var ids []string
	for i := range before {
		ids = append(ids, nettest.Post(t, fp, nettest.Draft(fmt.Sprintf("before the loss %d", i), "US")).GetBulletin().GetId())
		if tc.rotate && i == before/2 {
			// The audit has every delivery so far before MX's signing
			// key changes: the secretariat checks a receipt's header
			// attestation against MX's current signing key only (its
			// key cache, pkg/secretariat/keys.go), so a delivery
			// reported after the rotation of a bulletin signed before
			// it is refused there. The rebuild's reports of those come
			// later still, and are refused the same way; the first
			// delivery of each is what the audit counts.
			for _, id := range ids {
				delivered(t, auditor, id, "US")
			}
			if err := nw.Node("US").RotateKeys(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := nw.Node("MX").RotateSignKey(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	for _, id := range ids {
		nettest.WaitStored(t, analyst, id)
		delivered(t, auditor, id, "US")
	}

	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	usDir := filepath.Join(dir, "data", "us")
	for _, f := range tc.deleted {
		if err := os.Remove(filepath.Join(usDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if tc.wholeDir {
		for _, f := range []string{"node.db", "leaf"} {
			if _, err := os.Stat(filepath.Join(usDir, f)); err != nil && (tc.leaf || f != "leaf") {
				t.Errorf("%s not in the data directory before it is lost: %v", f, err)
			}
		}
		if err := os.RemoveAll(usDir); err != nil {
			t.Fatal(err)
		}
	}
	// Posted while US is down: beyond the inbox consumer's ack floor, so
	// normal consumption, not the rebuild, delivers them.
	for i := range during {
		ids = append(ids, nettest.Post(t, fp, nettest.Draft(fmt.Sprintf("while US is down %d", i), "US")).GetBulletin().GetId())
	}
	start := time.Now()
	if err := nw.StartNode(t.Context(), "US"); err != nil {
		t.Fatal(err)
	}
	analyst = nettest.Dial(t, nw, testenv.Analyst("US"))
	for _, id := range ids {
		nettest.WaitStored(t, analyst, id)
	}
	took := time.Since(start)
	for i := range after {
		id := nettest.Post(t, fp, nettest.Draft(fmt.Sprintf("after the rebuild %d", i), "US")).GetBulletin().GetId()
		ids = append(ids, id)
		nettest.WaitStored(t, analyst, id)
	}
	if _, err := os.Stat(filepath.Join(usDir, "rebuild.pending")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rebuild marker still there after the rebuild: %v", err)
	}

	// Exactly once at US, nothing else.
	listed := listAll(t, analyst)
	rebuilt, missing, dups := 0, 0, 0
	for i, id := range ids {
		switch n := listed[id]; {
		case n == 0:
			missing++
			t.Errorf("bulletin %d (%s) missing at US", i, id)
		case n > 1:
			dups += n - 1
			t.Errorf("bulletin %d (%s) listed %d times at US", i, id, n)
		case i < before:
			rebuilt++
		}
	}
	if len(listed) != len(ids) {
		t.Errorf("US lists %d bulletins, want %d", len(listed), len(ids))
	}

	// The audit shows one delivery per bulletin, after the receipts of the
	// restarted node had time to flow: wait for the last one's.
	delivered(t, auditor, ids[len(ids)-1], "US")
	auditDups := 0
	for _, id := range ids {
		delivered(t, auditor, id, "US")
		if n := nettest.CountKinds(nettest.Entries(t, auditor, id))[audit.EventDelivered]; n != 1 {
			auditDups += n - 1
			t.Errorf("audit log holds %d deliveries of %s, want 1", n, id)
		}
	}
	if tc.keysElsewhere {
		if _, err := os.Stat(filepath.Join(usDir, "node.keys")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a key file in the data directory besides Config.KeyFile: %v", err)
		}
	}
	t.Logf("%s: rebuilt %d of %d expected, %d posted while down and %d after all delivered; "+
		"missing %d, duplicates at US %d, duplicate deliveries in the audit %d; back in %s",
		tc.name, rebuilt, before, during, after, missing, dups, auditDups, took.Round(time.Millisecond))
}
