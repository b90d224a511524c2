package backbone

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// Keeper timings.
const (
	// quotaTick is how often buckets are refilled and mappings updated,
	// pendingTick how often the inbox consumers' backlogs are read.
	quotaTick   = 50 * time.Millisecond
	pendingTick = time.Second
	// watchRetry is the wait before the inbox stream is looked for again.
	watchRetry = 250 * time.Millisecond
	// keeperPending bounds what the keeper's subscriptions buffer (it
	// only counts; a copy it misses is not counted).
	keeperPendingMsgs  = 1 << 16
	keeperPendingBytes = 256 << 20
	// recoverShare is the share of a bucket that must be back before an
	// origin over its rate may publish again; inboxRecover the share of
	// the cap an inbox must be back under.
	recoverShare = 0.1
	inboxRecover = 0.9
)

// keeperUser is the NATS user of a server's quota keeper: an nkey made at
// start whose seed never leaves the process, allowed only on in-process
// connections, that may read the inbox subjects, answer the diverted
// publishes, and nothing else. (Node users are mapped from their SVIDs;
// an nkey user is the one kind nats-server accepts beside them.)
type keeperUser struct{ kp nkeys.KeyPair }

func newKeeperUser() keeperUser {
	kp, err := nkeys.CreateUser()
	if err != nil {
		panic(fmt.Sprintf("backbone: quota keeper nkey: %v", err)) // crypto/rand failed
	}
	return keeperUser{kp: kp}
}

// public returns the user's public nkey, its name on the server.
func (u keeperUser) public() string {
	pub, err := u.kp.PublicKey()
	if err != nil {
		panic(fmt.Sprintf("backbone: quota keeper nkey: %v", err))
	}
	return pub
}

// bucket is a token bucket of copies and bytes.
type bucket struct {
	copies, bytes float64
	at            time.Time
}

// quotaKeeper enforces [QuotaConfig] on one server.
type quotaKeeper struct {
	q   QuotaConfig
	acc *server.Account
	ns  *server.Server
	nc  *nats.Conn
	log *slog.Logger

	mu       sync.Mutex
	buckets  map[string]*bucket // by origin
	overRate map[string]bool    // origins mapped away
	full     map[string]bool    // recipients mapped away
	refused  map[string]int     // copies refused since the last log, by origin

	life context.Context // ends at close
	end  context.CancelFunc
	wg   sync.WaitGroup
}

// startQuotaKeeper connects to ns in-process as u and starts enforcing q.
func startQuotaKeeper(ns *server.Server, q QuotaConfig, u keeperUser, log *slog.Logger) (*quotaKeeper, error) {
	acc, err := ns.LookupAccount(account)
	if err != nil {
		return nil, fmt.Errorf("quota keeper: %w", err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Nkey(u.public(), u.kp.Sign), nats.Name("iant quota keeper"),
		nats.CustomInboxPrefix(keeperReplyPrefix), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("quota keeper: connect: %w", err)
	}
	k := &quotaKeeper{q: q.withDefaults(), acc: acc, ns: ns, nc: nc, log: log, buckets: map[string]*bucket{},
		overRate: map[string]bool{}, full: map[string]bool{}, refused: map[string]int{}}
	k.life, k.end = context.WithCancel(context.Background())
	sub, err := nc.Subscribe(quotaSubjects, k.refuse)
	if err == nil {
		err = sub.SetPendingLimits(keeperPendingMsgs, keeperPendingBytes)
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		k.end()
		nc.Close()
		return nil, fmt.Errorf("quota keeper: subscribe %s: %w", quotaSubjects, err)
	}
	k.wg.Go(k.run)
	k.wg.Go(k.watch)
	return k, nil
}

// watch counts every copy the inbox stream stores, by origin: an ordered
// consumer of the stream's new messages, headers only (the subject names
// the origin, Nats-Msg-Size the size). A core subscription would see the
// publishes before they are stored, but it would also answer for a
// stream that does not exist yet: a publish would wait for its timeout
// instead of learning that there is no stream.
func (k *quotaKeeper) watch() {
	ctx := k.life
	js, err := jetstream.New(k.nc)
	if err != nil {
		k.log.Error("quota keeper: jetstream", "err", err)
		return
	}
	// From the keeper's start: a stream provisioned after it is counted
	// from its first copy, one restored from disk not for its past.
	since := time.Now()
	for ctx.Err() == nil {
		cons, err := js.OrderedConsumer(ctx, InboxStream, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since, HeadersOnly: true,
		})
		if err == nil {
			var cc jetstream.ConsumeContext
			if cc, err = cons.Consume(k.count); err == nil {
				select {
				case <-ctx.Done():
				case <-cc.Closed():
				}
				cc.Stop()
				continue
			}
		}
		k.log.Debug("quota keeper: inbox stream not watched yet", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(watchRetry):
		}
	}
}

