// Command cluster is a chat service that runs as several processes behind
// a load balancer, each a ws.Server, with a pub/sub backplane between
// them: a message that a client sends to one process reaches the clients
// of every process. See README.md.
//
//	go run . up                       # Redis, three processes and HAProxy on 127.0.0.1
//	go run . up -backplane nats       # the same on NATS
//	go run . chat -name alice         # a client, through the load balancer
//	go run . node -name n1 -addr 127.0.0.1:8081 -backplane redis://127.0.0.1:6379
//	go run . bench                    # cross-process broadcast beside one process
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log"
	"os"
)

// haproxyConfig is haproxy.cfg, which up and the test give HAProxy.
//
//go:embed haproxy.cfg
var haproxyConfig []byte

var commands = map[string]func(ctx context.Context, args []string) error{
	"up":    up,
	"node":  node,
	"chat":  chat,
	"bench": bench,
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: cluster up|node|chat|bench [flags]; cluster COMMAND -h for the flags")
		os.Exit(2)
	}
	if err := commands[os.Args[1]](context.Background(), os.Args[2:]); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}
