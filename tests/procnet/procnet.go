// Package procnet runs IANT networks of real processes for the system
// tests (tests/disk, tests/wan), the way a deployment runs them: it builds
// the commands, makes a development PKI with `iant certs init`, writes
// each process's YAML config, starts iant-backbone and iantd (each
// possibly inside a network namespace), stops or kills them, and connects
// people to the nodes through context files.
//
//	bin := procnet.Build(dir)                     // in TestMain
//	n := procnet.New(t, bin, []string{"MX", "US"}, 1)
//	hub := procnet.Hub{Name: "hub-1", Host: "127.0.0.1", ClientPort: 4222}
//	n.Start("hub-1", "", "iant-backbone", n.HubConfig(hub, nil))
//	n.Start("mx", "", "iantd", n.NodeConfig(mx, all))
//	fp := n.Bulletins(t, "mx-focal-point-focal", mx)
//
// # Concurrency
//
// A Net is used by one test goroutine.
package procnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TrustDomain is the trust domain of every network here.
const TrustDomain = "iant.test"

// Build builds iant, iantd and iant-backbone from the module containing
// the working directory into dir and returns dir.
func Build(dir string) (string, error) {
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/oas-cicte/iant/cmd/iant",
		"github.com/oas-cicte/iant/cmd/iantd", "github.com/oas-cicte/iant/cmd/iant-backbone")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the commands: %v\n%s", err, out)
	}
	return dir, nil
}

// Net is one network of processes: its PKI, configs, data and logs in a
// directory of the test's.
type Net struct {
	t   testing.TB
	Dir string
	Bin string
	// PKI is the development PKI's directory.
	PKI   string
	procs map[string]*Proc
}

// New makes a PKI for states and hubs backbone servers in a new
// directory, and stops every process still running when the test ends
// (dumping their logs' tails if it failed).
func New(t testing.TB, bin string, states []string, hubs int) *Net {
	t.Helper()
	n := &Net{t: t, Dir: t.TempDir(), Bin: bin, procs: map[string]*Proc{}}
	n.PKI = filepath.Join(n.Dir, "pki")
	for _, d := range []string{"etc", "log", "ctx"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(bin, "iant"), "certs", "init", "--dir", n.PKI, "--trust-domain", TrustDomain,
		"--states", strings.Join(states, ","), "--hubs", fmt.Sprint(hubs)).CombinedOutput()
	if err != nil {
		t.Fatalf("iant certs init: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		for _, p := range n.procs {
			p.Stop()
		}
		if t.Failed() {
			n.DumpLogs()
		}
	})
	return n
}

// svid is the config line of the SVID of the PKI entry stem (e.g.
// "mx-node-node", "secretariat-node-hub-1").
func (n *Net) svid(stem string) string {
	return fmt.Sprintf("svid: {cert: %s, key: %s, bundle: %s}\n", filepath.Join(n.PKI, "svid", stem+".pem"),
		filepath.Join(n.PKI, "svid", stem+".key"), filepath.Join(n.PKI, "bundle.pem"))
}

// write writes a config file and returns its path.
func (n *Net) write(name, body string) string {
	n.t.Helper()
	path := filepath.Join(n.Dir, "etc", name+".yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		n.t.Fatal(err)
	}
	return path
}

// Proc is one running process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan error
}

// Start starts bin ("iantd" or "iant-backbone") with config, inside the
// network namespace netns unless it is "", logging to Dir/log/NAME.log.
func (n *Net) Start(name, netns, bin, config string) *Proc {
	n.t.Helper()
	if p := n.procs[name]; p != nil && !p.exited() {
		n.t.Fatalf("%s already runs", name)
	}
	args := []string{filepath.Join(n.Bin, bin), "-config", config}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	log, err := os.OpenFile(filepath.Join(n.Dir, "log", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...) //nolint:gosec // the test's own binaries
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	n.procs[name] = p
	return p
}

func (p *Proc) exited() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to 20 s for the process to exit, then
// kills it.
func (p *Proc) Stop() {
	p.signal(syscall.SIGTERM, 20*time.Second)
}

// Kill kills the process (a crash) and waits for it.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, 20*time.Second) }

func (p *Proc) signal(sig syscall.Signal, wait time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		p.done <- <-p.done
	}
}

// Proc returns the process started as name, or nil.
func (n *Net) Proc(name string) *Proc { return n.procs[name] }

// WaitTCP waits until addr accepts a connection from the test process,
// failing the test after d or if the process named proc exited.
func (n *Net) WaitTCP(proc, addr string, d time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p := n.procs[proc]; p != nil && p.exited() {
			n.t.Fatalf("%s exited; its log:\n%s", proc, n.logTail(proc, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("%s not listening on %s after %s; its log:\n%s", proc, addr, d, n.logTail(proc, 30))
}

// Log returns what process name logged so far.
func (n *Net) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "log", name+".log"))
	return string(b)
}

func (n *Net) logTail(name string, lines int) string {
	ls := strings.Split(strings.TrimSpace(n.Log(name)), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}

// DumpLogs writes the tail of every process's log into the test log.
func (n *Net) DumpLogs() {
	for name := range n.procs {
		n.t.Logf("--- %s (last 40 lines)\n%s", name, n.logTail(name, 40))
	}
}

// ctx is a context for one call of the test.
func ctx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// randomName is 8 random hex digits.
func randomName() string {
	return fmt.Sprintf("%08x", rand.Uint32())
}
