package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/devpki"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

func TestDeployConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../deploy/iantd/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploy configs: %v", err)
	}
	cluster, err := filepath.Glob("../../deploy/nats/nodes/*.yaml")
	if err != nil || len(cluster) == 0 {
		t.Fatalf("no cluster node configs: %v", err)
	}
	files = append(files, cluster...)
	for _, f := range files {
		c, err := loadConfig(f)
		if err != nil {
			t.Errorf("loadConfig(%s) = %v", f, err)
			continue
		}
		// A state node requires the secretariat log's verifier key, and
		// every state config shows where its keys may live apart.
		if !strings.Contains(filepath.Base(f), "secretariat") {
			if c.Audit.VerifierKeyFile == "" {
				t.Errorf("%s: a state node's config without audit.verifier_key_file", f)
			}
			if text, err := os.ReadFile(f); err != nil || !strings.Contains(string(text), "keys_file:") {
				t.Errorf("%s: a state node's config that does not show keys_file (%v)", f, err)
			}
		}
		// And the secretariat's membership verifier key.
		if !strings.Contains(filepath.Base(f), "secretariat") && c.Membership.VerifierKeyFile == "" {
			t.Errorf("%s: a state node's config without membership.verifier_key_file", f)
		}
		// Every node lists the network's three nodes, the secretariat's
		// too: that is what `iant states` shows a person of that node.
		var ids []string
		for _, e := range c.Directory {
			ids = append(ids, e.ID)
		}
		want := []string{"spiffe://iant.test/secretariat/node/node", "spiffe://iant.test/state/MX/node/node", "spiffe://iant.test/state/US/node/node"}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("%s: directory (-want +got):\n%s", f, diff)
		}
	}
}

