package hostile_test

import (
	"strings"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestReplayedDirectoryEntryIsRefused: MX rotates its KEM and signing
// keys. Its earlier directory entry — genuine, signed with MX's SVID, and
// naming the keys rotated away — is then published again under MX's
// subject, as a compromised MX node (or a backbone replaying an old
// message) can, to have the others seal to the old key again and to
// refuse what MX's new key signs. US and CA had accepted the newer entry;
// restarted (their directory caches gone, only what node.db keeps of the
// entries they accepted), they refuse the replay, log it (rule
// directory.replay) and go on sealing to MX's new KEM key and opening
// MX's new copies, signed with its new signing key.
func TestReplayedDirectoryEntryIsRefused(t *testing.T) {
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, nettest.Inspected(testenv.Options{States: []string{"MX", "US", "CA"}, Logger: logs.Logger()}))
	ctx := t.Context()
	others := []string{"US", "CA"}
	mxFP := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	mxAnalyst := nettest.Dial(t, nw, testenv.Analyst("MX"))
	analysts := map[string]iantv1.BulletinServiceClient{}
	for _, cc := range others {
		analysts[cc] = nettest.Dial(t, nw, testenv.Analyst(cc))
	}
	// fromMX: MX posts to the others, and each opens it.
	fromMX := func(title string) {
		t.Helper()
		id := nettest.Post(t, mxFP, nettest.Draft(title, others...)).GetBulletin().GetId()
		for _, cc := range others {
			nettest.WaitStored(t, analysts[cc], id)
		}
	}

	attacker := nettest.NodeBackbone(t, nw, "MX") // MX's genuine SVID
	old, err := attacker.DirectoryEntry(ctx, "MX")
	if err != nil {
		t.Fatal(err)
	}
	oldKEM := nettest.NodeKeys(t, nw, "MX").Public().KEMKeyID
	fromMX("before the rotation")
	if err := nw.Node("MX").RotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	newKEM := nettest.NodeKeys(t, nw, "MX").Public().KEMKeyID
	// Signed with MX's new key: each fetches and accepts MX's new entry.
	fromMX("signed with MX's new key")

	if err := attacker.PublishDirectoryEntry(ctx, old); err != nil {
		t.Fatal(err)
	}
	for _, cc := range others {
		if err := nw.StopNode(cc); err != nil {
			t.Fatal(err)
		}
		if err := nw.StartNode(ctx, cc); err != nil {
			t.Fatal(err)
		}
		analysts[cc] = nettest.Dial(t, nw, testenv.Analyst(cc))
	}

	for _, cc := range others {
		id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint(cc)), nettest.Draft("to MX after the replay", "MX")).GetBulletin().GetId()
		nettest.WaitStored(t, mxAnalyst, id)
		if got := nettest.SealedTo(nettest.InboxCopy(t, nw, "MX", cc, id), "MX"); got != newKEM {
			t.Errorf("%s sealed to MX's key %s after the replay, want the current %s (the replayed entry names %s)", cc, got, newKEM, oldKEM)
		}
	}
	fromMX("signed with MX's new key, after the replay")
	for _, cc := range others {
		if n := logs.Count("component="+strings.ToLower(cc), "rule=directory.replay", "level=WARN"); n == 0 {
			t.Errorf("%s did not log the replayed entry (rule directory.replay)", cc)
		}
		if n := logs.Count("component="+strings.ToLower(cc), "msg=rejected inbox message"); n != 0 {
			t.Errorf("%s rejected %d copies of MX", cc, n)
		}
	}
}
