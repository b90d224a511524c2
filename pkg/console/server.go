package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/identity"
)

// Config configures a console server.
type Config struct {
	// Person is who the console acts for: the identity client.Dial
	// returned for conn. It chooses the pages shown (the secretariat's
	// for an auditor); the node decides what the person may do.
	Person identity.Principal
	// Listen is the loopback address to listen on. Empty (the default)
	// means a random address of 127.0.0.0/8 and a free port, falling back
	// to 127.0.0.1 where the system has only that one: an origin no other
	// local user can predict, so none can have prepared the browser for it
	// (a page cached or a service worker registered at that origin while
	// the console was not running there would see the login token). Any
	// other host than a loopback IP or "localhost" is refused with
	// ErrNotLoopback.
	Listen string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// TokenTTL is how long a login token stays valid unspent; zero means
	// 10 minutes.
	TokenTTL time.Duration
	// SessionTTL is how long a session lasts from its login; zero means
	// 8 hours (a desk shift). Then its requests are refused and its event
	// streams end: the person opens a new login URL.
	SessionTTL time.Duration
	// Clock tells the time for tokens and sessions; nil means time.Now.
	Clock func() time.Time
}

// Server is a running console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	bulletin iantv1.BulletinServiceClient
	audit    iantv1.AuditServiceClient
	ln       net.Listener
	http     *http.Server
	sessions *sessions
	verify   *verifier

	stop    context.CancelFunc // ends the event streams
	baseCtx context.Context
	wg      sync.WaitGroup
	once    sync.Once
	err     error
}

// Start listens on cfg.Listen and serves the console in the background
// until Close. conn is the person's connection to their node (for an
// auditor, to the secretariat's node).
func Start(ctx context.Context, conn grpc.ClientConnInterface, cfg Config) (*Server, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 10 * time.Minute
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := listen(ctx, cfg.Listen, log)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: log, ln: ln,
		bulletin: iantv1.NewBulletinServiceClient(conn),
		audit:    iantv1.NewAuditServiceClient(conn),
		sessions: newSessions(cfg.TokenTTL, cfg.SessionTTL, cfg.Clock),
		verify:   &verifier{},
	}
	s.baseCtx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("console: serve", "err", err)
		}
	}()
	s.log.Info("console listening", "addr", ln.Addr().String())
	return s, nil
}

// listen opens the console's listener on addr, or with no addr on a
// random loopback address (Linux and Windows route all of 127.0.0.0/8 to
// the loopback interface; elsewhere 127.0.0.1 is the fallback, logged).
func listen(ctx context.Context, addr string, log *slog.Logger) (net.Listener, error) {
	var lc net.ListenConfig
	if addr == "" {
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(randomLoopback(), "0"))
		if err == nil {
			return ln, nil
		}
		log.Warn("console: no random loopback address, using 127.0.0.1: a local user who served pages at its port before could capture a login", "err", err)
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen %s: %w", addr, err)
	}
	return ln, nil
}

// randomLoopback returns a random address 127.a.b.c (c neither 0 nor 255).
func randomLoopback() string {
	var b [3]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("127.%d.%d.%d", b[0], b[1], 1+int(b[2])%254)
}

// checkLoopback refuses a listen address whose host is not loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("console: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	return nil
}

// Addr is the address the console listens on, e.g. 127.0.0.1:43121.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// BaseURL is the console's origin, e.g. http://127.0.0.1:43121.
func (s *Server) BaseURL() string { return "http://" + s.Addr() }

// LoginURL mints a new one-time token and returns the URL that spends it
// for a session: open it in the browser. A token is valid once, for
// Config.TokenTTL. It travels in the URL's fragment, which a browser
// never sends to any server: the login page's script spends it.
func (s *Server) LoginURL() string {
	return s.BaseURL() + "/login#token=" + s.sessions.newToken()
}

// Close stops the server: it ends the event streams, closes the listener
// and waits for every request to end, then closes every connection. A
// connection that never sent a request (a browser's preconnect, or
// anyone's) would keep a graceful shutdown waiting for its header timeout:
// after closeGrace it is closed. Every request's context is done by then.
// Close is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.stop()
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.err = s.http.Close()
		}
		s.wg.Wait()
	})
	return s.err
}

// closeGrace is how long Close waits for requests and connections to end.
const closeGrace = 2 * time.Second
