package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
)

// binDir holds iant, iantd and iant-backbone, built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iant-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+"/", "../../cmd/iant", "../../cmd/iantd", "../../cmd/iant-backbone")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the binaries:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cluster is one network run by deploy/local-cluster.sh.
type cluster struct {
	t    *testing.T
	dir  string
	base int
}

// up starts a network of the given states and registers its shutdown.
func up(t *testing.T, states ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), base: freeBase(t)}
	t.Cleanup(func() {
		c.script("down")
		if t.Failed() {
			c.dumpLogs()
		}
	})
	c.script("up", "--states", strings.Join(states, ","), "--base-port", strconv.Itoa(c.base))
	return c
}

// script runs deploy/local-cluster.sh with args and fails the test if it
// fails.
func (c *cluster) script(args ...string) {
	c.t.Helper()
	args = append(args, "--dir", c.dir)
	cmd := exec.Command("../../deploy/local-cluster.sh", args...)
	cmd.Env = append(os.Environ(), "IANT_BIN="+binDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("local-cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *cluster) kill(name string)  { c.t.Helper(); c.script("kill", name) }
func (c *cluster) start(name string) { c.t.Helper(); c.script("start", name) }

// dumpLogs writes the tail of every process log into the test log.
func (c *cluster) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "log", "*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		c.t.Logf("--- %s (last %d lines)\n%s", filepath.Base(l), min(40, len(lines)), strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}

// as dials the node of the person whose context file is named who (e.g.
// "mx-focal-point-focal").
func (c *cluster) as(who string) iantv1.BulletinServiceClient {
	c.t.Helper()
	cc, err := client.LoadContext(filepath.Join(c.dir, "contexts", who+".yaml"))
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := client.Dial(ctx, cc)
	if err != nil {
		c.t.Fatalf("dial as %s: %v", who, err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return iantv1.NewBulletinServiceClient(conn)
}

// freeBase picks a base port whose 40 ports (see local-cluster.sh) are
// free now.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(400)*100
		ok := true
		var ls []net.Listener
		for p := base; p < base+40 && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free range of 40 loopback ports")
	return 0
}

// post posts a GREEN bulletin from the context's state to recipients and
// returns its id, or the error.
func post(ctx context.Context, bs iantv1.BulletinServiceClient, title string, recipients ...string) (string, error) {
	resp, err := postResp(ctx, bs, title, recipients...)
	if err != nil {
		return "", err
	}
	return resp.GetBulletin().GetBulletin().GetId(), nil
}

// postResp is post returning the whole answer, with the recipients whose
// copies wait at the node.
func postResp(ctx context.Context, bs iantv1.BulletinServiceClient, title string, recipients ...string) (*iantv1.PostBulletinResponse, error) {
	return bs.PostBulletin(ctx, &iantv1.PostBulletinRequest{Bulletin: &iantv1.Bulletin{
		Title: title, Body: "fault test " + title,
		Precedence: iantv1.Precedence_PRECEDENCE_IMMEDIATE, Category: iantv1.Category_CATEGORY_OTHER,
		Marking: iantv1.Marking_MARKING_GREEN, Language: iantv1.Language_LANGUAGE_EN,
		Releasability: &iantv1.Releasability{States: recipients},
	}})
}

// stored lists every bulletin stored at the analyst's node and returns how
// many records each id has.
func stored(t *testing.T, bs iantv1.BulletinServiceClient) map[string]int {
	t.Helper()
	got := map[string]int{}
	token := ""
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := bs.ListBulletins(ctx, &iantv1.ListBulletinsRequest{PageSize: 500, PageToken: token})
		cancel()
		if err != nil {
			t.Fatalf("ListBulletins: %v", err)
		}
		for _, b := range resp.GetBulletins() {
			got[b.GetBulletin().GetId()]++
		}
		if token = resp.GetNextPageToken(); token == "" {
			return got
		}
	}
}

// subscriber follows an analyst's Subscribe stream, resuming after the
// last cursor when the stream breaks (its node restarted), and counts the
// pushes of each bulletin id.
type subscriber struct {
	mu     sync.Mutex
	pushes map[string]int
	cancel context.CancelFunc
	done   chan struct{}
}

func subscribe(t *testing.T, c *cluster, who string) *subscriber {
	t.Helper()
	bs := c.as(who)
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{pushes: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		var cursor uint64
		once := sync.OnceFunc(func() { close(ready) })
		for ctx.Err() == nil {
			stream, err := bs.Subscribe(ctx, &iantv1.SubscribeRequest{AfterCursor: cursor, FromStart: cursor == 0}, grpc.WaitForReady(true))
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			once()
			for {
				resp, err := stream.Recv()
				if err != nil {
					break
				}
				cursor = resp.GetBulletin().GetCursor()
				s.mu.Lock()
				s.pushes[resp.GetBulletin().GetBulletin().GetId()]++
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(s.stop)
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("subscribe as %s: no stream after 30 s", who)
	}
	return s
}

func (s *subscriber) stop() {
	s.cancel()
	<-s.done
}

// waitFor waits until every id in ids has been pushed, or the deadline.
func (s *subscriber) waitFor(ids []string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		missing := 0
		for _, id := range ids {
			if s.pushes[id] == 0 {
				missing++
			}
		}
		s.mu.Unlock()
		if missing == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counts is what one recipient got of the acknowledged posts.
type counts struct {
	delivered, duplicated, lost, unacked int
}

// tally compares what a recipient's node stored and what its analyst was
// pushed against the posts acknowledged to the author.
func tally(acked []string, storedIDs, pushed map[string]int) counts {
	var n counts
	ack := map[string]bool{}
	for _, id := range acked {
		ack[id] = true
		switch {
		case storedIDs[id] == 0 || pushed[id] == 0:
			n.lost++
		default:
			n.delivered++
		}
		if storedIDs[id] > 1 || pushed[id] > 1 {
			n.duplicated++
		}
	}
	for id, k := range storedIDs {
		if !ack[id] {
			n.unacked++ // a post that failed part-way may reach some recipients
			if k > 1 || pushed[id] > 1 {
				n.duplicated++
			}
		}
	}
	return n
}

func (s *subscriber) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.pushes))
	for k, v := range s.pushes {
		out[k] = v
	}
	return out
}
