package seal_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/oas-cicte/iant/pkg/seal"
)

func ExampleSeal() {
	// Each node has keys; their public halves reach other nodes through
	// signed directory entries (SignEntry, VerifyEntry).
	mx, _ := seal.GenerateNodeKeys("MX")
	br, _ := seal.GenerateNodeKeys("BR")
	us, _ := seal.GenerateNodeKeys("US")

	created := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	hdr := seal.Header{
		ID:        "01JEXAMPLE",
		Origin:    "MX",
		Signer:    "spiffe://iant.example/state/MX/node/main",
		CreatedAt: created,
		ExpiresAt: created.Add(24 * time.Hour),
	}
	s, err := seal.Seal(hdr, []byte("secret part of the bulletin"), []seal.PublicKeys{br.Public(), us.Public()}, mx)
	if err != nil {
		panic(err)
	}
	wire, _ := s.Marshal()

	// At Brazil's node: the signer lookup comes from the verified directory.
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if p := mx.Public(); state == "MX" && keyID == p.SignKeyID {
			return seal.SignerKey{Public: p.SignPublic}, nil
		}
		return seal.SignerKey{}, errors.New("unknown signing key")
	}
	got, _ := seal.Unmarshal(wire)
	fmt.Println(got.Origin, got.Recipients)
	pt, err := seal.Open(got, "BR", br, lookup, seal.Policy{}, created.Add(time.Hour))
	fmt.Printf("%s %v\n", pt, err)

	// Canada is not a recipient.
	ca, _ := seal.GenerateNodeKeys("CA")
	_, err = seal.Open(got, "CA", ca, lookup, seal.Policy{}, created.Add(time.Hour))
	fmt.Println(errors.Is(err, seal.ErrNotRecipient))
	// Output:
	// MX [BR US]
	// secret part of the bulletin <nil>
	// true
}

func ExampleForward() {
	mx, _ := seal.GenerateNodeKeys("MX")
	br, _ := seal.GenerateNodeKeys("BR")
	pe, _ := seal.GenerateNodeKeys("PE")
	node := func(state string) string { return "spiffe://iant.example/state/" + state + "/node/main" }
	// The directory vouches for each node's signing key.
	keys := map[string]*seal.NodeKeys{"MX": mx, "BR": br, "PE": pe}
	lookup := func(state, keyID string) (seal.SignerKey, error) {
		if k, ok := keys[state]; ok && k.Public().SignKeyID == keyID {
			return seal.SignerKey{Public: k.Public().SignPublic}, nil
		}
		return seal.SignerKey{}, errors.New("unknown signing key")
	}

	// Mexico releases a bulletin to Brazil only.
	created := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	hdr := seal.Header{ID: "01JEXAMPLE", Origin: "MX", Signer: node("MX"), CreatedAt: created}
	s, _ := seal.Seal(hdr, []byte("secret part of the bulletin"), []seal.PublicKeys{br.Public()}, mx)
	copyBR, _ := s.For("BR")

	// Brazil, having opened its copy, forwards it to Peru.
	st := seal.ForwardStatement{Signer: node("BR"), Reason: "policy forward.neighbour", At: created.Add(time.Hour)}
	f, err := seal.Forward(copyBR, "BR", br, pe.Public(), st, br)
	if err != nil {
		panic(err)
	}
	wire, _ := f.Marshal()

	// Peru verifies Mexico's signature and Brazil's statement, and opens.
	got, _ := seal.UnmarshalForwarded(wire)
	pt, err := seal.OpenForwarded(got, "PE", pe, lookup, seal.Policy{}, created.Add(2*time.Hour))
	fmt.Printf("%s's bulletin, forwarded by %s: %s %v\n", got.Sealed.Origin, got.Statement.Forwarder, pt, err)

	// Mexico cannot "forward" its own bulletin: it seals it again instead.
	_, err = seal.Forward(s, "MX", mx, pe.Public(), seal.ForwardStatement{Signer: node("MX"), Reason: "x", At: created}, mx)
	fmt.Println(errors.Is(err, seal.ErrOwnForward))
	// Output:
	// MX's bulletin, forwarded by BR: secret part of the bulletin <nil>
	// true
}
