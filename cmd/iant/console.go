package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/console"
)

const consoleLong = `Run the web console: a web server on this machine's loopback address that
speaks to your node with your own identity (the SVID of your context
file), the way kubectl proxy works. It prints a URL carrying a one-time
token: open it in your browser (or pass --open). The token is exchanged
for a session (a cookie and a key only the console's own pages hold) and
cannot be used again; a session lasts --session (8h) or until you sign
out. Press Enter here for a new login URL. The console holds no more
rights than you: your node decides everything you do through it.

Pages: the live feed (focal points and analysts), a bulletin with its
history, thread and actions, the post form (focal points), and for an
auditor the secretariat's delivery matrix, statistics and audit log.
docs/console.md describes them. Stop with Ctrl-C.`

func newConsoleCmd(g *globals) *cobra.Command {
	var listen string
	var open bool
	var session time.Duration
	cmd := &cobra.Command{
		Use:   "console [--listen ADDR] [--open] [--session 8h]",
		Short: "Run the web console on loopback and print its login URL",
		Long:  consoleLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if session <= 0 {
				return fmt.Errorf("--session %s: a session must last a positive time", session)
			}
			conn, me, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			if me.Role.IsSecretariat() { // the audit service is the secretariat node's
				conn.Close()
				if conn, err = g.dialSecretariat(cmd.Context()); err != nil {
					return err
				}
			}
			defer conn.Close()
			s, err := console.Start(cmd.Context(), conn, console.Config{Person: me, Listen: listen, SessionTTL: session})
			if err != nil {
				return err
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			url := s.LoginURL()
			fmt.Fprintf(out, "console for %s at %s\nopen (once): %s\n", me, s.BaseURL(), url)
			if open {
				if err := openBrowser(url); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "iant: --open: %v; open the URL yourself\n", err)
				}
			}
			if in, ok := cmd.InOrStdin().(*os.File); ok && isTerminal(in) {
				go newURLsOnEnter(in, out, s)
			}
			<-cmd.Context().Done()
			return s.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "loopback address to listen on (port 0 = a free port); default a random 127.x.y.z address and a free port, which no other local user can have prepared a page for")
	cmd.Flags().BoolVar(&open, "open", false, "open the login URL in the default browser")
	cmd.Flags().DurationVar(&session, "session", 8*time.Hour, "how long a session lasts from its login")
	return cmd
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newURLsOnEnter prints a new one-time login URL for every line read
// from the terminal in (Enter), until in ends. A job in the background
// reading its terminal would be stopped (SIGTTIN): ignored, the read
// fails instead and only the reading ends.
func newURLsOnEnter(in io.Reader, out io.Writer, s *console.Server) {
	ignoreTTIN()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fmt.Fprintf(out, "open (once): %s\n", s.LoginURL())
	}
}

// openBrowser starts the desktop's browser on the login URL without
// putting it on a command line, where every user of the machine could
// read it (/proc/PID/cmdline): the browser gets a file, readable by this
// user only, that sends it on. The file is removed a minute later.
func openBrowser(url string) error {
	dir, err := os.MkdirTemp("", "iant-console-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	page := filepath.Join(dir, "login.html")
	content := `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
		`<meta http-equiv="refresh" content="0;url=` + html.EscapeString(url) + `"><title>IANT console</title>`
	if err := os.WriteFile(page, []byte(content), 0o600); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("login page: %w", err)
	}
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	c := exec.Command(name, page)
	if err := c.Start(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	go c.Wait() // reap it; the browser outlives nothing of ours
	time.AfterFunc(time.Minute, func() { os.RemoveAll(dir) })
	return nil
}
