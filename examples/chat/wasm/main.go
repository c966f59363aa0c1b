//go:build js

// Command wasm is the chat's client in Go, for the page /wasm.html of the
// chat example, which builds it with GOOS=js GOARCH=wasm and serves it
// beside the JavaScript one. It joins the chat at /ws with ws.Dial, on the
// browser's WebSocket, shows each message that arrives and sends what the
// user types.
package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	doc := js.Global().Get("document")
	byID := func(id string) js.Value { return doc.Call("getElementById", id) }
	status, log, form, text := byID("status"), byID("log"), byID("form"), byID("text")

	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	ctx := context.Background()
	conn, _, err := ws.Dial(ctx, scheme+loc.Get("host").String()+"/ws", nil)
	if err != nil {
		status.Set("textContent", "could not connect: "+err.Error())
		return
	}
	defer conn.CloseNow()
	status.Set("textContent", "connected")

	// A JavaScript callback must not block, so it hands what the user
	// typed to a goroutine that writes it.
	typed := make(chan string, 64)
	submit := js.FuncOf(func(this js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		if s := text.Get("value").String(); s != "" {
			select {
			case typed <- s:
				text.Set("value", "")
			default: // the connection is not keeping up: leave it typed
			}
		}
		return nil
	})
	form.Call("addEventListener", "submit", submit)
	go func() {
		for s := range typed {
			if conn.Write(ctx, ws.MessageText, []byte(s)) != nil {
				return // the read loop below sees why
			}
		}
	}()

	for msg := range conn.Messages() {
		p := doc.Call("createElement", "p")
		p.Set("textContent", string(msg.Data))
		log.Call("appendChild", p)
		log.Set("scrollTop", log.Get("scrollHeight"))
	}

	// The program ends here: nothing may call into it any more.
	form.Call("removeEventListener", "submit", submit)
	submit.Release()
	text.Set("disabled", true)
	status.Set("textContent", disconnected(conn.Err()))
}

// disconnected says why the connection ended, as the JavaScript page does.
func disconnected(err error) string {
	var ce ws.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Sprintf("disconnected (%d %s)", ce.Code, ce.Reason)
		}
		return fmt.Sprintf("disconnected (%d)", ce.Code)
	}
	return fmt.Sprintf("disconnected (%v)", err)
}
