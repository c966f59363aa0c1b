package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/backplane"
	nodepkg "github.com/seed-d6ba7b20/ws/examples/cluster/internal/node"
)

// node runs one process of the cluster until SIGTERM or SIGINT, then
// drains it; a second signal cuts the drain short.
func node(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("node", flag.ExitOnError)
	name := fs.String("name", "n1", "the process's `name` in messages and metrics")
	addr := fs.String("addr", "127.0.0.1:8081", "the `address` to serve WebSockets (/), /healthz and /metrics on")
	bpURL := fs.String("backplane", "redis://127.0.0.1:6379", "the backplane: redis://HOST:PORT, nats://HOST:PORT or local")
	topic := fs.String("topic", "chat", "the Redis channel or NATS subject the cluster shares")
	cfg := nodepkg.Config{}
	fs.DurationVar(&cfg.DrainWait, "drain-wait", 0, "how long to fail the health check before closing (default 2s)")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", 0, "bound of each close handshake of the drain (default 5s)")
	fs.IntVar(&cfg.SendQueue, "send-queue", 0, "each client's send queue, in messages (default 256)")
	fs.Parse(args)

	cfg.Name = *name
	cfg.Log = log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds)
	bp, err := backplane.Open(ctx, *bpURL, "ws-cluster-"+*name, *topic)
	if err != nil {
		return fmt.Errorf("backplane %s: %w", *bpURL, err)
	}
	cfg.Backplane = bp
	n := nodepkg.New(cfg)
	// Subscribe before listening: a client that gets its hello receives
	// every message published after it.
	if err := n.Start(ctx); err != nil {
		bp.Close()
		return fmt.Errorf("subscribe: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		n.Close()
		return err
	}
	cfg.Log.Printf("%s serving on %s, backplane %s", *name, ln.Addr(), *bpURL)

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	drain := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-sig
		close(drain)
		<-sig
		cancel()
	}()
	err = n.Run(ctx, ln, drain)
	cfg.Log.Printf("%s stopped: published %d messages", *name, n.Published())
	return err
}
