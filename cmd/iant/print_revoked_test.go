package main

import (
	"bytes"
	"strings"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// TestRevokedDetailSaysTheContentIsGone: get of a revoked bulletin, whose
// holders keep only the tombstone, says where the title and body went
// instead of printing a blank title and blank lines.
func TestRevokedDetailSaysTheContentIsGone(t *testing.T) {
	r := &iantv1.StoredBulletin{
		State: iantv1.BulletinState_BULLETIN_STATE_REVOKED,
		Bulletin: &iantv1.Bulletin{Id: "01M8YPP7QF5EAMZXPD9HZYNXT0", Origin: "MX", Revision: 3,
			Revocation: &iantv1.Revocation{RevokedBy: "spiffe://iant.test/state/MX/focal-point/focal", Reason: "source retracted the report"}},
	}
	var out bytes.Buffer
	if err := printDetail(&out, r, bulletin.LanguageUnspecified); err != nil {
		t.Fatal(err)
	}
	o := out.String()
	if !strings.Contains(o, "Title:") || !strings.Contains(o, "removed by the revocation") || strings.Contains(o, "\n\n\n") {
		t.Errorf("get of a revoked bulletin:\n%s\nwant its title said removed, no blank body", o)
	}
}