// close stops the keeper and lifts its mappings.
func (k *quotaKeeper) close() {
	k.end()
	k.wg.Wait()
	k.nc.Close()
	k.mu.Lock()
	defer k.mu.Unlock()
	for o := range k.overRate {
		k.acc.RemoveMapping(rateSource(o))
	}
	for r := range k.full {
		k.acc.RemoveMapping(inboxSource(r))
	}
}

// count takes one copy stored in the inbox stream from its origin's
// bucket.
func (k *quotaKeeper) count(m jetstream.Msg) {
	_, origin, _, err := ParseInboxSubject(m.Subject())
	if err != nil {
		return
	}
	size, _ := strconv.Atoi(m.Headers().Get(msgSizeHeader))
	k.take(origin, size)
}

// take takes a copy of size bytes from origin's bucket.
func (k *quotaKeeper) take(origin string, size int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.refill(origin, time.Now())
	// The debt is bounded by one burst: an origin that stops flooding
	// may publish again within about one burst's time.
	capC, capB := k.capacity()
	b.copies = max(b.copies-1, -capC)
	b.bytes = max(b.bytes-float64(size), -capB)
}

// refill returns origin's bucket refilled up to now. Lock held.
func (k *quotaKeeper) refill(origin string, now time.Time) *bucket {
	capC, capB := k.capacity()
	b, ok := k.buckets[origin]
	if !ok {
		b = &bucket{copies: capC, bytes: capB, at: now}
		k.buckets[origin] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.copies = min(capC, b.copies+el*float64(k.q.OriginCopiesPerSecond))
		b.bytes = min(capB, b.bytes+el*float64(k.q.OriginBytesPerSecond))
		b.at = now
	}
	return b
}

func (k *quotaKeeper) capacity() (copies, bytes float64) {
	s := k.q.Burst.Seconds()
	return float64(k.q.OriginCopiesPerSecond) * s, float64(k.q.OriginBytesPerSecond) * s
}

// refuse answers a publish the server diverted with the 429 a stream
// gives when it refuses a message; one over its rate still spends its
// bucket, so a flood keeps its origin refused.
func (k *quotaKeeper) refuse(m *nats.Msg) {
	origin, reason, ok := parseQuotaSubject(m.Subject)
	if !ok {
		return
	}
	desc := quotaRateText
	if reason == quotaInbox {
		desc = quotaInboxText
	} else {
		k.take(origin, m.Size())
	}
	k.mu.Lock()
	k.refused[origin]++
	k.mu.Unlock()
	if m.Reply == "" {
		return
	}
	data, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 429, "err_code": quotaErrCode, "description": desc}})
	_ = m.Respond(data) // best effort: the publisher times out and retries otherwise
}

// quotaErrCode is the error code of the keeper's answers, apart from the
// server's own codes.
const quotaErrCode = 19429

