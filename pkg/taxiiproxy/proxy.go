package taxiiproxy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/oas-cicte/iant/pkg/identity"
)

// Config configures a proxy.
type Config struct {
	// Upstream is the node's TAXII server: its discovery URL
	// (https://HOST:PORT/taxii2/) or its origin (https://HOST:PORT).
	Upstream string
	// NodeID is the SPIFFE ID the node must present.
	NodeID spiffeid.ID
	// SVID is the person's SVID, presented to the node; Bundle verifies
	// the node's certificate.
	SVID   x509svid.Source
	Bundle x509bundle.Source
	// Listen is the loopback address to listen on; empty means
	// 127.0.0.1:0 (a free port). Any other host than a loopback IP or
	// "localhost" is refused with ErrNotLoopback.
	Listen string
	// Logger receives the proxy's logs (never the token); nil discards
	// them.
	Logger *slog.Logger
}

// Proxy is a running TAXII proxy.
type Proxy struct {
	ln       net.Listener
	http     *http.Server
	tr       *http.Transport
	upstream *url.URL
	token    string
	log      *slog.Logger
	wg       sync.WaitGroup
	once     sync.Once
	err      error
}

// Start checks cfg, mints the token, listens on cfg.Listen and serves in
// the background until Close.
func Start(ctx context.Context, cfg Config) (*Proxy, error) {
	up, err := cfg.check()
	if err != nil {
		return nil, err
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("taxiiproxy: listen %s: %w", cfg.Listen, err)
	}
	p := &Proxy{ln: ln, upstream: up, token: token, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p.tr = &http.Transport{
		TLSClientConfig:     identity.ClientTLSConfig(cfg.SVID, cfg.Bundle, cfg.NodeID),
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	p.http = &http.Server{Handler: p.handler(), ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	p.wg.Go(func() {
		if err := p.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("taxiiproxy: serve", "err", err)
		}
	})
	p.log.Info("taxii proxy listening", "addr", p.Addr(), "upstream", up.String())
	return p, nil
}

// check validates cfg, fills its defaults and returns the upstream
// origin.
func (cfg *Config) check() (*url.URL, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if err := checkLoopback(cfg.Listen); err != nil {
		return nil, err
	}
	switch {
	case cfg.NodeID.IsZero():
		return nil, fmt.Errorf("%w: NodeID is required", ErrConfig)
	case cfg.SVID == nil || cfg.Bundle == nil:
		return nil, fmt.Errorf("%w: SVID and Bundle are required", ErrConfig)
	}
	return parseUpstream(cfg.Upstream)
}

// parseUpstream reads the node's TAXII URL: https, a host, and no path
// but the discovery path.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: Upstream %q: %w", ErrConfig, s, err)
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("%w: Upstream %q: the node's TAXII server speaks https only", ErrConfig, s)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%w: Upstream %q: no host", ErrConfig, s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%w: Upstream %q: want https://HOST:PORT/taxii2/, no user, query or fragment", ErrConfig, s)
	case u.Path != "" && u.Path != "/" && u.Path != discoveryPath:
		return nil, fmt.Errorf("%w: Upstream %q: path must be %s (the discovery URL) or empty", ErrConfig, s, discoveryPath)
	}
	return &url.URL{Scheme: "https", Host: u.Host}, nil
}

// checkLoopback refuses a listen address whose host is not loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: Listen %q: %w", ErrConfig, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	return nil
}

// newToken returns 32 random bytes, base64url: the Basic auth password.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("taxiiproxy: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Addr is the address the proxy listens on, e.g. 127.0.0.1:43121.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// BaseURL is the proxy's origin, e.g. http://127.0.0.1:43121.
func (p *Proxy) BaseURL() string { return "http://" + p.Addr() }

// DiscoveryURL is the TAXII discovery URL to give a TAXII client.
func (p *Proxy) DiscoveryURL() string { return p.BaseURL() + discoveryPath }

// Token is the Basic auth password local clients must present (with any
// user name). Print it once; never log it.
func (p *Proxy) Token() string { return p.token }

// Close stops the proxy: it closes the listener, lets requests in flight
// finish for a few seconds, then cuts them off. It is idempotent.
func (p *Proxy) Close() error {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.err = p.http.Shutdown(ctx)
		if p.err != nil {
			p.err = errors.Join(p.err, p.http.Close())
		}
		p.wg.Wait()
		p.tr.CloseIdleConnections()
	})
	return p.err
}
