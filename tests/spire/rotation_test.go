package spire_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
)

// Bounds of the test. A run takes about a minute: SPIRE's first sync (5 s),
// three nodes, then traffic until every SVID has rotated (up to ~25 s) and
// the SVIDs in use when traffic began have expired (up to 30 s).
const (
	testTimeout     = 4 * time.Minute
	rotationTimeout = 2 * time.Minute
	deliveryTimeout = 30 * time.Second
	postEvery       = 100 * time.Millisecond
	postTimeout     = 10 * time.Second
	postsAfter      = 5 // posted on a new connection once everything rotated
)

// Distinct unix uids: the agent attests each node by its uid. They need
// not exist in /etc/passwd. The test process (uid 0) holds the people.
const (
	uidSecretariat = 61000
	uidMX          = 61001
	uidUS          = 61002
)

func id(path string) spiffeid.ID {
	return spiffeid.RequireFromString("spiffe://" + trustDomain + path)
}

var (
	secretariatID = id("/secretariat/node/node")
	mxNodeID      = id("/state/MX/node/node")
	usNodeID      = id("/state/US/node/node")
	focalID       = id("/state/MX/focal-point/focal") // posts at MX
	analystID     = id("/state/US/analyst/analyst")   // subscribes at US
)

// TestSPIRERotationMidTraffic runs SPIRE and three iantd nodes that take
// their SVIDs from the Workload API, streams bulletins from MX to a
// subscribed US analyst while every SVID rotates, and checks that no
// connection dropped and that every acknowledged bulletin arrived exactly
// once.
func TestSPIRERotationMidTraffic(t *testing.T) {
	bin := spireBinDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	root := traversableTempDir(t)
	start := time.Now()
	iantd := buildIantd(ctx, t, root)
	t.Logf("iantd built in %v", time.Since(start).Round(time.Millisecond))

	ttl := strconv.Itoa(int(svidTTL.Seconds()))
	s := startSPIRE(ctx, t, bin, root, [][]string{
		{"secretariat-node", "node", "unix:uid:" + strconv.Itoa(uidSecretariat)},
		{"state-node", "MX", "node", "unix:uid:" + strconv.Itoa(uidMX)},
		{"state-node", "US", "node", "unix:uid:" + strconv.Itoa(uidUS)},
		{"focal-point", "MX", "focal", "unix:uid:0"},
		{"analyst", "US", "analyst", "unix:uid:0"},
	})
	s.waitSVIDs(ctx, t, focalID, analystID)
	t.Logf("SPIRE up, entries registered (x509SVIDTTL %s s), first SVIDs after %v", ttl, time.Since(start).Round(time.Millisecond))

	nodes := startNetwork(ctx, t, iantd, root, s)
	t.Logf("nodes serving after %v", time.Since(start).Round(time.Millisecond))

	focal := s.personSource(ctx, t, focalID)
	analyst := s.personSource(ctx, t, analystID)
	runRotationTraffic(ctx, t, nodes, focal, analyst)

	for _, n := range nodes {
		if lines := n.trouble(t); len(lines) > 0 {
			t.Errorf("iantd %s logged trouble:\n%v", n.name, lines)
		}
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

// startNetwork starts the secretariat (with the embedded backbone), then US
// (so its directory entry is there before MX seals for it), then MX.
func startNetwork(ctx context.Context, t *testing.T, bin, root string, s *spire) []*iantNode {
	t.Helper()
	sec := startIantd(ctx, t, bin, root, s, "secretariat", secretariatID, uidSecretariat, fmt.Sprintf(
		"backbone:\n  embedded: {host: 127.0.0.1, port: -1, store_dir: %s, nodes: [%s, %s, %s]}\nprovision_states: [MX, US]\n",
		filepath.Join(root, "nodes", "secretariat", "backbone"), secretariatID, mxNodeID, usNodeID))
	url := sec.backboneURL(ctx, t)
	// The state nodes check the audit log's checkpoints with its verifier
	// key, which the secretariat wrote into its own (private) data dir: a
	// copy they can read, as an operator would hand it out.
	// So with the membership key's verifier key.
	var copies []string
	for _, name := range []string{"audit.vkey", "membership.vkey"} {
		vkey, err := os.ReadFile(filepath.Join(root, "nodes", "secretariat", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(root, "nodes", name)
		if err := os.WriteFile(f, vkey, 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, f)
	}
	state := fmt.Sprintf("backbone: {urls: [%q]}\naudit: {verifier_key_file: %q}\nmembership: {verifier_key_file: %q}\n", url, copies[0], copies[1])
	us := startIantd(ctx, t, bin, root, s, "us", usNodeID, uidUS, state)
	mx := startIantd(ctx, t, bin, root, s, "mx", mxNodeID, uidMX, state)
	return []*iantNode{sec, mx, us}
}

// leaves are the current SVID certificates of every identity, by SPIFFE ID.
type leaves map[spiffeid.ID]*x509.Certificate

// currentLeaves reads the people's SVIDs from their sources and the nodes'
// from fresh TLS handshakes.
func currentLeaves(ctx context.Context, nodes []*iantNode, people ...*workloadapi.X509Source) (leaves, error) {
	out := leaves{}
	for _, src := range people {
		svid, err := src.GetX509SVID()
		if err != nil {
			return nil, err
		}
		out[svid.ID] = svid.Certificates[0]
	}
	for _, n := range nodes {
		leaf, err := n.leaf(ctx, people[0])
		if err != nil {
			return nil, err
		}
		out[n.id] = leaf
	}
	return out, nil
}

// lastExpiry returns the latest NotAfter of ls.
func (ls leaves) lastExpiry() time.Time {
	var last time.Time
	for _, c := range ls {
		if c.NotAfter.After(last) {
			last = c.NotAfter
		}
	}
	return last
}

// runRotationTraffic is the heart of the test; see TestSPIRERotationMidTraffic.
func runRotationTraffic(ctx context.Context, t *testing.T, nodes []*iantNode, focal, analyst *workloadapi.X509Source) {
	mx, us := nodes[1], nodes[2]
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	analystConn := us.dial(t, analyst)
	focalConn := mx.dial(t, focal)
	drops := watchConns(ctx, &wg, analystConn, focalConn)
	sub := subscribe(ctx, t, &wg, iantv1.NewBulletinServiceClient(analystConn))

	before, err := currentLeaves(ctx, nodes, focal, analyst)
	if err != nil {
		t.Fatalf("SVIDs before: %v", err)
	}
	p := startPoster(ctx, &wg, iantv1.NewBulletinServiceClient(focalConn))
	trafficStart := time.Now()
	after := waitRotation(ctx, t, nodes, before, focal, analyst)
	t.Logf("every SVID rotated %v after traffic began, %d bulletins posted so far", time.Since(trafficStart).Round(time.Millisecond), p.count())
	for id, c := range before {
		t.Logf("  %s: serial %x -> %x", id, c.SerialNumber, after[id].SerialNumber)
	}
	// Traffic goes on until the SVIDs the open connections were made with
	// have expired: TLS checks a certificate only in the handshake, so the
	// analyst's stream and the nodes' backbone connections must outlive it.
	waitUntil(ctx, t, before.lastExpiry().Add(time.Second))
	t.Logf("the SVIDs in use when traffic began have expired (%v after it began), %d bulletins posted so far",
		time.Since(trafficStart).Round(time.Millisecond), p.count())

	// A new connection handshakes with the rotated SVIDs at both ends.
	fresh := iantv1.NewBulletinServiceClient(mx.dial(t, focal))
	for i := range postsAfter {
		p.post(ctx, fresh, "after rotation "+strconv.Itoa(i))
	}
	p.stop()
	checkDelivery(ctx, t, p, sub, iantv1.NewBulletinServiceClient(analystConn))
	if d := drops(); len(d) > 0 {
		t.Errorf("gRPC connections left READY during the test: %v", d)
	}
}

// waitRotation waits until every identity's serial differs from before,
// and returns the new SVIDs.
func waitRotation(ctx context.Context, t *testing.T, nodes []*iantNode, before leaves, people ...*workloadapi.X509Source) leaves {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, rotationTimeout)
	defer cancel()
	var now leaves
	waitFor(ctx, t, "every SVID rotated", func() error {
		var err error
		if now, err = currentLeaves(ctx, nodes, people...); err != nil {
			return err
		}
		for id, c := range before {
			if now[id].SerialNumber.Cmp(c.SerialNumber) == 0 {
				return fmt.Errorf("%s still has serial %x", id, c.SerialNumber)
			}
		}
		return nil
	})
	return now
}

// waitUntil waits until the clock passes when, or fails when ctx ends.
func waitUntil(ctx context.Context, t *testing.T, when time.Time) {
	t.Helper()
	select {
	case <-time.After(time.Until(when)):
	case <-ctx.Done():
		t.Fatalf("waiting until %v: %v", when, ctx.Err())
	}
}

// watchConns records every state a connection enters after it was first
// READY; the returned func reads them (as "index:state").
func watchConns(ctx context.Context, wg *sync.WaitGroup, conns ...*grpc.ClientConn) func() []string {
	var mu sync.Mutex
	var left []string
	for i, c := range conns {
		c.Connect()
		wg.Go(func() {
			ready := false
			for s := c.GetState(); ; s = c.GetState() {
				if s == connectivity.Ready {
					ready = true
				} else if ready {
					mu.Lock()
					left = append(left, fmt.Sprintf("conn%d:%s", i, s))
					mu.Unlock()
				}
				if !c.WaitForStateChange(ctx, s) {
					return
				}
			}
		})
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), left...)
	}
}
