package taxii

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/stix"
	"github.com/oas-cicte/iant/pkg/strictjson"
)

// statusResource is a TAXII status resource (§4.3).
type statusResource struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []statusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []statusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
}

type statusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// addObjects turns each report of the envelope into a post. The whole
// envelope is read and every draft validated first: a bad envelope is
// refused (400 malformed, 413 too large, 415 not TAXII, 422 not
// mappable or not a valid bulletin) with nothing posted. Then each
// bulletin is posted; the status says, per object, which were.
func (s *Server) addObjects(w http.ResponseWriter, r *http.Request, p identity.Principal) {
	c, ok := s.find(w, r, p)
	if !ok {
		return
	}
	if !c.CanWrite {
		writeError(w, http.StatusForbidden, "you may not add objects to this collection (focal points add bulletins to \""+s.collectionsOf(p)[0].Title+"\")")
		return
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/taxii+json" || params["version"] != "" && params["version"] != "2.1" {
		writeError(w, http.StatusUnsupportedMediaType, "the Content-Type must be "+MediaTAXII)
		return
	}
	if r.ContentLength > stix.MaxBundleBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "the envelope is larger than max_content_length")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, stix.MaxBundleBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "the envelope is larger than max_content_length")
			return
		}
		writeError(w, http.StatusBadRequest, "the envelope could not be read")
		return
	}
	drafts, d, err := s.decodeEnvelope(body, p.State)
	if err != nil {
		writeDecodeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.postAll(r, p, drafts, d))
}

// writeDecodeError answers a refused envelope, naming the JSON path.
func writeDecodeError(w http.ResponseWriter, err error) {
	code := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, strictjson.ErrTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, strictjson.ErrSyntax), errors.Is(err, strictjson.ErrDuplicateKey):
		code = http.StatusBadRequest
	}
	writeError(w, code, strings.TrimPrefix(err.Error(), "stix: "))
}

// decodeEnvelope reads an envelope and returns its reports, each with
// its bulletin replaced by the validated draft to post.
func (s *Server) decodeEnvelope(body []byte, poster string) ([]stix.Imported, *stix.Decoded, error) {
	doc, err := strictjson.Parse(body, stix.Limits())
	if err != nil {
		return nil, nil, err
	}
	if err := doc.Object(); err != nil {
		return nil, nil, err
	}
	d, err := stix.DecodeObjects(doc.Field("objects"))
	if err != nil {
		return nil, nil, err
	}
	for i, im := range d.Bulletins {
		b, err := im.Draft(poster)
		if err != nil {
			return nil, nil, err
		}
		if err := im.Check(&b); err != nil {
			return nil, nil, err
		}
		d.Bulletins[i].Bulletin = b
	}
	return d.Bulletins, d, nil
}

// postAll posts each draft and makes the status resource: the objects of
// a posted bulletin succeed, those of a refused one fail with the node's
// reason, replies fail (they come with the bulletin lifecycle), and
// identities and marking definitions succeed as references.
func (s *Server) postAll(r *http.Request, p identity.Principal, drafts []stix.Imported, d *stix.Decoded) statusResource {
	st := statusResource{ID: uuid.NewString(), Status: "complete", RequestTimestamp: stix.At(s.now()).String()}
	outcome := map[string]statusDetails{}
	failed := map[string]bool{}
	for _, im := range drafts {
		msg, ok := "", true
		e, err := s.cfg.Source.Post(r.Context(), p, im.Bulletin)
		if err != nil {
			if problem.KindOf(err) == problem.KindInternal {
				s.log.Error("taxii post failed", "peer", p.String(), "err", err)
			}
			ok, msg = false, "not posted: "+publicMessage(err, im)
		} else {
			msg = "posted as bulletin " + e.Bulletin.ID
		}
		for _, id := range im.Objects {
			outcome[id] = statusDetails{ID: id, Message: msg}
			failed[id] = !ok
		}
	}
	for _, o := range d.Objects {
		det, known := outcome[o.ID]
		det.ID, det.Version = o.ID, stix.At(o.Version).String()
		switch {
		case known && failed[o.ID]:
			st.Failures = append(st.Failures, det)
		case known:
			st.Successes = append(st.Successes, det)
		case o.Type == stix.TypeNote || o.Type == stix.TypeSighting:
			det.Message = "not posted: replies are not taken over TAXII yet"
			st.Failures = append(st.Failures, det)
		default:
			det.Message = "reference; nothing to post"
			st.Successes = append(st.Successes, det)
		}
	}
	st.TotalCount, st.SuccessCount, st.FailureCount = len(d.Objects), len(st.Successes), len(st.Failures)
	s.statuses.put(p, st)
	return st
}

// publicMessage is what a person may be told of a refusal, a bad field
// named by its JSON path in the envelope.
func publicMessage(err error, im stix.Imported) string {
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Kind == problem.KindInternal {
		return "internal error"
	}
	switch {
	case pe.Rule != "":
		return pe.Msg + " (rule " + pe.Rule + ")"
	case pe.Field != "":
		return pe.Msg + " (" + im.PathOf(pe.Field) + ")"
	}
	return pe.Msg
}
