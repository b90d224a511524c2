package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"google.golang.org/grpc"

	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/console"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// demoConsolePeople are the people the demo runs a web console for: a
// focal point of the first state, an analyst of the second, the auditor.
func demoConsolePeople(states []string) []identity.Principal {
	if len(states) < 2 {
		return []identity.Principal{testenv.Auditor()}
	}
	from, to := states[0], states[1]
	if slices.Contains(states, "MX") && slices.Contains(states, "US") {
		from, to = "MX", "US"
	}
	return []identity.Principal{testenv.FocalPoint(from), testenv.Analyst(to), testenv.Auditor()}
}

// startDemoConsoles runs a web console for each demo console person and
// prints its one-time login URL; stop closes them and their connections.
func startDemoConsoles(ctx context.Context, w io.Writer, states []string, nw *testenv.Network, logger *slog.Logger) (stop func(), err error) {
	var conns []*grpc.ClientConn
	var servers []*console.Server
	stop = func() {
		for _, s := range servers {
			s.Close()
		}
		for _, c := range conns {
			c.Close()
		}
	}
	fmt.Fprintf(w, "\nWeb consoles (open each URL once, in a browser on this machine; docs/console.md):\n")
	for _, p := range demoConsolePeople(states) {
		c, err := nw.Context(p)
		if err != nil {
			stop()
			return nil, err
		}
		conn, me, err := client.Dial(ctx, c)
		if err != nil {
			stop()
			return nil, err
		}
		conns = append(conns, conn)
		s, err := console.Start(ctx, conn, console.Config{Person: me, Logger: logger})
		if err != nil {
			stop()
			return nil, err
		}
		servers = append(servers, s)
		fmt.Fprintf(w, "  %-28s %s\n", me.String(), s.LoginURL())
	}
	return stop, nil
}
