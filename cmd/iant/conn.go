package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/region"
)

// dial opens the connection named by --context or $IANT_CONTEXT.
func (g *globals) dial(ctx context.Context) (*grpc.ClientConn, identity.Principal, error) {
	path := g.contextFile
	if path == "" {
		path = os.Getenv("IANT_CONTEXT")
	}
	if path == "" {
		return nil, identity.Principal{}, usagef("no context: pass --context FILE or set IANT_CONTEXT (iant demo writes them into DIR/contexts)")
	}
	c, err := g.loadContext(path)
	if err != nil {
		return nil, identity.Principal{}, err
	}
	if g.stderr != nil {
		warnExpiry(g.stderr, c.CertFile(), time.Now())
	}
	return client.Dial(ctx, c)
}

func (g *globals) checkOutput() error {
	if g.output != "table" && g.output != "json" {
		return usagef("unknown output format %q (want table or json)", g.output)
	}
	return nil
}

// detailOf renders the ErrorDetail of a status, naming the field or rule.
func detailOf(st *status.Status) string {
	for _, d := range st.Details() {
		if e, ok := d.(*iantv1.ErrorDetail); ok {
			switch {
			case e.GetField() != "":
				return "field " + e.GetField()
			case e.GetRule() != "":
				return "rule " + e.GetRule()
			}
		}
	}
	return ""
}

func bulletinClient(conn *grpc.ClientConn) iantv1.BulletinServiceClient {
	return iantv1.NewBulletinServiceClient(conn)
}

// withConn checks the output format, dials the caller's node and runs fn
// with the connection, which it closes afterwards.
func (g *globals) withConn(cmd *cobra.Command, fn func(ctx context.Context, conn *grpc.ClientConn) error) error {
	if err := g.checkOutput(); err != nil {
		return err
	}
	conn, _, err := g.dial(cmd.Context())
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(cmd.Context(), conn)
}

// bulletinID reads a bulletin id given on the command line (name names
// the argument or flag): a ULID as post printed it, in any case.
// originFlag checks --origin: empty, or a member state code (any case).
func originFlag(arg string) (string, error) {
	cc := strings.ToUpper(strings.TrimSpace(arg))
	if cc != "" && !region.IsMember(cc) {
		return "", usagef("--origin: %q is not an OAS member state code", arg)
	}
	return cc, nil
}

// originUsage is the help of --origin wherever a command takes an id.
const originUsage = "the bulletin's originating state (e.g. MX), when your node holds bulletins of that id from several states"

func bulletinID(name, arg string) (string, error) {
	id := strings.ToUpper(strings.TrimSpace(arg))
	if len(id) != 26 || id[0] > '7' || strings.Trim(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
		return "", usagef("%s %q is not a bulletin id (26 letters and digits, as post printed it)", name, arg)
	}
	return id, nil
}

// loadContext reads the context file named by --context or
// $IANT_CONTEXT; a file that is missing or wrong is a usage error that
// names where the path came from.
func (g *globals) loadContext(path string) (client.Context, error) {
	c, err := client.LoadContext(path)
	if err != nil {
		from := "--context"
		if g.contextFile == "" {
			from = "$IANT_CONTEXT"
		}
		return client.Context{}, usagef("%s: %s", from, strings.TrimPrefix(err.Error(), "client: "))
	}
	return c, nil
}
