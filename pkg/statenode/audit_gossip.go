package statenode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/backbone"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/nodeserver"
	"github.com/oas-cicte/iant/pkg/region"
)

// AlarmKind says what an [AuditAlarm] is evidence of. Its values are
// frozen: they are logged and shown.
type AlarmKind string

// Alarm kinds.
const (
	// AlarmFork: two checkpoints, both signed by the log's key, that no
	// append-only log explains together — the same size with two roots,
	// or a larger one that the smaller is not a prefix of. The
	// secretariat rewrote its log or showed states different logs.
	AlarmFork AlarmKind = "fork"
	// AlarmNoProof: asked for the consistency proof between two
	// checkpoints it signed, the secretariat refused, or gave none for
	// [maxProofFailures] checks in a row.
	AlarmNoProof AlarmKind = "no_proof"
)

// maxProofFailures is how many checks in a row a proof may be
// unobtainable (no answer) before it is an alarm.
const maxProofFailures = 3

// AuditAlarm is evidence, kept by a state node, that the secretariat's
// audit log is not one append-only log for every state: the two signed
// checkpoints, as received, that do not fit together.
type AuditAlarm struct {
	Kind AlarmKind
	// Peer is the state whose accepted checkpoint was compared; "" for the
	// checkpoint the secretariat published itself.
	Peer string
	// Mine is the checkpoint this node had accepted; Theirs the other one
	// (zero if it could not be read).
	Mine, Theirs             audit.Checkpoint
	MineSigned, TheirsSigned []byte
	// Detail says what failed, for people (escape it: it may quote the
	// secretariat).
	Detail string
	// At is when the node raised it.
	At time.Time
}

// gossipState is what the node remembers of the witness exchange.
type gossipState struct {
	mu        sync.Mutex
	published []byte            // the signed checkpoint last told to the others
	seen      map[string][]byte // per peer, the last message compared and settled
	failures  map[string]int    // per peer, checks in a row without a proof
	alarms    []AuditAlarm
	raised    map[string]bool
}

// AuditAlarms returns the alarms raised since the node started, oldest
// first: evidence that the secretariat's audit log forked or was
// rewritten. Each alarm is also logged at Error level with both signed
// checkpoints.
func (n *Node) AuditAlarms() []AuditAlarm {
	n.audit.gossip.mu.Lock()
	defer n.audit.gossip.mu.Unlock()
	return slices.Clone(n.audit.gossip.alarms)
}

// alarm records and logs an alarm, once per kind, peer and pair of
// checkpoints.
func (n *Node) alarm(kind AlarmKind, peer string, mine, theirs audit.Checkpoint, mineSigned, theirsSigned []byte, detail string) {
	key := fmt.Sprintf("%s %s %d %x %d %x", kind, peer, mine.Size, mine.Root, theirs.Size, theirs.Root)
	g := &n.audit.gossip
	g.mu.Lock()
	if g.raised[key] {
		g.mu.Unlock()
		return
	}
	if g.raised == nil {
		g.raised = map[string]bool{}
	}
	g.raised[key] = true
	g.alarms = append(g.alarms, AuditAlarm{Kind: kind, Peer: peer, Mine: mine, Theirs: theirs,
		MineSigned: bytes.Clone(mineSigned), TheirsSigned: bytes.Clone(theirsSigned), Detail: detail, At: n.now().UTC()})
	g.mu.Unlock()
	n.log.Error("audit log alarm: the secretariat's log is not one append-only log for every state",
		"kind", string(kind), "peer", peer, "mine_size", mine.Size, "theirs_size", theirs.Size, "detail", detail,
		"mine_checkpoint", string(mineSigned), "theirs_checkpoint", string(theirsSigned))
}

// gossip tells the other states the checkpoint this node accepted, and
// compares theirs with it.
func (n *Node) gossip(ctx context.Context) {
	n.publishWitnessed(ctx)
	for _, peer := range n.peers() {
		if ctx.Err() != nil {
			return
		}
		n.compareWith(ctx, peer)
	}
}

