package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/devpki"
)

func TestBadLeafConfigsNameTheProblem(t *testing.T) {
	const head = "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\n"
	tests := []struct{ name, yaml, want string }{
		{"leaf and urls", "backbone: {urls: [tls://x:1], leaf: {hub_urls: [tls://x:7422]}}\n", "give urls or leaf, not both"},
		{"leaf and embedded", "backbone: {embedded: {store_dir: s}, leaf: {hub_urls: [tls://x:7422]}}\n", "give embedded or leaf, not both"},
		{"leaf without hub urls", "backbone: {leaf: {store_dir: s}}\n", "backbone.leaf.hub_urls is required"},
		{"hub url without port", "backbone: {leaf: {hub_urls: [tls://x]}}\n", `backbone.leaf.hub_urls: "tls://x" is not a URL`},
		{"hub url of another scheme", "backbone: {leaf: {hub_urls: [\"http://x:7422\"]}}\n", `"http://x:7422" is not a URL`},
		{"hub url as a bare address", "backbone: {leaf: {hub_urls: [\"x:7422\"]}}\n", `"x:7422" is not a URL`},
		{"unknown leaf field", "backbone: {leaf: {urls: [tls://x:7422]}}\n", `unknown field "urls"`},
		{"leaf port out of range", "backbone: {embedded: {store_dir: s, leaf_port: 70000}}\n", "backbone.embedded.leaf_port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(head+tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestLeafStoreDirIsRelativeToTheConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	body := "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {leaf: {hub_urls: [tls://x:7422], store_dir: leaf}}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Backbone.leaf().StoreDir, filepath.Join(dir, "leaf"); got != want {
		t.Errorf("leaf store_dir = %q, want %q", got, want)
	}
}

// TestLeafDaemonPostsThroughTheBackbone runs the secretariat with the
// embedded backbone and a leaf node port, MX behind a leaf node and US
// directly, all from config files, and sends a bulletin from MX to US.
func TestLeafDaemonPostsThroughTheBackbone(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	svid := func(stem string) string {
		return fmt.Sprintf("svid: {cert: %s, key: %s, bundle: %s}\n",
			filepath.Join(pki.Dir, "svid", stem+".pem"), filepath.Join(pki.Dir, "svid", stem+".key"), pki.BundleFile)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(name, body string) *daemon {
		t.Helper()
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte("trust_domain: iant.test\ndata_dir: "+name+"\nlisten: 127.0.0.1:0\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := start(t.Context(), c, log)
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(func() { _ = d.close() })
		return d
	}
	sec := run("secretariat", svid("secretariat-node-node")+
		"backbone:\n  embedded:\n    port: -1\n    leaf_port: -1\n    store_dir: bb\n    nodes: [spiffe://iant.test/secretariat/node/node, spiffe://iant.test/state/MX/node/node, spiffe://iant.test/state/US/node/node]\n"+
		"provision_states: [MX, US]\n")
	const vkey = "audit: {verifier_key_file: secretariat/audit.vkey}\nmembership: {verifier_key_file: secretariat/membership.vkey}\n"
	us := run("us", svid("us-node-node")+"backbone: {urls: ["+sec.backbone.ClientURL()+"]}\n"+vkey)
	mx := run("mx", svid("mx-node-node")+"backbone: {leaf: {hub_urls: ["+sec.backbone.LeafURL()+"]}}\n"+vkey)
	if !mx.state.LeafLinked() {
		t.Fatal("MX's leaf node is not linked to the backbone after start")
	}
	if _, err := os.Stat(filepath.Join(dir, "mx", "leaf")); err != nil {
		t.Errorf("leaf store not in data_dir/leaf: %v", err)
	}

	dialAs := func(d *daemon, cc, stem string) iantv1.BulletinServiceClient {
		conn, _, err := client.Dial(t.Context(), client.Context{
			Node: d.state.Addr(), NodeID: "spiffe://iant.test/state/" + cc + "/node/node", TrustDomain: "iant.test",
			Cert: filepath.Join(pki.Dir, "svid", stem+".pem"), Key: filepath.Join(pki.Dir, "svid", stem+".key"), Bundle: pki.BundleFile,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return iantv1.NewBulletinServiceClient(conn)
	}
	resp, err := dialAs(mx, "MX", "mx-focal-point-focal").PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: &iantv1.Bulletin{
		Title: "leaf daemon test", Body: "body", Precedence: iantv1.Precedence_PRECEDENCE_ROUTINE, Category: iantv1.Category_CATEGORY_OTHER,
		Marking: iantv1.Marking_MARKING_GREEN, Language: iantv1.Language_LANGUAGE_ES, Releasability: &iantv1.Releasability{States: []string{"US"}},
	}})
	if err != nil {
		t.Fatalf("PostBulletin at MX = %v", err)
	}
	analyst := dialAs(us, "US", "us-analyst-analyst")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		_, err := analyst.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: resp.GetBulletin().GetBulletin().GetId()})
		if err == nil {
			break
		}
		if status.Code(err) != codes.NotFound {
			t.Fatalf("GetBulletin at US = %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
