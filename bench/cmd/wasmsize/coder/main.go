//go:build js

// Command coder is the program whose size wasmsize measures with
// github.com/coder/websocket: dial, write one message, read one, close.
package main

import (
	"context"
	"os"
	"time"

	"github.com/coder/websocket"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, os.Args[1], nil)
	if err != nil {
		panic(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		panic(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		panic(err)
	}
	println(string(msg))
	c.Close(websocket.StatusNormalClosure, "")
}