// publishWitnessed publishes the last accepted checkpoint if it changed.
func (n *Node) publishWitnessed(ctx context.Context) {
	_, signed, ok := n.audit.witness.Last()
	g := &n.audit.gossip
	g.mu.Lock()
	same := bytes.Equal(signed, g.published)
	g.mu.Unlock()
	if !ok || same {
		return
	}
	data, err := audit.WitnessedCheckpoint{State: n.self.State, Checkpoint: signed}.Marshal()
	if err == nil {
		err = n.bb.PublishWitnessed(ctx, data)
	}
	if err != nil {
		n.log.Warn("witnessed checkpoint not published", "err", err)
		return
	}
	g.mu.Lock()
	g.published = signed
	g.mu.Unlock()
}

// peers are the other states of the network: those of the directory,
// else every member state.
func (n *Node) peers() []string {
	var out []string
	var dir []nodeserver.DirectoryEntry
	if n.cfg.Directory != nil {
		dir = n.cfg.Directory()
	}
	for _, e := range dir {
		if p, err := identity.Parse(n.cfg.TrustDomain, e.ID); err == nil && p.State != "" && p.State != n.self.State {
			out = append(out, p.State)
		}
	}
	if len(out) == 0 {
		out = slices.DeleteFunc(region.Codes(), func(s string) bool { return s == n.self.State })
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// compareWith compares peer's last witnessed checkpoint with the one this
// node accepted, asking the secretariat for the proof between them.
func (n *Node) compareWith(ctx context.Context, peer string) {
	data, err := n.bb.Witnessed(ctx, peer)
	if err != nil {
		if !errors.Is(err, backbone.ErrNoWitness) {
			n.log.Debug("witnessed checkpoint not read", "peer", peer, "err", err)
		}
		return
	}
	g := &n.audit.gossip
	g.mu.Lock()
	settled := bytes.Equal(data, g.seen[peer])
	g.mu.Unlock()
	if settled {
		return
	}
	wc, err := audit.ParseWitnessedCheckpoint(data)
	if err == nil && wc.State != peer {
		err = fmt.Errorf("a witnessed checkpoint of %s published by %s", wc.State, peer)
	}
	if err != nil {
		n.log.Warn("witnessed checkpoint refused", "peer", peer, "err", err)
		n.settled(peer, data)
		return
	}
	n.judgePeer(ctx, peer, data, wc.Checkpoint)
}

// judgePeer compares peer's signed checkpoint with the witness's.
func (n *Node) judgePeer(ctx context.Context, peer string, data, theirs []byte) {
	_, err := n.audit.witness.Compare(ctx, theirs, n.requestProof)
	var fork *audit.ForkError
	switch {
	case err == nil:
		n.settled(peer, data)
	case errors.As(err, &fork):
		n.alarm(AlarmFork, peer, fork.Last, fork.New, fork.LastSigned, fork.NewSigned, fork.Err.Error())
		n.settled(peer, data)
	case errors.Is(err, audit.ErrSignature), errors.Is(err, audit.ErrOrigin), errors.Is(err, audit.ErrMalformedCheckpoint):
		n.log.Warn("witnessed checkpoint is not one of the secretariat's log", "peer", peer, "err", err)
		n.settled(peer, data)
	case errors.Is(err, errProofRefused) || n.proofFailed(peer):
		mine, mineSigned, _ := n.audit.witness.Last()
		n.alarm(AlarmNoProof, peer, mine, n.readCheckpoint(theirs), mineSigned, theirs, err.Error())
		n.settled(peer, data)
	default:
		n.log.Warn("witnessed checkpoint not compared yet", "peer", peer, "err", err)
	}
}

// settled remembers that peer's message data needs no more comparing.
func (n *Node) settled(peer string, data []byte) {
	g := &n.audit.gossip
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen, g.failures = map[string][]byte{}, map[string]int{}
	}
	g.seen[peer] = bytes.Clone(data)
	delete(g.failures, peer)
}

// proofFailed counts one more check without a proof for peer and reports
// whether that makes [maxProofFailures].
func (n *Node) proofFailed(peer string) bool {
	g := &n.audit.gossip
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failures == nil {
		g.seen, g.failures = map[string][]byte{}, map[string]int{}
	}
	g.failures[peer]++
	return g.failures[peer] >= maxProofFailures
}

// readCheckpoint reads a signed checkpoint of the log, zero if it is not.
func (n *Node) readCheckpoint(signed []byte) audit.Checkpoint {
	v, err := note.NewVerifier(n.cfg.Audit.VerifierKey)
	if err != nil {
		return audit.Checkpoint{}
	}
	cp, _ := audit.VerifyCheckpoint(signed, v.Name(), v)
	return cp
}
