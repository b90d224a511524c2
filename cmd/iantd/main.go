// Command iantd runs one IANT node — a member state's or the
// secretariat's — from a YAML configuration file. The secretariat's node
// can also run the embedded NATS JetStream backbone in the same process.
//
//	iantd -config /etc/iant/mx.yaml
//
// A stopped state node's signing key is rotated (-compromised: retired as
// compromised, after a break-in) with
//
//	iantd rotate-sign-key -config /etc/iant/mx.yaml [-compromised]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "iantd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate-sign-key" {
		return rotateSignKey(ctx, args[1:], stdout, stderr, time.Now())
	}
	fs := flag.NewFlagSet("iantd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "node configuration file (YAML); see deploy/iantd/")
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
	logger, err := cfg.Log.Logger(stderr)
	if err != nil {
		return err
	}
	d, err := start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(hup)
	for {
		select {
		case sig := <-hup:
			switch sig {
			case syscall.SIGUSR1:
				d.rotate(ctx, "kem", logger)
			case syscall.SIGUSR2:
				d.rotate(ctx, "sign", logger)
			default:
				d.reloadPolicy(cfg.PolicyDir, logger)
			}
		case <-ctx.Done():
			logger.Info("signal received, shutting down")
			return d.close()
		}
	}
}

// rotate rotates a state node's KEM key ("kem", SIGUSR1) or origin signing
// key ("sign", SIGUSR2) now, logging the outcome.
func (d *daemon) rotate(ctx context.Context, key string, log *slog.Logger) {
	if d.state == nil {
		log.Warn("key rotation asked of the secretariat's node, which holds no sealing keys", "key", key)
		return
	}
	rotate := d.state.RotateKeys
	if key == "sign" {
		rotate = d.state.RotateSignKey
	}
	if err := rotate(ctx); err != nil {
		log.Error("key rotation failed", "key", key, "err", err)
		return
	}
	log.Info("key rotated", "key", key)
}
