package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// TestPrintReportSaysHowForwardsReached: under the table, each state a
// forward reached is named with its forwarder and when it forwarded,
// once the forwarder reported it.
func TestPrintReportSaysHowForwardsReached(t *testing.T) {
	at := time.Date(2026, 11, 3, 14, 0, 5, 0, time.UTC)
	r := &iantv1.BulletinReport{Id: "01J", Origin: "MX", Recipients: []*iantv1.RecipientStatus{
		{State: "CO"},
		{State: "PE", ForwardedBy: "CO", ForwardTime: timestamppb.New(at)},
		{State: "UY", ForwardedBy: "CO"},
	}}
	var b strings.Builder
	if err := printReport(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"PE reached through CO's forward at 2026-11-03 14:00:05Z\n",
		"UY reached through CO's forward (not reported by the forwarder yet)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report:\n%s\nwant a line %q", b.String(), want)
		}
	}
	if strings.Contains(b.String(), "CO reached") {
		t.Errorf("report:\n%s\nnames CO, released by the origin, as reached through a forward", b.String())
	}
}
