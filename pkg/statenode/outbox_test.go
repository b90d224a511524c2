package statenode_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestPostPartlyPublished lets MX's copies for CA fail in front of the
// real backbone while those for US and JM go out: each post is answered
// with CA pending, US and JM hold the bulletins and CA none, the audit log
// has each posted once and released to all three; once CA's copies go out
// CA receives them in post order, and every recipient holds each once.
func TestPostPartlyPublished(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US", "CA", "JM")
	var blockCA atomic.Bool
	blockCA.Store(true)
	statenode.WrapPublish(nw.Node("MX"), func(real statenode.PublishCopy) statenode.PublishCopy {
		return func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error) {
			if recipient == "CA" && blockCA.Load() {
				return backbone.PubAck{}, fmt.Errorf("%w: injected for CA", backbone.ErrUnavailable)
			}
			return real(ctx, recipient, origin, id, data)
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	subCA := nettest.Subscribe(t, ctx, nettest.Dial(t, nw, testenv.Analyst("CA")), &iantv1.SubscribeRequest{})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	to := []string{"US", "CA", "JM"}
	var ids []string
	for i := range 3 {
		resp := nettest.PostKeyed(t, fp, nettest.Draft(fmt.Sprintf("partly published %d", i), to...), "")
		if got := resp.GetPendingRecipients(); len(got) != 1 || got[0] != "CA" {
			t.Errorf("post %d: pending %v, want [CA]", i, got)
		}
		ids = append(ids, resp.GetBulletin().GetBulletin().GetId())
	}
	for _, cc := range []string{"US", "JM"} {
		nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst(cc)), ids...)
	}
	caAnalyst := nettest.Dial(t, nw, testenv.Analyst("CA"))
	for _, id := range ids { // never published: CA cannot have it
		if _, err := caAnalyst.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id}); status.Code(err) != codes.NotFound {
			t.Errorf("CA's GetBulletin(%s) while its copy waits = %v, want NotFound", id, err)
		}
	}
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	for _, cc := range []string{"US", "JM"} {
		delivered(t, auditor, ids[0], cc)
	}
	// The post and its release to all three were committed together.
	got := nettest.CountKinds(nettest.Entries(t, auditor, ids[0]))
	if got[audit.EventPosted] != 1 || got[audit.EventReleased] != 3 || got[audit.EventDelivered] != 2 {
		t.Errorf("audit log of %s while CA's copy waits = %v, want posted 1, released 3, delivered 2", ids[0], got)
	}

	blockCA.Store(false)
	sameOrder(t, "CA", receivedIDs(t, subCA, len(ids)), ids)
	nettest.HeldOnce(t, caAnalyst, ids...)
	for _, id := range ids {
		nettest.ReportedOnce(t, auditor, id, to...)
	}
	waitOutboxEmpty(t, nw, "MX")
}

// TestLostAcknowledgementIsADuplicate publishes MX's first copy for US
// for real but loses its acknowledgement: the drainer publishes it again,
// the backbone acknowledges it as a duplicate of MX's own earlier publish,
// the node counts it, and US holds the bulletin once.
func TestLostAcknowledgementIsADuplicate(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	var lose atomic.Bool
	lose.Store(true)
	statenode.WrapPublish(nw.Node("MX"), func(real statenode.PublishCopy) statenode.PublishCopy {
		return func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error) {
			ack, err := real(ctx, recipient, origin, id, data)
			if err == nil && lose.CompareAndSwap(true, false) {
				return backbone.PubAck{}, errors.New("injected: acknowledgement lost")
			}
			return ack, err
		}
	})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	id := nettest.Post(t, fp, nettest.Draft("acknowledgement lost", "US")).GetBulletin().GetId()
	nettest.HeldOnce(t, nettest.Dial(t, nw, testenv.Analyst("US")), id)
	st := waitOutboxEmpty(t, nw, "MX")
	// The first publish's acknowledgement was lost: only the second's
	// counts, and it is the duplicate.
	if st.Duplicates != 1 || st.Published != 1 {
		t.Errorf("MX's outbox = %+v, want 1 acknowledged publish, a duplicate", st)
	}
	nettest.ReportedOnce(t, nettest.AuditClient(t, nw, testenv.Auditor()), id, "US")
}
