package statenode_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestSubscribeShutdownResumeCursorOnlyWhatTheReaderMayRead: a node
// shutting down ends each subscription with the cursor to resume after.
// That cursor was the last record the stream looked at, readable or not:
// the analyst, whose stream had delivered an AMBER bulletin and passed
// over a TLP:RED one, was told the RED one's cursor. It must be the
// cursor of the last bulletin delivered.
func TestSubscribeShutdownResumeCursorOnlyWhatTheReaderMayRead(t *testing.T) {
	t.Parallel()
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, Logger: logs.Logger()})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	usFocal := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	amber := nettest.Post(t, mx, nettest.Draft("Courier on CM471", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, usFocal, amber)
	red := nettest.Draft("Named source in danger", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	redID := nettest.Post(t, mx, red).GetBulletin().GetId()
	redCursor := nettest.WaitStored(t, usFocal, redID).GetCursor()

	stream, err := analyst.Subscribe(t.Context(), &iantv1.SubscribeRequest{FromStart: true})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil || resp.GetBulletin().GetBulletin().GetId() != amber {
		t.Fatalf("first delivery = %v, %v; want the AMBER bulletin", resp, err)
	}
	amberCursor := resp.GetBulletin().GetCursor()
	// The stream has looked at the RED bulletin once it filtered it out.
	deadline := time.Now().Add(nettest.Eventually)
	for logs.Count("msg=bulletin filtered out", "bulletin_id="+redID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscription never looked at the RED bulletin")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	msg := status.Convert(err).Message()
	if !strings.Contains(msg, fmt.Sprintf("resume after cursor %d", amberCursor)) {
		t.Errorf("the stream ended with %q, want it to resume after the AMBER bulletin's cursor %d (the RED one's is %d)", msg, amberCursor, redCursor)
	}
}
