package audit

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
	"github.com/oas-cicte/iant/pkg/sqlitedb"
)

// refusal is person bo's refusal of rule on MX's bulletin, while doing
// action.
func refusal(rule, action string) Event {
	return Event{Kind: EventRefused, BulletinID: "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3", Origin: "MX", State: "CA",
		Actor: "spiffe://iant.test/state/CA/analyst/bo", Rule: rule, Detail: action,
		At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// TestRefusalKeyNamesRuleAndAction: a refusal's key, and so its event
// id, holds its rule and action, so a read refusal does not hide a later
// acknowledge refusal by the same person; other kinds keep their keys.
// The golden ids pin the format: a change of key is a change of the
// receipts' ids on the backbone and in every node's outbox.
func TestRefusalKeyNamesRuleAndAction(t *testing.T) {
	read, ack := refusal("read.marking", "read"), refusal("acknowledge.role", "acknowledge")
	again := read
	again.At = read.At.Add(time.Hour)
	if EventID(read) == EventID(ack) {
		t.Error("a read refusal and an acknowledge refusal of the same person share an event id")
	}
	if EventID(read) != EventID(again) {
		t.Error("one refusal reported twice has two event ids")
	}
	for _, tt := range []struct {
		e    Event
		want string
	}{
		{read, "refused MX 01JNQ8Y4Z5W6X7V8T9S0R1Q2P3 CA spiffe://iant.test/state/CA/analyst/bo read.marking read"},
		{testEvent(EventRead, "CA", "spiffe://iant.test/state/CA/analyst/bo"),
			"read MX 01JNQ8Y4Z5W6X7V8T9S0R1Q2P3 CA spiffe://iant.test/state/CA/analyst/bo"},
	} {
		if got := tt.e.key(); got != tt.want {
			t.Errorf("key(%s) = %q, want %q", tt.e.Kind, got, tt.want)
		}
	}
}

// TestRefusalLoggedBeforeTheKeyChangeIsLoggedOnce opens a log written
// before refusals' keys named their rule (the refusal stored under its
// base key): the same refusal reported again is not appended again, a
// refusal of another action by the same person is, a new refusal is
// logged once however often it is reported, and the whole log verifies
// (no duplicate under the new keys).
func TestRefusalLoggedBeforeTheKeyChangeIsLoggedOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	const origin = "iant.test/audit"
	old := refusal("read.marking", "read")
	writeLegacyRefusal(t, path, origin, old)

	skey, _, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{2}, 32)), origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	sec := identitytest.NewCA(t, "iant.test").SVID(t, identity.Principal{Role: identity.RoleSecretariatNode, Name: "sec"})
	lg, err := OpenLog(ctx, path, origin, Signers{Checkpoint: signer, Entries: fixedSVID{sec}})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	ack := refusal("acknowledge.role", "acknowledge")
	for i, tt := range []struct {
		e    Event
		want uint64
	}{
		{old, 0}, // logged before, under the old key
		{ack, 1}, // the same person, another action
		{ack, 1},
		{old, 0},
	} {
		got, err := lg.Append(ctx, tt.e)
		if err != nil || got != tt.want {
			t.Errorf("%d: Append(%s, %s) = %v, %v; want index %d", i, tt.e.Rule, tt.e.Detail, got, err, tt.want)
		}
	}
	if lg.Size() != 2 {
		t.Fatalf("log size %d, want 2", lg.Size())
	}
	all, err := lg.Entries(ctx, 0, lg.Size())
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyLog(ctx, all, Checkpoint{Origin: origin, Size: lg.Size(), Root: lg.Root()}); err != nil {
		t.Errorf("VerifyLog = %v", err)
	}
}

// writeLegacyRefusal creates the log database at path holding e alone,
// as an entry of leaf format 1 keyed as refusals were before their keys
// named the rule.
func writeLegacyRefusal(t *testing.T, path, origin string, e Event) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlitedb.Open(ctx, path, migrations, func(ctx context.Context, tx *sql.Tx) error {
		return checkOrigin(ctx, tx, origin)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	data, err := MarshalEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `INSERT INTO leaves (idx, data) VALUES (0, ?)`, data)
	mustExec(t, db, `INSERT INTO event_keys (event_key, idx) VALUES (?, 0)`, e.baseKey())
	rng := rangeFactory.NewEmptyRange(0)
	if err := rng.Append(hasher.HashLeaf(data), func(id compact.NodeID, h []byte) {
		mustExec(t, db, `INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)`, int64(id.Level), int64(id.Index), h)
	}); err != nil {
		t.Fatal(err)
	}
}
