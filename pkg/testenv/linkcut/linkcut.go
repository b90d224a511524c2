// Package linkcut is a TCP proxy on loopback that a test can cut and
// restore: it stands for the network between a state's leaf node and the
// backbone, outside the system under test.
//
//	p, err := linkcut.New(hub.LeafURL())   // "tls://127.0.0.1:7422" or "127.0.0.1:7422"
//	defer p.Close()
//	leaf.HubURLs = []string{p.URL()}
//	p.Cut()      // open connections are closed, new ones refused
//	p.Restore()  // connections go through again
//
// # Concurrency
//
// A Proxy's methods are safe for concurrent use.
package linkcut

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
)

// Proxy forwards TCP connections from its own loopback port to a target
// address until it is cut.
type Proxy struct {
	target string
	scheme string
	lis    net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	cut    bool
	closed bool
	conns  map[net.Conn]struct{}
}

// New starts a proxy to target, a "host:port" or a URL such as
// "tls://127.0.0.1:7422", listening on a free loopback port.
func New(target string) (*Proxy, error) {
	scheme := ""
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("linkcut: target %q is not host:port or a URL", target)
		}
		scheme, target = u.Scheme, u.Host
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("linkcut: listen: %w", err)
	}
	p := &Proxy{target: target, scheme: scheme, lis: lis, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr returns the proxy's "host:port".
func (p *Proxy) Addr() string { return p.lis.Addr().String() }

// URL returns the proxy's address with the target's scheme, e.g.
// "tls://127.0.0.1:40123".
func (p *Proxy) URL() string {
	if p.scheme == "" {
		return p.Addr()
	}
	return p.scheme + "://" + p.Addr()
}

// Cut closes every open connection and refuses new ones (they are
// accepted and closed at once) until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore lets new connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Close stops the proxy, closes every connection and waits for its
// goroutines. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.lis.Close()
	p.Cut()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve pipes one connection to the target and back until either side
// closes or the proxy is cut.
func (p *Proxy) serve(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	defer p.untrack(c)
	t, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(t) {
		_ = t.Close()
		return
	}
	defer p.untrack(t)
	var pipes sync.WaitGroup
	// Either side ending (or Cut closing both) ends both directions.
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	pipes.Go(func() { pipe(t, c) })
	pipes.Go(func() { pipe(c, t) })
	pipes.Wait()
}

// track registers an open connection; it reports false if the proxy is
// cut or closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = c.Close()
	delete(p.conns, c)
}
