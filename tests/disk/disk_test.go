package disk_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/tests/procnet"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iant-disk-bin-")
	if err == nil {
		bin, err = procnet.Build(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wait bounds every wait for something the network does by itself.
const wait = 60 * time.Second

// network is a backbone server, the secretariat and the nodes of MX and
// US, on loopback, with the given store and data dirs (tmpfs mounts).
type network struct {
	n       *procnet.Net
	hub     procnet.Hub
	sec     procnet.Node
	mx, us  procnet.Node
	mxFocal iantv1.BulletinServiceClient
	usFocal iantv1.BulletinServiceClient
	mxReads iantv1.BulletinServiceClient
	usReads iantv1.BulletinServiceClient
}

func start(t *testing.T, hubStore, mxData string) *network {
	t.Helper()
	if hubStore == "" || mxData == "" {
		t.Fatal("start needs both directories")
	}
	n := procnet.New(t, bin, []string{"MX", "US"}, 1)
	w := &network{n: n}
	w.hub = procnet.Hub{Name: "hub-1", Host: "127.0.0.1", ClientPort: procnet.FreePort(t), MetricsPort: procnet.FreePort(t),
		StoreDir: filepath.Join(hubStore, "js"), MinFree: "8MiB"}
	bb := []string{w.hub.ClientURL()}
	w.sec = procnet.Node{Name: "secretariat", Host: "127.0.0.1", Port: procnet.FreePort(t), Backbone: bb}
	w.mx = procnet.Node{Name: "mx", State: "MX", Host: "127.0.0.1", Port: procnet.FreePort(t), MetricsPort: procnet.FreePort(t),
		Backbone: bb, DataDir: filepath.Join(mxData, "mx"), MinFree: "4MiB", HealthInterval: "200ms"}
	w.us = procnet.Node{Name: "us", State: "US", Host: "127.0.0.1", Port: procnet.FreePort(t), Backbone: bb}
	all := []procnet.Node{w.sec, w.mx, w.us}
	n.Start("hub-1", "", "iant-backbone", n.HubConfig(w.hub, nil, []string{"MX", "US"}))
	n.WaitTCP("hub-1", "127.0.0.1:"+fmt.Sprint(w.hub.ClientPort), wait)
	n.Start("secretariat", "", "iantd", n.NodeConfig(w.sec, all))
	n.WaitTCP("secretariat", w.sec.Addr(), wait)
	for _, nd := range []procnet.Node{w.mx, w.us} {
		n.Start(nd.Name, "", "iantd", n.NodeConfig(nd, all))
	}
	for _, nd := range []procnet.Node{w.mx, w.us} {
		n.WaitTCP(nd.Name, nd.Addr(), wait)
	}
	w.mxFocal = n.Bulletins(t, "mx-focal-point-focal", w.mx)
	w.usFocal = n.Bulletins(t, "us-focal-point-focal", w.us)
	w.mxReads = n.Bulletins(t, "mx-analyst-analyst", w.mx)
	w.usReads = n.Bulletins(t, "us-analyst-analyst", w.us)
	return w
}

// post posts title from bs to recipient and fails the test unless it is
// acknowledged; it returns the bulletin's id and the recipients whose
// copies wait at the node.
func post(t *testing.T, bs iantv1.BulletinServiceClient, title, recipient string) (string, []string) {
	t.Helper()
	resp, err := procnet.Post(bs, procnet.Draft(title, recipient), 30*time.Second)
	if err != nil {
		t.Fatalf("post %q: %v", title, err)
	}
	return resp.GetBulletin().GetBulletin().GetId(), resp.GetPendingRecipients()
}

// expectOnce waits until ids are stored at the node bs reads, and checks
// each is stored once and, among themselves, in the order given.
func expectOnce(t *testing.T, bs iantv1.BulletinServiceClient, where string, ids []string) {
	t.Helper()
	order, count := procnet.WaitStored(t, bs, ids, wait)
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("%s holds bulletin %s %d times, want once", where, id, count[id])
		}
	}
	if got := procnet.OnlyIn(order, ids); !slices.Equal(got, ids) {
		t.Errorf("%s stored %v in the order %v, want %v", where, ids, got, ids)
	}
}

