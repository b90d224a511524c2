package statenode_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/store"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestWithdrawalIsIdempotentAcrossRestart: US holds MX's bulletin A,
// signed by MX's key K. MX rotates; while MX's node is down, K is marked
// compromised in its key file and the new entry published. US withdraws
// A once (Get answers FailedPrecondition, rule receive.key_compromised;
// counted once). The same declaration published again (a newer entry)
// withdraws nothing more, and a restart of US neither withdraws A again
// (its withdrawal time in node.db unchanged, nothing counted) nor puts it
// back.
func TestWithdrawalIsIdempotentAcrossRestart(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	ctx := t.Context()
	a := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("signed by K", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), a)
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nw.StopNode("MX"); err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "mx", "node.keys"), "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := ks.Current().RetiredSignKeys()[0].KeyID
	if err := ks.MarkCompromised(k); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", ks.Current())

	withdrawn := func() bool {
		_, err := nettest.Dial(t, nw, testenv.Analyst("US")).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		return status.Code(err) == codes.FailedPrecondition && nettest.ErrorField(err) == "receive.key_compromised"
	}
	waitFor(t, "US withdraws A", withdrawn)
	counted := func(want float64) {
		t.Helper()
		got, _ := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", map[string]string{"node": "US", "rule": "withdraw.key_compromised"})
		if got != want {
			t.Errorf("iant_refusals_total{node=US, rule=withdraw.key_compromised} = %v, want %v", got, want)
		}
	}
	counted(1)

	// The same declaration, in a newer entry.
	seq := accepted(t, nw, "US")
	nettest.PublishEntry(t, nw, "MX", ks.Current())
	waitFor(t, "US accepts MX's newer entry", func() bool { return accepted(t, nw, "US") > seq })
	counted(1)

	at := withdrawnAt(t, nw, a)
	if err := nw.StartNode(ctx, "US"); err != nil {
		t.Fatal(err)
	}
	if !withdrawn() {
		t.Errorf("US shows A again after a restart")
	}
	if got, _ := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", map[string]string{"node": "US", "rule": "withdraw.key_compromised"}); got > 1 {
		t.Errorf("withdrawals counted at US after a restart = %v, want at most the 1 before", got)
	}
	if again := withdrawnAt(t, nw, a); !again.Equal(at) {
		t.Errorf("A's withdrawal time after a restart = %v, want %v (withdrawn once)", again, at)
	}
}

// accepted is the sequence of MX's entry that cc's node accepted.
func accepted(t *testing.T, nw *testenv.Network, cc string) uint64 {
	t.Helper()
	e, ok := statenode.AcceptedEntry(nw.Node(cc), "MX")
	if !ok {
		return 0
	}
	return e.Sequence
}

// withdrawnAt stops US's node and reads when A was withdrawn from its
// node.db.
func withdrawnAt(t *testing.T, nw *testenv.Network, id string) time.Time {
	t.Helper()
	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "us", "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Get(t.Context(), "MX", id)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Withdrawn() {
		t.Fatalf("MX/%s is not withdrawn in US's node.db", id)
	}
	return rec.WithdrawnAt
}

