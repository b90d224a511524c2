package wan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Sites and the round trip times between them, in milliseconds: the
// inter-American internet as it is (published figures of the region's
// main routes, rounded), from 20 ms within Brazil to 150 ms from Buenos
// Aires to Washington. The one-way delay is half the RTT.
var rtts = map[[2]string]int{
	{"iad", "pty"}: 55, {"iad", "gru"}: 120, {"pty", "gru"}: 105, // the backbone's three servers
	{"mia", "iad"}: 30, {"mia", "pty"}: 40, {"mia", "gru"}: 115,
	{"mex", "iad"}: 55, {"mex", "pty"}: 45, {"mex", "gru"}: 145,
	{"bsb", "iad"}: 130, {"bsb", "pty"}: 110, {"bsb", "gru"}: 20,
	{"eze", "iad"}: 150, {"eze", "pty"}: 115, {"eze", "gru"}: 40,
	{"kin", "iad"}: 50, {"kin", "pty"}: 35, {"kin", "gru"}: 140,
	{"bog", "iad"}: 85, {"bog", "pty"}: 30, {"bog", "gru"}: 90,
}

// defaultRTT is the RTT between sites the table does not list (nodes of
// two states, which talk only through the backbone).
const defaultRTT = 100

// sameSiteRTT is the RTT within a site (the secretariat's node and the
// backbone server beside it in Washington).
const sameSiteRTT = 2

// rtt is the round trip between sites a and b; the test's own host
// ("lan", where the people are) is 1 ms from every site.
func rtt(a, b string) time.Duration {
	switch {
	case a == b:
		return sameSiteRTT * time.Millisecond
	case a == "lan" || b == "lan":
		return time.Millisecond
	}
	if ms, ok := rtts[[2]string{a, b}]; ok {
		return time.Duration(ms) * time.Millisecond
	}
	if ms, ok := rtts[[2]string{b, a}]; ok {
		return time.Duration(ms) * time.Millisecond
	}
	return defaultRTT * time.Millisecond
}

// WAN is a set of hosts, each in a network namespace of its own (the
// test's own host in the test's namespace), on one subnet joined by a
// Switch that delays, jitters and drops as the WAN between their sites
// would.
type WAN struct {
	t      testing.TB
	id     string
	prefix string // "10.X.Y."
	sw     *Switch
	hosts  map[string]host
	next   int
}

type host struct {
	site, ns, ip, tap string
}

// newWAN checks that this machine can run it (root, ip netns, a TUN
// device) or skips the test saying why, and returns an empty WAN with the
// test's own host ("lan") attached.
func newWAN(t testing.TB, jitter, loss float64) *WAN {
	t.Helper()
	switch {
	case os.Geteuid() != 0:
		t.Skip("the simulated WAN needs root for network namespaces (CI runs as root)")
	case exec.Command("ip", "netns", "list").Run() != nil:
		t.Skip("`ip netns` is unavailable: install iproute2")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("the simulated WAN needs /dev/net/tun: %v", err)
	}
	w := &WAN{t: t, id: fmt.Sprintf("%04x", rand.IntN(1<<16)), hosts: map[string]host{}, next: 10}
	w.prefix = freeSubnet(t)
	w.sw = &Switch{Jitter: jitter, Loss: loss,
		Delay: func(a, b string) time.Duration { return rtt(a, b) / 2 },
		Lossy: func(a, b string) bool { return a != "lan" && b != "lan" }}
	t.Cleanup(w.close)
	probe := "iantwan-" + w.id + "-probe"
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("`ip netns add` fails here: %v: %s", err, out)
	}
	run(t, "ip", "netns", "del", probe)
	w.addHost("lan", "lan", false)
	return w
}

// freeSubnet picks a 10.X.Y.0/24 that no interface of this machine uses.
func freeSubnet(t testing.TB) string {
	t.Helper()
	out, _ := exec.Command("ip", "-4", "addr").CombinedOutput()
	for range 100 {
		p := fmt.Sprintf("10.%d.%d.", 100+rand.IntN(150), rand.IntN(250))
		if !strings.Contains(string(out), p) {
			return p
		}
	}
	t.Fatal("no free 10.X.Y.0/24 subnet")
	return ""
}

// Add adds host name at site in a network namespace of its own and
// returns the namespace's name.
func (w *WAN) Add(name, site string) string {
	w.t.Helper()
	return w.addHost(name, site, true)
}

func (w *WAN) addHost(name, site string, ownNS bool) string {
	w.t.Helper()
	h := host{site: site, ip: fmt.Sprintf("%s%d", w.prefix, w.next), tap: fmt.Sprintf("iw%s%02d", w.id, w.next-10)}
	w.next++
	if err := w.sw.attach(name, site, h.tap); err != nil {
		w.t.Fatal(err)
	}
	w.hosts[name] = h
	if !ownNS {
		run(w.t, "ip", "addr", "add", h.ip+"/24", "dev", h.tap)
		run(w.t, "ip", "link", "set", h.tap, "up")
		return ""
	}
	h.ns = "iantwan-" + w.id + "-" + name
	w.hosts[name] = h
	run(w.t, "ip", "netns", "add", h.ns)
	run(w.t, "ip", "link", "set", h.tap, "netns", h.ns)
	run(w.t, "ip", "-n", h.ns, "addr", "add", h.ip+"/24", "dev", h.tap)
	run(w.t, "ip", "-n", h.ns, "link", "set", h.tap, "up")
	run(w.t, "ip", "-n", h.ns, "link", "set", "lo", "up")
	return h.ns
}

// IP returns host name's address.
func (w *WAN) IP(name string) string { return w.hosts[name].ip }

// NS returns host name's network namespace.
func (w *WAN) NS(name string) string { return w.hosts[name].ns }

// Cut cuts the links between host a and each of others; Heal restores
// them.
func (w *WAN) Cut(a string, others ...string) {
	for _, b := range others {
		w.sw.Cut(a, b)
	}
}

// Heal restores the links Cut cut.
func (w *WAN) Heal(a string, others ...string) {
	for _, b := range others {
		w.sw.Heal(a, b)
	}
}

// RTT returns the round trip the WAN gives hosts a and b.
func (w *WAN) RTT(a, b string) time.Duration { return rtt(w.hosts[a].site, w.hosts[b].site) }

// close removes the devices and the namespaces.
func (w *WAN) close() {
	w.sw.Close()
	for _, h := range w.hosts {
		if h.ns != "" {
			_ = exec.Command("ip", "netns", "del", h.ns).Run()
		}
	}
}

// run runs a command, failing the test if it fails.
func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
