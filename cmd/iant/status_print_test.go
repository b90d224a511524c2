package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// TestStatusSaysWhenCountsAreWithheld: a state's node gives its traffic
// counts to focal points only and zeros to the others; iant status tells
// an analyst so instead of printing the zeros as if nothing moved.
func TestStatusSaysWhenCountsAreWithheld(t *testing.T) {
	st := &iantv1.GetStatusResponse{
		State: "US", Serving: true,
		Backbone: &iantv1.BackboneStatus{Connected: true, ConnectedUrl: "tls://127.0.0.1:7400"},
		Queues:   &iantv1.QueueStatus{MaxPendingCopies: 10000, CopiesPublished: 3},
	}
	var analyst, focal bytes.Buffer
	if err := printStatus(&analyst, st, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := printStatus(&focal, st, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if a := analyst.String(); !strings.Contains(a, "focal points only") || strings.Contains(a, "published since start") || strings.Contains(a, "inbox:") {
		t.Errorf("status for an analyst:\n%s\nwant the counts said withheld, not printed", a)
	}
	if f := focal.String(); !strings.Contains(f, "3 copies published since start") || !strings.Contains(f, "inbox: 0 waiting") {
		t.Errorf("status for a focal point:\n%s\nwant the counts", f)
	}
}
