package wan

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// A Switch is an Ethernet switch in this process between TAP devices,
// one a host (a network namespace, or the test's own), that delays,
// jitters and drops frames per pair of hosts as a WAN would: what
// `tc qdisc ... netem delay D jitter J loss L` does on a link, which this
// kernel lacks (see doc.go). Each frame from host a to host b leaves after
// Delay(a, b) ± Jitter (in the order it came: a pair's frames are never
// reordered) unless it is lost (Loss, IPv4 frames only: ARP always
// passes) or the pair is cut (Cut).
type Switch struct {
	// Delay is the one-way delay from a host at site a to one at site b
	// (half their RTT).
	Delay func(a, b string) time.Duration
	// Jitter is the spread of the delay, as a fraction of it (0.1: ±10%).
	Jitter float64
	// Loss is the chance that a frame between two hosts is dropped, per
	// direction, where Lossy(site a, site b).
	Loss  float64
	Lossy func(a, b string) bool

	mu     sync.Mutex
	closed bool
	ports  []*port
	macs   map[[6]byte]*port
	cut    map[[2]string]bool
	pairs  map[[2]*port]*pairQueue

	frames, dropped, lost atomic.Int64
	wg                    sync.WaitGroup
}

// port is one host's TAP device.
type port struct {
	host, site, tap string
	f               *os.File
}

// pairQueue carries one direction of one pair of hosts, in order.
type pairQueue struct {
	ch   chan frame
	last time.Time // when the previous frame is due
}

type frame struct {
	data []byte
	due  time.Time
}

// Stats returns the frames switched, dropped because their pair was cut,
// and lost to the loss rate.
func (s *Switch) Stats() (frames, cut, lost int64) {
	return s.frames.Load(), s.dropped.Load(), s.lost.Load()
}

// Cut cuts the link between hosts a and b (both ways) until Heal.
func (s *Switch) Cut(a, b string) { s.setCut(a, b, true) }

// Heal restores the link between a and b.
func (s *Switch) Heal(a, b string) { s.setCut(a, b, false) }

func (s *Switch) setCut(a, b string, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut == nil {
		s.cut = map[[2]string]bool{}
	}
	s.cut[[2]string{a, b}], s.cut[[2]string{b, a}] = cut, cut
}

// attach makes a TAP device named tap for host and switches its frames
// until Close. The device is in this process's network namespace; the
// caller moves it where the host lives.
func (s *Switch) attach(host, site, tap string) error {
	f, err := openTAP(tap)
	if err != nil {
		return err
	}
	p := &port{host: host, site: site, tap: tap, f: f}
	s.mu.Lock()
	s.ports = append(s.ports, p)
	s.mu.Unlock()
	s.wg.Go(func() { s.read(p) })
	return nil
}

// read switches the frames host p sends until its device is closed.
func (s *Switch) read(p *port) {
	buf := make([]byte, 65536)
	for {
		n, err := p.f.Read(buf)
		if err != nil {
			return
		}
		if n < 14 {
			continue
		}
		s.forward(p, append([]byte(nil), buf[:n]...))
	}
}

// forward sends a frame from p to the port of its destination address, or
// to every other port when it is a broadcast or not yet learned.
func (s *Switch) forward(from *port, data []byte) {
	var dst, src [6]byte
	copy(dst[:], data[0:6])
	copy(src[:], data[6:12])
	ipv4 := data[12] == 0x08 && data[13] == 0x00
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.macs == nil {
		s.macs = map[[6]byte]*port{}
	}
	s.macs[src] = from
	var to []*port
	if p, ok := s.macs[dst]; ok && dst[0]&1 == 0 {
		to = []*port{p}
	} else {
		for _, p := range s.ports {
			if p != from {
				to = append(to, p)
			}
		}
	}
	now := time.Now()
	for _, p := range to {
		s.frames.Add(1)
		switch {
		case s.cut[[2]string{from.host, p.host}]:
			s.dropped.Add(1)
			continue
		case ipv4 && s.Loss > 0 && s.Lossy(from.site, p.site) && rand.Float64() < s.Loss:
			s.lost.Add(1)
			continue
		}
		q := s.queue(from, p)
		d := s.Delay(from.site, p.site)
		d += time.Duration((rand.Float64()*2 - 1) * s.Jitter * float64(d))
		due := now.Add(d)
		if due.Before(q.last) {
			due = q.last
		}
		q.last = due
		select {
		case q.ch <- frame{data: data, due: due}:
		default: // a full queue drops, as a router's would
			s.dropped.Add(1)
		}
	}
}

// queue returns the queue of the pair (from, to), starting its sender the
// first time; s.mu is held.
func (s *Switch) queue(from, to *port) *pairQueue {
	if s.pairs == nil {
		s.pairs = map[[2]*port]*pairQueue{}
	}
	k := [2]*port{from, to}
	q, ok := s.pairs[k]
	if !ok {
		q = &pairQueue{ch: make(chan frame, 4096)}
		s.pairs[k] = q
		s.wg.Go(func() {
			for f := range q.ch {
				if d := time.Until(f.due); d > 0 {
					time.Sleep(d)
				}
				if _, err := to.f.Write(f.data); err != nil && errors.Is(err, os.ErrClosed) {
					return
				}
			}
		})
	}
	return q
}

// Close closes every device (which removes it, in whatever namespace it
// is) and waits for the switch's goroutines.
func (s *Switch) Close() {
	s.mu.Lock()
	s.closed = true
	for _, p := range s.ports {
		p.f.Close()
	}
	for _, q := range s.pairs {
		close(q.ch)
	}
	s.pairs = nil
	s.mu.Unlock()
	s.wg.Wait()
}

// openTAP creates the TAP device name (no packet information header) and
// returns it open, non-blocking through the runtime's poller.
func openTAP(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var req struct {
		name  [16]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:15], name)
	req.flags = 0x0002 | 0x1000 // IFF_TAP | IFF_NO_PI
	const tunSetIff = 0x400454ca
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&req))); errno != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("create TAP device %s: %w", name, errno)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "tap "+name), nil
}
