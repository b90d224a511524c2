package backbone

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats-server/v2/server"
)

// discard is the logger used when a config leaves Logger nil.
var discard = slog.New(slog.DiscardHandler)

// serverLogger adapts nats-server's printf-style logger to slog. It also
// keeps the first Fatalf: the server reports start-up failures (port in
// use, JetStream store unusable) only that way, and must never exit the
// process as its own logger would.
type serverLogger struct {
	log *slog.Logger
	// outOfSpace, if set, is set when the server logs an error saying a
	// write failed for want of space (see disk.go).
	outOfSpace *atomic.Bool

	fatalMu sync.Mutex
	fatal   error
}

var _ server.Logger = (*serverLogger)(nil)

func (l *serverLogger) Noticef(format string, v ...any) { l.emit(slog.LevelInfo, format, v) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.emit(slog.LevelWarn, format, v) }
func (l *serverLogger) Errorf(format string, v ...any) {
	if l.outOfSpace != nil && outOfSpace(fmt.Sprintf(format, v...)) {
		l.outOfSpace.Store(true)
	}
	l.emit(slog.LevelError, format, v)
}
func (l *serverLogger) Debugf(format string, v ...any) { l.emit(slog.LevelDebug, format, v) }
func (l *serverLogger) Tracef(format string, v ...any) { l.emit(slog.LevelDebug-4, format, v) }

// Fatalf logs at error level and records the error for [StartServer].
func (l *serverLogger) Fatalf(format string, v ...any) {
	l.emit(slog.LevelError, format, v)
	l.fatalMu.Lock()
	defer l.fatalMu.Unlock()
	if l.fatal == nil {
		l.fatal = fmt.Errorf(format, v...)
	}
}

// fatalErr returns the first fatal error, if any.
func (l *serverLogger) fatalErr() error {
	l.fatalMu.Lock()
	defer l.fatalMu.Unlock()
	return l.fatal
}

func (l *serverLogger) emit(level slog.Level, format string, v []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...))
}
