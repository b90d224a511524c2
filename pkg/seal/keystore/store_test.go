package keystore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/seal"
	"github.com/oas-cicte/iant/pkg/seal/keystore"
)

// t0 is the fake clock's start; tests pass times, never sleep.
var t0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func open(tb testing.TB, path, state string, opts keystore.Options) *keystore.Store {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = clock(t0)
	}
	s, err := keystore.Open(path, state, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestOpenCreatesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys") // outside any data directory, not there yet
	path := filepath.Join(dir, "node.keys")
	s := open(t, path, "MX", keystore.Options{})
	if s.Current().State() != "MX" || s.Path() != path {
		t.Errorf("Open made keys of %s at %s", s.Current().State(), s.Path())
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("mode of %s = %04o, want %04o", p, fi.Mode().Perm(), want)
		}
	}
	want := []keystore.Generation{{KEMKeyID: s.Current().Public().KEMKeyID, Created: t0}}
	if diff := cmp.Diff(want, s.Generations()); diff != "" {
		t.Errorf("Generations (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %d entries (%v), want only the key file", len(entries), err)
	}
}

// TestRotateThenOpenOldCopy seals to each generation, rotates, reopens
// the file, and opens every copy with the reloaded ring.
func TestRotateThenOpenOldCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.keys")
	s := open(t, path, "BR", keystore.Options{})
	mx, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	var copies []*seal.Sealed
	for i := range 3 {
		copies = append(copies, sealTo(t, mx, s.Current()))
		if err := s.RotateKEM(t0.Add(time.Duration(i+1) * time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RotateSign(t0.Add(4 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	again := open(t, path, "BR", keystore.Options{})
	if diff := cmp.Diff(s.Generations(), again.Generations()); diff != "" {
		t.Errorf("Generations after reopening (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(s.Current().Public(), again.Current().Public()); diff != "" {
		t.Errorf("current keys after reopening (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(s.Current().RetiredSignKeys(), again.Current().RetiredSignKeys()); len(again.Current().RetiredSignKeys()) != 1 || diff != "" {
		t.Errorf("retired signing keys after reopening: %d, diff:\n%s", len(again.Current().RetiredSignKeys()), diff)
	}
	gens := again.Generations()
	if len(gens) != 4 || !gens[1].Retired.Equal(t0.Add(3*time.Hour)) || !gens[3].Created.Equal(t0) {
		t.Errorf("Generations = %+v, want 4 dated by the rotations", gens)
	}
	lookup := func(string, string) (seal.SignerKey, error) {
		return seal.SignerKey{Public: mx.Public().SignPublic}, nil
	}
	for i, c := range copies {
		if _, err := seal.Open(c, "BR", again.Ring(), lookup, seal.Policy{}, t0); err != nil {
			t.Errorf("Open(copy sealed to generation %d) = %v", i, err)
		}
	}
}

func sealTo(tb testing.TB, from, to *seal.NodeKeys) *seal.Sealed {
	tb.Helper()
	hdr := seal.Header{ID: "01JKEYSTORE", Origin: from.State(), Signer: "spiffe://iant.test/state/" + from.State() + "/node/main", CreatedAt: t0}
	s, err := seal.Seal(hdr, []byte("body"), []seal.PublicKeys{to.Public()}, from)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestPrune: with retention R, a KEM key retired exactly R ago stays, one
// retired longer ago goes, and pruning survives a reopening.
func TestPrune(t *testing.T) {
	const r = 10 * time.Hour
	path := filepath.Join(t.TempDir(), "node.keys")
	s := open(t, path, "MX", keystore.Options{Retention: r})
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	for _, at := range []time.Time{t1, t2} {
		if err := s.RotateKEM(at); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		now        time.Time
		dropped    int
		generation int
	}{
		{t1.Add(r), 0, 3},
		{t1.Add(r + time.Nanosecond), 1, 2},
		{t2.Add(r), 0, 2},
		{t2.Add(r + time.Nanosecond), 1, 1},
		{t2.Add(100 * r), 0, 1},
	}
	for _, tt := range tests {
		n, err := s.Prune(tt.now)
		if err != nil || n != tt.dropped || len(s.Generations()) != tt.generation {
			t.Errorf("Prune(%v) = %d, %v with %d generations left, want %d dropped, %d left",
				tt.now, n, err, len(s.Generations()), tt.dropped, tt.generation)
		}
	}
	if got := len(open(t, path, "MX", keystore.Options{}).Generations()); got != 1 {
		t.Errorf("reopened after pruning: %d generations, want 1", got)
	}

	forever := open(t, filepath.Join(t.TempDir(), "node.keys"), "MX", keystore.Options{})
	if err := forever.RotateKEM(t1); err != nil {
		t.Fatal(err)
	}
	if n, err := forever.Prune(t1.Add(100 * 365 * 24 * time.Hour)); n != 0 || err != nil || len(forever.Generations()) != 2 {
		t.Errorf("Prune with zero retention = %d, %v, want nothing dropped", n, err)
	}
}

func TestRotateClock(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "node.keys"), "MX", keystore.Options{})
	if err := s.RotateKEM(t0.Add(-time.Second)); !errors.Is(err, keystore.ErrClock) {
		t.Errorf("RotateKEM before the first generation = %v, want %v", err, keystore.ErrClock)
	}
	if err := s.RotateKEM(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateKEM(t0.Add(time.Minute)); !errors.Is(err, keystore.ErrClock) {
		t.Errorf("RotateKEM before the last rotation = %v, want %v", err, keystore.ErrClock)
	}
	if err := s.RotateSign(t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateSign(t0); !errors.Is(err, seal.ErrMalformed) {
		t.Errorf("RotateSign at the last retirement = %v, want %v", err, seal.ErrMalformed)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.keys")
	open(t, path, "MX", keystore.Options{})
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(good)
	flipped[40] ^= 1 // inside the node keys
	tests := []struct {
		name  string
		path  string
		state string
		opts  keystore.Options
		want  error
	}{
		{"another state's file", path, "BR", keystore.Options{}, keystore.ErrWrongState},
		{"readable by others", write("world", good, 0o644), "MX", keystore.Options{}, keystore.ErrPermissions},
		{"readable by the group", write("group", good, 0o640), "MX", keystore.Options{}, keystore.ErrPermissions},
		{"a directory", dir, "MX", keystore.Options{}, keystore.ErrPermissions},
		{"empty", write("empty", nil, 0o600), "MX", keystore.Options{}, keystore.ErrCorrupt},
		{"not a key file", write("other", []byte("hello, world"), 0o600), "MX", keystore.Options{}, keystore.ErrCorrupt},
		{"a byte flipped", write("flipped", flipped, 0o600), "MX", keystore.Options{}, keystore.ErrCorrupt},
		{"trailing byte", write("trailing", append(bytes.Clone(good), 0), 0o600), "MX", keystore.Options{}, keystore.ErrCorrupt},
		{"negative retention", path, "MX", keystore.Options{Retention: -time.Hour}, keystore.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keystore.Open(tt.path, tt.state, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if tt.want != keystore.ErrInvalidOption && !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Open error %q does not name the file", err)
			}
		})
	}
	for n := range len(good) {
		p := write("truncated", good[:n], 0o600)
		if _, err := keystore.Open(p, "MX", keystore.Options{}); !errors.Is(err, keystore.ErrCorrupt) || !strings.Contains(err.Error(), p) {
			t.Fatalf("Open(first %d bytes) = %v, want %v naming the file", n, err, keystore.ErrCorrupt)
		}
	}
}

// TestLegacyFileMigrates reads the key file of earlier node versions
// (u32 length and node keys per generation, newest first).
func TestLegacyFileMigrates(t *testing.T) {
	old, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := old.RotateKEM()
	if err != nil {
		t.Fatal(err)
	}
	var legacy []byte
	for _, k := range []*seal.NodeKeys{cur, old} {
		b := privateV1(t, k)
		legacy = append(legacy, byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b)))
		legacy = append(legacy, b...)
	}
	path := filepath.Join(t.TempDir(), "node.keys")
	if err := os.WriteFile(path, legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	migratedAt := t0.Add(time.Hour)
	s := open(t, path, "MX", keystore.Options{Now: clock(migratedAt)})
	want := []keystore.Generation{
		{KEMKeyID: cur.Public().KEMKeyID},
		{KEMKeyID: old.Public().KEMKeyID, Retired: migratedAt},
	}
	if diff := cmp.Diff(want, s.Generations()); diff != "" {
		t.Errorf("Generations of a migrated file (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("IANTKSTR")) {
		t.Errorf("the migrated file was not rewritten in the current format (%v)", err)
	}
	if _, err := keystore.Open(path, "BR", keystore.Options{}); !errors.Is(err, keystore.ErrWrongState) {
		t.Errorf("Open of a migrated MX file as BR = %v, want %v", err, keystore.ErrWrongState)
	}
	p := filepath.Join(t.TempDir(), "node.keys")
	if err := os.WriteFile(p, legacy[:len(legacy)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.Open(p, "MX", keystore.Options{}); !errors.Is(err, keystore.ErrCorrupt) {
		t.Errorf("Open of a truncated legacy file = %v, want %v", err, keystore.ErrCorrupt)
	}
}

// privateV1 returns k (without retired signing keys) in seal's private
// format version 1, which earlier nodes wrote: version 2 without the
// trailing empty list of retired keys.
func privateV1(tb testing.TB, k *seal.NodeKeys) []byte {
	tb.Helper()
	b, err := k.MarshalPrivate()
	if err != nil {
		tb.Fatal(err)
	}
	if b[8] != 2 || b[len(b)-1] != 0 {
		tb.Fatal("unexpected private format")
	}
	v1 := bytes.Clone(b[:len(b)-1])
	v1[8] = 1
	return v1
}

// TestFailedWriteKeepsKeys: a rotation that cannot reach the disk leaves
// the store as it was.
func TestFailedWriteKeepsKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	s := open(t, filepath.Join(dir, "node.keys"), "MX", keystore.Options{})
	before := s.Current().Public()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // a file where the directory was
		t.Fatal(err)
	}
	if err := s.RotateKEM(t0.Add(time.Hour)); err == nil {
		t.Fatal("RotateKEM succeeded without a directory to write to")
	}
	if diff := cmp.Diff(before, s.Current().Public()); diff != "" || len(s.Generations()) != 1 {
		t.Errorf("a failed rotation changed the store:\n%s", diff)
	}
}

// TestConcurrentUse reads snapshots while rotating (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "node.keys"), "MX", keystore.Options{Retention: time.Hour})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if len(s.Ring()) == 0 || s.Current() == nil || len(s.Generations()) == 0 {
					t.Error("empty snapshot")
				}
			}
		})
	}
	for i := range 5 {
		at := t0.Add(time.Duration(i+1) * time.Hour)
		if err := s.RotateKEM(at); err != nil {
			t.Error(err)
		}
		if _, err := s.Prune(at); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	// Current, retired now, retired exactly an hour ago.
	if got := len(s.Generations()); got != 3 {
		t.Errorf("%d generations after rotating hourly with an hour's retention, want 3", got)
	}
}