// TestNodeDiskFills: MX's data dir is a 24 MiB tmpfs. Below its 4 MiB
// minimum the node fails its disk check and refuses posts, naming its
// disk, and still receives; full to the last byte it cannot store a copy
// and leaves it on the backbone; once space returns it takes posts again
// and holds everything once, in order.
func TestNodeDiskFills(t *testing.T) {
	hubStore := t.TempDir()
	mnt := procnet.Tmpfs(t, "24m")
	w := start(t, hubStore, mnt)
	before, _ := post(t, w.mxFocal, "before the disk fills", "US")
	expectOnce(t, w.usReads, "US", []string{before})

	free := procnet.Fill(t, mnt, 2<<20)
	if !procnet.Eventually(wait, func() bool {
		code, body := procnet.HTTPGet(strings.TrimSuffix(w.mx.MetricsURL(), "metrics") + "healthz")
		return code == 503 && strings.Contains(body, "disk: disk space low: data dir "+w.mx.DataDir)
	}) {
		t.Fatalf("MX's /healthz does not name its full disk: %v", w.n.Log("mx"))
	}
	_, err := procnet.Post(w.mxFocal, procnet.Draft("on a full disk", "US"), 30*time.Second)
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "disk is nearly full (data dir "+w.mx.DataDir) {
		t.Fatalf("post at MX below the minimum = %v, want Unavailable naming the data dir", err)
	}
	in1, _ := post(t, w.usFocal, "to MX while its disk is low", "MX")
	expectOnce(t, w.mxReads, "MX", []string{in1})

	fillUp := procnet.Fill(t, mnt, 0) // and now to the last byte
	in2, _ := post(t, w.usFocal, "to MX while its disk is full", "MX")
	fillUp()
	free()
	after, _ := post(t, w.mxFocal, "once space returned", "US")
	expectOnce(t, w.mxReads, "MX", []string{in1, in2})
	expectOnce(t, w.usReads, "US", []string{before, after})
	if !strings.Contains(w.n.Log("mx"), "disk space low") {
		t.Error("MX's log does not say why it refused the post")
	}
	logLines(t, w, "mx", "disk", "full", "store received")
}

// TestBackboneDiskFills: the backbone server's store is a 32 MiB tmpfs.
// Below its 8 MiB minimum it refuses new messages at once and says so in
// /healthz and its metrics; MX's posts are acknowledged with their copies
// waiting in MX's outbox; once space returns, and again after the disk
// filled to the last byte, every copy is delivered once, in order, and
// the one acknowledged before is still there.
func TestBackboneDiskFills(t *testing.T) {
	mnt := procnet.Tmpfs(t, "32m")
	w := start(t, mnt, t.TempDir())
	before, _ := post(t, w.mxFocal, "before the disk fills", "US")
	expectOnce(t, w.usReads, "US", []string{before})

	free := procnet.Fill(t, mnt, 4<<20)
	if !procnet.Eventually(wait, func() bool {
		code, body := procnet.HTTPGet(strings.TrimSuffix(w.hub.MetricsURL(), "metrics") + "healthz")
		return code == 503 && strings.Contains(body, "disk space low in "+w.hub.StoreDir)
	}) {
		t.Fatalf("the backbone's /healthz does not name its full disk:\n%s", w.n.Log("hub-1"))
	}
	if _, body := procnet.HTTPGet(w.hub.MetricsURL()); !strings.Contains(body, `iant_backbone_disk_pressure{server="hub-1"} 1`) {
		t.Error("iant_backbone_disk_pressure is not 1")
	}
	var queued []string
	for i := range 3 {
		id, pending := post(t, w.mxFocal, fmt.Sprintf("while the backbone's disk is low %d", i), "US")
		if !slices.Equal(pending, []string{"US"}) {
			t.Errorf("post %d while the backbone refuses: pending recipients %v, want [US] (queued at MX)", i, pending)
		}
		queued = append(queued, id)
	}
	free()
	expectOnce(t, w.usReads, "US", append([]string{before}, queued...))

	fillUp := procnet.Fill(t, mnt, 0)
	last, _ := post(t, w.mxFocal, "while the backbone's disk is full", "US")
	fillUp()
	expectOnce(t, w.usReads, "US", append([]string{before}, append(queued, last)...))
	if code, body := procnet.HTTPGet(strings.TrimSuffix(w.hub.MetricsURL(), "metrics") + "healthz"); code != 200 {
		t.Errorf("the backbone's /healthz after space returned = %d %s", code, body)
	}
	logLines(t, w, "hub-1", "disk", "space", "JetStream")
	logLines(t, w, "mx", "copies not published", "copies published again")
}

// logLines writes the lines of process name's log containing any of
// words into the test log: what the process said about its disk.
func logLines(t *testing.T, w *network, name string, words ...string) {
	t.Helper()
	for _, l := range strings.Split(w.n.Log(name), "\n") {
		for _, word := range words {
			if strings.Contains(l, word) {
				t.Logf("%s: %s", name, l)
				break
			}
		}
	}
}
