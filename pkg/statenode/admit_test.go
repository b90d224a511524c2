package statenode_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestAdmissionRefusesWhenBehind: MX's copies for US cannot leave (the
// backbone refuses them in front of the real one), so its outbox falls
// behind on MX's clock. Once it is more than Admission.Lag behind, a
// ROUTINE post is refused at once with ResourceExhausted, a retry hint
// and nothing committed, while FLASH posts are still taken; past eight
// times the lag FLASH is refused too. Once the copies go out, ROUTINE
// posts are taken again.
func TestAdmissionRefusesWhenBehind(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64 // MX's clock runs ahead by this
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(cc string, c *statenode.Config) {
		if cc == "MX" {
			c.Admission = statenode.AdmissionConfig{Lag: 500 * time.Millisecond}
			c.PostWait = 50 * time.Millisecond
			c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		}
	}})
	var block atomic.Bool
	block.Store(true)
	statenode.WrapPublish(nw.Node("MX"), func(real statenode.PublishCopy) statenode.PublishCopy {
		return func(ctx context.Context, recipient, origin, id string, data []byte) (backbone.PubAck, error) {
			if block.Load() {
				return backbone.PubAck{}, fmt.Errorf("%w: injected", backbone.ErrUnavailable)
			}
			return real(ctx, recipient, origin, id, data)
		}
	})
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(title string, p iantv1.Precedence) error {
		d := nettest.Draft(title, "US")
		d.Precedence = p
		_, err := fp.PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: d})
		return err
	}
	routine, flash := iantv1.Precedence_PRECEDENCE_ROUTINE, iantv1.Precedence_PRECEDENCE_FLASH
	if err := post("first", flash); err != nil {
		t.Fatalf("first post = %v", err)
	}
	pending := func() int {
		st, err := nw.Node("MX").Outbox(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.Pending
	}

	offset.Store(int64(time.Second)) // the copy has waited 1s: twice the lag
	before := pending()
	err := post("routine while behind", routine)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "ROUTINE") {
		t.Fatalf("ROUTINE post while 1s behind = %v, want ResourceExhausted naming ROUTINE", err)
	}
	var retry time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri.GetRetryDelay().AsDuration()
		}
	}
	if retry <= 0 || retry > 30*time.Second {
		t.Errorf("refusal's retry hint = %v, want one between 0 and 30s", retry)
	}
	if got := pending(); got != before {
		t.Errorf("refused post: outbox holds %d copies, held %d before; want nothing committed", got, before)
	}
	if err := post("flash while behind", flash); err != nil {
		t.Errorf("FLASH post while 1s behind (ROUTINE refused) = %v, want it taken", err)
	}

	offset.Store(int64(5 * time.Second)) // past eight times the lag
	if err := post("flash far behind", flash); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("FLASH post 5s behind = %v, want ResourceExhausted", err)
	}

	block.Store(false)
	waitOutboxEmpty(t, nw, "MX")
	if err := post("routine caught up", routine); err != nil {
		t.Errorf("ROUTINE post once the outbox is empty = %v, want it taken", err)
	}
}
