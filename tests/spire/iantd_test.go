package spire_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"

	"github.com/oas-cicte/iant/pkg/identity"
)

// iantNode is a running iantd process.
type iantNode struct {
	name string
	id   spiffeid.ID
	uid  uint32
	proc *proc
	addr string // gRPC listen address
}

// buildIantd builds cmd/iantd into dir (without -race: it is the system
// under test, not the test) and returns the binary's path.
func buildIantd(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "iantd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/iantd")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/iantd: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startIantd runs iantd as uid with the YAML config body (to which it adds
// trust domain, listen address, data dir, SVID source and JSON logging),
// in its own dir under root owned by uid, and waits until it serves.
func startIantd(ctx context.Context, t *testing.T, bin, root string, s *spire, name string, id spiffeid.ID, uid uint32, body string) *iantNode {
	t.Helper()
	dir := filepath.Join(root, "nodes", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, int(uid), int(uid)); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("trust_domain: %s\nlisten: 127.0.0.1:0\ndata_dir: %s\nsvid: {workload_api: %q}\nlog: {level: info, format: json}\n%s",
		trustDomain, filepath.Join(dir, "data"), s.workloadAddr(), body)
	confPath := filepath.Join(dir, "iantd.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "iantd "+name, filepath.Join(root, "log", "iantd-"+name+".log"),
		credential(uid), []string{"HOME=" + dir}, bin, "-config", confPath)
	rec := waitLog(ctx, t, p, "node serving")
	n := &iantNode{name: name, id: id, uid: uid, proc: p, addr: rec.str("addr")}
	if n.addr == "" {
		t.Fatalf("iantd %s: no addr in %v", name, rec)
	}
	return n
}

// backboneURL returns the URL of the embedded backbone n runs.
func (n *iantNode) backboneURL(ctx context.Context, t *testing.T) string {
	t.Helper()
	url := waitLog(ctx, t, n.proc, "backbone server ready").str("url")
	if url == "" {
		t.Fatalf("iantd %s: backbone ready without a url", n.name)
	}
	return url
}

// dial opens a gRPC connection to n as the person whose SVID src holds,
// accepting only n's SPIFFE ID; closed on cleanup.
func (n *iantNode) dial(t *testing.T, src *workloadapi.X509Source) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+n.addr,
		grpc.WithTransportCredentials(identity.ClientCredentials(src, src, n.id)))
	if err != nil {
		t.Fatalf("dial %s: %v", n.name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// leaf makes a fresh TLS handshake with n (as the person of src) and
// returns the SVID certificate n presents, after checking that it carries
// n's SPIFFE ID and chains to the trust bundle.
func (n *iantNode) leaf(ctx context.Context, src *workloadapi.X509Source) (*x509.Certificate, error) {
	conf := tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeID(n.id))
	conf.NextProtos = []string{"h2"} // gRPC servers insist on ALPN
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := (&tls.Dialer{Config: conf}).DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", n.name, err)
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// trouble returns the log lines of n at WARN or ERROR (a broken backbone
// connection, a refused directory entry, a failed seal...) and any line
// that is not JSON (a panic).
func (n *iantNode) trouble(t *testing.T) []string {
	t.Helper()
	recs, err := readLog(n.proc.log)
	if err != nil {
		t.Fatalf("iantd %s: read log: %v", n.name, err)
	}
	var out []string
	for _, r := range recs {
		lvl, msg := r.str("level"), r.str("msg")
		if lvl == "WARN" || lvl == "ERROR" || lvl == "" || msg == "backbone reconnected" {
			out = append(out, fmt.Sprintf("%s %q err=%q", lvl, msg, r.str("err")))
		}
	}
	return out
}
