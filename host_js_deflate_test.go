//go:build js

// permessage-deflate as the host negotiates it, and the throughput of
// the client on the host's WebSocket. Like host_js_test.go, these run
// through the interop module's TestWasmNode and TestWasmChromium, which
// name the host in WS_TEST_HOST; the benchmark runs through its
// TestWasmThroughput.

package ws_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// hostOffersDeflate says, for each value of WS_TEST_HOST, whether the
// host's WebSocket offers permessage-deflate: Chromium always does, and
// so does Node 20's (undici 6), which however sends nothing compressed
// (interop's TestWasmNode checks that on the wire).
var hostOffersDeflate = map[string]bool{
	"chromium": true,
	"node":     true,
}

// hostRecords returns n bytes of newline-separated JSON records, which
// compress about as well as real traffic.
func hostRecords(n int) []byte {
	kinds := []string{"order", "refund", "quote", "trade"}
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"seq":%d,"kind":%q,"account":"acct-%04d","price":%d.%02d,"open":%t}`+"\n",
			i, kinds[i%len(kinds)], i*7919%10000, i*31%5000, i%100, i%3 == 0)
	}
	return b[:n]
}

// TestHostDeflate dials /deflate, whose server agrees to
// permessage-deflate when the host offers it and first sends the
// extensions it agreed on; then JSON-like messages of several sizes, as
// text and as binary, come back intact.
func TestHostDeflate(t *testing.T) {
	host := os.Getenv("WS_TEST_HOST")
	offers, known := hostOffersDeflate[host]
	if !known {
		t.Fatalf("WS_TEST_HOST is %q, want node or chromium: the interop module's TestWasmNode and TestWasmChromium set it", host)
	}
	ctx := context.Background()
	c := hostDial(t, "/deflate", nil)
	_, agreed, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: Extensions() %q; the server agreed on %q", host, c.Extensions(), agreed)
	if !strings.HasPrefix(string(agreed), "permessage-deflate") && offers {
		t.Fatalf("the server agreed on %q, want permessage-deflate: %s offers it", agreed, host)
	}
	if c.Extensions() != string(agreed) {
		t.Fatalf("Extensions() is %q, the server agreed on %q", c.Extensions(), agreed)
	}
	for _, n := range []int{0, 1, 100, 1023, 1024, 4096, 64 << 10, 1 << 20} {
		for _, typ := range []ws.MessageType{ws.MessageText, ws.MessageBinary} {
			want := hostRecords(n)
			if err := c.Write(ctx, typ, want); err != nil {
				t.Fatal(err)
			}
			got, data, err := c.Read(ctx)
			if err != nil || got != typ || !bytes.Equal(data, want) {
				t.Fatalf("%v of %d bytes: %v %v, %d bytes back", typ, n, got, err, len(data))
			}
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHostEcho1KiB sends b.N binary messages of 1 KiB to /echo from
// one goroutine and reads the echoes in another, at most 64 unanswered at
// a time, and reports messages echoed per second.
func BenchmarkHostEcho1KiB(b *testing.B) {
	const window = 64
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, _, err := ws.Dial(ctx, os.Getenv("WS_TEST_SERVER")+"/echo", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := bytes.Repeat([]byte{0x5a}, 1024)
	inFlight := make(chan struct{}, window)
	written := make(chan error, 1)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	go func() {
		for range b.N {
			select {
			case inFlight <- struct{}{}:
			case <-c.Done():
				written <- c.Err()
				return
			}
			if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	for i := range b.N {
		_, data, err := c.Read(ctx)
		if err != nil || len(data) != len(msg) {
			c.CloseNow()
			<-written
			b.Fatalf("echo %d: %v, %d bytes", i, err, len(data))
		}
		<-inFlight
	}
	if err := <-written; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	c.Close(ws.StatusNormalClosure, "")
}
