package backbone

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/region"
)

// TestServerOptions checks the options handed to nats-server: the user
// table survives the config parser unchanged ("$JS..." is no variable,
// ">" no escape), and durability and TLS mapping are on.
func TestServerOptions(t *testing.T) {
	ca := identitytest.NewCA(t, "iant.test")
	nodes := []identity.Principal{
		{Role: identity.RoleSecretariatNode, Name: "sec"},
		{State: "MX", Role: identity.RoleNode, Name: "a"},
		{State: "CA", Role: identity.RoleNode, Name: "b"},
	}
	cfg := ServerConfig{
		StoreDir: t.TempDir(), TrustDomain: ca.TD, Port: -1,
		SVID: ca.SVID(t, nodes[0]), Bundle: ca.Bundle(),
	}
	want := map[string]permissions{}
	for _, p := range nodes {
		id := p.ID(ca.TD)
		cfg.Nodes = append(cfg.Nodes, id)
		want[id.String()] = permissionsFor(p)
	}
	keeper := newKeeperUser()
	opts, err := cfg.options(cfg.Nodes, spiffeid.ID{}, keeper, newAccess(ca.TD, discard))
	if err != nil {
		t.Fatal(err)
	}
	if !opts.SyncAlways || !opts.JetStream || !opts.TLSMap || opts.TLSConfig == nil || !opts.NoSigs || opts.Host != DefaultHost {
		t.Errorf("options: SyncAlways %v, JetStream %v, TLSMap %v, TLS %v, NoSigs %v, Host %q",
			opts.SyncAlways, opts.JetStream, opts.TLSMap, opts.TLSConfig != nil, opts.NoSigs, opts.Host)
	}
	got := map[string]permissions{}
	for _, u := range opts.Users {
		if u.Account == nil || u.Account.Name != account || u.Password != "" {
			t.Errorf("user %q: account %v, password set %v; want account %s, no password", u.Username, u.Account, u.Password != "", account)
		}
		got[u.Username] = permissions{Publish: u.Permissions.Publish.Allow, Subscribe: u.Permissions.Subscribe.Allow,
			Respond: u.Permissions.Response != nil}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	// The quota keeper: an nkey whose seed stays in this process, on
	// in-process connections only.
	if len(opts.Nkeys) != 1 || opts.Nkeys[0].Nkey != keeper.public() || !onlyInProcess(opts.Nkeys[0].AllowedConnectionTypes) {
		t.Errorf("nkey users = %+v, want the keeper's only, IN_PROCESS", opts.Nkeys)
	} else {
		u := opts.Nkeys[0]
		if diff := cmp.Diff(keeperPermissions(), permissions{Publish: u.Permissions.Publish.Allow, Subscribe: u.Permissions.Subscribe.Allow, Respond: u.Permissions.Response != nil}); diff != "" {
			t.Errorf("keeper permissions (-want +got):\n%s", diff)
		}
	}

	s, err := StartServer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if jc := s.ns.JetStreamConfig(); jc == nil || !jc.SyncAlways || jc.StoreDir == "" {
		t.Errorf("running JetStream config = %+v, want SyncAlways", jc)
	}
}

func TestPermissionsFor(t *testing.T) {
	got := permissionsFor(identity.Principal{State: "MX", Role: identity.RoleNode, Name: "a"})
	var inbox []string
	for _, r := range region.Codes() {
		inbox = append(inbox, "iant.inbox."+r+".MX.*")
	}
	want := permissions{
		Publish: append(inbox,
			// Where the server maps its copies while a quota is exceeded.
			"iant.quota.MX.>",
			"$JS.API.CONSUMER.INFO.IANT_INBOX.inbox-MX",
			"$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-MX",
			"$JS.ACK.IANT_INBOX.inbox-MX.>",
			"iant.directory.MX",
			"$JS.API.STREAM.INFO.IANT_DIRECTORY",
			"$JS.API.DIRECT.GET.IANT_DIRECTORY.>",
			"$JS.API.DIRECT.GET.IANT_DIRECTORY",
			"iant.event.MX.*",
			"$JS.API.STREAM.INFO.IANT_CHECKPOINTS",
			"$JS.API.DIRECT.GET.IANT_CHECKPOINTS.>",
			"$JS.API.DIRECT.GET.IANT_CHECKPOINTS",
			// The witness protocol: ask for proofs, tell its checkpoint, read others'.
			"iant.audit.proof.MX",
			"iant.witness.MX",
			"$JS.API.STREAM.INFO.IANT_WITNESS",
			"$JS.API.DIRECT.GET.IANT_WITNESS.>",
			"$JS.API.DIRECT.GET.IANT_WITNESS",
			// Its replay consumer, created by the secretariat.
			"$JS.API.CONSUMER.INFO.IANT_INBOX.replay-MX",
			"$JS.API.CONSUMER.RESET.IANT_INBOX.replay-MX",
			"$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.replay-MX",
			"$JS.ACK.IANT_INBOX.replay-MX.>",
			// The secretariat's signed documents: read only.
			"$JS.API.STREAM.INFO.IANT_MEMBERSHIP",
			"$JS.API.DIRECT.GET.IANT_MEMBERSHIP.>",
			"$JS.API.DIRECT.GET.IANT_MEMBERSHIP",
			// The same API calls addressed to the hub's domain, for a node
			// behind a leaf node.
			"$JS.hub.API.CONSUMER.INFO.IANT_INBOX.inbox-MX",
			"$JS.hub.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-MX",
			"$JS.hub.API.STREAM.INFO.IANT_DIRECTORY",
			"$JS.hub.API.DIRECT.GET.IANT_DIRECTORY.>",
			"$JS.hub.API.DIRECT.GET.IANT_DIRECTORY",
			"$JS.hub.API.STREAM.INFO.IANT_CHECKPOINTS",
			"$JS.hub.API.DIRECT.GET.IANT_CHECKPOINTS.>",
			"$JS.hub.API.DIRECT.GET.IANT_CHECKPOINTS",
			"$JS.hub.API.STREAM.INFO.IANT_WITNESS",
			"$JS.hub.API.DIRECT.GET.IANT_WITNESS.>",
			"$JS.hub.API.DIRECT.GET.IANT_WITNESS",
			"$JS.hub.API.CONSUMER.INFO.IANT_INBOX.replay-MX",
			"$JS.hub.API.CONSUMER.RESET.IANT_INBOX.replay-MX",
			"$JS.hub.API.CONSUMER.MSG.NEXT.IANT_INBOX.replay-MX",
			"$JS.hub.API.STREAM.INFO.IANT_MEMBERSHIP",
			"$JS.hub.API.DIRECT.GET.IANT_MEMBERSHIP.>",
			"$JS.hub.API.DIRECT.GET.IANT_MEMBERSHIP",
		),
		// Every entry is readable by direct get already: hearing each as
		// it is published (WatchDirectory) discloses nothing more.
		Subscribe: []string{"_INBOX_MX.>", "iant.membership.*", "iant.directory.*"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("permissionsFor(MX node) (-want +got):\n%s", diff)
	}
}

func onlyInProcess(types map[string]struct{}) bool {
	_, ok := types["IN_PROCESS"]
	return ok && len(types) == 1
}
