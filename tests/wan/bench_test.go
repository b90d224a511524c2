package wan

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/bench"
)

// benchWAN stops the nodes, starts the three backbone servers again on
// empty stores, and runs `iant bench` from the "bench" host (Bogotá)
// against them over the WAN: the bench's own nodes of the same states
// (new keys under the same identities, so on a backbone of their own),
// in its process, post broadcasts and time them to the last recipient's
// analyst.
func benchWAN(t *testing.T, nw *network, rep *report) {
	nw.stopNodes()
	nw.freshBackbone(t)
	var urls []string
	for _, h := range nw.hubs {
		urls = append(urls, h.ClientURL())
	}
	out := t.TempDir()
	args := []string{"netns", "exec", nw.w.NS("bench"), filepath.Join(bin, "iant"), "bench",
		"--nats", strings.Join(urls, ","), "--pki", nw.n.PKI, "--replicas", "3",
		"--states", strings.Join(states, ","), "--scenario", "broadcast", "--rate", "2", "--count", "20", "--duration", "15s",
		"--out", out}
	start := time.Now()
	cmd := exec.Command("ip", args...)
	text, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("iant bench over the WAN: %v\n%s\n%s", err, text, lastLines(stderr, 30))
	}
	rep.line("iant bench --nats <the 3 servers> --states %s --scenario broadcast --rate 2 --count 20, from Bogotá (%s):",
		strings.Join(states, ","), time.Since(start).Round(time.Second))
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		rep.line("  | %s", l)
	}
	data, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Scenarios) != 1 {
		t.Fatalf("bench reported %d scenarios, want 1", len(r.Scenarios))
	}
	iant := r.Scenarios[0].IANT
	if iant.Posted == 0 || iant.Missing != 0 || iant.Duplicates != 0 || iant.Failed != 0 {
		t.Errorf("bench over the WAN: posted %d, failed %d, missing %d, duplicates %d; want every post delivered once",
			iant.Posted, iant.Failed, iant.Missing, iant.Duplicates)
	}
	l := iant.LastRecipient
	rep.line("bench headline, post -> last recipient's analyst over the WAN: n=%d p50 %.0fms p95 %.0fms p99 %.0fms max %.0fms",
		l.N, l.P50, l.P95, l.P99, l.Max)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// freshBackbone stops the backbone servers and starts them again on empty
// stores, and waits until they listen.
func (nw *network) freshBackbone(t *testing.T) {
	t.Helper()
	for _, h := range nw.hubs {
		nw.n.Proc(h.Name).Stop()
	}
	for i := range nw.hubs {
		nw.hubs[i].StoreDir = filepath.Join(t.TempDir(), nw.hubs[i].Name)
	}
	for _, h := range nw.hubs {
		nw.n.Start(h.Name, nw.w.NS(h.Name), "iant-backbone", nw.n.HubConfig(h, nw.hubs, states))
	}
	for _, h := range nw.hubs {
		nw.n.WaitTCP(h.Name, strings.TrimPrefix(h.ClientURL(), "tls://"), time.Minute)
	}
}
