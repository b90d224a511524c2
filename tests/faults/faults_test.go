package faults_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// posts is how many bulletins each fault test posts while it injects its
// fault: enough to straddle the fault, few enough for two cores.
const posts = 60

// flow posts [posts] bulletins from MX's focal point to recipients, one
// after another, calling inject[i] before post i. It returns the ids of
// the posts acknowledged to the author, and logs the failures.
func flow(t *testing.T, mx iantv1.BulletinServiceClient, recipients []string, inject map[int]func()) []string {
	t.Helper()
	var acked []string
	failed := map[codes.Code]int{}
	for i := range posts {
		if f := inject[i]; f != nil {
			f()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		id, err := post(ctx, mx, fmt.Sprintf("post-%03d", i), recipients...)
		cancel()
		if err != nil {
			failed[status.Code(err)]++
			t.Logf("post %d: %v", i, err)
			continue
		}
		acked = append(acked, id)
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("posted %d, acknowledged %d, refused %v", posts, len(acked), failed)
	return acked
}

// check waits for every acknowledged post at each recipient's analyst,
// then counts and asserts: every acknowledged post stored and pushed
// exactly once at every recipient, none lost, none duplicated.
func check(t *testing.T, c *cluster, acked []string, subs map[string]*subscriber) {
	t.Helper()
	for cc, s := range subs {
		s.waitFor(acked, 90*time.Second)
		n := tally(acked, stored(t, c.as(cc+"-analyst-analyst")), s.snapshot())
		t.Logf("%s: acknowledged %d, delivered %d, duplicated %d, lost %d (plus %d of unacknowledged posts)",
			cc, len(acked), n.delivered, n.duplicated, n.lost, n.unacked)
		if n.lost != 0 || n.duplicated != 0 || n.delivered != len(acked) {
			t.Errorf("%s: %d lost, %d duplicated of %d acknowledged posts; want none lost or duplicated", cc, n.lost, n.duplicated, len(acked))
		}
	}
}

// TestClusterServerKilled kills one of the three backbone servers (SIGKILL)
// while bulletins flow and later starts it again, then does the same to
// another.
func TestClusterServerKilled(t *testing.T) {
	c := up(t, "MX", "US", "CA")
	subs := map[string]*subscriber{"us": subscribe(t, c, "us-analyst-analyst"), "ca": subscribe(t, c, "ca-analyst-analyst")}
	// One server at a time: hub-1, then (once hub-1 is back) hub-2, so that
	// the leader of the inbox stream is more likely among the killed.
	acked := flow(t, c.as("mx-focal-point-focal"), []string{"US", "CA"}, map[int]func(){
		posts / 4:     func() { c.kill("hub-1") },
		posts / 2:     func() { c.start("hub-1") },
		2 * posts / 3: func() { c.kill("hub-2") },
		posts - 5:     func() { c.start("hub-2") },
	})
	if len(acked) < posts*9/10 {
		t.Errorf("only %d of %d posts acknowledged with two of three servers up", len(acked), posts)
	}
	check(t, c, acked, subs)
}

// TestReceivingNodeKilled kills a recipient's node (SIGKILL) while
// bulletins flow to it, then starts it again: it catches up exactly once.
func TestReceivingNodeKilled(t *testing.T) {
	c := up(t, "MX", "US", "CA")
	subs := map[string]*subscriber{"us": subscribe(t, c, "us-analyst-analyst"), "ca": subscribe(t, c, "ca-analyst-analyst")}
	acked := flow(t, c.as("mx-focal-point-focal"), []string{"US", "CA"}, map[int]func(){
		posts / 3:     func() { c.kill("us") },
		2 * posts / 3: func() { c.start("us") },
	})
	if len(acked) != posts {
		t.Errorf("%d of %d posts acknowledged; a recipient being down must not refuse posts", len(acked), posts)
	}
	check(t, c, acked, subs)
}

// TestBackboneDown kills all three backbone servers: a post is still
// answered OK within seconds, committed at MX's node with US named as
// pending, and once the servers are back (no node restarted) MX's node
// publishes it and posting goes on; every post reaches US exactly once.
func TestBackboneDown(t *testing.T) {
	c := up(t, "MX", "US")
	subs := map[string]*subscriber{"us": subscribe(t, c, "us-analyst-analyst")}
	mx := c.as("mx-focal-point-focal")
	acked := flow(t, mx, []string{"US"}, nil)
	before, err := post(context.Background(), mx, "before", "US")
	if err != nil {
		t.Fatalf("post before the outage: %v", err)
	}
	acked = append(acked, before)

	for _, h := range []string{"hub-1", "hub-2", "hub-3"} {
		c.kill(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	start := time.Now()
	during, err := postResp(ctx, mx, "during", "US")
	cancel()
	if err != nil {
		t.Fatalf("post with the backbone down = %v, want OK, queued at the node", err)
	}
	if p := during.GetPendingRecipients(); len(p) != 1 || p[0] != "US" {
		t.Errorf("post with the backbone down: pending %v, want [US]", p)
	}
	t.Logf("post with the backbone down answered OK after %s, pending %v", time.Since(start).Round(time.Millisecond), during.GetPendingRecipients())
	acked = append(acked, during.GetBulletin().GetBulletin().GetId())

	for _, h := range []string{"hub-1", "hub-2", "hub-3"} {
		c.start(h)
	}
	recovered := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		after, err := postResp(ctx, mx, "after", "US")
		cancel()
		if err == nil {
			acked = append(acked, after.GetBulletin().GetBulletin().GetId())
			if len(after.GetPendingRecipients()) == 0 {
				break
			}
		}
		if time.Since(recovered) > 90*time.Second {
			t.Fatalf("copies not published 90 s after the backbone came back: %v, %v", after.GetPendingRecipients(), err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("copies published again %s after the servers were started", time.Since(recovered).Round(time.Millisecond))
	check(t, c, acked, subs)
}

// TestDatabaseDeleted stops a recipient's node, deletes its SQLite
// database and starts it again: it rebuilds from its inbox stream, and
// bulletins posted while it was down and after it came back arrive too,
// all exactly once.
func TestDatabaseDeleted(t *testing.T) {
	c := up(t, "MX", "US")
	mx := c.as("mx-focal-point-focal")
	acked := flow(t, mx, []string{"US"}, map[int]func(){
		posts / 2: func() {
			c.script("stop", "us")
			files, _ := filepath.Glob(filepath.Join(c.dir, "var", "us", "node.db*"))
			if len(files) == 0 {
				t.Fatalf("no node.db in %s", filepath.Join(c.dir, "var", "us"))
			}
			for _, f := range files {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("deleted %d database files of US", len(files))
		},
		posts/2 + 5: func() { c.start("us") },
	})
	if len(acked) != posts {
		t.Errorf("%d of %d posts acknowledged; a recipient being down must not refuse posts", len(acked), posts)
	}
	// Subscribe after the rebuild started: from the start of the new
	// database, every bulletin once.
	check(t, c, acked, map[string]*subscriber{"us": subscribe(t, c, "us-analyst-analyst")})
}