// run refills buckets and updates the mappings until close.
func (k *quotaKeeper) run() {
	tick := time.NewTicker(quotaTick)
	defer tick.Stop()
	pending := time.NewTicker(pendingTick)
	defer pending.Stop()
	logged := time.Now()
	for {
		select {
		case <-k.life.Done():
			return
		case now := <-tick.C:
			k.enforceRates(now)
			if now.Sub(logged) >= 10*time.Second {
				k.logRefused()
				logged = now
			}
		case <-pending.C:
			k.enforceInboxes()
		}
	}
}

// reapply maps away again every origin and recipient it throttles, on
// the account as it is now: a configuration reload gives the account the
// configured mappings, none of the keeper's.
func (k *quotaKeeper) reapply() error {
	acc, err := k.ns.LookupAccount(account)
	if err != nil {
		return fmt.Errorf("quota keeper: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.acc = acc
	for o := range k.overRate {
		if err := acc.AddMapping(rateSource(o), rateDest(o)); err != nil {
			return fmt.Errorf("quota keeper: throttle %s again: %w", o, err)
		}
	}
	for r := range k.full {
		if err := acc.AddMapping(inboxSource(r), inboxDest(r)); err != nil {
			return fmt.Errorf("quota keeper: close the inbox of %s again: %w", r, err)
		}
	}
	return nil
}

// enforceRates maps away origins over their rate and lets back those
// whose buckets refilled enough.
func (k *quotaKeeper) enforceRates(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	capC, capB := k.capacity()
	for o := range k.buckets {
		b := k.refill(o, now)
		switch over := b.copies < 0 || b.bytes < 0; {
		case over && !k.overRate[o]:
			if err := k.acc.AddMapping(rateSource(o), rateDest(o)); err != nil {
				k.log.Error("quota: origin over its rate not throttled", "origin", o, "err", err)
				continue
			}
			k.overRate[o] = true
			k.log.Warn("quota: origin over its rate; its copies are refused", "origin", o,
				"copies_per_second", k.q.OriginCopiesPerSecond, "bytes_per_second", k.q.OriginBytesPerSecond)
		case k.overRate[o] && b.copies >= recoverShare*capC && b.bytes >= recoverShare*capB:
			k.acc.RemoveMapping(rateSource(o))
			delete(k.overRate, o)
			k.log.Info("quota: origin back under its rate", "origin", o)
		}
	}
}

// enforceInboxes maps away publishes to recipients whose inbox consumer
// has more than InboxPending copies unacked, and lets them back under
// 90% of it.
func (k *quotaKeeper) enforceInboxes() {
	d, err := k.ns.JszAccount(&server.JSzOptions{Account: account, Streams: true, Consumer: true})
	if err != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range d.Streams {
		if s.Name != InboxStream {
			continue
		}
		for _, ci := range s.Consumer {
			r, ok := strings.CutPrefix(ci.Name, InboxConsumer(""))
			if !ok || ci == nil {
				continue
			}
			n := ci.NumPending + uint64(ci.NumAckPending)
			switch {
			case n > uint64(k.q.InboxPending) && !k.full[r]:
				if err := k.acc.AddMapping(inboxSource(r), inboxDest(r)); err != nil {
					k.log.Error("quota: full inbox not closed", "recipient", r, "err", err)
					continue
				}
				k.full[r] = true
				k.log.Warn("quota: inbox over its cap; copies to it are refused until its node catches up", "recipient", r, "pending", n, "cap", k.q.InboxPending)
			case k.full[r] && float64(n) < inboxRecover*float64(k.q.InboxPending):
				k.acc.RemoveMapping(inboxSource(r))
				delete(k.full, r)
				k.log.Info("quota: inbox back under its cap", "recipient", r, "pending", n)
			}
		}
	}
}

// logRefused logs the copies refused since the last call.
func (k *quotaKeeper) logRefused() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for o, n := range k.refused {
		k.log.Warn("quota: copies refused", "origin", o, "copies", n)
	}
	clear(k.refused)
}

// msgSizeHeader carries a message's payload size to a headers-only
// consumer.
const msgSizeHeader = "Nats-Msg-Size"
