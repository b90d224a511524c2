package spire_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// The SPIRE side of the test: the trust domain, the host name whose agent
// the entries are parented to, and the lifetime of every SVID, short so
// that the agent rotates them all while bulletins flow (it rotates at half
// the lifetime, counting SPIRE's 10 s backdating: about every 20 s).
const (
	trustDomain = "iant.test"
	spireHost   = "test-box"
	svidTTL     = 30 * time.Second
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// spire is a running SPIRE server and agent, run from deploy/spire's
// configuration with its paths moved under root.
type spire struct {
	bin        string // dir holding spire-server and spire-agent
	root       string
	serverSock string
	agentSock  string
	port       int
}

// spireBinDir returns IANT_SPIRE_DIR, checked. Without it the test is
// skipped, or fails under CI=true, where the SPIRE test must run. The test
// also needs root, to run each node under its own uid.
func spireBinDir(t *testing.T) string {
	t.Helper()
	refuse := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := os.Getenv("IANT_SPIRE_DIR")
	if dir == "" {
		refuse("IANT_SPIRE_DIR is not set: run `export IANT_SPIRE_DIR=$(scripts/install-spire.sh)` " +
			"(builds spire-server and spire-agent v1.13.3 once, into a cache)")
	}
	if os.Geteuid() != 0 {
		refuse("the SPIRE test runs each iantd under its own uid and so must run as root")
	}
	for _, b := range []string{"spire-server", "spire-agent"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("IANT_SPIRE_DIR=%s: %v (run scripts/install-spire.sh)", dir, err)
		}
	}
	return dir
}

// traversableTempDir returns t.TempDir() opened (0755, with its parent) so
// that processes under other uids can reach what the test puts there.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// localConf writes deploy/spire/<name> to root/etc/spire/<name> with its
// path prefixes moved under root, and returns the new file's path.
func localConf(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "spire", name))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(data)
	for _, prefix := range []string{"/var/lib/spire", "/run/spire", "/etc/spire"} {
		conf = strings.ReplaceAll(conf, `"`+prefix+"/", `"`+filepath.Join(root, prefix)+"/")
	}
	out := filepath.Join(root, "etc", "spire", name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// startSPIRE starts the server, registers entries (each: register.sh's
// arguments) and starts an agent attested with a join token, and returns
// once both answer their health checks.
func startSPIRE(ctx context.Context, t *testing.T, bin, root string, entries [][]string) *spire {
	t.Helper()
	s := &spire{
		bin: bin, root: root, port: freePort(t),
		serverSock: filepath.Join(root, "run/spire/server/api.sock"),
		agentSock:  filepath.Join(root, "run/spire/agent/api.sock"),
	}
	// /run/spire made 0755 first, as docs/deployment.md says: the server would
	// create it 0750 (umask 0027) and lock other uids out of the agent's
	// socket below it.
	for _, d := range []string{"log", "run/spire"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	startProc(t, "spire-server", filepath.Join(root, "log", "spire-server.log"), nil, os.Environ(),
		filepath.Join(bin, "spire-server"), "run", "-config", localConf(t, root, "server.conf"),
		"-serverPort", strconv.Itoa(s.port))
	waitFor(ctx, t, "spire-server healthy", func() error {
		_, err := s.run(ctx, "spire-server", "healthcheck", "-socketPath", s.serverSock)
		return err
	})
	for _, e := range entries {
		out, err := s.register(ctx, e...)
		if err != nil {
			t.Fatalf("register.sh %s: %v", strings.Join(e, " "), err)
		}
		t.Log(strings.TrimSpace(out))
	}
	s.startAgent(ctx, t)
	return s
}

// startAgent bootstraps the agent with the server's bundle and a join
// token (in a file, as it should be: a token on a command line shows in ps).
func (s *spire) startAgent(ctx context.Context, t *testing.T) {
	t.Helper()
	bundle, err := s.run(ctx, "spire-server", "bundle", "show", "-socketPath", s.serverSock)
	if err != nil {
		t.Fatalf("bundle show: %v", err)
	}
	conf := localConf(t, s.root, "agent.conf")
	if err := os.MkdirAll(filepath.Join(s.root, "etc/spire/agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.root, "etc/spire/agent/bootstrap.pem"), []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	token, err := s.register(ctx, "token", spireHost)
	if err != nil {
		t.Fatalf("register.sh token: %v", err)
	}
	tokenFile := filepath.Join(s.root, "etc/spire/agent/join-token")
	if err := os.WriteFile(tokenFile, []byte(strings.TrimSpace(token)), 0o600); err != nil {
		t.Fatal(err)
	}
	startProc(t, "spire-agent", filepath.Join(s.root, "log", "spire-agent.log"), nil, os.Environ(),
		filepath.Join(s.bin, "spire-agent"), "run", "-config", conf,
		"-serverPort", strconv.Itoa(s.port), "-joinTokenFile", tokenFile)
	waitFor(ctx, t, "spire-agent healthy", func() error {
		_, err := s.run(ctx, "spire-agent", "healthcheck", "-socketPath", s.agentSock)
		return err
	})
}

// run runs a SPIRE command and returns its stdout.
func (s *spire) run(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, bin), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// register runs deploy/spire/register.sh against the server.
func (s *spire) register(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "deploy", "spire", "register.sh"), args...)
	cmd.Env = append(os.Environ(),
		"SPIRE_SERVER="+filepath.Join(s.bin, "spire-server"),
		"SPIRE_SERVER_SOCKET="+s.serverSock,
		"IANT_TRUST_DOMAIN="+trustDomain,
		"SPIRE_HOST="+spireHost,
		"SPIRE_X509_SVID_TTL="+strconv.Itoa(int(svidTTL.Seconds())),
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// workloadAddr is the agent's Workload API address for go-spiffe and iantd.
func (s *spire) workloadAddr() string { return "unix://" + s.agentSock }

// waitSVIDs waits until the Workload API hands this process (uid 0) an
// SVID for each of ids: the agent's first sync brings them.
func (s *spire) waitSVIDs(ctx context.Context, t *testing.T, ids ...spiffeid.ID) {
	t.Helper()
	waitFor(ctx, t, "SVIDs for the test's own uid", func() error {
		svids, err := workloadapi.FetchX509SVIDs(ctx, workloadapi.WithAddr(s.workloadAddr()))
		if err != nil {
			return err
		}
		for _, id := range ids {
			if pick(id)(svids) == nil {
				return fmt.Errorf("no SVID for %s yet", id)
			}
		}
		return nil
	})
}

// personSource is an X.509 source for the person id, picked among the
// SVIDs the Workload API gives the test process; closed on cleanup.
func (s *spire) personSource(ctx context.Context, t *testing.T, id spiffeid.ID) *workloadapi.X509Source {
	t.Helper()
	src, err := workloadapi.NewX509Source(ctx,
		workloadapi.WithClientOptions(workloadapi.WithAddr(s.workloadAddr())),
		workloadapi.WithDefaultX509SVIDPicker(pick(id)))
	if err != nil {
		t.Fatalf("X509 source for %s: %v", id, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// pick returns an SVID picker choosing id, or nil when it is not there.
func pick(id spiffeid.ID) func([]*x509svid.SVID) *x509svid.SVID {
	return func(svids []*x509svid.SVID) *x509svid.SVID {
		for _, s := range svids {
			if s.ID == id {
				return s
			}
		}
		return nil
	}
}
