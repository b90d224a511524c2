package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// resubscribeDelay is the pause before an analyst's subscription that
// ended with an error is opened again, after its last cursor.
const resubscribeDelay = 200 * time.Millisecond

// iantDriver posts as every state's focal point through the public gRPC
// API, and follows every state's analyst subscription to see deliveries.
type iantDriver struct {
	tag   string // marks this run's bulletins in their titles
	body  string
	log   *slog.Logger
	focal map[string]iantv1.BulletinServiceClient
	conns []*grpc.ClientConn

	mu     sync.Mutex
	phases map[int]*collector

	stop context.CancelFunc
	wg   sync.WaitGroup // subscriptions
}

// startIANT dials a focal point and an analyst of every state and opens
// the analysts' subscriptions from the start of their nodes' stores.
func startIANT(ctx context.Context, nw *testenv.Network, tag string, bodySize int, log *slog.Logger) (*iantDriver, error) {
	d := &iantDriver{tag: tag, body: makeBody(bodySize), log: log, focal: map[string]iantv1.BulletinServiceClient{}, phases: map[int]*collector{}}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	for _, s := range nw.States() {
		fp, err := d.dial(ctx, nw, testenv.FocalPoint(s))
		if err != nil {
			d.close()
			return nil, err
		}
		d.focal[s] = iantv1.NewBulletinServiceClient(fp)
		an, err := d.dial(ctx, nw, testenv.Analyst(s))
		if err != nil {
			d.close()
			return nil, err
		}
		cl := iantv1.NewBulletinServiceClient(an)
		d.wg.Go(func() { d.watch(life, s, cl) })
	}
	return d, nil
}

// dial connects as person p to their own node.
func (d *iantDriver) dial(ctx context.Context, nw *testenv.Network, p identity.Principal) (*grpc.ClientConn, error) {
	cc, err := nw.Context(p)
	if err != nil {
		return nil, err
	}
	conn, _, err := client.Dial(ctx, cc)
	if err != nil {
		return nil, err
	}
	d.conns = append(d.conns, conn)
	return conn, nil
}

// close ends the subscriptions and closes the connections.
func (d *iantDriver) close() {
	d.stop()
	for _, c := range d.conns {
		c.Close()
	}
	d.wg.Wait()
}

// register makes c receive the deliveries of phase id.
func (d *iantDriver) register(id int, c *collector) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.phases[id] = c
}

func (d *iantDriver) collector(id int) *collector {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.phases[id]
}

// sender posts the bulletins of phase id as their origin's focal point.
func (d *iantDriver) sender(id int) sender {
	return func(ctx context.Context, m message) error {
		resp, err := d.focal[m.origin].PostBulletin(ctx, &iantv1.PostBulletinRequest{Bulletin: d.draft(id, m)})
		if err != nil {
			return asRefusal(err)
		}
		if got := resp.GetBulletin().GetBulletin().GetRecipients(); !slices.Equal(got, m.recipients) {
			return fmt.Errorf("released to %v, want %v", got, m.recipients)
		}
		return nil
	}
}

// asRefusal turns a ResourceExhausted answer (admission control) into a
// *refusal with the retry hint it carries (a RetryInfo detail).
func asRefusal(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return err
	}
	r := &refusal{err: err}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			r.retryAfter = ri.GetRetryDelay().AsDuration()
		}
	}
	return r
}

// draft is the bulletin of m: FLASH (or ROUTINE), TLP:AMBER, released by
// name to m's recipients, its title naming run, phase and sequence.
func (d *iantDriver) draft(id int, m message) *iantv1.Bulletin {
	prec := iantv1.Precedence_PRECEDENCE_FLASH
	if m.routine {
		prec = iantv1.Precedence_PRECEDENCE_ROUTINE
	}
	return &iantv1.Bulletin{
		Title:         fmt.Sprintf("iant bench %s %d %d", d.tag, id, m.seq),
		Body:          d.body,
		Precedence:    prec,
		Category:      iantv1.Category_CATEGORY_OTHER,
		Language:      iantv1.Language_LANGUAGE_EN,
		Marking:       iantv1.Marking_MARKING_AMBER,
		Releasability: &iantv1.Releasability{States: m.recipients},
	}
}

// watch follows state's analyst subscription until ctx ends, resuming
// after the last cursor when the stream breaks.
func (d *iantDriver) watch(ctx context.Context, state string, cl iantv1.BulletinServiceClient) {
	var after uint64
	for {
		stream, err := cl.Subscribe(ctx, &iantv1.SubscribeRequest{FromStart: after == 0, AfterCursor: after})
		for err == nil {
			var resp *iantv1.SubscribeResponse
			if resp, err = stream.Recv(); err == nil {
				after = resp.GetBulletin().GetCursor()
				d.deliver(state, resp.GetBulletin(), time.Now())
			}
		}
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("bench subscription ended; resubscribing", "recipient", state, "err", err)
		if !sleepUntil(ctx, time.Now().Add(resubscribeDelay)) {
			return
		}
	}
}

// deliver hands a bulletin pushed to state's analyst to its phase.
func (d *iantDriver) deliver(state string, sb *iantv1.StoredBulletin, pushed time.Time) {
	if sb.GetDirection() != iantv1.Direction_DIRECTION_RECEIVED {
		return
	}
	id, seq, ok := parseTitle(sb.GetBulletin().GetTitle(), d.tag)
	if !ok {
		return // not this run's
	}
	if c := d.collector(id); c != nil {
		c.arrive(seq, state, sb.GetReceiveTime().AsTime(), pushed)
	}
}

// parseTitle reads phase and sequence from a title made by draft.
func parseTitle(title, tag string) (id, seq int, ok bool) {
	f := strings.Fields(title)
	if len(f) != 5 || f[0] != "iant" || f[1] != "bench" || f[2] != tag {
		return 0, 0, false
	}
	id, err1 := strconv.Atoi(f[3])
	seq, err2 := strconv.Atoi(f[4])
	return id, seq, errors.Join(err1, err2) == nil
}

// makeBody returns n bytes of ASCII text.
func makeBody(n int) string {
	const text = "Suspected travel of a foreign terrorist fighter through the region; details follow. "
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(text)
	}
	return b.String()[:n]
}
