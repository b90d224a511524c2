package backbone_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/backbone/backbonetest"
	"github.com/oas-cicte/iant/pkg/health"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// Disk pressure (disk.go), on a small tmpfs: root only, as CI runs.

// diskEnv is a server whose store is on a fresh tmpfs, watched only when
// the test says (backbone.CheckDisk), with MX and US provisioned.
type diskEnv struct {
	mnt string
	srv *backbone.Server
	mx  *backbone.Client
	us  chan backbone.Msg
}

func newDiskEnv(t *testing.T, minFree uint64) *diskEnv {
	t.Helper()
	mnt := tmpfs(t, "24m")
	t.Cleanup(backbone.StopDiskWatch())
	ca := identitytest.NewCA(t, "iant.test")
	cfg := backbonetest.Config(t, ca, backbonetest.Secretariat, backbonetest.Node("MX"), backbonetest.Node("US"))
	cfg.StoreDir, cfg.MinFreeDisk = filepath.Join(mnt, "js"), minFree
	e := &diskEnv{mnt: mnt, srv: backbonetest.StartServerConfig(t, cfg), us: make(chan backbone.Msg, 16)}
	backbonetest.Provision(t, ca, e.srv, "MX", "US")
	e.mx = backbonetest.Connect(t, ca, e.srv, backbonetest.Node("MX"))
	consume(t, backbonetest.Connect(t, ca, e.srv, backbonetest.Node("US")), collect(e.us))
	return e
}

// publish publishes copy id from MX to US within a few seconds, 20 KB
// as a sealed copy is (more than the slack of a page the store's last
// write left).
func (e *diskEnv) publish(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := e.mx.PublishInbox(ctx, "US", "MX", id, bytes.Repeat([]byte(id), 20000))
	return err
}

// fill leaves about left bytes free on the tmpfs; the returned func
// frees the space again.
func (e *diskEnv) fill(t *testing.T, left uint64) (free func()) {
	t.Helper()
	avail, err := health.FreeBytes(e.mnt)
	if err != nil || avail < left {
		t.Fatalf("free on %s = %d, %v; want more than %d", e.mnt, avail, err, left)
	}
	ballast := filepath.Join(e.mnt, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(make([]byte, avail-left))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil && left > 0 {
		t.Fatalf("fill %s: %v", e.mnt, err)
	}
	return func() {
		if err := os.Remove(ballast); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDiskBelowMinimumRefusesThenRecovers: below MinFreeDisk the server
// refuses new copies at once (ErrStorageFull) and says why in Health;
// once space returns it takes them again, and the copy acknowledged
// before is still delivered, each once, in order.
func TestDiskBelowMinimumRefusesThenRecovers(t *testing.T) {
	e := newDiskEnv(t, 8<<20)
	if err := e.publish("A"); err != nil {
		t.Fatal(err)
	}
	free := e.fill(t, 4<<20)
	backbone.CheckDisk(e.srv)
	if !e.srv.DiskPressure() {
		t.Fatal("DiskPressure() = false with 4 MiB free of a minimum of 8 MiB")
	}
	if err := e.srv.Health(); err == nil || !strings.Contains(err.Error(), "disk space low in "+filepath.Join(e.mnt, "js")) {
		t.Errorf("Health() = %v, want it to name the store's disk", err)
	}
	if err := e.publish("B"); !errors.Is(err, backbone.ErrStorageFull) {
		t.Fatalf("publish below the minimum = %v, want ErrStorageFull", err)
	}
	free()
	backbone.CheckDisk(e.srv)
	if e.srv.DiskPressure() || e.srv.Health() != nil {
		t.Fatalf("after space returned: pressure %v, health %v", e.srv.DiskPressure(), e.srv.Health())
	}
	if err := e.publish("B"); err != nil {
		t.Fatalf("publish once space returned = %v", err)
	}
	expectNext(t, e.us, "A", "B")
}

// TestDiskFullRestartsJetStream: with no margin kept, the disk fills up
// under a write; nats-server then fails every later write to that stream
// even once space returns, until the server restarts its JetStream
// (which it does by itself once space is back). The copy acknowledged
// before survives, and nothing is delivered twice.
func TestDiskFullRestartsJetStream(t *testing.T) {
	e := newDiskEnv(t, 1) // no margin: the guard never steps in first
	if err := e.publish("A"); err != nil {
		t.Fatal(err)
	}
	free := e.fill(t, 0)
	if err := e.publish("B"); err == nil {
		t.Fatal("publish on a full disk succeeded")
	}
	free()
	if err := e.publish("B"); err == nil {
		t.Log("nats-server recovered from the write error by itself")
	} else {
		t.Logf("publish after space returned, before the restart: %v", err)
		backbone.CheckDisk(e.srv) // the watch's next look: restarts JetStream
		if err := e.publish("B"); err != nil {
			t.Fatalf("publish after JetStream restarted = %v", err)
		}
	}
	expectNext(t, e.us, "A", "B")
	if err := e.publish("C"); err != nil {
		t.Fatal(err)
	}
	expectNext(t, e.us, "C")
}

// tmpfs mounts a tmpfs of size for the test, or skips it when it cannot.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a small tmpfs needs root to mount it (CI runs as root)")
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
