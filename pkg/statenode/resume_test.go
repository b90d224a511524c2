package statenode_test

import (
	"context"
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestResumeBeyondWhatTheReaderMayRead: a page token or resume cursor
// beyond the newest bulletin is refused (InvalidArgument); one behind it
// answers an empty page. With "the newest" meaning any stored record, an
// analyst asking with the cursor after the newest bulletin they may read
// learned, by the refusal turning into an empty page, the moment a
// bulletin they may not read (TLP:RED) arrived at their node — a live
// oracle on hidden traffic, against "list and search pages depend only on
// what the reader may read". The answers to ListBulletins (both orders)
// and Subscribe for that cursor must be the same before and after a RED
// bulletin arrives.
func TestResumeBeyondWhatTheReaderMayRead(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	usFocal := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	amber := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US")).GetBulletin().GetId()
	newest := nettest.WaitStored(t, analyst, amber).GetCursor()
	probe := newest + 1

	// refused reports, for each way of resuming at probe, whether it is
	// refused as InvalidArgument naming the token or cursor.
	refused := func() map[string]bool {
		t.Helper()
		out := map[string]bool{}
		for _, tt := range []struct {
			name string
			req  *iantv1.ListBulletinsRequest
		}{
			{"oldest first", &iantv1.ListBulletinsRequest{PageToken: strconv.FormatUint(probe, 10)}},
			{"newest first", &iantv1.ListBulletinsRequest{PageToken: "n" + strconv.FormatUint(probe, 10), NewestFirst: true}},
		} {
			resp, err := analyst.ListBulletins(t.Context(), tt.req)
			switch {
			case status.Code(err) == codes.InvalidArgument:
				out[tt.name] = true
			case err != nil:
				t.Fatalf("ListBulletins %s from %d = %v", tt.name, probe, err)
			case tt.name == "oldest first" && len(resp.GetBulletins()) != 0:
				t.Fatalf("ListBulletins %s from %d = %d bulletins, want none", tt.name, probe, len(resp.GetBulletins()))
			}
		}
		// A stream that is not refused waits for new bulletins: it is
		// accepted if nothing came back before the deadline.
		ctx, cancel := context.WithTimeout(t.Context(), nettest.Eventually)
		defer cancel()
		stream, err := analyst.Subscribe(ctx, &iantv1.SubscribeRequest{AfterCursor: probe})
		if err == nil {
			_, err = stream.Recv()
		}
		out["subscribe"] = status.Code(err) == codes.InvalidArgument
		return out
	}
	before := refused()
	for name, r := range before {
		if !r {
			t.Errorf("%s from %d, beyond the newest bulletin (%d), is not refused", name, probe, newest)
		}
	}

	red := nettest.Draft("Named source in danger", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	redID := nettest.Post(t, mx, red).GetBulletin().GetId()
	if c := nettest.WaitStored(t, usFocal, redID).GetCursor(); c != probe {
		t.Fatalf("the RED bulletin has cursor %d, want %d", c, probe)
	}
	after := refused()
	for name := range before {
		if after[name] != before[name] {
			t.Errorf("%s from %d: refused %v before a RED bulletin the analyst may not read arrived, %v after: the answer tells of it", name, probe, before[name], after[name])
		}
	}
}
