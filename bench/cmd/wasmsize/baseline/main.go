//go:build js

// Command baseline is the floor under wasmsize's figures: the same
// program with no WebSocket, which waits and prints its argument.
package main

import (
	"context"
	"os"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	<-ctx.Done()
	println(os.Args[1])
}
