package nodeserver

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/problem"
)

// grpcCode is the one mapping from a problem kind to a gRPC status code.
func grpcCode(k problem.Kind) codes.Code {
	switch k {
	case problem.KindInvalid:
		return codes.InvalidArgument
	case problem.KindPermission:
		return codes.PermissionDenied
	case problem.KindNotFound:
		return codes.NotFound
	case problem.KindConflict:
		return codes.AlreadyExists
	case problem.KindUnavailable:
		return codes.Unavailable
	case problem.KindUnauthenticated:
		return codes.Unauthenticated
	case problem.KindExhausted:
		return codes.ResourceExhausted
	case problem.KindFailedPrecondition:
		return codes.FailedPrecondition
	default:
		return codes.Internal
	}
}

// ToStatus turns err into a gRPC status error carrying an ErrorDetail that
// names the field or rule. Internal causes never reach the caller: they
// are logged to log with the method, and the caller reads "internal error".
func ToStatus(log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !errors.As(err, new(*problem.Error)) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	var p *problem.Error
	if !errors.As(err, &p) {
		p = problem.Internal(err)
	}
	if p.Kind == problem.KindInternal && log != nil {
		cause := err
		if p.Err != nil {
			cause = p.Err // the public message is only "internal error"
		}
		log.Error("call failed with an internal error", "method", method, "err", cause)
	}
	st := status.New(grpcCode(p.Kind), p.Msg)
	details := []protoadapt.MessageV1{&iantv1.ErrorDetail{Kind: p.Kind.String(), Field: p.Field, Rule: p.Rule}}
	if p.RetryAfter > 0 {
		// The standard hint (google.rpc.RetryInfo) that clients and
		// proxies read: when to send the request again.
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(p.RetryAfter)})
	}
	if d, derr := st.WithDetails(details...); derr == nil {
		st = d
	}
	return st.Err()
}
