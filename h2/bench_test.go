package h2_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

// BenchmarkEcho echoes 1 KiB messages over HTTP/2, client and server in
// this process; bench/http2 compares HTTP/2 with HTTP/1.1, with the
// server in a process of its own.
func BenchmarkEcho(b *testing.B) {
	s := newH2Server(b, echoHandler(b, nil))
	ctx := context.Background()
	c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := bytes.Repeat([]byte{'e'}, 1<<10)
	buf := make([]byte, 0, 2<<10)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
			b.Fatal(err)
		}
		if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	c.Close(ws.StatusNormalClosure, "")
}
