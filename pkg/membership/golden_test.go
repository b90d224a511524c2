package membership_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oas-cicte/iant/pkg/membership"
	"github.com/oas-cicte/iant/pkg/region"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden pins the signed formats: a table and a deny list signed with
// a fixed key must read back as they were written, byte for byte. Files of
// a format version are never deleted; a new version adds files.
func TestGolden(t *testing.T) {
	s, vkey := testKey(t, network, 7)
	g, _ := membership.Genesis(network, []string{"JM", "MX", "US"}, day0)
	tb, err := g.Change(membership.Change{Kind: membership.Add, State: "CA", Region: region.NorthAmerica,
		Nodes: []string{"node", "node-b"}, Reason: "joins the network"}, day0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if tb, err = tb.Change(membership.Change{Kind: membership.Suspend, State: "JM", Reason: `said "wait"`}, day0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var l membership.DenyList
	l, _ = l.With(network, membership.DenyEntry{ID: "spiffe://iant.test/state/MX/focal-point/ana", Reason: "laptop stolen", By: admin}, day0)
	l, _ = l.With(network, membership.DenyEntry{Serial: "3F:A0:11", Reason: "key leaked", By: admin}, day0.Add(time.Minute))
	for name, sign := range map[string]func() ([]byte, error){
		"table-v1.note":    func() ([]byte, error) { return tb.Sign(s) },
		"denylist-v1.note": func() ([]byte, error) { return l.Sign(s) },
	} {
		got, err := sign()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s changed (-golden +now):\n%s", name, diff)
		}
	}
	v := verifier(t, vkey)
	data, _ := os.ReadFile(filepath.Join("testdata", "table-v1.note"))
	if back, err := membership.OpenTable(data, v, network); err != nil || !cmp.Equal(back, tb) {
		t.Errorf("OpenTable(golden) = %+v, %v, want %+v", back, err, tb)
	}
	data, _ = os.ReadFile(filepath.Join("testdata", "denylist-v1.note"))
	if back, err := membership.OpenDenyList(data, v, network); err != nil || !cmp.Equal(back, l) {
		t.Errorf("OpenDenyList(golden) = %+v, %v, want %+v", back, err, l)
	}
}
