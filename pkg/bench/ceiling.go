package bench

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// sealer seals and opens bulletins as the nodes do, with keys of its own
// for every state of the network.
type sealer struct {
	td   spiffeid.TrustDomain
	body string
	keys map[string]*seal.NodeKeys
	pubs map[string]seal.PublicKeys
}

func newSealer(td spiffeid.TrustDomain, states []string, body string) (*sealer, error) {
	s := &sealer{td: td, body: body, keys: map[string]*seal.NodeKeys{}, pubs: map[string]seal.PublicKeys{}}
	for _, st := range states {
		k, err := seal.GenerateNodeKeys(st)
		if err != nil {
			return nil, err
		}
		s.keys[st], s.pubs[st] = k, k.Public()
	}
	return s, nil
}

// plaintext is the serialized bulletin a node seals for m.
func (s *sealer) plaintext(m message, id string, now time.Time) ([]byte, error) {
	b := &iantv1.Bulletin{
		Id: id, Origin: m.origin, Author: testenv.FocalPoint(m.origin).ID(s.td).String(),
		CreateTime: timestamppb.New(now), Title: fmt.Sprintf("iant bench ceiling 0 %d", m.seq), Body: s.body,
		Precedence: iantv1.Precedence_PRECEDENCE_FLASH, Category: iantv1.Category_CATEGORY_OTHER,
		Language: iantv1.Language_LANGUAGE_EN, Marking: iantv1.Marking_MARKING_AMBER,
		Releasability: &iantv1.Releasability{States: m.recipients}, Recipients: m.recipients,
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(b)
}

// cost is what one bulletin took.
type cost struct {
	seal, open      time.Duration // open: all recipients together
	plain, sealedSz int
}

// once seals m and marshals each recipient's copy, as a node does, then
// unmarshals and opens each copy at its recipient. The sealed size is
// that of one copy.
func (s *sealer) once(m message) (cost, error) {
	now := time.Now()
	t0 := now
	id := ulid.Make().String()
	pt, err := s.plaintext(m, id, now)
	if err != nil {
		return cost{}, err
	}
	to := make([]seal.PublicKeys, len(m.recipients))
	for i, r := range m.recipients {
		to[i] = s.pubs[r]
	}
	sealed, err := seal.Seal(seal.Header{
		ID: id, Origin: m.origin, Signer: testenv.NodePrincipal(m.origin).ID(s.td).String(),
		Precedence: int32(iantv1.Precedence_PRECEDENCE_FLASH), Marking: int32(iantv1.Marking_MARKING_AMBER),
		Recipients: m.recipients, CreatedAt: now,
	}, pt, to, s.keys[m.origin])
	if err != nil {
		return cost{}, err
	}
	cs, err := sealed.Copies()
	if err != nil {
		return cost{}, err
	}
	copies := make([][]byte, len(cs))
	for i, c := range cs {
		if copies[i], err = c.Marshal(); err != nil {
			return cost{}, err
		}
	}
	t1 := time.Now()
	lookup := func(origin, keyID string) (seal.SignerKey, error) {
		if p := s.pubs[origin]; p.SignKeyID == keyID {
			return seal.SignerKey{Public: ed25519.PublicKey(p.SignPublic)}, nil
		}
		return seal.SignerKey{}, fmt.Errorf("unknown signing key %s of %s", keyID, origin)
	}
	for i, r := range m.recipients {
		got, err := seal.Unmarshal(copies[i])
		if err != nil {
			return cost{}, err
		}
		if _, err := seal.Open(got, r, s.keys[r], lookup, seal.Policy{TrustDomain: s.td}, now); err != nil {
			return cost{}, err
		}
	}
	return cost{seal: t1.Sub(t0), open: time.Since(t1), plain: len(pt), sealedSz: len(copies[0])}, nil
}

// sizes seals the first bulletin of each fan-out in plan and returns the
// size of one recipient's copy by fan-out.
func (s *sealer) sizes(plan []message) (map[int]int, error) {
	out := map[int]int{}
	for _, m := range plan {
		if _, ok := out[len(m.recipients)]; ok {
			continue
		}
		c, err := s.once(m)
		if err != nil {
			return nil, err
		}
		out[len(m.recipients)] = c.sealedSz
	}
	return out, nil
}

// ceiling seals and opens plan's bulletins round robin on every CPU for
// for d and reports the rate.
func (s *sealer) ceiling(ctx context.Context, plan []message, d time.Duration) (Ceiling, error) {
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var mu sync.Mutex
	var total cost
	var n int
	var firstErr error
	cpu0, t0 := cpuTime(), time.Now()
	deadline := t0.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				c, err := s.once(plan[int(next.Add(1)-1)%len(plan)])
				mu.Lock()
				if err != nil {
					firstErr = cmpErr(firstErr, err)
				} else {
					n++
					total.seal, total.open = total.seal+c.seal, total.open+c.open
					total.plain, total.sealedSz = total.plain+c.plain, total.sealedSz+c.sealedSz
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	el, cpu := time.Since(t0), cpuTime()-cpu0
	if firstErr != nil {
		return Ceiling{}, fmt.Errorf("seal and open: %w", firstErr)
	}
	if n == 0 {
		return Ceiling{}, ctx.Err()
	}
	opens := 0
	for i := range n {
		opens += len(plan[i%len(plan)].recipients)
	}
	return Ceiling{
		Bulletins: n, Workers: workers, PerSecond: round3(float64(n) / el.Seconds()),
		CPUPerBulletin: round6(cpu.Seconds() / float64(n)),
		SealMs:         ms(total.seal / time.Duration(n)), OpenMs: ms(total.open / time.Duration(opens)),
		PlaintextBytes: round3(float64(total.plain) / float64(n)), SealedBytes: round3(float64(total.sealedSz) / float64(n)),
	}, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
