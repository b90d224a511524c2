package bench_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.uber.org/goleak"

	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/bench"
	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// TestMain checks that Run stops every goroutine it starts.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunSmoke runs a tiny bench and checks that its counts add up: every
// post delivered to every recipient exactly once, on both sides. It
// asserts no speed.
func TestRunSmoke(t *testing.T) {
	var progress bytes.Buffer
	rep, err := bench.Run(t.Context(), bench.Options{
		Dir:         t.TempDir(),
		States:      []string{"MX", "US", "CA", "BR"},
		Scenarios:   []bench.Scenario{bench.Mixed, bench.Broadcast},
		Count:       50,
		Duration:    3 * time.Minute, // posting stops at Count: the bound only keeps a slow machine from stopping early
		CeilingTime: 200 * time.Millisecond,
	}, &syncWriter{w: &progress})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(rep.Scenarios); got != 2 {
		t.Fatalf("Run reported %d scenarios, want 2", got)
	}
	for _, s := range rep.Scenarios {
		for _, side := range []struct {
			name string
			r    bench.Result
		}{{"iant", s.IANT}, {"baseline", s.Baseline}, {"baseline batch", s.BaselineBatch}} {
			r := side.r
			want := int(math.Round(s.FanOut * float64(r.Posted)))
			if r.Posted != 50 || r.Failed != 0 || r.Expected != want || r.Delivered != r.Expected ||
				r.Duplicates != 0 || r.Missing != 0 || r.Unexpected != 0 {
				t.Errorf("%s %s: posted %d failed %d (%s) expected %d delivered %d duplicates %d missing %d unexpected %d; want 50 posted, %d delivered exactly once",
					s.Scenario, side.name, r.Posted, r.Failed, r.FirstError, r.Expected, r.Delivered, r.Duplicates, r.Missing, r.Unexpected, want)
			}
			if r.LastRecipient.N != r.Posted || len(r.LastRecipientSamples) != r.Posted {
				t.Errorf("%s %s: %d headline samples, want %d", s.Scenario, side.name, r.LastRecipient.N, r.Posted)
			}
		}
		if s.Ceiling.Bulletins == 0 || s.Ceiling.SealedBytes <= s.Ceiling.PlaintextBytes {
			t.Errorf("%s ceiling = %+v, want bulletins sealed into larger copies", s.Scenario, s.Ceiling)
		}
	}
	if got := rep.Scenarios[1]; got.Scenario != "broadcast" || got.FanOut != 3 {
		t.Errorf("second scenario %q has fan-out %v, want broadcast to 3", got.Scenario, got.FanOut)
	}
	// Closed loop: CPU, bytes and throughput of each scenario, and the
	// broadcast's author's answer.
	if got, want := len(rep.Targets), 2*3+1; got != want {
		t.Errorf("%d targets judged, want %d: %+v", got, want, rep.Targets)
	}
	for _, tg := range rep.Targets {
		if tg.Status != "met" && tg.Status != "missed" {
			t.Errorf("target %s of %s: status %q, want met or missed", tg.Name, tg.Scenario, tg.Status)
		}
	}

	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back bench.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, &back); diff != "" {
		t.Errorf("JSON round trip changed the report (-before +after):\n%s", diff)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "== broadcast") {
		t.Errorf("WriteTable = %v, %q; want a broadcast section", err, table.String())
	}
	var svg bytes.Buffer
	if err := rep.WriteChart(&svg); err != nil {
		t.Fatal(err)
	}
	if err := wellFormed(svg.Bytes()); err != nil || !strings.Contains(svg.String(), "backbone broadcast") {
		t.Errorf("WriteChart wrote malformed or incomplete SVG: %v", err)
	}
	if !strings.Contains(progress.String(), "bench iant broadcast:") {
		t.Errorf("progress = %q, want a line for the broadcast phase", progress.String())
	}
}

// TestRunOnCluster runs a tiny bench whose nodes use an external backbone:
// a three-server cluster with R3 streams, trusting the PKI the bench is
// pointed at. Every post is delivered to every recipient exactly once.
func TestRunOnCluster(t *testing.T) {
	states := []string{"MX", "US", "CA"}
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(t.TempDir(), "pki"), TrustDomain: "iant.test", States: states, Hubs: 3})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []spiffeid.ID{testenv.NodePrincipal("").ID(pki.TrustDomain)}
	for _, s := range states {
		nodes = append(nodes, testenv.NodePrincipal(s).ID(pki.TrustDomain))
	}
	ca := identitytest.NewCA(t, "iant.test") // only for the cluster's ports and stores
	cfgs := backbonetest.ClusterConfigs(t, ca, 3)
	for i := range cfgs {
		e, ok := pki.Find(identity.Principal{Role: identity.RoleSecretariatNode, Name: devpki.HubName(i + 1)})
		if !ok {
			t.Fatalf("no SVID for hub %d", i+1)
		}
		src, err := identity.LoadFiles(pki.TrustDomain, e.CertFile, e.KeyFile, pki.BundleFile)
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i].SVID, cfgs[i].Bundle, cfgs[i].Nodes = src, src, nodes
	}
	srvs := backbonetest.StartCluster(t, cfgs)

	rep, err := bench.Run(t.Context(), bench.Options{
		Dir: t.TempDir(), States: states, Scenarios: []bench.Scenario{bench.Broadcast},
		Count: 30, Duration: 3 * time.Minute, CeilingTime: 100 * time.Millisecond, // stops at Count
		NATS: backbonetest.ClusterURLs(srvs...), PKIDir: pki.Dir,
	}, io.Discard)
	if err != nil {
		t.Fatalf("Run on the cluster: %v", err)
	}
	if !strings.Contains(rep.Network.Backbone, "external") || !strings.Contains(rep.Network.Backbone, "R3") {
		t.Errorf("report backbone = %q, want the external cluster with R3 streams", rep.Network.Backbone)
	}
	// A broadcast reaches every state but the author's: two of three.
	r := rep.Scenarios[0].IANT
	if r.Posted != 30 || r.Failed != 0 || r.Expected != 60 || r.Delivered != 60 || r.Duplicates != 0 || r.Missing != 0 {
		t.Errorf("on the cluster: posted %d failed %d (%s) expected %d delivered %d duplicates %d missing %d; want 30 posted, 60 delivered exactly once",
			r.Posted, r.Failed, r.FirstError, r.Expected, r.Delivered, r.Duplicates, r.Missing)
	}
}

