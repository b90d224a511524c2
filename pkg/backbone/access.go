package backbone

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/membership"
)

// access applies the secretariat's signed documents to a server: who is a
// user (the configured nodes, plus the nodes the membership table names,
// less those of states not active and the identities denied), and which
// certificates a TLS handshake refuses (the deny list). It also remembers
// which certificate each connection presented, so that a connection whose
// certificate becomes denied, or whose node stops being a user, can be
// cut: a configuration reload closes clients whose user is gone, but not
// leaf node connections, and it knows nothing of serial numbers.
type access struct {
	td  spiffeid.TrustDomain
	log *slog.Logger

	deny atomic.Pointer[membership.DenyList] // read by every handshake

	peersMu sync.Mutex
	peers   map[string]peer // by remote address, "ip:port"
}

// peer is the certificate a connection presented.
type peer struct {
	id     string
	serial *big.Int
	seen   time.Time
}

// peerTTL is how long a remembered peer whose connection is gone is kept
// (the handshake comes before the server lists the connection).
const peerTTL = time.Minute

func newAccess(td spiffeid.TrustDomain, log *slog.Logger) *access {
	a := &access{td: td, log: log, peers: map[string]peer{}}
	a.deny.Store(&membership.DenyList{})
	return a
}

// guard returns base (a server-side TLS config) refusing the certificates
// of the current deny list in the handshake, and remembering each peer's.
func (a *access) guard(base *tls.Config) *tls.Config {
	// No session resumption: a resumed handshake runs no
	// VerifyPeerCertificate, so a certificate denied (or expired) after
	// its first connection could come back on a ticket unchecked.
	out := base.Clone()
	out.SessionTicketsDisabled = true
	out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.SessionTicketsDisabled = true
		addr := ""
		if hello.Conn != nil {
			addr = hello.Conn.RemoteAddr().String()
		}
		verify := base.VerifyPeerCertificate
		c.VerifyPeerCertificate = func(raw [][]byte, chains [][]*x509.Certificate) error {
			if verify != nil {
				if err := verify(raw, chains); err != nil {
					return err
				}
			}
			if len(raw) == 0 {
				return fmt.Errorf("backbone: no client certificate")
			}
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("backbone: client certificate: %w", err)
			}
			if e, denied := a.deny.Load().DeniesCert(leaf); denied {
				a.log.Warn("connection refused: certificate denied", "peer", peerID(leaf), "serial", membership.SerialString(leaf.SerialNumber),
					"denied", e.Target(), "reason", e.Reason)
				return fmt.Errorf("backbone: certificate denied by the secretariat")
			}
			a.remember(addr, leaf)
			return nil
		}
		return c, nil
	}
	return out
}

func peerID(cert *x509.Certificate) string {
	if len(cert.URIs) == 1 {
		return cert.URIs[0].String()
	}
	return ""
}

func (a *access) remember(addr string, cert *x509.Certificate) {
	if addr == "" {
		return
	}
	a.peersMu.Lock()
	defer a.peersMu.Unlock()
	a.peers[addr] = peer{id: peerID(cert), serial: cert.SerialNumber, seen: time.Now()}
}

// users returns the IDs that are NATS users under table t (nil: none held
// yet) and deny list d: the configured nodes and the nodes t names for
// active states, less the state nodes of states t does not admit and the
// IDs d denies, sorted and each once.
func (c ServerConfig) users(t *membership.Table, d *membership.DenyList) []spiffeid.ID {
	ids := slices.Clone(c.Nodes)
	if t != nil {
		for _, m := range t.Members {
			if m.Status == membership.Active {
				ids = append(ids, m.NodeIDs(c.TrustDomain)...)
			}
		}
	}
	denied := d.DeniedIDs()
	ids = slices.DeleteFunc(ids, func(id spiffeid.ID) bool {
		if slices.Contains(denied, id.String()) {
			return true
		}
		p, err := identity.Parse(c.TrustDomain, id)
		return t != nil && err == nil && p.Role == identity.RoleNode && !t.Admits(p.State)
	})
	slices.SortFunc(ids, func(a, b spiffeid.ID) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(ids, func(a, b spiffeid.ID) bool { return a == b })
}

// sweep cuts every connection, client or leaf node, whose remembered
// certificate is denied or whose SPIFFE ID is not in allowed; it returns
// how many it cut. Connections whose certificate it does not know are
// left alone (the reload has judged their user).
func (a *access) sweep(ns *server.Server, allowed map[string]bool) int {
	deny := a.deny.Load()
	type conn struct {
		cid  uint64
		addr string
		kind string
	}
	var conns []conn
	// Connz lists leaf node connections beside clients.
	if cz, err := ns.Connz(&server.ConnzOptions{Limit: 1 << 20}); err == nil {
		for _, ci := range cz.Conns {
			conns = append(conns, conn{ci.Cid, net.JoinHostPort(ci.IP, strconv.Itoa(ci.Port)), strings.ToLower(ci.Kind)})
		}
	}
	a.peersMu.Lock()
	defer a.peersMu.Unlock()
	cut := 0
	live := map[string]bool{}
	for _, c := range conns {
		live[c.addr] = true
		p, ok := a.peers[c.addr]
		if !ok {
			continue
		}
		_, denied := deny.Denies(p.id, p.serial)
		if !denied && allowed[p.id] {
			continue
		}
		if err := ns.DisconnectClientByID(c.cid); err == nil {
			cut++
			a.log.Warn("connection cut", "kind", c.kind, "peer", p.id, "serial", membership.SerialString(p.serial), "denied", denied)
		}
	}
	for addr, p := range a.peers {
		if !live[addr] && time.Since(p.seen) > peerTTL {
			delete(a.peers, addr)
		}
	}
	return cut
}

// connected returns, by SPIFFE ID, the connection ids of the open client
// and leaf node connections whose certificate the server remembers.
func (a *access) connected(ns *server.Server) map[string][]uint64 {
	out := map[string][]uint64{}
	cz, err := ns.Connz(&server.ConnzOptions{Limit: 1 << 20})
	if err != nil {
		return out
	}
	a.peersMu.Lock()
	defer a.peersMu.Unlock()
	for _, ci := range cz.Conns {
		if p, ok := a.peers[net.JoinHostPort(ci.IP, strconv.Itoa(ci.Port))]; ok {
			out[p.id] = append(out[p.id], ci.Cid)
		}
	}
	return out
}
