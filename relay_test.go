//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

func TestRelay(t *testing.T) {
	// a <-> b relayed to c <-> d: what a sends, d gets, and back.
	a, b := pair(t, true, nil, nil)
	c, d := pair(t, true, nil, nil)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- ws.Relay(ctx, b, c) }()
	a.Write(ctx, ws.MessageText, []byte("to d"))
	if _, msg, err := d.Read(ctx); err != nil || string(msg) != "to d" {
		t.Fatalf("%q %v", msg, err)
	}
	d.Write(ctx, ws.MessageBinary, bytes.Repeat([]byte("x"), 100000))
	if typ, msg, err := a.Read(ctx); err != nil || len(msg) != 100000 || typ != ws.MessageBinary {
		t.Fatalf("%d %v", len(msg), err)
	}
	dErr := make(chan error, 1)
	go func() {
		_, _, err := d.Read(ctx)
		dErr <- err
	}()
	a.Close(ws.StatusNormalClosure, "bye")
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	if err := <-dErr; ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("d: %v", err)
	}
}
