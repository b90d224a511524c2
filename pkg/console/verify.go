package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
)

// verifier holds what the console trusts of the audit log: the verifier
// key and the checkpoint it saw first (trust on first use, for this
// console's life), grown by every successful verify.
type verifier struct {
	mu      sync.Mutex
	key     string
	trusted *audit.Checkpoint
}

// verifyRequest is /api/verify's body: optionally a bulletin whose logged
// events to prove included.
type verifyRequest struct {
	BulletinID string `json:"bulletinId"`
	Origin     string `json:"origin"`
}

// verifyResult is /api/verify's answer.
type verifyResult struct {
	OK        bool      `json:"ok"`
	Message   string    `json:"message"`
	Origin    string    `json:"origin,omitempty"`
	OldSize   uint64    `json:"oldSize"`
	NewSize   uint64    `json:"newSize"`
	Root      string    `json:"root,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	Bulletin  string    `json:"bulletin,omitempty"`
	Entries   int       `json:"entries"`
	FirstSeen bool      `json:"firstSeen"`
}

// decodeVerifyRequest reads /api/verify's body strictly.
func decodeVerifyRequest(body []byte) (verifyRequest, error) {
	var req verifyRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("request body: %w", err)
	}
	if dec.More() {
		return req, fmt.Errorf("request body: more than one JSON value")
	}
	if len(req.BulletinID) > 64 || len(req.Origin) > 8 {
		return req, fmt.Errorf("bulletinId or origin too long")
	}
	return req, nil
}

// verifyLog runs the audit log's checks in this server: the checkpoint's
// signature, consistency with the checkpoint trusted before, and with a
// bulletin id the inclusion of each of its logged events.
func (s *Server) verifyLog(w http.ResponseWriter, r *http.Request, _ *session) {
	body, err := readBody(w, r)
	if err != nil {
		return
	}
	req, err := decodeVerifyRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument", "body", err.Error())
		return
	}
	res, err := s.verify.run(r.Context(), s.audit, req)
	if err != nil {
		res = verifyResult{Message: err.Error()}
	}
	writeJSON(w, http.StatusOK, res)
}

func (v *verifier) run(ctx context.Context, a iantv1.AuditServiceClient, req verifyRequest) (verifyResult, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	resp, err := a.GetCheckpoint(ctx, &iantv1.GetCheckpointRequest{})
	if err != nil {
		return verifyResult{}, fmt.Errorf("fetch checkpoint: %w", err)
	}
	if v.key == "" {
		v.key = resp.GetVerifierKey()
	}
	nv, err := note.NewVerifier(v.key)
	if err != nil {
		return verifyResult{}, fmt.Errorf("verifier key: %w", err)
	}
	cur, err := audit.VerifyCheckpoint(resp.GetCheckpoint(), nv.Name(), nv)
	if err != nil {
		return verifyResult{}, fmt.Errorf("verify failed: checkpoint: %w", err)
	}
	res := verifyResult{OK: true, Origin: cur.Origin, NewSize: cur.Size, Time: cur.Time,
		Root: base64.StdEncoding.EncodeToString(cur.Root)}
	if v.trusted == nil {
		res.FirstSeen, res.Message = true, "first checkpoint: signature verified and trusted from now on"
	} else if err := v.consistent(ctx, a, cur, &res); err != nil {
		return verifyResult{}, err
	}
	if req.BulletinID != "" {
		if err := included(ctx, a, cur, req, &res); err != nil {
			return verifyResult{}, err
		}
	}
	v.trusted = &cur
	return res, nil
}

// consistent proves cur an extension of the trusted checkpoint.
func (v *verifier) consistent(ctx context.Context, a iantv1.AuditServiceClient, cur audit.Checkpoint, res *verifyResult) error {
	old := *v.trusted
	res.OldSize = old.Size
	if cur.Size < old.Size {
		return fmt.Errorf("verify failed: the log has %d entries, fewer than the %d trusted: it was truncated", cur.Size, old.Size)
	}
	p, err := a.GetConsistencyProof(ctx, &iantv1.GetConsistencyProofRequest{OldSize: old.Size, NewSize: cur.Size})
	if err != nil {
		return fmt.Errorf("fetch consistency proof: %w", err)
	}
	if err := audit.VerifyConsistency(old, cur, p.GetHashes()); err != nil {
		return fmt.Errorf("verify failed: the log of size %d is not an extension of the trusted one of size %d: %w", cur.Size, old.Size, err)
	}
	res.Message = fmt.Sprintf("the log grew from %d to %d entries; nothing logged before was changed", old.Size, cur.Size)
	return nil
}

// included proves every logged event of the request's bulletin in cur.
func included(ctx context.Context, a iantv1.AuditServiceClient, cur audit.Checkpoint, req verifyRequest, res *verifyResult) error {
	p, err := a.GetInclusionProof(ctx, &iantv1.GetInclusionProofRequest{
		Selector: &iantv1.GetInclusionProofRequest_BulletinId{BulletinId: req.BulletinID}, TreeSize: cur.Size, Origin: req.Origin})
	if err != nil {
		return fmt.Errorf("fetch inclusion proof: %w", err)
	}
	for _, e := range p.GetEntries() {
		if err := audit.VerifyInclusion(cur, e.GetIndex(), e.GetEntry(), e.GetHashes()); err != nil {
			return fmt.Errorf("verify failed: entry %d: %w", e.GetIndex(), err)
		}
		leaf, err := audit.ParseLeaf(e.GetEntry())
		if err != nil {
			return fmt.Errorf("verify failed: entry %d: %w", e.GetIndex(), err)
		}
		if leaf.Event.BulletinID != req.BulletinID {
			return fmt.Errorf("verify failed: entry %d is of another bulletin", e.GetIndex())
		}
	}
	res.Bulletin, res.Entries = req.BulletinID, len(p.GetEntries())
	res.Message += fmt.Sprintf("; %d entries of the bulletin are in the log", res.Entries)
	return nil
}
