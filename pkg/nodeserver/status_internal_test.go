package nodeserver

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
