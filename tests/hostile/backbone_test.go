package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestBackboneBeyondOwnSubjects: CO's node, compromised, connects to the
// running network's backbone with its genuine SVID on a plain NATS
// connection and tries what only other states, the secretariat or
// nobody may do: publish as another origin, another state's directory
// entry, receipt or witnessed checkpoint, a checkpoint; read or take
// another state's copies (subscribe, pull its consumers, read stored
// messages); read receipts; create, delete or purge streams and
// consumers. The server refuses each (a permissions violation naming the
// subject; the pkg/backbone tests check the same on a bare server, this
// the configuration a network runs with). PE then receives MX's bulletin
// as if nothing had happened.
func TestBackboneBeyondOwnSubjects(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "CO", "PE")
	ca := identitytest.LoadCA(t, nw.TD, nw.PKI.BundleFile, filepath.Join(nw.PKI.Dir, "ca", "ca.key"))
	errs := make(chan error, 64)
	nc, err := backbonetest.DialNATS(t, ca, nw.Backbone, nettest.NodeSVID(t, nw, "CO"), "CO",
		nats.PermissionErrOnSubscribe(true),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	req := func(subj, body string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := nc.RequestWithContext(ctx, subj, []byte(body))
			return err
		}
	}
	sub := func(subj string) func(context.Context) error {
		return func(ctx context.Context) error {
			s, err := nc.SubscribeSync(subj)
			if err != nil {
				return err
			}
			defer s.Unsubscribe()
			_, err = s.NextMsgWithContext(ctx)
			return err
		}
	}
	const next = `{"batch":1,"expires":2000000000}`
	tests := []struct {
		name, subject string
		op            func(context.Context) error
	}{
		{"publish as origin MX", "iant.inbox.PE.MX.x", req("iant.inbox.PE.MX.x", "x")},
		{"publish MX's directory entry", "iant.directory.MX", req("iant.directory.MX", "x")},
		{"publish MX's receipt", "iant.event.MX.x", req("iant.event.MX.x", "x")},
		{"publish the secretariat's receipt", "iant.event.SECRETARIAT.x", req("iant.event.SECRETARIAT.x", "x")},
		{"publish MX's witnessed checkpoint", "iant.witness.MX", req("iant.witness.MX", "x")},
		{"publish a checkpoint", "iant.checkpoint", req("iant.checkpoint", "x")},
		{"ask for proofs as MX", "iant.audit.proof.MX", req("iant.audit.proof.MX", "{}")},
		{"subscribe to PE's inbox", "iant.inbox.PE.>", sub("iant.inbox.PE.>")},
		{"subscribe to receipts", "iant.event.>", sub("iant.event.>")},
		{"subscribe to PE's replies", "_INBOX_PE.>", sub("_INBOX_PE.>")},
		{"subscribe to proof requests", "iant.audit.proof.*", sub("iant.audit.proof.*")},
		{"pull PE's inbox consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-PE", req("$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.inbox-PE", next)},
		{"pull PE's replay consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.replay-PE", req("$JS.API.CONSUMER.MSG.NEXT.IANT_INBOX.replay-PE", next)},
		{"reset PE's replay consumer", "$JS.API.CONSUMER.RESET.IANT_INBOX.replay-PE", req("$JS.API.CONSUMER.RESET.IANT_INBOX.replay-PE", "{}")},
		{"pull the audit consumer", "$JS.API.CONSUMER.MSG.NEXT.IANT_EVENTS.audit", req("$JS.API.CONSUMER.MSG.NEXT.IANT_EVENTS.audit", next)},
		{"read a stored copy", "$JS.API.STREAM.MSG.GET.IANT_INBOX", req("$JS.API.STREAM.MSG.GET.IANT_INBOX", `{"seq":1}`)},
		{"direct get a stored copy", "$JS.API.DIRECT.GET.IANT_INBOX", req("$JS.API.DIRECT.GET.IANT_INBOX", `{"seq":1}`)},
		{"read a receipt", "$JS.API.STREAM.MSG.GET.IANT_EVENTS", req("$JS.API.STREAM.MSG.GET.IANT_EVENTS", `{"seq":1}`)},
		{"create a consumer on every inbox", "$JS.API.CONSUMER.CREATE.IANT_INBOX.steal.iant.inbox.>",
			req("$JS.API.CONSUMER.CREATE.IANT_INBOX.steal.iant.inbox.>", `{"stream_name":"IANT_INBOX","config":{"durable_name":"steal","filter_subject":"iant.inbox.>"}}`)},
		{"delete PE's consumer", "$JS.API.CONSUMER.DELETE.IANT_INBOX.inbox-PE", req("$JS.API.CONSUMER.DELETE.IANT_INBOX.inbox-PE", "")},
		{"purge the inbox", "$JS.API.STREAM.PURGE.IANT_INBOX", req("$JS.API.STREAM.PURGE.IANT_INBOX", "{}")},
		{"delete the directory", "$JS.API.STREAM.DELETE.IANT_DIRECTORY", req("$JS.API.STREAM.DELETE.IANT_DIRECTORY", "")},
		{"purge the witness stream", "$JS.API.STREAM.PURGE.IANT_WITNESS", req("$JS.API.STREAM.PURGE.IANT_WITNESS", "{}")},
		{"create a stream", "$JS.API.STREAM.CREATE.STEAL", req("$JS.API.STREAM.CREATE.STEAL", `{"name":"STEAL","subjects":["iant.>"]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { denied(t, errs, tt.subject, tt.op) })
	}
	id := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("after the probes", "PE")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.FocalPoint("PE")), id)
}

// denied runs op and requires that the server reports a permissions
// violation naming subject on errs, and that op fails.
func denied(t *testing.T, errs <-chan error, subject string, op func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- op(ctx) }()
	want := fmt.Sprintf("%q", subject)
	for seen := false; !seen; {
		select {
		case err := <-errs:
			seen = errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), want)
		case <-ctx.Done():
			t.Fatalf("no permissions violation for %s", want)
		}
	}
	cancel()
	if err := <-errc; err == nil {
		t.Errorf("operation on %s succeeded despite the violation", subject)
	}
}
