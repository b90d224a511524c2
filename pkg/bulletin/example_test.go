package bulletin_test

import (
	"errors"
	"fmt"

	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/region"
)

func ExampleRecipients() {
	// Mexico releases to Colombia, Jamaica (listed twice) and all of North
	// America; Mexico itself keeps the copy it sent.
	r := bulletin.Releasability{
		States:  []string{"JM", "CO", "JM"},
		Regions: []region.Region{region.NorthAmerica},
	}
	fmt.Println(bulletin.Recipients("MX", r))

	all := bulletin.Recipients("MX", bulletin.Releasability{All: true})
	fmt.Println(len(all))
	// Output:
	// [CA CO JM US]
	// 34
}

func ExampleBulletin_ValidateDraft() {
	b := bulletin.Bulletin{
		Title:         "Documentos de viaje falsificados",
		Body:          "Serie de pasaportes alterados detectada en frontera.",
		Precedence:    bulletin.Priority,
		Category:      bulletin.BorderDocumentFraud,
		Language:      bulletin.Spanish,
		Marking:       bulletin.Green,
		Releasability: bulletin.Releasability{States: []string{"mx"}},
	}
	err := b.ValidateDraft()
	var p *problem.Error
	if errors.As(err, &p) {
		fmt.Println(p.Kind, p.Field)
	}
	// Output: invalid releasability.states
}
