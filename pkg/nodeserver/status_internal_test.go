package nodeserver

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/problem"
)

// TestToStatusLogsEveryInternalError: the caller learns only "internal
// error", so the node's log must hold the cause; other kinds are answered
// with their own message and not logged as errors here.
func TestToStatusLogsEveryInternalError(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    codes.Code
		wantLog bool
	}{
		{"plain error", errors.New("sqlite: disk I/O error"), codes.Internal, true},
		{"wrapped internal", problem.Internal(fmt.Errorf("store ack: %w", errors.New("sqlite: disk I/O error"))), codes.Internal, true},
		{"invalid", problem.Invalid("filter.origins", "too many"), codes.InvalidArgument, false},
		{"invalid inside internal", problem.Internal(problem.Invalid("after_cursor", "ahead")), codes.InvalidArgument, false},
		{"nil", nil, codes.OK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			got := ToStatus(slog.New(slog.NewTextHandler(&logs, nil)), "/iant.v1.BulletinService/ListBulletins", tt.err)
			if status.Code(got) != tt.code {
				t.Errorf("ToStatus(%v) = %v, want code %v", tt.err, got, tt.code)
			}
			logged := strings.Contains(logs.String(), "level=ERROR") && strings.Contains(logs.String(), "disk I/O error") &&
				strings.Contains(logs.String(), "ListBulletins")
			if logged != tt.wantLog {
				t.Errorf("ToStatus(%v) logged %q, want the cause and method logged: %v", tt.err, logs.String(), tt.wantLog)
			}
			if tt.code == codes.Internal && strings.Contains(status.Convert(got).Message(), "disk") {
				t.Errorf("ToStatus(%v) = %v: the cause reached the caller", tt.err, got)
			}
		})
	}
}

// TestToStatusExhausted: admission control's refusal is ResourceExhausted
// with the standard retry hint (google.rpc.RetryInfo) and the kind.
func TestToStatusExhausted(t *testing.T) {
	err := ToStatus(nil, "/iant.v1.BulletinService/PostBulletin", problem.Exhausted(1500*time.Millisecond, "this node is overloaded; retry in 1.5s"))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("ToStatus(Exhausted) = %v, want ResourceExhausted", err)
	}
	var retry time.Duration
	var kind string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration()
		case *iantv1.ErrorDetail:
			kind = d.GetKind()
		}
	}
	if retry != 1500*time.Millisecond || kind != "exhausted" {
		t.Errorf("ToStatus(Exhausted) details: retry %v, kind %q; want 1.5s and exhausted", retry, kind)
	}
}