func TestBadConfigsNameTheProblem(t *testing.T) {
	const base = "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "trust_domain: t\nlisten_addr: x\n", `unknown field "listen_addr"`},
		{"no trust domain", "data_dir: d\n", "trust_domain is required"},
		{"no svid", "trust_domain: iant.test\ndata_dir: d\nbackbone: {urls: [tls://x:1]}\n", "svid: give cert, key and bundle"},
		{"both svid sources", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c, workload_api: unix:///x}\nbackbone: {urls: [tls://x:1]}\n", "not both"},
		{"no backbone", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\n", "backbone: give urls, or embedded"},
		{"bad trust domain", "trust_domain: Bad Domain\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\n", "trust_domain:"},
		{"not yaml", "{{{", "config"},
		{"directory address without port", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\ndirectory: [{id: spiffe://iant.test/state/MX/node/node, address: 127.0.0.1}]\n", `address "127.0.0.1"`},
		{"directory address on port 0", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\ndirectory: [{id: spiffe://iant.test/state/MX/node/node, address: \"127.0.0.1:0\"}]\n", "the port the node listens on"},
		{"negative replicas", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1], replicas: -1}\n", "backbone.replicas -1"},
		{"replicas on embedded", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {embedded: {store_dir: s}, replicas: 3}\n", "at most 1"},
		{"bad key rotation", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\nkey_rotation: often\n", `key_rotation "often"`},
		{"bad audit deadline", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\naudit: {deadlines: {flash: soon}}\n", `audit.deadlines.flash "soon"`},
		{"bad header wait", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\naudit: {header_wait: -1m}\n", `audit.header_wait "-1m"`},
		{"bad taxii listen", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\ntaxii: {listen: everywhere}\n", `taxii.listen "everywhere"`},
		{"negative park bound", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\nreceive: {park_max_copies: -1}\n", "receive.park_max_copies -1"},
		{"metrics beyond loopback", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\nmetrics: {listen: \"0.0.0.0:9464\"}\n", `metrics.listen "0.0.0.0:9464" is not a loopback address`},
		{"metrics listen without port", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\nmetrics: {listen: localhost}\n", `metrics.listen: "localhost": want host:port`},
		{"bad disk min_free", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\ndisk: {min_free: lots}\n", `disk.min_free "lots"`},
		{"bad health interval", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\nhealth: {interval: 1ms}\n", `health.interval "1ms"`},
		{"unknown audit precedence", "trust_domain: iant.test\ndata_dir: d\nsvid: {cert: a, key: b, bundle: c}\nbackbone: {urls: [tls://x:1]}\naudit: {deadlines: {urgent: 1m}}\n", `unknown precedence "urgent"`},
		{"relative keys file", base + "keys_file: keys/node.keys\n", `keys_file "keys/node.keys": want an absolute path`},
		{"bad sign key rotation", base + "sign_key_rotation: yearly\n", `sign_key_rotation "yearly": want a duration`},
		{"sign key rotation too short for the inbox", base + "sign_key_rotation: 24h\n", `sign_key_rotation "24h": want at least 291h`},
		{"sign key rotation too short for a longer inbox", base + "sign_key_rotation: 720h\nretention: {inbox: 8760h}\n", `sign_key_rotation "720h": want at least 1116h`},
		{"inbox retention within the de-duplication window", base + "retention: {inbox: 1h}\n", `retention.inbox "1h": want a duration of at least 24h`},
		{"negative outbox retention", base + "retention: {outbox: -720h}\n", `retention.outbox "-720h"`},
		{"expired retention not a duration", base + "retention: {expired: 30d}\n", `retention.expired "30d"`},
		{"events retention not a duration", base + "retention: {events: 90d}\n", `retention.events "90d"`},
		{"unknown retention key", base + "retention: {copies: 24h}\n", `unknown field "copies"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

// TestDaemonsFormANetwork runs three iantd daemons in-process (the
// secretariat with the embedded backbone, MX and US) from config files and
// sends a bulletin from MX to US.
func TestDaemonsFormANetwork(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX", "US"}})
	if err != nil {
		t.Fatal(err)
	}
	svid := func(stem string) string {
		return fmt.Sprintf("svid: {cert: %s, key: %s, bundle: %s}\n",
			filepath.Join(pki.Dir, "svid", stem+".pem"), filepath.Join(pki.Dir, "svid", stem+".key"), pki.BundleFile)
	}
	write := func(name, body string) config {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sec := write("secretariat", "trust_domain: iant.test\ndata_dir: sec\nlisten: 127.0.0.1:0\n"+svid("secretariat-node-node")+
		"backbone:\n  embedded:\n    port: -1\n    store_dir: bb\n    nodes: [spiffe://iant.test/secretariat/node/node, spiffe://iant.test/state/MX/node/node, spiffe://iant.test/state/US/node/node]\n"+
		"provision_states: [MX, US]\nmetrics: {listen: '127.0.0.1:0'}\n")
	secD, err := start(t.Context(), sec, log)
	if err != nil {
		t.Fatal(err)
	}
	defer secD.close()
	url := secD.backbone.ClientURL()
	// A state node without the secretariat log's verifier key does not start.
	noKey := write("nokey", "trust_domain: iant.test\ndata_dir: nokey\nlisten: 127.0.0.1:0\n"+svid("mx-node-node")+"backbone: {urls: ["+url+"]}\n")
	if d, err := start(t.Context(), noKey, log); err == nil || !strings.Contains(err.Error(), "audit.verifier_key_file is required") {
		if d != nil {
			d.close()
		}
		t.Errorf("start(state node without verifier key) = %v, want audit.verifier_key_file required", err)
	}
	// Each role refuses the other's key settings, naming them.
	for _, tt := range []struct{ name, body, want string }{
		{"state with the secretariat's retention", "data_dir: wrong-mx\n" + svid("mx-node-node") + "backbone: {urls: [" + url + "]}\n" +
			"audit: {verifier_key_file: sec/audit.vkey}\nretention: {events: 48h}\n", "retention: events, checkpoints and witness are the secretariat's"},
		{"secretariat with a key file", "data_dir: wrong-sec\n" + svid("secretariat-node-node") + "backbone: {urls: [" + url + "]}\n" +
			"keys_file: " + filepath.Join(dir, "keys", "sec.keys") + "\n", "the secretariat's node holds no sealing keys"},
		{"secretariat with an outbox retention", "data_dir: wrong-sec2\n" + svid("secretariat-node-node") + "backbone: {urls: [" + url + "]}\n" +
			"retention: {outbox: 48h}\n", "retention.outbox"},
		{"secretariat with an expired retention", "data_dir: wrong-sec3\n" + svid("secretariat-node-node") + "backbone: {urls: [" + url + "]}\n" +
			"retention: {expired: 48h}\n", "retention.expired: the secretariat's node holds no bulletins"},
	} {
		d, err := start(t.Context(), write(strings.ReplaceAll(tt.name, " ", "-"), "trust_domain: iant.test\nlisten: 127.0.0.1:0\n"+tt.body), log)
		if d != nil {
			d.close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("start(%s) = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	nodes := map[string]*daemon{}
	mxKeys := filepath.Join(dir, "keys", "mx", "node.keys")
	for _, cc := range []string{"mx", "us"} {
		keys := ""
		if cc == "mx" {
			keys = "keys_file: " + mxKeys + "\nsign_key_rotation: 2160h\nretention: {inbox: 2160h, outbox: 720h}\n"
		}
		c := write(cc, "trust_domain: iant.test\ndata_dir: "+cc+"\nlisten: 127.0.0.1:0\n"+svid(cc+"-node-node")+"backbone: {urls: ["+url+"]}\n"+
			"audit: {verifier_key_file: sec/audit.vkey}\nmembership: {verifier_key_file: sec/membership.vkey}\ntaxii: {listen: 127.0.0.1:0}\nmetrics: {listen: '127.0.0.1:0'}\n"+keys)
		d, err := start(t.Context(), c, log)
		if err != nil {
			t.Fatal(err)
		}
		defer d.close()
		if d.state.TAXIIAddr() == "" {
			t.Errorf("%s: taxii.listen given, but no TAXII server", cc)
		}
		nodes[cc] = d
	}
	dialAs := func(cc, stem string) iantv1.BulletinServiceClient {
		conn, _, err := client.Dial(t.Context(), client.Context{
			Node: nodes[cc].state.Addr(), NodeID: "spiffe://iant.test/state/" + strings.ToUpper(cc) + "/node/node", TrustDomain: "iant.test",
			Cert: filepath.Join(pki.Dir, "svid", stem+".pem"), Key: filepath.Join(pki.Dir, "svid", stem+".key"), Bundle: pki.BundleFile,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return iantv1.NewBulletinServiceClient(conn)
	}
	resp, err := dialAs("mx", "mx-focal-point-focal").PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: &iantv1.Bulletin{
		Title: "daemon test", Body: "body", Precedence: iantv1.Precedence_PRECEDENCE_ROUTINE, Category: iantv1.Category_CATEGORY_OTHER,
		Marking: iantv1.Marking_MARKING_GREEN, Language: iantv1.Language_LANGUAGE_ES, Releasability: &iantv1.Releasability{States: []string{"US"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	us := dialAs("us", "us-analyst-analyst")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		_, err := us.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: resp.GetBulletin().GetBulletin().GetId()})
		if err == nil {
			break
		}
		if status.Code(err) != codes.NotFound {
			t.Fatalf("GetBulletin at US = %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// MX's keys live in keys_file, not in its data_dir; SIGUSR2 (rotate
	// "sign") gives it a new signing key there, SIGUSR1 a new KEM key.
	if _, err := os.Stat(filepath.Join(dir, "mx", "node.keys")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("MX's data_dir holds a key file besides keys_file: %v", err)
	}
	keysNow := func() seal.PublicKeys {
		ks, err := keystore.Open(mxKeys, "MX", keystore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ks.Current().Public()
	}
	before := keysNow()
	nodes["mx"].rotate(t.Context(), "sign", log)
	afterSign := keysNow()
	if afterSign.SignKeyID == before.SignKeyID || afterSign.KEMKeyID != before.KEMKeyID {
		t.Errorf("rotate sign: keys %+v, then %+v; want only a new signing key", before, afterSign)
	}
	nodes["mx"].rotate(t.Context(), "kem", log)
	if afterKEM := keysNow(); afterKEM.KEMKeyID == afterSign.KEMKeyID || afterKEM.SignKeyID != afterSign.SignKeyID {
		t.Errorf("rotate kem: keys %+v, then %+v; want only a new KEM key", afterSign, afterKEM)
	}
	// Each daemon serves its node's metrics (and the embedded backbone's)
	// and its health.
	for d, want := range map[*daemon][]string{
		nodes["mx"]: {`iant_bulletins_posted_total{node="MX",precedence="routine"} 1`, `iant_health_check_ok{check="disk",node="MX"} 1`},
		nodes["us"]: {`iant_bulletins_received_total{node="US",precedence="routine"} 1`, "iant_delivery_latency_seconds_bucket"},
		secD:        {`iant_backbone_jetstream_enabled{server="embedded"} 1`, `iant_audit_log_entries{node="secretariat"}`, "go_goroutines"},
	} {
		body := httpGet(t, d.metrics.URL(), 200)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s", d.metrics.URL(), w)
			}
		}
		if got := httpGet(t, strings.TrimSuffix(d.metrics.URL(), "metrics")+"healthz", 200); got != "ok\n" {
			t.Errorf("/healthz = %q, want ok", got)
		}
	}
}

// httpGet gets url, expecting the status code want, and returns the body.
func httpGet(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec // the test's own daemon
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s = %d %s, want %d", url, resp.StatusCode, b, want)
	}
	return string(b)
}

func TestBrokenPolicyStopsStartAndKeepsOldOnReload(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"network.cedar", "network.cedarschema"} {
		data, err := os.ReadFile(filepath.Join("../../deploy/policies", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := loadPolicy(dir)
	if err != nil {
		t.Fatalf("loadPolicy(good) = %v", err)
	}
	before := eng.Set().Len()

	broken := filepath.Join(dir, "network.cedar")
	if err := os.WriteFile(broken, []byte("@id(\"x\")\npermit (principal, action, resource) when { principal.nosuch };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPolicy(dir); err == nil || !strings.Contains(err.Error(), "policy_dir") {
		t.Errorf("loadPolicy(broken) = %v, want an error naming policy_dir", err)
	}
	d := &daemon{policy: eng}
	d.reloadPolicy(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := d.policy.Set().Len(); got != before {
		t.Errorf("after a broken reload the set has %d policies, want the old %d", got, before)
	}
}

// TestSecondDaemonOnTheSameDataIsRefused: a second iantd on the same
// data_dir (or the same embedded backbone store) is refused, naming the
// first one's pid.
func TestSecondDaemonOnTheSameDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	pki, err := devpki.Init(t.Context(), devpki.Options{Dir: filepath.Join(dir, "pki"), TrustDomain: "iant.test", States: []string{"MX"}})
	if err != nil {
		t.Fatal(err)
	}
	stem := filepath.Join(pki.Dir, "svid", "secretariat-node-node")
	write := func(name, dataDir string) config {
		path := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf("trust_domain: iant.test\ndata_dir: %s\nlisten: 127.0.0.1:0\nsvid: {cert: %s.pem, key: %s.key, bundle: %s}\n"+
			"backbone:\n  embedded: {port: -1, store_dir: bb, nodes: [spiffe://iant.test/secretariat/node/node, spiffe://iant.test/state/MX/node/node]}\n"+
			"provision_states: [MX]\n", dataDir, stem, stem, pki.BundleFile)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := start(t.Context(), write("first", "sec"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	tests := []struct{ name, dataDir, want string }{
		{"same data_dir", "sec", "data_dir " + filepath.Join(dir, "sec")},
		{"same backbone store", "other", "backbone.embedded.store_dir " + filepath.Join(dir, "bb")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := start(t.Context(), write(tt.name, tt.dataDir), log)
			want := fmt.Sprintf("%s is in use by this process (pid %d)", tt.want, os.Getpid())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("second start = %v, want an error containing %q", err, want)
			}
		})
	}
}
