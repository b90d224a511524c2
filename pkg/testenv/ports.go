package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// quietPort returns a free loopback port below the kernel's ephemeral
// range. A server that a test stops and starts again on the same port
// (an outage) needs one: a port from the ephemeral range, free while the
// server is down, can meanwhile become the local end of any outgoing
// connection on the machine, and the restart then fails with "address
// already in use".
func quietPort() (int, error) {
	low := ephemeralLow()
	from := max(10000, low-12000)
	for range 64 {
		p := from + rand.IntN(low-from)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("testenv: free port %d: %w", p, err)
		}
		return p, nil
	}
	return 0, fmt.Errorf("testenv: no free port in %d-%d", from, low-1)
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
