package backbone

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// This file is the only place where NATS subjects, streams, consumers and
// accounts are named (STYLE.md §2). Permissions are built here too, so that
// a new subject and the right to use it are added side by side.

// InboxStream is the JetStream stream holding every released copy of a
// bulletin, on subjects [InboxSubject].
const InboxStream = "IANT_INBOX"

// Subject layout of the inbox stream. Room is left beside it for receipts
// ("iant.receipt.<origin>.<recipient>...") and the directory KV bucket.
const (
	inboxRoot     = "iant.inbox"     // iant.inbox.<recipient>.<origin>.<id>
	inboxSubjects = inboxRoot + ".>" // the stream's subject filter

	secretariatScope = "SECRETARIAT" // stands for the secretariat where a state code would go
	replyRoot        = "_INBOX_"     // per-principal custom inbox prefix root

	account = "IANT" // the one NATS account every node user lives in

	jsAPI       = "$JS.API."
	jsDomainAPI = "$JS." + HubDomain + ".API."
	jsAck       = "$JS.ACK."
)

// InboxSubject returns the subject of the copy of bulletin id released by
// state origin to state recipient: "iant.inbox.<recipient>.<origin>.<id>".
// It does not validate its arguments; [Client.PublishInbox] does.
func InboxSubject(recipient, origin, id string) string {
	return inboxRoot + "." + recipient + "." + origin + "." + id
}

// ParseInboxSubject splits an inbox subject made by [InboxSubject]. It
// returns an error wrapping [ErrInvalidSubject] if subj is not of the form
// "iant.inbox.<recipient>.<origin>.<id>" with three valid tokens.
func ParseInboxSubject(subj string) (recipient, origin, id string, err error) {
	rest, ok := strings.CutPrefix(subj, inboxRoot+".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q is not an inbox subject", ErrInvalidSubject, subj)
	}
	toks := strings.Split(rest, ".")
	if len(toks) != 3 {
		return "", "", "", fmt.Errorf("%w: %q has %d tokens after %q, want 3", ErrInvalidSubject, subj, len(toks), inboxRoot)
	}
	for _, t := range toks {
		if err := checkToken(t); err != nil {
			return "", "", "", fmt.Errorf("%w: %q: %v", ErrInvalidSubject, subj, err)
		}
	}
	return toks[0], toks[1], toks[2], nil
}

// checkToken accepts 1 to 128 characters of A-Z, a-z, 0-9, '-' and '_':
// enough for state codes and ULIDs, and never a NATS wildcard, separator,
// whitespace or '$'.
func checkToken(t string) error {
	if t == "" || len(t) > 128 {
		return fmt.Errorf("token %q must be 1 to 128 characters", t)
	}
	for _, c := range t {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("token %q may hold only A-Z, a-z, 0-9, '-' and '_'", t)
		}
	}
	return nil
}

// KeptDirectoryStream is the stream, in a leaf node's own JetStream, that
// keeps the last directory entry the node read from the backbone for each
// state, so that sealing can go on while the link to the backbone is cut.
const KeptDirectoryStream = "IANT_DIRECTORY_KEPT"

// Subjects of a leaf node's own JetStream.
const (
	keptRoot       = "iant.kept.directory" // iant.kept.directory.<state>
	leafDomainRoot = "leaf"                // leaf-<state>-<node name>
)

// legacyOutboxStream is the stream, in a leaf node's own JetStream, where
// earlier versions queued copies for the backbone, on subjects
// "iant.outbox.<recipient>.<origin>.<id>". Copies are now queued in the
// node's database; what an upgraded leaf still holds there is handed over
// once ([Client.TakeLegacyOutbox]) and the stream removed.
const (
	legacyOutboxStream = "IANT_OUTBOX"
	legacyOutboxRoot   = "iant.outbox"
)

// parseLegacyOutboxSubject splits a subject of [legacyOutboxStream]; its
// tokens are those of [InboxSubject].
func parseLegacyOutboxSubject(subj string) (recipient, origin, id string, err error) {
	rest, ok := strings.CutPrefix(subj, legacyOutboxRoot+".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q is not an outbox subject", ErrInvalidSubject, subj)
	}
	return ParseInboxSubject(inboxRoot + "." + rest)
}

