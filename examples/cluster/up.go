package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/launch"
)

// up starts the whole cluster on 127.0.0.1 and keeps it running until
// Ctrl-C: the backplane's engine, three processes of this program and
// HAProxy in front of them. SIGHUP restarts the processes one by one,
// as a deploy does.
func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	engine := fs.String("backplane", "redis", "the backplane: redis or nats")
	port := fs.Int("port", 8080, "the load balancer's `port`; the processes take the next three, HAProxy's statistics port+10")
	drainWait := fs.Duration("drain-wait", 0, "the processes' -drain-wait (default 2s)")
	fs.Parse(args)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ws-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	o := launch.Options{
		Engine:        *engine,
		Nodes:         3,
		Program:       self,
		Args:          []string{"node"},
		HAProxyConfig: haproxyConfig,
		LBAddr:        addr(*port),
		StatsAddr:     addr(*port + 10),
		NodeAddrs:     []string{addr(*port + 1), addr(*port + 2), addr(*port + 3)},
		DrainWait:     *drainWait,
		Dir:           dir,
		Log:           os.Stderr,
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := launch.Start(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		log.Print("stopping every process")
		if err := c.Stop(); err != nil {
			log.Print(err)
		}
	}()
	fmt.Fprintf(os.Stderr, `
The cluster is up (backplane: %s at %s).
  WebSocket, through HAProxy:  ws://%s/?name=YOU
  a client:                    go run . chat -name alice   (and another in a second terminal)
  each process:                http://%s/metrics and /healthz, and so on
  HAProxy:                     http://%s/ (statistics), /metrics
  a draining deploy:           kill -HUP %d   restarts the processes one by one
Ctrl-C stops everything.

`, *engine, c.BackplaneURL, c.LBAddr, c.Nodes[0].Addr, c.StatsAddr, os.Getpid())

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			if err := restartAll(ctx, c); err != nil {
				log.Printf("the deploy stopped: %v", err)
			} else {
				log.Print("every process was restarted")
			}
		}
	}
}

// restartAll restarts the processes one after the other, as a deploy
// does: each drains, exits and is back up, as the load balancer sees it,
// before the next.
func restartAll(ctx context.Context, c *launch.Cluster) error {
	for i := range c.Nodes {
		if err := c.Restart(ctx, i); err != nil {
			return err
		}
	}
	return nil
}
