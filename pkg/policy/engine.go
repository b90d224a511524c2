package policy

import (
	"fmt"
	"sync/atomic"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Engine decides requests against the current network [Set], which
// [Engine.Reload] swaps atomically, at the time of its clock (every
// request's context.now). An Engine is safe for concurrent use.
type Engine struct {
	set atomic.Pointer[Set]
	obs atomic.Pointer[Observer]
	now func() time.Time
}

// Observer is told of each decision an engine makes: its decision point
// ("post", "release", "read", "forward", "revise", "revoke" or "reply")
// and the decision. It must be
// quick and safe for concurrent use: it runs on the deciding goroutine.
type Observer func(point string, d Decision)

// Observe makes o the engine's observer (one at a time: a later call
// replaces it; nil removes it). A node counts decisions by rule this way.
func (e *Engine) Observe(o Observer) {
	if o == nil {
		e.obs.Store(nil)
		return
	}
	e.obs.Store(&o)
}

// observed tells the observer, if any, of d at a and returns d.
func (e *Engine) observed(a action, d Decision) Decision {
	if o := e.obs.Load(); o != nil {
		(*o)(actionNames[a], d)
	}
	return d
}

// EngineOption configures an [Engine].
type EngineOption interface{ apply(*Engine) }

type clockOption func() time.Time

func (c clockOption) apply(e *Engine) { e.now = c }

// WithClock makes now the engine's clock, the context.now of every
// decision; the default is time.Now.
func WithClock(now func() time.Time) EngineOption { return clockOption(now) }

// NewEngine returns an engine deciding with s. It panics if s is nil.
func NewEngine(s *Set, opts ...EngineOption) *Engine {
	if s == nil {
		panic("policy: NewEngine with a nil Set")
	}
	e := &Engine{now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.apply(e)
		}
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.set.Store(s)
	return e
}

// At returns an engine deciding with e's current set at the fixed time t:
// what a decision table asks.
func (e *Engine) At(t time.Time) *Engine {
	return NewEngine(e.set.Load(), WithClock(func() time.Time { return t }))
}

// Set returns the set the engine decides with now.
func (e *Engine) Set() *Set { return e.set.Load() }

// Reload loads dir as [Load] does and, if it parses and validates, makes
// it the engine's set; decisions already running finish with the old set.
// On error the old set stays in force and the error says why.
func (e *Engine) Reload(dir string) error {
	s, err := Load(dir)
	if err != nil {
		return fmt.Errorf("%w (the previous set stays in force)", err)
	}
	e.set.Store(s)
	return nil
}

// Post decides whether p may issue b: b.Origin must already be set. The
// bulletin's own conditions take part (a bulletin whose conditions refuse
// its author is refused at post).
func (e *Engine) Post(p identity.Principal, b *bulletin.Bulletin) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actPost, s.decide(actPost, principalEntity(p, PersonAttrs{}), res, nowContext(e.now()), b.Conditions))
}

// Release decides whether b is released to the node of state.
func (e *Engine) Release(b *bulletin.Bulletin, state string) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actRelease, s.decide(actRelease, nodeEntity(state, identity.RoleNode), res, nowContext(e.now()), b.Conditions))
}

// Recipients decides [Engine.Release] for each state b is released to:
// b.Recipients when the node resolved them (among the current members,
// [bulletin.Resolve]), else b's releasability resolved with
// [bulletin.Recipients]. allowed lists the states that get a copy
// (sorted), refused the others with the refusing decision, so no state is
// dropped silently. refused is nil when every state is allowed.
func (e *Engine) Recipients(b *bulletin.Bulletin) (allowed []string, refused map[string]Decision) {
	s := e.set.Load()
	states := holders(b)
	res := bulletinEntity(b, states)
	conds := s.conditions(b.Conditions)
	ctx := nowContext(e.now())
	for _, st := range states {
		d := e.observed(actRelease, s.decideWith(actRelease, nodeEntity(st, identity.RoleNode), res, ctx, conds))
		if d.Allowed {
			allowed = append(allowed, st)
			continue
		}
		if refused == nil {
			refused = make(map[string]Decision)
		}
		refused[st] = d
	}
	return allowed, refused
}

// Read decides whether person p, with attrs from the node's attribute
// table, may read the body of b at a node that holds it.
func (e *Engine) Read(p identity.Principal, attrs PersonAttrs, b *bulletin.Bulletin) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actRead, s.decide(actRead, principalEntity(p, attrs), res, nowContext(e.now()), b.Conditions))
}

