package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// The secretariat logs a bulletin's life and hands out a checkpoint and a
// proof; an auditor verifies them with nothing but the log's public key.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)

	const origin = "iant.example/audit"
	skey, vkey, _ := note.GenerateKey(bytes.NewReader(make([]byte, 32)), origin) // use crypto/rand.Reader
	signer, _ := note.NewSigner(skey)
	lg, err := audit.OpenLog(ctx, filepath.Join(dir, "audit.db"), signer, origin)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lg.Close()

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const id = "01JNQ8Y4Z5W6X7V8T9S0R1Q2P3"
	lg.Append(ctx, audit.Event{Kind: audit.EventPosted, BulletinID: id, Origin: "MX",
		Actor: "spiffe://iant.example/state/MX/focal-point/ana", Precedence: bulletin.Flash, At: at})
	i, _ := lg.Append(ctx, audit.Event{Kind: audit.EventDelivered, BulletinID: id, Origin: "MX", State: "BR",
		Actor: "spiffe://iant.example/state/BR/node/br1", At: at.Add(2 * time.Second)})

	signed, _ := lg.Checkpoint(ctx)
	proof, _ := lg.InclusionProof(ctx, i, lg.Size())
	_, leaf, _ := lg.Entry(ctx, i)

	// Offline, at the auditor's desk.
	verifier, _ := note.NewVerifier(vkey)
	cp, err := audit.VerifyCheckpoint(signed, origin, verifier)
	fmt.Println("checkpoint:", cp.Size, "entries", err)
	fmt.Println("inclusion:", audit.VerifyInclusion(cp, i, leaf, proof))

	r, _ := lg.Report(ctx, id)
	fmt.Println(r.Recipients[0].State, "delivered after", r.Recipients[0].DeliveryLatency)
	// Output:
	// checkpoint: 2 entries <nil>
	// inclusion: <nil>
	// BR delivered after 2s
}