// keptSubject is the subject of state's kept directory entry.
func keptSubject(state string) string { return keptRoot + "." + state }

// LeafDomain returns the JetStream domain of the leaf node embedded by
// node p, e.g. "leaf-MX-node": distinct from [HubDomain] and from every
// other node's, as JetStream domains must differ across a leaf link. A
// '.' of the node name, which cannot appear in a domain, becomes '_'.
func LeafDomain(p identity.Principal) string {
	return leafDomainRoot + "-" + p.State + "-" + strings.ReplaceAll(p.Name, ".", "_")
}

// inboxFilter is the filter subject of state's inbox consumer.
func inboxFilter(state string) string { return inboxRoot + "." + state + ".>" }

// msgID is the Nats-Msg-Id of a copy: "<recipient>/<origin>/<id>/<digest>",
// where digest is the first 16 bytes of the SHA-256 of the copy, base64url.
// A publish retried within [DuplicateWindow] carries the same bytes (the
// node's outbox keeps them), so it is stored once.
//
// Why the origin and the digest. The stream de-duplicates by Nats-Msg-Id
// alone, across all its subjects (nats-server stream.go checkMsgId), and
// the header is whatever the publisher writes: subject permissions keep a
// state to its own origin subjects ([originPermissions]) but not to its
// own ids. With "<recipient>/<id>", any state that learned a bulletin id
// could publish first, under its own origin, with that header, and the
// origin's genuine copy would be acknowledged as a duplicate and never
// stored. The origin names whose copy it is; the digest of bytes that no
// other state sees before they are stored (the copy carries a fresh
// content key) makes the id impossible to claim in advance. So a publish
// acknowledged as a duplicate hit this origin's own earlier publish of
// these very bytes.
func msgID(recipient, origin, id string, data []byte) string {
	sum := sha256.Sum256(data)
	return recipient + "/" + origin + "/" + id + "/" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Quota subjects (quota.go): while a quota is exceeded the server maps
// inbox subjects to "iant.quota.<origin>.<reason>.<recipient>.<id>",
// which no stream stores and the quota keeper answers. The origin comes
// first so that a state's permission to be mapped there is one subject.
const (
	quotaRoot         = "iant.quota"
	quotaSubjects     = quotaRoot + ".>"
	keeperReplyPrefix = replyRoot + "QUOTA" // the keeper's own replies
)

// rateSource and rateDest map an origin over its rate away from the
// stream.
func rateSource(origin string) string { return inboxRoot + ".*." + origin + ".*" }
func rateDest(origin string) string {
	return quotaRoot + "." + origin + "." + quotaRate + ".{{wildcard(1)}}.{{wildcard(2)}}"
}

// inboxSource and inboxDest map copies to a recipient whose inbox is full
// away from the stream.
func inboxSource(recipient string) string { return inboxRoot + "." + recipient + ".*.*" }
func inboxDest(recipient string) string {
	return quotaRoot + ".{{wildcard(1)}}." + quotaInbox + "." + recipient + ".{{wildcard(2)}}"
}

// parseQuotaSubject reads origin and reason from a quota subject.
func parseQuotaSubject(subj string) (origin, reason string, ok bool) {
	rest, ok := strings.CutPrefix(subj, quotaRoot+".")
	if !ok {
		return "", "", false
	}
	toks := strings.Split(rest, ".")
	if len(toks) != 4 || (toks[1] != quotaRate && toks[1] != quotaInbox) {
		return "", "", false
	}
	return toks[0], toks[1], true
}

// quotaPermissions let a state node's copies be mapped to its quota
// subjects: the server checks publish permissions on the mapped subject.
// Publishing there directly only earns a refusal from the keeper.
func quotaPermissions(state string) []string { return []string{quotaRoot + "." + state + ".>"} }

// keeperPermissions let a server's quota keeper follow the inbox stream
// (an ordered consumer of the new copies' headers) and answer the copies
// mapped away; it publishes nothing else.
func keeperPermissions() permissions {
	return permissions{
		Publish: []string{
			jsAPI + "STREAM.INFO." + InboxStream,
			jsAPI + "CONSUMER.CREATE." + InboxStream + ".>",
			jsAPI + "CONSUMER.DELETE." + InboxStream + ".>",
			jsAPI + "CONSUMER.INFO." + InboxStream + ".>",
			jsAPI + "CONSUMER.MSG.NEXT." + InboxStream + ".>",
		},
		Subscribe: []string{quotaSubjects, keeperReplyPrefix + ".>"},
		Respond:   true,
	}
}

// InboxConsumer returns the durable name of state's inbox consumer on
// [InboxStream], e.g. "inbox-MX".
func InboxConsumer(state string) string { return "inbox-" + state }

// ReplayConsumer returns the name of state's replay consumer on
// [InboxStream], e.g. "replay-MX": the same copies as its inbox consumer,
// read again by a node that lost its database ([Client.ReplayInbox]).
func ReplayConsumer(state string) string { return "replay-" + state }

// ReplyPrefix returns the custom inbox prefix of a state's connections,
// e.g. "_INBOX_MX"; for the secretariat (state "") it is
// "_INBOX_SECRETARIAT". Each principal may subscribe only below its own
// prefix, so no node can read the replies (pulled messages, acks, API
// answers) of another.
func ReplyPrefix(state string) string {
	if state == "" {
		return replyRoot + secretariatScope
	}
	return replyRoot + state
}

// permissions are the NATS subject permissions of one user.
type permissions struct {
	Publish   []string
	Subscribe []string
	// Respond lets the user answer the requests it receives, once each,
	// whatever their reply subject (nats-server "allow_responses").
	Respond bool
}

// The witness protocol: state nodes ask the secretariat for consistency
// proofs of its audit log, and tell each other which checkpoint of it
// they accepted (see [Client.RequestProof], [Client.PublishWitnessed]).
const (
	// proofRoot: a state node asks on "iant.audit.proof.<its state>";
	// only the secretariat receives and answers.
	proofRoot = "iant.audit.proof"
	// WitnessStream keeps, per state, the checkpoints of the audit log
	// that its node accepted, on "iant.witness.<state>": writable by that
	// state's node only, readable by every node.
	WitnessStream = "IANT_WITNESS"
	witnessRoot   = "iant.witness"
	// witnessHistory is how many witnessed checkpoints are kept per state.
	witnessHistory = 16
)

// proofSubject is the subject state's node asks for proofs on.
func proofSubject(state string) string { return proofRoot + "." + state }

// witnessSubject is the subject of state's witnessed checkpoints.
func witnessSubject(state string) string { return witnessRoot + "." + state }

// witnessPermissions let a state node ask for proofs and publish its own
// witnessed checkpoints, and read everyone's.
func witnessPermissions(state string) []string {
	return []string{
		proofSubject(state),
		witnessSubject(state),
		jsAPI + "STREAM.INFO." + WitnessStream,
		jsAPI + "DIRECT.GET." + WitnessStream + ".>",
		jsAPI + "DIRECT.GET." + WitnessStream,
	}
}

// secretariatWitnessPermissions let the secretariat provision the witness
// stream and read it; it receives proof requests through its
// subscription and answers them (Respond), and publishes nothing there.
func secretariatWitnessPermissions() []string {
	return []string{
		jsAPI + "STREAM.CREATE." + WitnessStream,
		jsAPI + "STREAM.UPDATE." + WitnessStream,
		jsAPI + "STREAM.INFO." + WitnessStream,
		jsAPI + "DIRECT.GET." + WitnessStream + ".>",
		jsAPI + "DIRECT.GET." + WitnessStream,
	}
}

// The secretariat's signed documents: the membership table and the deny
// list, each the last message of its subject on [MembershipStream],
// published only by the secretariat and read by every node and by the
// backbone servers themselves (see [Client.WatchMembership]).
const (
	// MembershipStream keeps every version of the two documents.
	MembershipStream = "IANT_MEMBERSHIP"
	membershipRoot   = "iant.membership"
)

// MembershipDoc names one of the secretariat's signed documents by the
// last token of its subject.
type MembershipDoc string

// The two documents.
const (
	MembershipTable MembershipDoc = "table"    // iant.membership.table
	DenyList        MembershipDoc = "denylist" // iant.membership.denylist
)

// membershipSubject is the subject of doc.
func membershipSubject(doc MembershipDoc) string { return membershipRoot + "." + string(doc) }

// membershipReadPermissions let any node (and a backbone server's own
// watcher) read the documents: look up the stream, get the last of each
// by direct get. Their subscribe side is [membershipSubscribe].
func membershipReadPermissions() []string {
	return []string{
		jsAPI + "STREAM.INFO." + MembershipStream,
		jsAPI + "DIRECT.GET." + MembershipStream + ".>",
		jsAPI + "DIRECT.GET." + MembershipStream,
	}
}

// membershipSubscribe is what a reader subscribes to, to hear each new
// version as it is published.
const membershipSubscribe = membershipRoot + ".*"

// secretariatMembershipPermissions let the secretariat provision the
// stream and publish both documents; it may not delete or purge them.
func secretariatMembershipPermissions() []string {
	return append([]string{
		jsAPI + "STREAM.CREATE." + MembershipStream,
		jsAPI + "STREAM.UPDATE." + MembershipStream,
		membershipSubject(MembershipTable),
		membershipSubject(DenyList),
	}, membershipReadPermissions()...)
}

// watcherPermissions are those of a backbone server's own connection, which
// reads the documents to apply them (see [ServerConfig.MembershipKey]).
func watcherPermissions() permissions {
	return permissions{
		Publish:   withHubDomain(membershipReadPermissions()),
		Subscribe: []string{ReplyPrefix("") + ".>", membershipSubscribe},
	}
}

// permissionsFor returns what node principal p may do on the backbone. It
// panics if p is not a node: the server config is validated first.
//
// A state node may publish copies only as its own origin and use only its
// own pre-created consumer: info, pull and ack. It holds no stream or
// consumer admin rights, because a node that could create a consumer could
// choose any filter and read every state's traffic (DESIGN.md, "Who may do
// what on the backbone"). The secretariat may create and update the inbox
// stream and its consumers, and read their info; it may not delete or purge
// the stream, pull from any consumer, nor read a stored copy.
func permissionsFor(p identity.Principal) permissions {
	perms := basePermissions(p)
	if p.Role == identity.RoleNode {
		perms.Publish = append(perms.Publish, replayPermissions(p.State)...)
		perms.Publish = append(perms.Publish, membershipReadPermissions()...)
	} else {
		perms.Publish = append(perms.Publish, secretariatMembershipPermissions()...)
	}
	perms.Subscribe = append(perms.Subscribe, membershipSubscribe, directorySubscribe)
	perms.Publish = withHubDomain(perms.Publish)
	return perms
}

// withHubDomain adds, for every JetStream API subject, its twin under the
// hub's domain ("$JS.hub.API..."): a node behind a leaf node, which runs a
// JetStream of its own, must address the backbone's JetStream by domain.
func withHubDomain(subjects []string) []string {
	out := slices.Clone(subjects)
	for _, s := range subjects {
		if rest, ok := strings.CutPrefix(s, jsAPI); ok {
			out = append(out, jsDomainAPI+rest)
		}
	}
	return out
}

// originPermissions let a state node publish copies as origin state to
// every member state: "iant.inbox.<recipient>.<state>.*", one subject per
// recipient.
//
// One subject per recipient rather than "iant.inbox.*.<state>.*": across
// a leaf node link the backbone offers the leaf its subscription
// "iant.inbox.>" (the inbox stream's) only if a publish permission lies
// under it, and nats-server v2.15.2 does not find one below a '*' token
// (server/sublist.go getAllNodes does not descend under '*'), so a leaf
// would never see the inbox stream and no forwarded copy would arrive.
func originPermissions(state string) []string {
	codes := region.Codes()
	out := make([]string, len(codes))
	for i, r := range codes {
		out[i] = inboxRoot + "." + r + "." + state + ".*"
	}
	return out
}

// basePermissions are p's permissions with the JetStream API named
// without domain.
func basePermissions(p identity.Principal) permissions {
	switch p.Role {
	case identity.RoleNode:
		cons := InboxStream + "." + InboxConsumer(p.State)
		return permissions{
			Publish: append(append(append(originPermissions(p.State), quotaPermissions(p.State)...), []string{
				jsAPI + "CONSUMER.INFO." + cons,
				jsAPI + "CONSUMER.MSG.NEXT." + cons,
				jsAck + cons + ".>",
			}...), append(append(directoryPermissions(p.State), eventPermissions(p.State)...), witnessPermissions(p.State)...)...),
			Subscribe: []string{ReplyPrefix(p.State) + ".>"},
		}
	case identity.RoleSecretariatNode:
		return permissions{
			Publish: append([]string{
				jsAPI + "STREAM.CREATE." + InboxStream,
				jsAPI + "STREAM.UPDATE." + InboxStream,
				jsAPI + "STREAM.INFO." + InboxStream,
				jsAPI + "CONSUMER.CREATE." + InboxStream + ".>",
				jsAPI + "CONSUMER.INFO." + InboxStream + ".*",
				jsAPI + "STREAM.CREATE." + DirectoryStream,
				jsAPI + "STREAM.UPDATE." + DirectoryStream,
				jsAPI + "STREAM.INFO." + DirectoryStream,
				jsAPI + "DIRECT.GET." + DirectoryStream + ".>",
				jsAPI + "DIRECT.GET." + DirectoryStream,
			}, append(secretariatEventPermissions(), secretariatWitnessPermissions()...)...),
			Subscribe: []string{ReplyPrefix("") + ".>", proofRoot + ".*"},
			Respond:   true,
		}
	}
	panic(fmt.Sprintf("backbone: no permissions for %v", p))
}

// inspectorScope stands for an inspector ([ServerConfig.Inspectors]) where
// a state code would go: its reply prefix is "_INBOX_INSPECTOR".
const inspectorScope = "INSPECTOR"

// InspectorReplyPrefix is the custom inbox prefix an inspector's
// connection must use: the only subjects it may subscribe to.
const InspectorReplyPrefix = replyRoot + inspectorScope

// inspectorPermissions let an inspector read single stored copies of the
// inbox stream (sealed, as the servers hold them on disk) and nothing
// else: no publishing, no consumer, no other stream.
func inspectorPermissions() permissions {
	return permissions{
		Publish: withHubDomain([]string{
			jsAPI + "STREAM.INFO." + InboxStream,
			jsAPI + "STREAM.MSG.GET." + InboxStream,
		}),
		Subscribe: []string{InspectorReplyPrefix + ".>"},
	}
}

// replayPermissions let a state node replay its own inbox through its
// replay consumer, which the secretariat provisions: look it up, reset it
// to the start, pull and ack. Creating even that one consumer is not
// granted. nats-server checks a create sent to
// "$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>" against the
// configured filter, so the filter could be pinned by permission; but the
// rest of the config would be the node's to choose, e.g. a push
// consumer's deliver subject, which the server publishes to on the
// consumer's behalf, outside the node's own publish permissions.
// Resetting moves only the delivery position of a consumer whose config
// the secretariat chose ("$JS.API.CONSUMER.RESET", nats-server 2.14+).
func replayPermissions(state string) []string {
	cons := InboxStream + "." + ReplayConsumer(state)
	return []string{
		jsAPI + "CONSUMER.INFO." + cons,
		jsAPI + "CONSUMER.RESET." + cons,
		jsAPI + "CONSUMER.MSG.NEXT." + cons,
		jsAck + cons + ".>",
	}
}

// consumerOwner names the state whose inbox (kind "inbox") or replay
// (kind "replay") consumer name is; ok is false for any other consumer.
func consumerOwner(name string) (kind, state string, ok bool) {
	for _, k := range []string{"inbox", "replay"} {
		if s, found := strings.CutPrefix(name, k+"-"); found && region.IsMember(s) {
			return k, s, true
		}
	}
	return "", "", false
}
