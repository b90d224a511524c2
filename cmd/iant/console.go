package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/oas-cicte/iant/pkg/console"
)

const consoleLong = `Run the web console: a web server on this machine's loopback address that
speaks to your node with your own identity (the SVID of your context
file), the way kubectl proxy works. It prints a URL carrying a one-time
token: open it in your browser (or pass --open). The token is exchanged
for a session cookie and cannot be used again; a browser without that
cookie is refused. The console holds no more rights than you: your node
decides everything you do through it.

Pages: the live feed (focal points and analysts), a bulletin with its
history, thread and actions, the post form (focal points), and for an
auditor the secretariat's delivery matrix, statistics and audit log.
docs/console.md describes them. Stop with Ctrl-C.`

func newConsoleCmd(g *globals) *cobra.Command {
	var listen string
	var open bool
	cmd := &cobra.Command{
		Use:   "console [--listen 127.0.0.1:0] [--open]",
		Short: "Run the web console on loopback and print its login URL",
		Long:  consoleLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			s, err := console.Start(cmd.Context(), conn, console.Config{Person: me, Listen: listen})
			if err != nil {
				return err
			}
			defer s.Close()
			url := s.LoginURL()
			fmt.Fprintf(cmd.OutOrStdout(), "console for %s at %s\nopen (once): %s\n", me, s.BaseURL(), url)
			if open {
				if err := openBrowser(url); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "iant: --open: %v; open the URL yourself\n", err)
				}
			}
			<-cmd.Context().Done()
			return s.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to listen on (port 0 = a free port)")
	cmd.Flags().BoolVar(&open, "open", false, "open the login URL in the default browser")
	return cmd
}

// openBrowser starts the desktop's browser on url.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	c := exec.Command(name, url)
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait() // reap it; the browser outlives nothing of ours
	return nil
}
