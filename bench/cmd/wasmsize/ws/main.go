//go:build js

// Command ws is the program whose size wasmsize measures with this
// module's ws: dial, write one message, read one, close.
package main

import (
	"context"
	"os"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, os.Args[1], nil)
	if err != nil {
		panic(err)
	}
	if err := c.Write(ctx, ws.MessageText, []byte("hello")); err != nil {
		panic(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		panic(err)
	}
	println(string(msg))
	c.Close(ws.StatusNormalClosure, "")
}
