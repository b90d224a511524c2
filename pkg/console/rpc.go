package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/region"
)

// maxBody bounds a request body (a bulletin is at most a few hundred KiB).
const maxBody = 1 << 20

// method is one node call the console's pages may make.
type method struct {
	newReq func() proto.Message
	call   func(ctx context.Context, s *Server, req proto.Message) (proto.Message, error)
}

// bm adapts a BulletinService method.
func bm[Req, Resp proto.Message](newReq func() Req, f func(iantv1.BulletinServiceClient, context.Context, Req) (Resp, error)) method {
	return method{
		newReq: func() proto.Message { return newReq() },
		call: func(ctx context.Context, s *Server, req proto.Message) (proto.Message, error) {
			return f(s.bulletin, ctx, req.(Req))
		},
	}
}

// am adapts an AuditService method.
func am[Req, Resp proto.Message](newReq func() Req, f func(iantv1.AuditServiceClient, context.Context, Req) (Resp, error)) method {
	return method{
		newReq: func() proto.Message { return newReq() },
		call: func(ctx context.Context, s *Server, req proto.Message) (proto.Message, error) {
			return f(s.audit, ctx, req.(Req))
		},
	}
}

// call drops the variadic call options of a generated client method.
func call[C, Req, Resp any](f func(C, context.Context, Req, ...grpc.CallOption) (Resp, error)) func(C, context.Context, Req) (Resp, error) {
	return func(c C, ctx context.Context, r Req) (Resp, error) { return f(c, ctx, r) }
}

// methods are the node calls the pages make, by name. Anything else is
// refused: the console is not a general gRPC proxy.
var methods = map[string]method{
	"GetBulletin":           bm(newMsg[iantv1.GetBulletinRequest], call(iantv1.BulletinServiceClient.GetBulletin)),
	"ListBulletins":         bm(newMsg[iantv1.ListBulletinsRequest], call(iantv1.BulletinServiceClient.ListBulletins)),
	"SearchBulletins":       bm(newMsg[iantv1.SearchBulletinsRequest], call(iantv1.BulletinServiceClient.SearchBulletins)),
	"PostBulletin":          bm(newMsg[iantv1.PostBulletinRequest], call(iantv1.BulletinServiceClient.PostBulletin)),
	"AcknowledgeBulletin":   bm(newMsg[iantv1.AcknowledgeBulletinRequest], call(iantv1.BulletinServiceClient.AcknowledgeBulletin)),
	"ForwardBulletin":       bm(newMsg[iantv1.ForwardBulletinRequest], call(iantv1.BulletinServiceClient.ForwardBulletin)),
	"ReviseBulletin":        bm(newMsg[iantv1.ReviseBulletinRequest], call(iantv1.BulletinServiceClient.ReviseBulletin)),
	"RevokeBulletin":        bm(newMsg[iantv1.RevokeBulletinRequest], call(iantv1.BulletinServiceClient.RevokeBulletin)),
	"ReplyToBulletin":       bm(newMsg[iantv1.ReplyToBulletinRequest], call(iantv1.BulletinServiceClient.ReplyToBulletin)),
	"RequestForwardConsent": bm(newMsg[iantv1.RequestForwardConsentRequest], call(iantv1.BulletinServiceClient.RequestForwardConsent)),
	"ListConsentRequests":   bm(newMsg[iantv1.ListConsentRequestsRequest], call(iantv1.BulletinServiceClient.ListConsentRequests)),
	"DecideConsent":         bm(newMsg[iantv1.DecideConsentRequest], call(iantv1.BulletinServiceClient.DecideConsent)),
	"GetBulletinReport":     am(newMsg[iantv1.GetBulletinReportRequest], call(iantv1.AuditServiceClient.GetBulletinReport)),
	"ListReports":           am(newMsg[iantv1.ListReportsRequest], call(iantv1.AuditServiceClient.ListReports)),
	"ListOverdue":           am(newMsg[iantv1.ListOverdueRequest], call(iantv1.AuditServiceClient.ListOverdue)),
	"GetStats":              am(newMsg[iantv1.GetStatsRequest], call(iantv1.AuditServiceClient.GetStats)),
}

func newMsg[T any, P interface {
	*T
	proto.Message
}]() P {
	return P(new(T))
}

// decodeRequest reads a method's request message from a protojson body.
// Unknown fields are refused (naming them in the error), as is a body
// that is not one JSON object of that message.
func decodeRequest(m method, body []byte) (proto.Message, error) {
	req := m.newReq()
	if len(body) == 0 {
		return req, nil
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(body, req); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	return req, nil
}

// readLimited reads at most maxBody bytes of the request body.
func readLimited(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

// readBody reads a bounded request body, answering the error itself.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readLimited(w, r)
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "InvalidArgument", "body", "the request body is too large")
		} else {
			writeError(w, http.StatusBadRequest, "InvalidArgument", "body", "could not read the request body")
		}
	}
	return body, err
}

// rpc makes one node call for the page: the body is the request message,
// the answer the response message (protojson) or an apiError.
func (s *Server) rpc(w http.ResponseWriter, r *http.Request, _ *session) {
	m, ok := methods[r.PathValue("method")]
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "method", "the console makes no such call")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		return
	}
	req, err := decodeRequest(m, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument", "body", err.Error())
		return
	}
	resp, err := m.call(r.Context(), s, req)
	if err != nil {
		s.writeNodeError(w, err)
		return
	}
	writeProto(w, resp)
}

var marshal = protojson.MarshalOptions{EmitUnpopulated: false}

// writeProto writes a response message as protojson.
func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := marshal.Marshal(m)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Internal", "", "could not encode the node's answer")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// writeNodeError passes on the node's refusal: its code, message and the
// field or rule its ErrorDetail names.
func (s *Server) writeNodeError(w http.ResponseWriter, err error) {
	st, _ := status.FromError(err)
	e := apiError{Code: st.Code().String(), Message: st.Message()}
	for _, d := range st.Details() {
		if ed, ok := d.(*iantv1.ErrorDetail); ok {
			e.Field, e.Rule = ed.GetField(), ed.GetRule()
		}
	}
	writeJSON(w, httpStatus(st.Code()), e)
}

// httpStatus maps a gRPC code to the HTTP status of the console's answer.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return http.StatusServiceUnavailable
	case codes.Unimplemented:
		return http.StatusNotImplemented
	}
	return http.StatusBadGateway
}

// regionEnum is a region's wire enum name, e.g. REGION_CARIBBEAN.
func regionEnum(r region.Region) string { return iantv1.Region(r).String() }