// ReadBatch decides [Engine.Read] for each of bs with one set and one
// principal, as a node filtering a list does; the result is in bs order.
func (e *Engine) ReadBatch(p identity.Principal, attrs PersonAttrs, bs []*bulletin.Bulletin) []Decision {
	s := e.set.Load()
	who := principalEntity(p, attrs)
	ctx := nowContext(e.now())
	out := make([]Decision, len(bs))
	for i, b := range bs {
		res := bulletinEntity(b, holders(b))
		out[i] = e.observed(actRead, s.decide(actRead, who, res, ctx, b.Conditions))
	}
	return out
}

// Forward decides whether p may share b onward with the member state
// target; originatorConsent says whether the origin state consented.
func (e *Engine) Forward(p identity.Principal, b *bulletin.Bulletin, target string, originatorConsent bool) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actForward, s.decide(actForward, principalEntity(p, PersonAttrs{}), res, forwardContext(e.now(), target, originatorConsent), b.Conditions))
}

// Revise decides whether p may publish b, with its releasability and
// marking, as the revision of a bulletin whose last revision was marked
// previous: only the origin's focal points revise, and loosening the
// marking is a decision of its own (rule revise-marking-not-looser in the
// reviewed set). The caller decides [Engine.Post] on b too.
func (e *Engine) Revise(p identity.Principal, b *bulletin.Bulletin, previous bulletin.Marking) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actRevise, s.decide(actRevise, principalEntity(p, PersonAttrs{}), res, reviseContext(e.now(), previous), b.Conditions))
}

// Revoke decides whether p may revoke b: only the origin's focal points.
func (e *Engine) Revoke(p identity.Principal, b *bulletin.Bulletin) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actRevoke, s.decide(actRevoke, principalEntity(p, PersonAttrs{}), res, nowContext(e.now()), b.Conditions))
}

// Reply is what a reply's decision looks at besides the bulletin replied
// to.
type Reply struct {
	// Kind is what the reply is.
	Kind bulletin.ReplyKind
	// Marking is the reply's marking.
	Marking bulletin.Marking
	// ToRecipients says the reply goes to every state b was released to,
	// not to its origin only.
	ToRecipients bool
}

// Reply decides whether person p, with attrs, may reply r to b, held at
// p's node: focal points reply, analysts send sightings and notes; a
// reply is marked at least as strictly as b.
func (e *Engine) Reply(p identity.Principal, attrs PersonAttrs, b *bulletin.Bulletin, r Reply) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return e.observed(actReply, s.decide(actReply, principalEntity(p, attrs), res, replyContext(e.now(), r), b.Conditions))
}

// decide runs one request with the bulletin's conditions text.
func (s *Set) decide(a action, principal, res cedar.Entity, ctx cedar.Record, conditions string) Decision {
	return s.decideWith(a, principal, res, ctx, s.conditions(conditions))
}

// decideWith runs one request with compiled conditions.
func (s *Set) decideWith(a action, principal, res cedar.Entity, ctx cedar.Record, c *compiled) Decision {
	if c.err != nil {
		return Decision{PolicyIDs: []string{ConditionsInvalid},
			Reason: "the bulletin's conditions are not valid under the network policy, so it is refused to everyone"}
	}
	req := cedar.Request{Principal: principal.UID, Action: actionUIDs[a], Resource: res.UID, Context: ctx}
	return authorize(s.byAction[a], c.rules, &pair{principal: principal, resource: res}, req)
}

// holders are the states holding b, without its origin: the recipients the
// origin node resolved and released to (b.Recipients), which a receiving
// node may extend by its own state after an allowed forward. A draft
// without recipients falls back to its resolved releasability.
func holders(b *bulletin.Bulletin) []string {
	if len(b.Recipients) > 0 {
		return b.Recipients
	}
	return bulletin.Recipients(b.Origin, b.Releasability)
}

// Translate decides whether person p, with attrs, may add a translation
// into lang to b, held at p's node: focal points of a state b was
// released to, not its origin's (which revises its own).
func (e *Engine) Translate(p identity.Principal, attrs PersonAttrs, b *bulletin.Bulletin, lang bulletin.Language) Decision {
	s := e.set.Load()
	res := bulletinEntity(b, holders(b))
	return s.decide(actTranslate, principalEntity(p, attrs), res, translateContext(e.now(), lang), b.Conditions)
}
