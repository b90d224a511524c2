package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/escape"
)

const checkpointLong = `Fetch a freshly signed checkpoint of the secretariat's audit log: its
origin, size (number of entries), root hash and time.

With --save FILE it writes the signed checkpoint to FILE and the log's
verifier key to FILE.vkey. Keep them: "iant audit verify --checkpoint FILE"
later proves that the log only grew since.`

const verifyLong = `Verify, on this machine, that the secretariat's audit log is an extension of
the log a checkpoint saved earlier showed: nothing logged then was changed,
reordered or removed since.

verify fetches a new signed checkpoint and a consistency proof from the saved
size to the new one, checks both signatures with the log's verifier key
(--vkey FILE, else FILE.vkey beside the saved checkpoint, else the key the
secretariat serves, which must then also verify the saved checkpoint), and
checks the proof (RFC 6962). With --bulletin ID it also proves that every
logged event of that bulletin (of --origin, needed when several states used
the id) is in the new checkpoint's tree, and re-verifies who said each: the
signature of the node that reported it, its certificate chain against your
context's trust bundle, and that this node may speak for what it reported.
--update
replaces the saved checkpoint with the new one once all checks pass. It
exits non-zero, saying what failed, when a check fails.`

func newAuditCheckpointCmd(g *globals) *cobra.Command {
	var save string
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Fetch the audit log's signed checkpoint, optionally saving it for verify",
		Long:  checkpointLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				resp, err := a.GetCheckpoint(ctx, &iantv1.GetCheckpointRequest{})
				if err != nil {
					return err
				}
				v, err := note.NewVerifier(resp.GetVerifierKey())
				if err != nil {
					return fmt.Errorf("verifier key served by the secretariat: %w", err)
				}
				cp, err := audit.VerifyCheckpoint(resp.GetCheckpoint(), resp.GetOrigin(), v)
				if err != nil {
					return fmt.Errorf("checkpoint served by the secretariat: %w", err)
				}
				if save != "" {
					if err := saveCheckpoint(save, resp.GetCheckpoint(), resp.GetVerifierKey()); err != nil {
						return err
					}
				}
				if g.output == "json" {
					return printJSON(cmd.OutOrStdout(), resp)
				}
				return printCheckpoint(cmd.OutOrStdout(), cp, resp.GetVerifierKey(), save)
			})
		},
	}
	cmd.Flags().StringVar(&save, "save", "", "write the signed checkpoint to this file (and the verifier key to FILE.vkey)")
	return cmd
}

// saveCheckpoint writes the signed checkpoint and its verifier key.
func saveCheckpoint(path string, signed []byte, vkey string) error {
	if err := os.WriteFile(path, signed, 0o644); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.WriteFile(path+".vkey", []byte(vkey+"\n"), 0o644); err != nil {
		return fmt.Errorf("save verifier key: %w", err)
	}
	return nil
}

func printCheckpoint(w io.Writer, cp audit.Checkpoint, vkey, saved string) error {
	fmt.Fprintf(w, "origin:  %s\nsize:    %d\nroot:    %s\ntime:    %s\nkey:     %s\n", cp.Origin, cp.Size,
		base64.StdEncoding.EncodeToString(cp.Root), cp.Time.UTC().Format("2006-01-02 15:04:05Z"), vkey)
	if saved != "" {
		fmt.Fprintf(w, "saved:   %s (key in %s.vkey)\n", saved, saved)
	}
	return nil
}

type verifyOpts struct {
	checkpoint, vkey, bulletin, origin string
	update                             bool
}

