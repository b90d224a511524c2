// Command iant-backbone runs one server of IANT's NATS JetStream backbone
// from a YAML configuration file: alone, or as one member of the
// three-server cluster of deploy/nats, with TLS on the client, route and
// leaf node ports, users mapped from the nodes' SPIFFE IDs with per-state
// permissions, and every write synced before it is acknowledged.
//
//	iant-backbone -config deploy/nats/hub-1.yaml
//
// It embeds nats-server (v2.15.2) rather than running the stock binary so
// that every port authenticates with SPIFFE SVIDs, from files or from the
// Workload API of a SPIRE agent, rotating without restart, and so that
// routes are accepted only from the listed peers' SPIFFE IDs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "iant-backbone:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("iant-backbone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "backbone server configuration file (YAML); see deploy/nats/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return errors.New("-config is required")
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	log, err := cfg.Log.Logger(stderr)
	if err != nil {
		return err
	}
	srv, closeSrc, err := start(ctx, cfg, log)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("signal received, shutting down")
	return errors.Join(srv.Close(), closeSrc())
}
