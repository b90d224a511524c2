package seal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

// Golden files of format version 4: MX's revision 2 of a bulletin sealed
// for BR and US, BR's copy of it, MX's revocation of it (BR's copy), BR's
// forward of that revocation to PE, BR's sighting in reply to it sealed
// for MX, and the header attestation of the reply. -update rewrites them
// until version 5 freezes them.
const goldenDirV4 = "testdata/v4"

// goldenV4Files are the sealed messages of version 4, the state that
// opens each and the kind, revision and subkind it carries.
var goldenV4Files = []struct {
	name, at string
	kind     seal.Kind
	revision uint32
	subkind  uint8
}{
	{"revision.bin", "BR", seal.KindRevision, 2, 0},
	{"revision-BR.bin", "BR", seal.KindRevision, 2, 0},
	{"revocation-BR.bin", "BR", seal.KindRevocation, 2, 0},
	{"reply-MX.bin", "MX", seal.KindReply, 1, seal.ReplySighting},
}

func TestGoldenV4(t *testing.T) {
	if *update {
		writeGoldenV4(t)
	}
	read := func(name string) []byte { return readGoldenIn(t, goldenDirV4, name) }
	keys := map[string]*seal.NodeKeys{}
	for _, st := range []string{"MX", "BR", "PE"} {
		k, err := seal.ParsePrivate(read("keys-" + st + ".bin"))
		if err != nil {
			t.Fatal(err)
		}
		keys[st] = k
	}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if k, ok := keys[state]; ok {
			return goldenLookup(k)(state, keyID)
		}
		return seal.SignerKey{}, errors.New("unknown state")
	}
	for _, g := range goldenV4Files {
		b := read(g.name)
		s, err := seal.Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal(%s) = %v", g.name, err)
		}
		if again, _ := s.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("Marshal(Unmarshal(%s)) != golden", g.name)
		}
		if s.Version != seal.Version4 || s.Kind != g.kind || s.Revision != g.revision || s.Subkind != g.subkind {
			t.Errorf("%s: version %d, %s of revision %d, subkind %d; want version 4, %s %d %d", g.name, s.Version,
				s.Kind, s.Revision, s.Subkind, g.kind, g.revision, g.subkind)
		}
		if got, err := seal.Open(s, g.at, keys[g.at], lookup, seal.Policy{}, s.CreatedAt); err != nil || !bytes.Equal(got, goldenBody) {
			t.Errorf("Open(%s) at %s = %q, %v", g.name, g.at, got, err)
		}
	}
	f, err := seal.UnmarshalForwarded(read("forwarded-revocation-PE.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := seal.OpenForwarded(f, "PE", keys["PE"], lookup, seal.Policy{}, f.Statement.At); err != nil || !bytes.Equal(got, goldenBody) {
		t.Errorf("OpenForwarded(forwarded-revocation-PE.bin) = %q, %v", got, err)
	}
	a, err := seal.UnmarshalAttestation(read("attestation-reply.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(lookup, seal.Policy{}); err != nil || a.Header.Ref != (seal.Ref{Origin: "MX", ID: "01JBULLETIN0001"}) {
		t.Errorf("golden reply attestation: %v, names %v", err, a.Header.Ref)
	}
}

func writeGoldenV4(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 4) // stable keys and messages across updates
	n := newNetwork(t)
	mx, br, us, pe := n.add(t, "MX"), n.add(t, "BR"), n.add(t, "US"), n.add(t, "PE")
	rev := n.header("MX")
	rev.Kind, rev.Revision, rev.ExpiresAt = seal.KindRevision, 2, time.Time{}
	revision, err := seal.Seal(rev, goldenBody, []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	revBR, err := revision.For("BR")
	if err != nil {
		t.Fatal(err)
	}
	rv := rev
	rv.Kind, rv.CreatedAt = seal.KindRevocation, created.Add(time.Hour)
	revocation, err := seal.Seal(rv, goldenBody, []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		t.Fatal(err)
	}
	revokeBR, err := revocation.For("BR")
	if err != nil {
		t.Fatal(err)
	}
	st := seal.ForwardStatement{Signer: n.nodeID("BR"), Reason: "revocation relayed", At: created.Add(2 * time.Hour)}
	fwd, err := seal.Forward(revokeBR, "BR", br, pe.Public(), st, br)
	if err != nil {
		t.Fatal(err)
	}
	rp := n.header("BR")
	rp.ID, rp.ExpiresAt = otherID, time.Time{}
	rp.Kind, rp.Subkind, rp.Ref = seal.KindReply, seal.ReplySighting, seal.Ref{Origin: "MX", ID: "01JBULLETIN0001"}
	reply, err := seal.Seal(rp, goldenBody, []seal.PublicKeys{mx.Public()}, br)
	if err != nil {
		t.Fatal(err)
	}
	att, err := reply.Attest()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]func() ([]byte, error){
		"keys-MX.bin":                 mx.MarshalPrivate,
		"keys-BR.bin":                 br.MarshalPrivate,
		"keys-PE.bin":                 pe.MarshalPrivate,
		"revision.bin":                revision.Marshal,
		"revision-BR.bin":             revBR.Marshal,
		"revocation-BR.bin":           revokeBR.Marshal,
		"forwarded-revocation-PE.bin": fwd.Marshal,
		"reply-MX.bin":                reply.Marshal,
		"attestation-reply.bin":       att.Marshal,
	}
	if err := os.MkdirAll(goldenDirV4, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, fn := range files {
		b, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDirV4, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