func newAuditVerifyCmd(g *globals) *cobra.Command {
	var o verifyOpts
	cmd := &cobra.Command{
		Use:     "verify --checkpoint FILE",
		Short:   "Prove offline that the audit log only grew since a saved checkpoint",
		Long:    verifyLong,
		Example: "  iant audit checkpoint --save audit.cp\n  iant audit verify --checkpoint audit.cp --bulletin 01K… --update",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.checkpoint == "" {
				return usagef("--checkpoint FILE is required (save one with iant audit checkpoint --save FILE)")
			}
			return g.withAudit(cmd, func(ctx context.Context, a iantv1.AuditServiceClient) error {
				var signers *signerCheck
				if o.bulletin != "" {
					var err error
					if signers, err = g.signerCheck(); err != nil {
						return err
					}
				}
				res, err := verifyAudit(ctx, a, o, signers)
				if err != nil {
					return err
				}
				if o.update {
					if err := saveCheckpoint(o.checkpoint, res.signed, res.VerifierKey); err != nil {
						return err
					}
				}
				if g.output == "json" {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
				}
				return printVerify(cmd.OutOrStdout(), res)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.checkpoint, "checkpoint", "", "a signed checkpoint saved by iant audit checkpoint --save (required)")
	f.StringVar(&o.vkey, "vkey", "", "the log's verifier key file (default FILE.vkey beside the checkpoint)")
	f.StringVar(&o.bulletin, "bulletin", "", "also prove every logged event of this bulletin is in the log, and who said it")
	f.StringVar(&o.origin, "origin", "", "with --bulletin: the bulletin's originating state, when several used the id")
	f.BoolVar(&o.update, "update", false, "replace the saved checkpoint with the new one when all checks pass")
	return cmd
}

// verifyResult is what verify proved; it is also its JSON output.
type verifyResult struct {
	Origin      string          `json:"origin"`
	VerifierKey string          `json:"verifier_key"`
	KeyFrom     string          `json:"key_from"` // flag, file or secretariat
	OldSize     uint64          `json:"old_size"`
	NewSize     uint64          `json:"new_size"`
	Consistent  bool            `json:"consistent"`
	Bulletin    string          `json:"bulletin,omitempty"`
	Entries     []verifiedEntry `json:"entries,omitempty"`

	signed []byte
}

// verifiedEntry is one proven entry: its index, its canonical JSON, its
// leaf format and who said it (the verified signer; empty for format 1).
type verifiedEntry struct {
	Index  uint64          `json:"index"`
	Entry  json.RawMessage `json:"entry"`
	Format int             `json:"format"`
	SaidBy string          `json:"said_by,omitempty"`
	event  audit.Event
}

// verifyAudit runs the checks of iant audit verify; any error is a failed
// check or a failed fetch.
func verifyAudit(ctx context.Context, a iantv1.AuditServiceClient, o verifyOpts, signers *signerCheck) (*verifyResult, error) {
	saved, err := os.ReadFile(o.checkpoint)
	if err != nil {
		return nil, fmt.Errorf("read saved checkpoint: %w", err)
	}
	resp, err := a.GetCheckpoint(ctx, &iantv1.GetCheckpointRequest{})
	if err != nil {
		return nil, err
	}
	res := &verifyResult{signed: resp.GetCheckpoint()}
	if res.VerifierKey, res.KeyFrom, err = verifierKey(o, resp.GetVerifierKey()); err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(res.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("verifier key (%s): %w", res.KeyFrom, err)
	}
	old, err := audit.VerifyCheckpoint(saved, v.Name(), v)
	if err != nil {
		return nil, fmt.Errorf("verify failed: saved checkpoint %s: %w", o.checkpoint, err)
	}
	cur, err := audit.VerifyCheckpoint(resp.GetCheckpoint(), v.Name(), v)
	if err != nil {
		return nil, fmt.Errorf("verify failed: the secretariat's new checkpoint: %w", err)
	}
	res.Origin, res.OldSize, res.NewSize = cur.Origin, old.Size, cur.Size
	if cur.Size < old.Size {
		return nil, fmt.Errorf("verify failed: the log has %d entries, fewer than the %d of the saved checkpoint: it was truncated", cur.Size, old.Size)
	}
	cons, err := a.GetConsistencyProof(ctx, &iantv1.GetConsistencyProofRequest{OldSize: old.Size, NewSize: cur.Size})
	if err != nil {
		return nil, err
	}
	if err := audit.VerifyConsistency(old, cur, cons.GetHashes()); err != nil {
		return nil, fmt.Errorf("verify failed: the log of size %d is not an extension of the saved one of size %d: %w", cur.Size, old.Size, err)
	}
	res.Consistent = true
	if o.bulletin != "" {
		id, err := bulletinID("--bulletin", o.bulletin)
		if err != nil {
			return nil, err
		}
		o.bulletin = id
		if err := verifyBulletin(ctx, a, cur, o, signers, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// verifierKey chooses the key: --vkey, the saved FILE.vkey, or the one the
// secretariat serves.
func verifierKey(o verifyOpts, served string) (key, from string, err error) {
	path, from := o.vkey, "flag"
	if path == "" {
		path, from = o.checkpoint+".vkey", "file"
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return strings.TrimSpace(string(b)), from, nil
	case o.vkey == "" && errors.Is(err, os.ErrNotExist):
		return served, "secretariat", nil
	}
	return "", "", fmt.Errorf("read verifier key: %w", err)
}

// verifyBulletin proves each logged event of bulletin o.bulletin in cur's
// tree and re-verifies who said it.
func verifyBulletin(ctx context.Context, a iantv1.AuditServiceClient, cur audit.Checkpoint, o verifyOpts, signers *signerCheck, res *verifyResult) error {
	id := o.bulletin
	resp, err := a.GetInclusionProof(ctx, &iantv1.GetInclusionProofRequest{
		Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: id}, TreeSize: cur.Size, Origin: o.origin})
	if err != nil {
		return err
	}
	res.Bulletin = id
	for _, e := range resp.GetEntries() {
		if err := audit.VerifyInclusion(cur, e.GetIndex(), e.GetEntry(), e.GetHashes()); err != nil {
			return fmt.Errorf("verify failed: entry %d of bulletin %s: %w", e.GetIndex(), id, err)
		}
		leaf, err := audit.ParseLeaf(e.GetEntry())
		if err != nil {
			return fmt.Errorf("verify failed: entry %d: %w", e.GetIndex(), err)
		}
		if ev := leaf.Event; ev.BulletinID != id || o.origin != "" && ev.Origin != o.origin {
			return fmt.Errorf("verify failed: entry %d is of bulletin %s of %s, not %s", e.GetIndex(), ev.BulletinID, ev.Origin, id)
		}
		who, err := signers.saidBy(leaf)
		if err != nil {
			return fmt.Errorf("verify failed: entry %d of bulletin %s: who said it: %w", e.GetIndex(), id, err)
		}
		res.Entries = append(res.Entries, verifiedEntry{Index: e.GetIndex(), Entry: e.GetEntry(), Format: leaf.Format,
			SaidBy: who, event: leaf.Event})
	}
	return nil
}

func printVerify(w io.Writer, r *verifyResult) error {
	fmt.Fprintf(w, "OK: log %s grew from %d to %d entries; nothing logged before was changed (key from %s)\n",
		escape.Line(r.Origin), r.OldSize, r.NewSize, r.KeyFrom)
	if r.Bulletin == "" {
		return nil
	}
	fmt.Fprintf(w, "OK: %d entries of bulletin %s are in the log of size %d; each signature verified against your trust bundle\n",
		len(r.Entries), r.Bulletin, r.NewSize)
	for _, e := range r.Entries {
		who := e.event.Actor
		if e.event.Rule != "" {
			who += " (rule " + e.event.Rule + ")"
		}
		said := "said by " + escape.Line(e.SaidBy)
		if e.SaidBy == "" {
			said = "unsigned (logged before receipts were kept)"
		}
		fmt.Fprintf(w, "  #%-6d %s  %-12s %-2s %-2s %s  %s\n", e.Index, e.event.At.UTC().Format("2006-01-02 15:04:05.000Z"),
			e.event.Kind, escape.Line(e.event.Origin), escape.Line(e.event.State), escape.Line(who), said)
	}
	return nil
}