// waitFor polls cond until it holds, or fails the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(nettest.Eventually)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, nettest.Eventually)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignKeysOfOlderRowsDerivedFromTheirCopies: US holds A, signed by
// MX's key K0, and B, signed by K1 after a rotation; MX rotates again.
// US's rows lose their recorded signing keys (as rows stored before keys
// were recorded), and US starts again: it derives each key from the
// sealed copy kept. When K1 is declared compromised, US withdraws B and
// keeps A — without the derivation it could not tell them apart and
// would withdraw both (fail closed).
func TestSignKeysOfOlderRowsDerivedFromTheirCopies(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	ctx := t.Context()
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	us := nettest.Dial(t, nw, testenv.Analyst("US"))
	a := nettest.Post(t, mx, nettest.Draft("signed by K0", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, us, a)
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	b := nettest.Post(t, mx, nettest.Draft("signed by K1", "US")).GetBulletin().GetId()
	nettest.WaitStored(t, us, b)
	if err := nw.Node("MX").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nw.StopNode("MX"); err != nil { // no re-attestation: what US holds stays as it is
		t.Fatal(err)
	}

	if err := nw.StopNode("US"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "us", "node.db"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(ctx, `UPDATE bulletins SET sign_key = NULL WHERE origin = 'MX'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("cleared the signing key of %d rows, want 2", n)
	}
	db.Close()
	if err := nw.StartNode(ctx, "US"); err != nil {
		t.Fatal(err)
	}

	ks, err := keystore.Open(filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "mx", "node.keys"), "MX", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k1 := ks.Current().RetiredSignKeys()[0].KeyID // the newest retired
	if err := ks.MarkCompromised(k1); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "MX", ks.Current())
	us = nettest.Dial(t, nw, testenv.Analyst("US"))
	waitFor(t, "US withdraws B", func() bool {
		_, err := us.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: b, Origin: "MX"})
		return status.Code(err) == codes.FailedPrecondition
	})
	if _, err := us.GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: a, Origin: "MX"}); err != nil {
		t.Errorf("US withdrew A, signed by a key not compromised: %v", err)
	}
}

// TestTranslationWithdrawalIsIdempotentAcrossRestart: MX releases A to BR
// and US; BR's focal point translates it, signed by BR's key K, and US
// shows the translation. BR rotates; while BR's node is down, K is marked
// compromised and the new entry published. US withdraws the translation
// once (counted once, one row of evidence); the same declaration again (a
// newer entry) and restarts of US withdraw nothing more and do not put it
// back, and A itself is shown throughout.
func TestTranslationWithdrawalIsIdempotentAcrossRestart(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "BR", "US")
	ctx := t.Context()
	a := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("to translate", "BR", "US")).GetBulletin().GetId()
	br := nettest.Dial(t, nw, testenv.FocalPoint("BR"))
	nettest.WaitStored(t, br, a)
	if _, err := br.TranslateBulletin(ctx, &iantv1.TranslateBulletinRequest{Id: a, Origin: "MX", Language: iantv1.Language_LANGUAGE_PT,
		Title: "Para traduzir", Body: "Traduzido pelo Brasil."}); err != nil {
		t.Fatal(err)
	}
	translated := func() bool {
		r, err := nettest.Dial(t, nw, testenv.Analyst("US")).GetBulletin(ctx, &iantv1.GetBulletinRequest{Id: a, Origin: "MX"})
		if err != nil {
			t.Fatalf("GetBulletin(MX/%s) at US = %v; MX's bulletin is shown throughout", a, err)
		}
		return len(r.GetBulletin().GetBulletin().GetTranslations()) == 1
	}
	waitFor(t, "US shows BR's translation", translated)

	if err := nw.Node("BR").RotateSignKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nw.StopNode("BR"); err != nil {
		t.Fatal(err)
	}
	ks, err := keystore.Open(filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "br", "node.keys"), "BR", keystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.MarkCompromised(ks.Current().RetiredSignKeys()[0].KeyID); err != nil {
		t.Fatal(err)
	}
	nettest.PublishEntry(t, nw, "BR", ks.Current())
	waitFor(t, "US withdraws BR's translation", func() bool { return !translated() })
	rule := map[string]string{"node": "US", "rule": "withdraw.translation_key_compromised"}
	if got, _ := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", rule); got != 1 {
		t.Errorf("iant_refusals_total{node=US, rule=withdraw.translation_key_compromised} = %v, want 1", got)
	}

	seq := func() uint64 {
		e, _ := statenode.AcceptedEntry(nw.Node("US"), "BR")
		return e.Sequence
	}
	before := seq()
	nettest.PublishEntry(t, nw, "BR", ks.Current())
	waitFor(t, "US accepts BR's newer entry", func() bool { return seq() > before })
	if got, _ := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", rule); got != 1 {
		t.Errorf("translation withdrawals counted at US after the same declaration again = %v, want 1", got)
	}

	for range 2 {
		if err := nw.StopNode("US"); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(ctx, filepath.Join(filepath.Dir(nw.PKI.Dir), "data", "us", "node.db"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := st.WithdrawnTranslations(ctx, "MX", a)
		st.Close()
		if err != nil || n != 1 {
			t.Errorf("withdrawn translations of A in US's node.db = %d, %v; want 1 (withdrawn once)", n, err)
		}
		if err := nw.StartNode(ctx, "US"); err != nil {
			t.Fatal(err)
		}
		if translated() {
			t.Errorf("US shows BR's withdrawn translation after a restart")
		}
		if got, _ := nettest.MetricValue(t, nw.Registry(), "iant_refusals_total", rule); got > 1 {
			t.Errorf("translation withdrawals counted at US after a restart = %v, want at most the 1 before", got)
		}
	}
}
