package membership_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

// versions signs the genesis of MX, US and two changes after it.
func versions(t *testing.T, s interface {
	Name() string
	KeyHash() uint32
	Sign([]byte) ([]byte, error)
}) [][]byte {
	t.Helper()
	tb, err := membership.Genesis(network, []string{"MX", "US"}, day0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, c := range []membership.Change{{}, {Kind: membership.Add, State: "CA", Region: region.NorthAmerica}, {Kind: membership.Suspend, State: "CA"}} {
		if i > 0 {
			if tb, err = tb.Change(c, day0.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		signed, err := tb.Sign(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, signed)
	}
	return out
}

func TestHolderNeverGoesBack(t *testing.T) {
	s, vkey := testKey(t, network, 1)
	v := versions(t, s)
	dir := t.TempDir()
	h, err := membership.NewHolder(network, vkey, dir)
	if err != nil {
		t.Fatal(err)
	}
	changed := h.Changed()
	for i, want := range []bool{true, true, false} {
		doc := v[[]int{0, 2, 2}[i]]
		if _, ok, err := h.Offer(doc); ok != want || err != nil {
			t.Fatalf("offer %d: accepted %v, %v, want %v", i, ok, err, want)
		}
	}
	select {
	case <-changed:
	default:
		t.Error("Changed was not closed by an accepted table")
	}
	if _, ok, err := h.Offer(v[1]); ok || !errors.Is(err, membership.ErrStale) {
		t.Errorf("Offer(version 2 after 3) = %v, %v, want ErrStale", ok, err)
	}
	if tb, _ := h.Table(); tb.Version != 3 || tb.StatusOf("CA") != membership.Suspended {
		t.Errorf("held table version %d CA %s, want 3 with CA suspended", tb.Version, tb.StatusOf("CA"))
	}

	// Restarted: the kept version stands, the replay is still refused.
	h2, err := membership.NewHolder(network, vkey, dir)
	if err != nil {
		t.Fatal(err)
	}
	if tv, _ := h2.Versions(); tv != 3 {
		t.Errorf("restarted holder holds version %d, want 3", tv)
	}
	if _, _, err := h2.Offer(v[0]); !errors.Is(err, membership.ErrStale) {
		t.Errorf("restarted: Offer(genesis) = %v, want ErrStale", err)
	}
}

func TestHolderRefusesForgery(t *testing.T) {
	s, vkey := testKey(t, network, 1)
	forger, _ := testKey(t, network, 2) // the same name, another key
	other, _ := testKey(t, "evil.test", 1)
	h, err := membership.NewHolder(network, vkey, "")
	if err != nil {
		t.Fatal(err)
	}
	genuine := versions(t, s)
	forged := versions(t, forger)
	if _, _, err := h.Offer(forged[2]); !errors.Is(err, membership.ErrSignature) {
		t.Errorf("Offer(forged) = %v, want ErrSignature", err)
	}
	evil, _ := membership.Genesis("evil.test", []string{"MX"}, day0)
	signedEvil, _ := evil.Sign(other)
	if _, _, err := h.Offer(signedEvil); !errors.Is(err, membership.ErrSignature) {
		t.Errorf("Offer(another network's key) = %v, want ErrSignature", err)
	}
	// A table of another network signed with this network's key.
	signedEvil, _ = evil.Sign(s)
	if _, _, err := h.Offer(signedEvil); !errors.Is(err, membership.ErrNetwork) {
		t.Errorf("Offer(another network's table) = %v, want ErrNetwork", err)
	}
	// An altered body under a genuine signature.
	altered := append([]byte{}, genuine[1]...)
	altered[len("iant membership table v1\nnetwork iant.test\nversion ")] = '9'
	if _, _, err := h.Offer(altered); !errors.Is(err, membership.ErrSignature) {
		t.Errorf("Offer(altered) = %v, want ErrSignature", err)
	}
	// Two different tables of one version: the second is a conflict.
	if _, _, err := h.Offer(genuine[1]); err != nil {
		t.Fatal(err)
	}
	g, _ := membership.Genesis(network, []string{"MX", "US"}, day0)
	fork, _ := g.Change(membership.Change{Kind: membership.Add, State: "JM", Region: region.Caribbean}, day0)
	signedFork, _ := fork.Sign(s)
	if _, _, err := h.Offer(signedFork); !errors.Is(err, membership.ErrConflict) {
		t.Errorf("Offer(another table of version 2) = %v, want ErrConflict", err)
	}
	if tb, _ := h.Table(); tb.StatusOf("CA") != membership.Active {
		t.Error("the conflicting table replaced the held one")
	}
}

func TestHolderKeepsBothKinds(t *testing.T) {
	s, vkey := testKey(t, network, 1)
	dir := t.TempDir()
	h, _ := membership.NewHolder(network, vkey, dir)
	var l membership.DenyList
	l, _ = l.With(network, membership.DenyEntry{Serial: "ab", Reason: "stolen", By: admin}, day0)
	signed, err := l.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok, err := h.Offer(signed); k != membership.KindDenyList || !ok || err != nil {
		t.Fatalf("Offer(deny list) = %v, %v, %v", k, ok, err)
	}
	if _, err := membership.OpenTable(signed, verifier(t, vkey), network); !errors.Is(err, membership.ErrMalformed) {
		t.Errorf("OpenTable(a deny list) = %v, want ErrMalformed", err)
	}
	// A kept file that was tampered with stops the reader from starting.
	if err := os.WriteFile(filepath.Join(dir, membership.DenyListFile), append(signed[:len(signed)-5:len(signed)-5], "xxxx\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := membership.NewHolder(network, vkey, dir); err == nil {
		t.Error("NewHolder with a tampered kept deny list: no error")
	}
	if _, err := membership.NewHolder(network, "iant.test/audit+01234567+AcS5LHWx9DqoyAp6fYwMmHPkGvK27WcvNpfGqgWpGxve", ""); err == nil {
		t.Error("NewHolder with a key of another name: no error")
	}
}
