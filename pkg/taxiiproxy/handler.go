package taxiiproxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
)

const (
	// mediaTAXII is the TAXII 2.1 media type of the proxy's own errors.
	mediaTAXII = "application/taxii+json;version=2.1"
	// discoveryPath is where a TAXII 2.1 server serves discovery.
	discoveryPath = "/taxii2/"
	// maxDiscovery bounds the discovery resource the proxy rewrites.
	maxDiscovery = 1 << 20
)

// handler checks the Host header and the token, then proxies.
func (p *Proxy) handler() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      p.tr,
		FlushInterval:  -1, // stream: flush every write through to the client
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.hostAllowed(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "the proxy answers only at its loopback address "+p.Addr())
			return
		}
		if !p.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="IANT TAXII proxy", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, "present HTTP Basic auth: any user name, the token the proxy printed at start as password")
			return
		}
		rp.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether the Host header names the address the
// proxy listens on: its IP or, for a loopback IP, localhost, with its
// port. A DNS-rebinding page reaches the proxy under its own name and is
// refused here.
func (p *Proxy) hostAllowed(host string) bool {
	lh, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		return false
	}
	h, hp, err := net.SplitHostPort(host)
	if err != nil || hp != port {
		return false
	}
	return h == lh || h == "localhost" && net.ParseIP(lh).IsLoopback()
}

// authorized checks the Basic auth password against the token in
// constant time; the user name is free.
func (p *Proxy) authorized(r *http.Request) bool {
	_, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(pass), []byte(p.token)) == 1
}

// rewrite sends the request to the node under the node's own host name,
// without the local client's credentials or cookies: the node
// authenticates the person by the SVID on the connection alone.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.upstream)
	for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		pr.Out.Header.Del(h)
	}
	if pr.Out.URL.Path == discoveryPath {
		// The proxy rewrites discovery: let the transport negotiate (and
		// undo) any compression rather than the client.
		pr.Out.Header.Del("Accept-Encoding")
	}
}

// modifyResponse rewrites the discovery resource, whose API root URLs
// name the node, to name the proxy.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if resp.Request.URL.Path != discoveryPath || resp.StatusCode != http.StatusOK {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscovery+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("taxiiproxy: read discovery: %w", err)
	}
	if len(data) > maxDiscovery {
		return fmt.Errorf("taxiiproxy: discovery: more than %d bytes", maxDiscovery)
	}
	out, err := rewriteDiscovery(data, p.upstream.String(), p.BaseURL())
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// rewriteDiscovery replaces the origin from by to in the "default" and
// "api_roots" members of a discovery resource (in any case of their
// names, since some decoders match names case-insensitively); other
// members and URLs on other origins are kept as they are.
func rewriteDiscovery(data []byte, from, to string) ([]byte, error) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("taxiiproxy: discovery: %w", err)
	}
	move := func(u string) string {
		if rest, ok := strings.CutPrefix(u, from); ok && (rest == "" || rest[0] == '/') {
			return to + rest
		}
		return u
	}
	for k, raw := range d { // in any case: encoding/json matches names case-insensitively
		switch {
		case strings.EqualFold(k, "default"):
			var u string
			if err := json.Unmarshal(raw, &u); err != nil {
				return nil, fmt.Errorf("taxiiproxy: discovery: %s: %w", k, err)
			}
			d[k], _ = json.Marshal(move(u))
		case strings.EqualFold(k, "api_roots"):
			var roots []string
			if err := json.Unmarshal(raw, &roots); err != nil {
				return nil, fmt.Errorf("taxiiproxy: discovery: %s: %w", k, err)
			}
			for i := range roots {
				roots[i] = move(roots[i])
			}
			d[k], _ = json.Marshal(roots)
		}
	}
	return json.Marshal(d)
}

// upstreamError answers 502 when the node cannot be reached or its
// answer cannot be passed on; the cause goes to the log only.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client left
	}
	p.log.Warn("taxiiproxy: upstream", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusBadGateway, "the node's TAXII server did not answer as expected; the proxy's log says why")
}

// writeError writes a TAXII 2.1 error message (§3.6.1).
func writeError(w http.ResponseWriter, code int, description string) {
	w.Header().Set("Content-Type", mediaTAXII)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"title": http.StatusText(code), "description": description, "http_status": strconv.Itoa(code)})
}
