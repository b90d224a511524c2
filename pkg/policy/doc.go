// Package policy decides, per bulletin, who may post it, which member
// states it is released to, who may read it, who may share it onward,
// and along its life who may revise, revoke and reply to it.
// The meaning of a bulletin's marking (TLP 2.0), releasability, caveats and
// conditions lives in a network-wide Cedar policy set kept as text in
// deploy/policies (network.cedar, validated against network.cedarschema);
// this package loads it with cedar-go and asks it four questions.
//
//	set, err := policy.Load("deploy/policies")      // parse + validate; errors name file:line:col
//	eng := policy.NewEngine(set)
//	if err := policy.CheckConditions(b.Conditions); err != nil { ... } // *problem.Error, field "conditions"
//	if err := eng.Post(author, b).Err(); err != nil { ... }            // *problem.Error, kind Permission, Rule = policy id
//	to, refused := eng.Recipients(b)                // release: one copy per allowed state
//	d := eng.Read(person, policy.PersonAttrs{LawEnforcement: true}, b)
//	d = eng.Forward(focalPoint, b, "CO", consent)
//	d = eng.Revise(focalPoint, revision, previousMarking) // and eng.Post(focalPoint, revision)
//	d = eng.Revoke(focalPoint, b)
//	d = eng.Reply(person, attrs, b, policy.Reply{Kind: bulletin.ReplyRFI, Marking: b.Marking})
//	eng = policy.NewEngine(set, policy.WithClock(now))  // context.now of every decision
//	fmt.Print(eng.ExplainRead(person, attrs, b))    // every policy and whether it matched
//	err = eng.Reload("deploy/policies")             // swap atomically; a bad set keeps the old one
//
// # Decision points
//
//   - post: the principal is the author (a Person; a Node is refused). Only
//     focal points post, each for their own state; FLASH and TLP:RED stay
//     with focal points; RED names its states one by one and AMBER+STRICT is
//     never released to all.
//   - release: the principal is the recipient state's Node. Only states in
//     the releasability resolved by [bulletin.Recipients] get a copy; RED
//     only the states listed by name; AMBER+STRICT never through "all".
//   - read: the principal is a Person at a node holding the bulletin (its
//     origin or a recipient). Focal points read everything; analysts all but
//     RED; the law-enforcement-only caveat admits focal points and people
//     whose [PersonAttrs] say LawEnforcement; auditors never read bodies.
//   - forward: a focal point of a state holding the bulletin shares it with
//     another member state. CLEAR and GREEN go freely; AMBER, AMBER+STRICT,
//     RED, no-onward-sharing and originator-consent-required need the
//     originator's consent.
//   - revise, revoke: only the origin's focal points; a revision does not
//     loosen the marking (its own rule, revise-marking-not-looser).
//   - reply: focal points of a state holding the bulletin (not its
//     origin), analysts for sightings and notes, marked at least as
//     strictly as the bulletin.
//
// Every request's context holds the time of the decision, context.now (a
// Cedar datetime, the engine's clock), and the bulletin its creation and
// expiry (resource.created, resource.expires), so rules can depend on
// time: read-expired leaves an expired bulletin to its origin's focal
// points.
//
// Each policy has an @id annotation, its stable name in a [Decision], in a
// refusal ([Decision.Err]) and in the audit log, and an @doc annotation,
// the public reason. A request is allowed when a permit matches and no
// forbid does; when none matches the id is [DefaultDeny]. A forbid that
// fails to evaluate refuses too.
//
// # Bulletin conditions
//
// A bulletin may carry extra Cedar conditions ([bulletin.Bulletin.Conditions]).
// They must be forbid policies only, so they can narrow the network set but
// never widen it: a permit is refused by [CheckConditions]. They take part
// in all four decisions. Each Set compiles them once and caches them by the
// SHA-256 of their text in a bounded LRU. Conditions that do not fit the
// set's schema refuse the bulletin to everyone ([ConditionsInvalid]);
// [Engine.CheckConditions] catches that at post.
//
// # Schema validation
//
// Policies and conditions are type-checked against the schema with
// cedar-go's experimental validator (x/exp/schema/validate, strict mode):
// unknown entity types, attributes, actions and ill-typed expressions are
// errors. cedar-go v1.9.1 is pinned; the x/exp API may change with it.
//
// # Concurrency
//
// A [Set] is immutable apart from its conditions cache, which has its own
// mutex; an [Engine] holds its set in an atomic pointer. Every method of
// both is safe for concurrent use. A decision reads the set once, so it
// runs wholly under the old or wholly under the new set during a
// [Engine.Reload]; reloads are not ordered among themselves (the last to
// store wins). Nothing here does I/O except [Load], [LoadFiles] and
// [Engine.Reload].
package policy
