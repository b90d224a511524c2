package taxii

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/oas-cicte/iant/pkg/problem"
)

// Media types of TAXII 2.1 (§1.6.8).
const (
	MediaTAXII = "application/taxii+json;version=2.1"
	MediaSTIX  = "application/stix+json;version=2.1"
)

// acceptsTAXII reports whether an Accept header admits TAXII 2.1: a media
// range application/taxii+json with version 2.1 or no version.
func acceptsTAXII(header string) bool {
	return hasMedia(header, "application/taxii+json")
}

func hasMedia(header, want string) bool {
	for _, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != want {
			continue
		}
		if v, ok := params["version"]; !ok || v == "2.1" {
			return true
		}
	}
	return false
}

// errorMessage is a TAXII error message resource (§3.6.1).
type errorMessage struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// writeJSON writes v with the TAXII media type and status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", MediaTAXII)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes a TAXII error message. title is public and fixed per
// status; description says what was wrong (never an internal cause).
func writeError(w http.ResponseWriter, code int, description string) {
	writeJSON(w, code, errorMessage{Title: http.StatusText(code), Description: description, HTTPStatus: strconv.Itoa(code)})
}

// statusOf is the one mapping of a problem kind to an HTTP status.
func statusOf(err error) int {
	switch problem.KindOf(err) {
	case problem.KindInvalid:
		return http.StatusBadRequest
	case problem.KindPermission:
		return http.StatusForbidden
	case problem.KindNotFound:
		return http.StatusNotFound
	case problem.KindConflict:
		return http.StatusConflict
	case problem.KindUnavailable:
		return http.StatusServiceUnavailable
	case problem.KindUnauthenticated:
		return http.StatusUnauthorized
	case problem.KindExhausted:
		return http.StatusTooManyRequests
	case problem.KindFailedPrecondition:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// writeProblem answers with the status of err's kind; an internal error
// is logged with its cause and answered with a fixed message.
func writeProblem(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	code := statusOf(err)
	var p *problem.Error
	if code == http.StatusInternalServerError || !errors.As(err, &p) {
		log.Error("taxii request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	msg := p.Msg
	switch {
	case p.Rule != "":
		msg += " (rule " + p.Rule + ")"
	case p.Field != "":
		msg += " (field " + p.Field + ")"
	}
	writeError(w, code, msg)
}
