package policy_test

import (
	"fmt"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
)

func Example() {
	set, err := policy.Load("../../deploy/policies")
	if err != nil {
		fmt.Println(err)
		return
	}
	eng := policy.NewEngine(set)
	b := &bulletin.Bulletin{
		ID: "01EXAMPLE", Origin: "MX", Marking: bulletin.Red, Precedence: bulletin.Flash,
		Releasability: bulletin.Releasability{States: []string{"US", "CO"}},
	}
	author := identity.Principal{State: "MX", Role: identity.RoleFocalPoint, Name: "ana"}
	fmt.Println("post:", eng.Post(author, b).PolicyIDs)

	to, refused := eng.Recipients(b)
	fmt.Println("released to:", to, "refused:", len(refused))

	analyst := identity.Principal{State: "US", Role: identity.RoleAnalyst, Name: "cy"}
	d := eng.Read(analyst, policy.PersonAttrs{LawEnforcement: true}, b)
	fmt.Println("analyst reads:", d.Allowed, d.Rule())
	fmt.Println(d.Err())
	// Output:
	// post: [post-focal-point-own-state]
	// released to: [CO US] refused: 0
	// analyst reads: false read-red-focal-points-only
	// TLP:RED bulletins are read only by focal points
}

func ExampleCheckConditions() {
	err := policy.CheckConditions(`permit (principal, action, resource);`)
	fmt.Println(err)
	// Output:
	// condition 0 at conditions:1:1 is a permit: conditions may only forbid, they never widen the network policy
}
