package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/store"
)

// TestKeptSignKeysOnlyTighten: a kept key is added as an entry lists
// it; a later entry retires it, moves its retirement earlier and marks it
// compromised; an earlier entry cannot set or move its retirement; no
// entry moves it later, clears it, un-compromises it or replaces its
// public key; and it survives a reopening.
func TestKeptSignKeysOnlyTighten(t *testing.T) {
	st, path := openStore(t)
	testKeptSignKeys(t, st.KeepSignKeys, st.KeptSignKey)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got, found, err := st2.KeptSignKey(context.Background(), "MX", "k1")
	if err != nil || !found || !got.Compromised || !got.RetiredAt.Equal(t0) {
		t.Errorf("after reopening: %+v, %v, %v", got, found, err)
	}
}

// TestSignKeysDatabaseOnlyTightens: the secretariat's kept-keys
// database follows the same rules, and survives a reopening.
func TestSignKeysDatabaseOnlyTightens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signkeys.db")
	sk, err := store.OpenSignKeys(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	testKeptSignKeys(t, sk.Keep, sk.Kept)
	if err := sk.Close(); err != nil {
		t.Fatal(err)
	}
	sk, err = store.OpenSignKeys(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close()
	got, found, err := sk.Kept(context.Background(), "MX", "k1")
	if err != nil || !found || !got.Compromised || !got.RetiredAt.Equal(t0) {
		t.Errorf("after reopening: %+v, %v, %v", got, found, err)
	}
}

func testKeptSignKeys(t *testing.T, keep func(context.Context, []store.SignKey) error,
	kept func(context.Context, string, string) (store.SignKey, bool, error)) {
	t.Helper()
	ctx := context.Background()
	key := func(seq uint64, retired time.Time, compromised bool, pub string) store.SignKey {
		return store.SignKey{State: "MX", KeyID: "k1", Public: []byte(pub), RetiredAt: retired, Compromised: compromised, Sequence: seq}
	}
	r1, r0 := t0.Add(time.Hour), t0
	for _, tt := range []struct {
		name string
		in   store.SignKey
		want store.SignKey
	}{
		{"listed current", key(10, time.Time{}, false, "pub"), key(10, time.Time{}, false, "pub")},
		{"an earlier entry retiring it", key(5, r1, false, "pub"), key(10, time.Time{}, false, "pub")},
		{"a later entry retiring it", key(11, r1, false, "pub"), key(11, r1, false, "pub")},
		{"a later entry moving it later", key(12, r1.Add(time.Hour), false, "pub"), key(12, r1, false, "pub")},
		{"an earlier entry moving it earlier", key(3, r0, false, "pub"), key(12, r1, false, "pub")},
		{"a later entry moving it earlier", key(13, r0, false, "pub"), key(13, r0, false, "pub")},
		{"a later entry saying current", key(14, time.Time{}, false, "pub"), key(14, r0, false, "pub")},
		{"an entry saying compromised", key(2, r0, true, "pub"), key(14, r0, true, "pub")},
		{"a later entry not saying so", key(15, r0, false, "other"), key(15, r0, true, "pub")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := keep(ctx, []store.SignKey{tt.in}); err != nil {
				t.Fatal(err)
			}
			got, found, err := kept(ctx, "MX", "k1")
			if err != nil || !found {
				t.Fatalf("KeptSignKey = %v, %v", found, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kept key (-want +got):\n%s", diff)
			}
		})
	}
	if _, found, err := kept(ctx, "MX", "k2"); found || err != nil {
		t.Errorf("KeptSignKey(k2) = %v, %v; want not found", found, err)
	}
	if err := keep(ctx, []store.SignKey{{State: "MX", KeyID: "k3"}}); err == nil {
		t.Error("KeepSignKeys took a key without a public key")
	}
}

// TestCompromiseKeptSignKeys: an entry naming kept keys compromised
// beyond its retired ones marks them, in node.db and in the
// secretariat's database, of that state only; an ID not kept is
// ignored, and a later entry that lists the key as not compromised does
// not clear it.
func TestCompromiseKeptSignKeys(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	sk, err := store.OpenSignKeys(ctx, filepath.Join(t.TempDir(), "signkeys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close()
	for _, tt := range []struct {
		name       string
		keep       func(context.Context, []store.SignKey) error
		compromise func(context.Context, string, []string) error
		kept       func(context.Context, string, string) (store.SignKey, bool, error)
	}{
		{"node.db", st.KeepSignKeys, st.CompromiseSignKeys, st.KeptSignKey},
		{"signkeys.db", sk.Keep, sk.Compromise, sk.Kept},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys := []store.SignKey{
				{State: "MX", KeyID: "k1", Public: []byte("p1"), RetiredAt: t0, Sequence: 1},
				{State: "CO", KeyID: "k1", Public: []byte("p2"), RetiredAt: t0, Sequence: 1},
			}
			if err := tt.keep(ctx, keys); err != nil {
				t.Fatal(err)
			}
			if err := tt.compromise(ctx, "MX", []string{"k1", "never-kept"}); err != nil {
				t.Fatal(err)
			}
			if err := tt.keep(ctx, keys[:1]); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				state string
				want  bool
			}{{"MX", true}, {"CO", false}} {
				got, found, err := tt.kept(ctx, c.state, "k1")
				if err != nil || !found || got.Compromised != c.want {
					t.Errorf("kept k1 of %s = %+v, %v, %v; want compromised %v", c.state, got, found, err, c.want)
				}
			}
		})
	}
}
