package statenode_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

const (
	serving    = healthpb.HealthCheckResponse_SERVING
	notServing = healthpb.HealthCheckResponse_NOT_SERVING
)

// shiftClock is a clock running ahead of the real one by a settable
// offset.
type shiftClock struct{ offset atomic.Int64 }

func (c *shiftClock) Now() time.Time        { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *shiftClock) shift(d time.Duration) { c.offset.Store(int64(d)) }
func fastHealth(c *statenode.Config, cl *shiftClock) {
	c.Health.Interval = 50 * time.Millisecond
	c.Now = cl.Now
}

// expectCheck waits until the node of p's state answers want for check
// and overall, and checks that GetStatus and the metrics say the same,
// the status's detail containing detail when failing.
func expectCheck(t *testing.T, nw *testenv.Network, p string, check string, want healthpb.HealthCheckResponse_ServingStatus, detail string) {
	t.Helper()
	conn := nettest.Conn(t, nw, testenv.Analyst(p))
	nettest.WaitServing(t, conn, "iant.check."+check, want)
	nettest.WaitServing(t, conn, "", want)
	st := nettest.Status(t, conn)
	c := nettest.Check(t, st, check)
	if c.GetOk() != (want == serving) || st.GetServing() != (want == serving) || !strings.Contains(c.GetDetail(), detail) {
		t.Errorf("GetStatus: serving %v, check %s ok %v detail %q; want %v, detail containing %q",
			st.GetServing(), check, c.GetOk(), c.GetDetail(), want == serving, detail)
	}
	v, ok := nettest.MetricValue(t, nw.Registry(), "iant_health_check_ok", map[string]string{"node": p, "check": check})
	if !ok || (v == 1) != (want == serving) {
		t.Errorf("iant_health_check_ok{node=%q,check=%q} = %v (found %v), want %v", p, check, v, ok, want == serving)
	}
}

func TestHealthFollowsTheBackbone(t *testing.T) {
	var clock shiftClock
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(_ string, c *statenode.Config) { fastHealth(c, &clock) }})
	expectCheck(t, nw, "US", "backbone", serving, "")
	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "backbone", notServing, "not connected to any backbone server")
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "backbone", serving, "")
}

func TestHealthFollowsTheInboxConsumer(t *testing.T) {
	var clock shiftClock
	dir := t.TempDir()
	nw := nettest.Start(t, testenv.Options{Dir: dir, States: []string{"MX", "US"},
		NodeConfig: func(_ string, c *statenode.Config) { fastHealth(c, &clock) }})
	expectCheck(t, nw, "US", "consumers", serving, "")
	// US's inbox consumer is lost with its files while the backbone is
	// down (no node may delete a consumer); the secretariat's next start
	// provisions it again.
	if err := nw.StopBackbone(); err != nil {
		t.Fatal(err)
	}
	obs := filepath.Join(dir, "data", "backbone", "jetstream", "IANT", "streams", backbone.InboxStream, "obs", backbone.InboxConsumer("US"))
	if _, err := os.Stat(obs); err != nil {
		t.Fatalf("US's inbox consumer's files: %v", err)
	}
	if err := os.RemoveAll(obs); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartBackbone(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "consumers", notServing, "inbox consumer inbox-US is not provisioned")
	expectCheck(t, nw, "MX", "consumers", serving, "")
	if err := nw.StopSecretariat(); err != nil {
		t.Fatal(err)
	}
	if err := nw.StartSecretariat(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "consumers", serving, "")
}

func TestHealthFollowsTheDirectoryEntry(t *testing.T) {
	var clock shiftClock
	// SVIDs valid past the 25 days the clock moves on, so that only the
	// entry's age fails the check.
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, SVIDValidity: 60 * 24 * time.Hour, NodeConfig: func(_ string, c *statenode.Config) { fastHealth(c, &clock) }})
	expectCheck(t, nw, "US", "directory", serving, "")
	v, ok := nettest.MetricValue(t, nw.Registry(), "iant_directory_entry_expiry_timestamp_seconds", map[string]string{"node": "US"})
	if !ok || time.Unix(int64(v), 0).Before(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("iant_directory_entry_expiry_timestamp_seconds{node=US} = %v (found %v), want about 30 days ahead", v, ok)
	}
	// 25 days on, the entry published at start has 5 of its 30 days left.
	clock.shift(25 * 24 * time.Hour)
	expectCheck(t, nw, "US", "directory", notServing, "restart the node or rotate its key")
	if err := nw.Node("US").RotateKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "directory", serving, "")
}

func TestHealthFollowsTheSVID(t *testing.T) {
	var clock shiftClock
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, NodeConfig: func(_ string, c *statenode.Config) { fastHealth(c, &clock) }})
	expectCheck(t, nw, "US", "svid", serving, "")
	clock.shift(400 * 24 * time.Hour) // past the development PKI's year
	expectCheck(t, nw, "US", "svid", notServing, "expired at")
	clock.shift(0)
	expectCheck(t, nw, "US", "svid", serving, "")
}

// TestHealthFollowsTheDisk puts US's data dir on an 8 MiB tmpfs (root
// only): filled to below the minimum, the node answers NOT_SERVING and
// refuses posts naming its disk; emptied, it serves and takes them again.
func TestHealthFollowsTheDisk(t *testing.T) {
	mnt := tmpfs(t, "8m")
	var clock shiftClock
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US"}, MinFreeDisk: 2 << 20, NodeConfig: func(cc string, c *statenode.Config) {
		fastHealth(c, &clock)
		if cc == "US" {
			c.DataDir = filepath.Join(mnt, "us")
		}
	}})
	expectCheck(t, nw, "US", "disk", serving, "")
	ballast := filepath.Join(mnt, "ballast")
	fill(t, ballast, mnt, 1<<20) // 1 MiB left, below the 2 MiB minimum
	expectCheck(t, nw, "US", "disk", notServing, "data dir "+filepath.Join(mnt, "us")+" has")
	_, err := nettest.Dial(t, nw, testenv.FocalPoint("US")).PostBulletin(t.Context(), postReq(nettest.Draft("on a full disk", "MX")))
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "disk is nearly full") {
		t.Errorf("post on a full disk = %v, want Unavailable naming the disk", err)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	expectCheck(t, nw, "US", "disk", serving, "")
	nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("US")), nettest.Draft("space is back", "MX"))
}

// tmpfs mounts a tmpfs of size (e.g. "8m") for the test, or skips the
// test when it cannot (not root, no mount).
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "iant-test", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file at path that leaves about left bytes free on mnt.
func fill(t *testing.T, path, mnt string, left uint64) {
	t.Helper()
	free := freeBytes(t, mnt)
	if free <= left {
		t.Fatalf("only %d bytes free on %s, want more than %d", free, mnt, left)
	}
	if err := os.WriteFile(path, make([]byte, free-left), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	free, err := health.FreeBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	return free
}

func postReq(b *iantv1.Bulletin) *iantv1.PostBulletinRequest {
	return &iantv1.PostBulletinRequest{Bulletin: b}
}
