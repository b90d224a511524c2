package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// handedOut holds the ports quietPort gave in this process, so that two
// networks of one test binary never get the same one.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// quietPort returns a free loopback port below the kernel's ephemeral
// range. A server that a test stops and starts again on the same port
// (an outage) needs one: a port from the ephemeral range, free while the
// server is down, can meanwhile become the local end of any outgoing
// connection on the machine, and the restart then fails with "address
// already in use". Another process can still take the port before the
// server binds it: starts retry on addrInUse.
func quietPort() (int, error) {
	low := ephemeralLow()
	from := max(10000, low-12000)
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 64 {
		p := from + rand.IntN(low-from)
		if handedOut.ports[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("testenv: free port %d: %w", p, err)
		}
		handedOut.ports[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("testenv: no free port in %d-%d", from, low-1)
}

// addrInUse reports whether err is a listener's "address already in use"
// (nats-server reports it as text only).
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// ephemeralLow is the first port of the kernel's ephemeral range, 32768
// where the kernel does not say.
func ephemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return fallback
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= 11000 {
		return fallback
	}
	return low
}

// hasAddr reports whether the node of state cc listened before: its
// address is then kept.
func (nw *Network) hasAddr(cc string) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	_, ok := nw.addrs[cc]
	return ok
}

// repickBackbonePorts gives the embedded backbone new free ports, after
// another process took one of them before the first start bound it.
func (nw *Network) repickBackbonePorts() error {
	p, err := quietPort()
	if err != nil {
		return err
	}
	nw.bbCfg.Port = p
	if l := nw.bbCfg.LeafNodes; l != nil {
		lp, err := quietPort()
		if err != nil {
			return err
		}
		pinned := *l
		pinned.Port = lp
		nw.bbCfg.LeafNodes = &pinned
	}
	return nil
}
