package h2_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// echoHandler accepts over HTTP/2 only and echoes every message.
func echoHandler(t testing.TB, opts *ws.AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isExtendedConnect(r) {
			t.Errorf("request %s %s over HTTP/%d.%d, want an extended CONNECT over HTTP/2", r.Method, r.URL, r.ProtoMajor, r.ProtoMinor)
		}
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
}

func TestEcho(t *testing.T) {
	s := newH2Server(t, echoHandler(t, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, resp, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("response %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}
	for _, n := range []int{0, 125, 64 << 10, 16 << 20} {
		p := bytes.Repeat([]byte{'x'}, n)
		if err := c.Write(ctx, ws.MessageBinary, p); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != ws.MessageBinary || !bytes.Equal(got, p) {
			t.Fatalf("echo of %d bytes: got %v of %d bytes", n, typ, len(got))
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
}
