package policy

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"

	cedar "github.com/cedar-policy/cedar-go"
	xast "github.com/cedar-policy/cedar-go/x/exp/ast"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Limits on a bulletin's conditions ([bulletin.Bulletin.Conditions]).
const (
	MaxConditionsBytes = 4 << 10
	MaxConditions      = 8
)

// conditionsFile names the conditions in positions and errors.
const conditionsFile = "conditions"

// condCacheSize bounds the compiled conditions a Set keeps.
const condCacheSize = 1024

// CheckConditions checks a bulletin's conditions text on its own: at most
// [MaxConditionsBytes] bytes, it parses as Cedar, it holds at most
// [MaxConditions] policies, every one a forbid (a permit could widen the
// network policy), and any @id is a readable slug used once. Empty text is
// valid. Errors are *problem.Error of kind Invalid, field "conditions".
//
// It does not check the conditions against the network schema; use
// [Engine.CheckConditions] at post for that.
func CheckConditions(text string) error {
	_, err := parseConditions(text)
	return err
}

// CheckConditions is [CheckConditions] and, in addition, validates the
// conditions against the schema of the engine's current set and refuses an
// @id that a network policy already uses. Conditions failing this would
// refuse the bulletin to everyone ([ConditionsInvalid]).
func (e *Engine) CheckConditions(text string) error {
	return e.set.Load().conditions(text).err
}

// compiled is a bulletin's conditions prepared for one Set.
type compiled struct {
	rules []*rule
	err   error // a *problem.Error; the bulletin is then refused
}

var noConditions = &compiled{}

// parseConditions applies the checks of [CheckConditions].
func parseConditions(text string) ([]*rule, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if len(text) > MaxConditionsBytes {
		return nil, problem.Invalid("conditions", "conditions are %d bytes, the limit is %d", len(text), MaxConditionsBytes)
	}
	list, err := cedar.NewPolicyListFromBytes(conditionsFile, []byte(text))
	if err != nil {
		return nil, problem.Invalid("conditions", "conditions do not parse: %s", cedarParseMsg(err, conditionsFile))
	}
	if len(list) > MaxConditions {
		return nil, problem.Invalid("conditions", "conditions hold %d policies, the limit is %d", len(list), MaxConditions)
	}
	rules := make([]*rule, len(list))
	seen := map[string]bool{}
	for i, p := range list {
		r := newRule(p, "bulletin")
		switch {
		case !r.forbid:
			return nil, problem.Invalid("conditions", "condition %d at %s is a permit: conditions may only forbid, they never widen the network policy", i, posString(r.pos))
		case r.id == "":
			r.id = fmt.Sprintf("bulletin-condition-%d", i)
		default:
			if err := checkID(r.id); err != nil {
				return nil, problem.Invalid("conditions", "condition %d at %s: %v", i, posString(r.pos), err)
			}
		}
		if seen[r.id] {
			return nil, problem.Invalid("conditions", "condition %d at %s: @id %q is used twice", i, posString(r.pos), r.id)
		}
		seen[r.id] = true
		rules[i] = r
	}
	return rules, nil
}

// conditions returns text compiled for s, from the cache when it can.
func (s *Set) conditions(text string) *compiled {
	if text == "" {
		return noConditions
	}
	key := sha256.Sum256([]byte(text))
	if c, ok := s.conds.get(key); ok {
		return c
	}
	c := s.compile(text)
	s.conds.put(key, c)
	return c
}

// compile checks text as CheckConditions does, then against s: ids unused
// by the network set and every condition valid under s's schema.
func (s *Set) compile(text string) *compiled {
	rules, err := parseConditions(text)
	if err != nil {
		return &compiled{err: err}
	}
	for i, r := range rules {
		if _, clash := s.byID[r.id]; clash {
			return &compiled{err: problem.Invalid("conditions", "condition %d: @id %q is a network policy id", i, r.id)}
		}
		if s.validator == nil {
			continue
		}
		if err := s.validator.Policy(r.id, (*xast.Policy)(r.policy.AST())); err != nil {
			return &compiled{err: problem.Invalid("conditions", "condition %d at %s does not fit the network schema: %s", i, posString(r.pos), oneLine(err))}
		}
	}
	return &compiled{rules: rules}
}

// CacheStats counts the compiled-conditions cache of a Set.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// ConditionsCacheStats reports the conditions cache of the current set.
// A reload starts a new, empty cache.
func (e *Engine) ConditionsCacheStats() CacheStats {
	return e.set.Load().conds.stats()
}

// condCache is a bounded LRU from the SHA-256 of a conditions text to its
// compiled form. Errors are cached too, so bad text is parsed once.
type condCache struct {
	max int

	mu     sync.Mutex
	order  *list.List // of *condEntry, most recent first
	byKey  map[[32]byte]*list.Element
	hits   uint64
	misses uint64
}

type condEntry struct {
	key [32]byte
	c   *compiled
}

func newCondCache(max int) *condCache {
	return &condCache{max: max, order: list.New(), byKey: make(map[[32]byte]*list.Element)}
}

func (c *condCache) get(key [32]byte) (*compiled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(el)
	return el.Value.(*condEntry).c, true
}

func (c *condCache) put(key [32]byte, v *compiled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&condEntry{key: key, c: v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*condEntry).key)
	}
}

func (c *condCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits, Misses: c.misses, Entries: c.order.Len()}
}
