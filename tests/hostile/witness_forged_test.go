package hostile_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/secretariat"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestForgedWitnessRaisesNoAlarm: CO, compromised, tries to discredit the
// secretariat's log by telling the others, on its own witness subject, a
// checkpoint that contradicts the one MX accepted: garbage; a witnessed
// message in MX's name; a checkpoint of MX's size with another root,
// signed by a key CO made that carries the log's name. MX's node refuses
// each (logged), raises no alarm, and its witness stays where it was.
// (CO's own node is stopped, so that it does not publish its genuine
// witnessed checkpoint over the forgeries.)
func TestForgedWitnessRaisesNoAlarm(t *testing.T) {
	t.Parallel()
	logs := nettest.NewLogs(t)
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "CO"}, Logger: logs.Logger(),
		Audit: secretariat.AuditConfig{CheckpointInterval: 100 * time.Millisecond}})
	nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("something to log", "CO"))
	var mine audit.Checkpoint
	eventually(t, "MX witnessed a checkpoint", func() bool {
		cp, ok := nw.Node("MX").AuditCheckpoint()
		mine = cp
		return ok && cp.Size > 0
	})
	if err := nw.StopNode("CO"); err != nil {
		t.Fatal(err)
	}
	co := newAttacker(t, nw, "CO")
	fake, _, err := note.GenerateKey(rand.Reader, logOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(fake)
	if err != nil {
		t.Fatal(err)
	}
	root := make([]byte, 32)
	rand.Read(root)
	forged, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", logOrigin, mine.Size, base64.StdEncoding.EncodeToString(root))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	witnessed := func(state string, cp []byte) []byte {
		b, err := audit.WitnessedCheckpoint{State: state, Checkpoint: cp}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, msg string
		data      []byte
	}{
		{"garbage", "witnessed checkpoint refused", []byte("not a witnessed checkpoint")},
		{"in MX's name", "witnessed checkpoint refused", witnessed("MX", forged)},
		{"signed by another key", "witnessed checkpoint is not one of the secretariat's log", witnessed("CO", forged)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := logs.Count("component=mx", "peer=CO", "msg="+tt.msg)
			if err := co.bb.PublishWitnessed(t.Context(), tt.data); err != nil {
				t.Fatal(err)
			}
			eventually(t, "MX refused CO's message", func() bool {
				return logs.Count("component=mx", "peer=CO", "msg="+tt.msg) > before
			})
			if alarms := nw.Node("MX").AuditAlarms(); len(alarms) != 0 {
				t.Errorf("MX raised %+v", alarms)
			}
		})
	}
	if cp, _ := nw.Node("MX").AuditCheckpoint(); cp.Size < mine.Size {
		t.Errorf("MX's witness went back from %d to %d", mine.Size, cp.Size)
	}
}
