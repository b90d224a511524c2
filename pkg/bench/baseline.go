package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// baseline is the bare backbone: a second embedded JetStream server with
// the same configuration and mTLS as the network's, provisioned by the
// secretariat's SVID, with one client per state node SVID that publishes
// as its own origin and consumes its own inbox. No gRPC, policy, sealing,
// SQLite or subscription push.
type baseline struct {
	tag      string
	log      *slog.Logger
	dir      string // the servers' stores, removed by close
	srvs     []*backbone.Server
	replicas int
	clients  map[string]*backbone.Client // by state; "" is the secretariat

	mu       sync.Mutex
	phases   map[int]*collector
	payloads map[int][]byte // by size

	stop context.CancelFunc
	wg   sync.WaitGroup // inbox consumers
}

// startBaseline starts the baseline server (with servers 3, a cluster of
// three with R3 streams) storing in dir (a new directory, removed by
// close, beside the network's data so that both write to the same file
// system), connects the secretariat (which provisions every state's inbox)
// and every state node, and starts their consumers.
func startBaseline(ctx context.Context, nw *testenv.Network, dir, tag string, servers int, log *slog.Logger) (_ *baseline, err error) {
	b := &baseline{tag: tag, log: log, dir: dir, replicas: servers, clients: map[string]*backbone.Client{}, phases: map[int]*collector{}, payloads: map[int][]byte{}}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	b.stop = stop
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	sec, err := nodeSource(nw, "")
	if err != nil {
		return nil, err
	}
	ids := []spiffeid.ID{testenv.NodePrincipal("").ID(nw.TD)}
	for _, s := range nw.States() {
		ids = append(ids, testenv.NodePrincipal(s).ID(nw.TD))
	}
	cfg := backbone.ServerConfig{Port: -1, StoreDir: dir, TrustDomain: nw.TD, SVID: sec, Bundle: sec, Nodes: ids, Logger: log}
	if b.srvs, err = startServers(ctx, cfg, servers); err != nil {
		return nil, err
	}
	for _, s := range append([]string{""}, nw.States()...) {
		if err := b.connect(ctx, nw, s); err != nil {
			return nil, err
		}
	}
	if err := b.clients[""].Provision(ctx, nw.States()); err != nil {
		return nil, err
	}
	for _, s := range nw.States() {
		c := b.clients[s]
		b.wg.Go(func() {
			if err := c.ConsumeInbox(life, b.handle); err != nil && !errors.Is(err, backbone.ErrClosed) {
				b.log.Warn("bench baseline consumer stopped", "recipient", s, "err", err)
			}
		})
	}
	return b, nil
}

// nodeSource loads the SVID of state's node ("" for the secretariat).
func nodeSource(nw *testenv.Network, state string) (*identity.FileSource, error) {
	e, ok := nw.PKI.Find(testenv.NodePrincipal(state))
	if !ok {
		return nil, fmt.Errorf("no node SVID for %q in the PKI", state)
	}
	return identity.LoadFiles(nw.TD, e.CertFile, e.KeyFile, nw.PKI.BundleFile)
}

// connect connects state's node ("" the secretariat) to the baseline.
func (b *baseline) connect(ctx context.Context, nw *testenv.Network, state string) error {
	src, err := nodeSource(nw, state)
	if err != nil {
		return err
	}
	var urls []string
	for _, s := range b.srvs {
		urls = append(urls, s.ClientURL())
	}
	c, err := backbone.Connect(ctx, backbone.ClientConfig{
		URLs: urls, TrustDomain: nw.TD, SVID: src, Bundle: src, Replicas: b.replicas,
		Name: "bench-baseline-" + state, Logger: b.log,
	})
	if err != nil {
		return err
	}
	b.clients[state] = c
	return nil
}

// close stops the consumers, then closes the clients and the server.
func (b *baseline) close() {
	b.stop()
	b.wg.Wait()
	for _, c := range b.clients {
		c.Close()
	}
	for _, s := range b.srvs {
		s.Close()
	}
	if err := os.RemoveAll(b.dir); err != nil {
		b.log.Warn("bench baseline store not removed", "dir", b.dir, "err", err)
	}
}

// register makes c receive the deliveries of phase id.
func (b *baseline) register(id int, c *collector) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.phases[id] = c
}

// handle is every state's consumer: it reports the copy to its phase.
func (b *baseline) handle(_ context.Context, m backbone.Msg) error {
	pushed := time.Now()
	id, seq, ok := b.parseID(m.ID)
	if !ok {
		return nil
	}
	b.mu.Lock()
	c := b.phases[id]
	b.mu.Unlock()
	if c != nil {
		c.arrive(seq, m.Recipient, m.Published, pushed)
	}
	return nil
}

// sender publishes one copy of m per recipient, at most
// [statenode.MaxInflightCopies] at once, each waiting for its acknowledgement,
// as a node releases a bulletin. size
// gives the payload size of m.
func (b *baseline) sender(id int, size func(message) int) sender {
	return func(ctx context.Context, m message) error {
		data := b.payload(size(m))
		msgID := fmt.Sprintf("%s-%d-%d", b.tag, id, m.seq)
		c := b.clients[m.origin]
		errs := make([]error, len(m.recipients))
		sem := make(chan struct{}, statenode.MaxInflightCopies)
		var wg sync.WaitGroup
		for i, r := range m.recipients {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, errs[i] = c.PublishInbox(ctx, r, m.origin, msgID, data)
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

// batchSender publishes the copies of each message as one atomic batch
// (PublishInboxBatch), as a node's outbox can.
func (b *baseline) batchSender(id int, size func(message) int) sender {
	return func(ctx context.Context, m message) error {
		data := b.payload(size(m))
		msgID := fmt.Sprintf("%s-%d-%d", b.tag, id, m.seq)
		copies := make([]backbone.InboxCopy, len(m.recipients))
		for i, r := range m.recipients {
			copies[i] = backbone.InboxCopy{Recipient: r, Origin: m.origin, ID: msgID, Data: data}
		}
		_, err := b.clients[m.origin].PublishInboxBatch(ctx, copies)
		return err
	}
}

// parseID reads phase and sequence from a message id made by sender.
func (b *baseline) parseID(s string) (id, seq int, ok bool) {
	f := strings.Split(s, "-")
	if len(f) != 3 || f[0] != b.tag {
		return 0, 0, false
	}
	id, err1 := strconv.Atoi(f[1])
	seq, err2 := strconv.Atoi(f[2])
	return id, seq, errors.Join(err1, err2) == nil
}

// payload returns random bytes of the given size, the same for each size.
func (b *baseline) payload(size int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.payloads[size]
	if !ok {
		p = make([]byte, max(size, 1))
		rand.Read(p)
		b.payloads[size] = p
	}
	return p
}