// TestRunOverload runs a tiny overload scenario: the capacity in closed
// loop, then twice that in open loop, FLASH and ROUTINE. Every post is
// either accepted or refused, and every accepted one delivered once.
func TestRunOverload(t *testing.T) {
	rep, err := bench.Run(t.Context(), bench.Options{
		Dir: t.TempDir(), States: []string{"MX", "US", "CA"}, Scenarios: []bench.Scenario{bench.Overload},
		Count: 40, Duration: 5 * time.Second, CeilingTime: 100 * time.Millisecond,
	}, io.Discard)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := rep.Scenarios[0]
	if s.Overload == nil || s.Overload.CapacityPerSecond <= 0 || s.Overload.OfferedPerSecond != math.Round(2000*s.Overload.CapacityPerSecond)/1000 {
		t.Fatalf("overload report = %+v, want a capacity and twice it offered", s.Overload)
	}
	r := s.IANT
	sent := 0
	for _, c := range r.Classes {
		sent += c.Sent
		if c.Posted+c.Refused != c.Sent {
			t.Errorf("%s: %d posted + %d refused != %d sent", c.Precedence, c.Posted, c.Refused, c.Sent)
		}
	}
	if len(r.Classes) != 2 || r.Failed != 0 || r.Posted+r.Refused != sent || r.Delivered != r.Expected || r.Duplicates != 0 {
		t.Errorf("overload: classes %+v, posted %d refused %d failed %d (%s), expected %d delivered %d duplicates %d",
			r.Classes, r.Posted, r.Refused, r.Failed, r.FirstError, r.Expected, r.Delivered, r.Duplicates)
	}
	if len(rep.Targets) == 0 {
		t.Error("no target judged for the overload scenario")
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		o    bench.Options
		want string
	}{
		{"one state", bench.Options{States: []string{"MX"}}, "at least two"},
		{"unknown state", bench.Options{States: []string{"MX", "FR"}}, `"FR" is not an OAS member`},
		{"negative rate", bench.Options{Rate: -1}, "Rate -1 must not be negative"},
		{"body too big", bench.Options{BodySize: 1 << 20}, "BodySize"},
		{"nats without pki", bench.Options{NATS: []string{"tls://127.0.0.1:4222"}}, "PKIDir"},
		{"nats not a URL", bench.Options{NATS: []string{"127.0.0.1:4222"}, PKIDir: "pki"}, `"127.0.0.1:4222" is not a URL`},
		{"pki without nats", bench.Options{PKIDir: "pki"}, "only to an external backbone"},
		{"bad replicas", bench.Options{NATS: []string{"tls://h:1"}, PKIDir: "pki", Replicas: 7}, "Replicas 7"},
		{"regional without neighbours", bench.Options{States: []string{"MX", "BR"}, Scenarios: []bench.Scenario{bench.Regional}}, "two states of one region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseStates(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"4", []string{"CA", "MX", "BZ", "CR"}},
		{"9", []string{"CA", "MX", "BZ", "CR", "AG", "BB", "AR", "BO", "US"}},
		{" mx, us ", []string{"MX", "US"}},
	}
	for _, tt := range tests {
		got, err := bench.ParseStates(tt.in)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseStates(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got, _ := bench.ParseStates("all"); len(got) != 35 {
		t.Errorf("ParseStates(all) has %d states, want 35", len(got))
	}
	for _, bad := range []string{"1", "36", "MX,XX", "MX,MX", "MX"} {
		if _, err := bench.ParseStates(bad); err == nil {
			t.Errorf("ParseStates(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseScenarios(t *testing.T) {
	if got, err := bench.ParseScenarios("all"); err != nil || len(got) != 4 {
		t.Errorf("ParseScenarios(all) = %v, %v", got, err)
	}
	if got, err := bench.ParseScenarios("Broadcast"); err != nil || !cmp.Equal(got, []bench.Scenario{bench.Broadcast}) {
		t.Errorf("ParseScenarios(Broadcast) = %v, %v", got, err)
	}
	if _, err := bench.ParseScenarios("multicast"); err == nil || !strings.Contains(err.Error(), `unknown scenario "multicast"`) {
		t.Errorf("ParseScenarios(multicast) = %v", err)
	}
}

// syncWriter serializes writes from the progress goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
