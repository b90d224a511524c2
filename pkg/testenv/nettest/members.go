package nettest

import (
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// AdminClient connects the secretariat's administrator to the
// secretariat's node.
func AdminClient(t testing.TB, nw *testenv.Network) iantv1.AdminServiceClient {
	t.Helper()
	return iantv1.NewAdminServiceClient(conn(t, nw, testenv.Admin(), true))
}

// WaitMembership waits until the node of each of states, and the embedded
// backbone, hold (at least) the membership table version table and the
// deny list version deny.
func WaitMembership(t testing.TB, nw *testenv.Network, table, deny uint64, states ...string) {
	t.Helper()
	until(t, "membership applied at the backbone", func() bool {
		tv, dv := nw.Backbone.MembershipVersions()
		return tv >= table && dv >= deny
	})
	for _, cc := range states {
		until(t, "membership held at "+cc+"'s node", func() bool {
			n := nw.Node(cc)
			if n == nil {
				return false
			}
			tv, dv := n.Membership().Versions()
			return tv >= table && dv >= deny
		})
	}
}

// until polls cond every 10 ms until it holds, failing the test after
// [Eventually].
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, Eventually)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ended waits until the subscription's stream ends and returns when its
// reader saw the end (however late Ended is called) and why; it fails the test if the stream is still open after
// [Eventually]. Bulletins delivered meanwhile are dropped.
func (s *Subscription) Ended(t testing.TB) (time.Time, error) {
	t.Helper()
	deadline := time.After(Eventually)
	for {
		select {
		case <-s.got:
		case end := <-s.err:
			return end.at, end.err
		case <-deadline:
			t.Fatalf("subscription still open after %s", Eventually)
		}
	}
}

// DialConn connects person p to their own state's node (the secretariat's
// for its people) and returns the connection, for any of its services.
func DialConn(t testing.TB, nw *testenv.Network, p identity.Principal) *grpc.ClientConn {
	t.Helper()
	return conn(t, nw, p, p.Role.IsSecretariat())
}

// ErrorField returns the field (or else the rule) a refusal's ErrorDetail
// names, "" when it names none.
func ErrorField(err error) string {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if e, ok := d.(*iantv1.ErrorDetail); ok {
			return e.GetField() + e.GetRule()
		}
	}
	return ""
}

// DialContext connects with client context c, which the test may have
// pointed at another node.
func DialContext(t testing.TB, c client.Context) *grpc.ClientConn {
	t.Helper()
	cc, _, err := client.Dial(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}
