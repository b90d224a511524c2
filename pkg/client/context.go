// Package client is how a person reaches their node: a context file naming
// the node and the person's SVID, and a dialer that opens an mTLS gRPC
// connection which accepts only that node's SPIFFE ID.
//
//	c, err := client.LoadContext("mx-focal-point-focal.yaml")
//	conn, err := client.Dial(ctx, c)
//	defer conn.Close()
//	bulletins := iantv1.NewBulletinServiceClient(conn)
package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/yamlfile"
)

// Context says which node a person talks to and with which identity.
// Relative paths are read relative to the context file's directory.
type Context struct {
	// Node is the node's gRPC address, host:port.
	Node string `yaml:"node"`
	// NodeID is the SPIFFE ID the node must present.
	NodeID string `yaml:"node_id"`
	// TrustDomain is the network's SPIFFE trust domain.
	TrustDomain string `yaml:"trust_domain"`
	// Cert, Key and Bundle are the person's SVID (PEM certificate, PKCS#8
	// key) and the trust bundle.
	Cert   string `yaml:"cert"`
	Key    string `yaml:"key"`
	Bundle string `yaml:"bundle"`
	// Language is the person's preferred language (es, en, pt or fr): iant
	// shows a bulletin's translation into it when there is one. Empty
	// shows each bulletin's original.
	Language string `yaml:"language,omitempty"`
	// TAXII is the discovery URL of the node's TAXII 2.1 server
	// (https://HOST:PORT/taxii2/), when it runs one: iant taxii-proxy
	// exposes it on loopback. Empty when the node runs none.
	TAXII string `yaml:"taxii,omitempty"`

	dir string
}

// contextHint helps whoever mistyped a context file's path: the files of
// its directory whose names hold what was typed, or how many it holds.
func contextHint(path string) string {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Sprintf(" (nor does its directory %s; iant demo writes context files into DIR/contexts)", dir)
	}
	stem := strings.ToLower(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	var all, near []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".yaml") {
			all = append(all, n)
			if stem != "" && strings.Contains(strings.ToLower(n), stem) {
				near = append(near, filepath.Join(dir, n))
			}
		}
	}
	switch {
	case len(near) > 0 && len(near) <= 4:
		return "; did you mean " + strings.Join(near, " or ") + "?"
	case len(all) == 0:
		return fmt.Sprintf(" (%s holds no context file)", dir)
	default:
		return fmt.Sprintf(" (%s holds %d context files, e.g. %s)", dir, len(all), filepath.Join(dir, all[0]))
	}
}

// LoadContext reads a context file (YAML).
func LoadContext(path string) (Context, error) {
	var c Context
	if err := yamlfile.Decode(path, &c); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Context{}, fmt.Errorf("client: context file %s does not exist%s", path, contextHint(path))
		}
		return Context{}, fmt.Errorf("client: context: %w", err)
	}
	c.dir = filepath.Dir(path)
	if err := c.Validate(); err != nil {
		return Context{}, fmt.Errorf("client: context %s: %w", path, err)
	}
	return c, nil
}

// Save writes the context file with mode 0600, atomically (a new file
// renamed over the old one), so a reader such as a reconnecting tail never
// sees half of it.
func (c Context) Save(path string) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("client: encode context: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("client: write context: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("client: write context: %w", err)
	}
	return nil
}

// Validate names the first missing or malformed field.
func (c Context) Validate() error {
	switch {
	case c.Node == "":
		return errors.New("node is required")
	case c.NodeID == "":
		return errors.New("node_id is required")
	case c.TrustDomain == "":
		return errors.New("trust_domain is required")
	case c.Cert == "" || c.Key == "" || c.Bundle == "":
		return errors.New("cert, key and bundle are required")
	case c.Language != "" && c.Language != "es" && c.Language != "en" && c.Language != "pt" && c.Language != "fr":
		return errors.New("language must be es, en, pt or fr")
	}
	if _, _, err := net.SplitHostPort(c.Node); err != nil {
		return fmt.Errorf("node %q: %w", c.Node, err)
	}
	if err := validTAXII(c.TAXII); err != nil {
		return err
	}
	td, err := spiffeid.TrustDomainFromString(c.TrustDomain)
	if err != nil {
		return fmt.Errorf("trust_domain: %w", err)
	}
	id, err := spiffeid.FromString(c.NodeID)
	if err != nil {
		return fmt.Errorf("node_id: %w", err)
	}
	if !id.MemberOf(td) {
		return fmt.Errorf("node_id %s is not in trust domain %s", id, td)
	}
	return nil
}

// CertFile returns the path of the person's certificate, resolved against
// the context file's directory.
func (c Context) CertFile() string { return c.path(c.Cert) }

// KeyFile returns the path of the person's private key, resolved against
// the context file's directory.
func (c Context) KeyFile() string { return c.path(c.Key) }

// BundleFile returns the path of the trust bundle, resolved against the
// context file's directory.
func (c Context) BundleFile() string { return c.path(c.Bundle) }

// validTAXII checks the optional TAXII discovery URL: https with a host.
func validTAXII(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("taxii %q: %w", s, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("taxii %q: want the node's TAXII discovery URL, https://HOST:PORT/taxii2/", s)
	}
	return nil
}

func (c Context) path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Dial opens an mTLS gRPC connection to the context's node, presenting the
// person's SVID and accepting only the node's SPIFFE ID. It also returns
// the person's own identity.
func Dial(ctx context.Context, c Context, opts ...grpc.DialOption) (*grpc.ClientConn, identity.Principal, error) {
	if err := c.Validate(); err != nil {
		return nil, identity.Principal{}, fmt.Errorf("client: context: %w", err)
	}
	td := spiffeid.RequireTrustDomainFromString(c.TrustDomain)
	src, err := identity.LoadFiles(td, c.path(c.Cert), c.path(c.Key), c.path(c.Bundle))
	if err != nil {
		return nil, identity.Principal{}, fmt.Errorf("client: %w", err)
	}
	svid, err := src.GetX509SVID()
	if err != nil {
		return nil, identity.Principal{}, fmt.Errorf("client: %w", err)
	}
	me, err := identity.Parse(td, svid.ID)
	if err != nil {
		return nil, identity.Principal{}, fmt.Errorf("client: own certificate: %w", err)
	}
	nodeID := spiffeid.RequireFromString(c.NodeID)
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(identity.ClientCredentials(src, src, nodeID))}, opts...)
	conn, err := grpc.NewClient("passthrough:///"+c.Node, opts...)
	if err != nil {
		return nil, identity.Principal{}, fmt.Errorf("client: dial %s: %w", c.Node, err)
	}
	return conn, me, nil
}
