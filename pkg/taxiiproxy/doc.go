// Package taxiiproxy exposes a node's TAXII 2.1 server on this machine's
// loopback address for TAXII clients that cannot present a client
// certificate (many MISP and OpenCTI connectors only speak HTTP Basic
// auth).
//
// The proxy listens on a loopback address only and answers only when the
// Host header names that address (a DNS-rebinding page reaches it under
// its own name and is refused). A local client authenticates with HTTP
// Basic auth whose password is a random token minted at start (any user
// name); the proxy never forwards the client's Authorization, Cookie or
// Proxy-Authorization headers. Upstream it connects to the node's TAXII
// server over mTLS with the person's own SVID and accepts only the node's
// SPIFFE ID, so the node sees the person and its read decision applies
// unchanged: the proxy holds no more rights than the person.
//
// Responses stream through as they come (status codes and TAXII media
// types unchanged); only the discovery resource is rewritten, so that its
// API root URLs name the proxy instead of the node.
//
//	p, err := taxiiproxy.Start(ctx, taxiiproxy.Config{Upstream: "https://node:7443/taxii2/",
//		NodeID: nodeID, SVID: src, Bundle: src})
//	fmt.Println(p.DiscoveryURL(), "user iant, password", p.Token())
//	defer p.Close()
package taxiiproxy
