package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/client"
)

// chat is a client in a terminal: it sends each line of its input and
// prints what arrives, and reconnects when its process goes away.
func chat(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chat", flag.ExitOnError)
	url := fs.String("url", "ws://127.0.0.1:8080", "the load balancer's `URL`")
	name := fs.String("name", "guest", "your `name`")
	fs.Parse(args)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	connected := make(chan struct{})
	var once sync.Once
	c := &client.Client{URL: *url, Name: *name, Event: func(e client.Event) {
		switch e.Kind {
		case client.Connected:
			once.Do(func() { close(connected) })
			fmt.Printf("-- connected to %s\n", e.Msg.Node)
		case client.Received:
			if e.Missed > 0 {
				fmt.Printf("-- missed %d messages of %s while away\n", e.Missed, e.Msg.Publisher())
			}
			fmt.Printf("%s (via %s #%d): %s\n", e.Msg.From, e.Msg.Node, e.Msg.Seq, e.Msg.Text)
		case client.Disconnected:
			fmt.Printf("-- disconnected (%v, code %d); reconnecting\n", e.Err, ws.CloseStatus(e.Err))
		case client.DialFailed:
			fmt.Printf("-- %v; trying again\n", e.Err)
		}
	}}
	go func() {
		select {
		case <-connected: // the first line waits for the first connection
		case <-ctx.Done():
			return
		}
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if err := c.Send(ctx, in.Text()); err != nil {
				fmt.Printf("-- not sent: %v\n", err)
			}
		}
		stop() // end of input
	}()
	return c.Run(ctx)
}
