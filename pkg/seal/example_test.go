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
