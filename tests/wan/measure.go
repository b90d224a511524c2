package wan

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// inNS runs f on an OS thread that has entered the network namespace ns
// (the test's own when ns is ""): sockets f opens live in ns. The thread
// is never given back to the runtime, so it dies with its namespace.
func inNS(ns string, f func() error) error {
	if ns == "" {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// connectRTT measures, n times, how long a TCP connection from host from
// to a listener at host to takes to open (one round trip, SYN to
// SYN-ACK), and returns the times sorted.
func (w *WAN) connectRTT(from, to string, n int) ([]time.Duration, error) {
	var lis net.Listener
	err := inNS(w.NS(to), func() error {
		var err error
		lis, err = net.Listen("tcp", w.IP(to)+":0")
		return err
	})
	if err != nil {
		return nil, err
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var out []time.Duration
	err = inNS(w.NS(from), func() error {
		for range n {
			start := time.Now()
			c, err := net.DialTimeout("tcp", lis.Addr().String(), 10*time.Second)
			if err != nil {
				return err
			}
			out = append(out, time.Since(start))
			c.Close()
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
