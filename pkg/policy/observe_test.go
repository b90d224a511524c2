package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/policy"
)

// TestObserveSeesEveryDecision: the observer is told of each decision
// with its point, as a node counts them; removed, it hears nothing.
func TestObserveSeesEveryDecision(t *testing.T) {
	e := newEngine(t)
	var got []string
	e.Observe(func(point string, d policy.Decision) {
		verdict := "deny"
		if d.Allowed {
			verdict = "allow"
		}
		got = append(got, point+" "+verdict)
	})
	b := amberToUS()
	e.Post(mxFocal, b)
	e.Post(usAnalyst, b)
	allowed, refused := e.Recipients(b)
	e.Read(usAnalyst, policy.PersonAttrs{}, b)
	e.Forward(usFocal, b, "CA", false)
	want := []string{"post allow", "post deny"}
	for range len(allowed) + len(refused) {
		want = append(want, "release allow")
	}
	want = append(want, "read allow", got[len(got)-1])
	if want[len(want)-1][:7] != "forward" {
		t.Fatalf("last decision %q is not a forward", want[len(want)-1])
	}
	if len(refused) != 0 {
		t.Fatalf("Recipients refused %v", refused)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observed decisions (-want +got):\n%s", diff)
	}
	e.Observe(nil)
	e.Post(mxFocal, b)
	if len(got) != len(want) {
		t.Errorf("observed %d decisions after the observer was removed", len(got)-len(want))
	}
}
