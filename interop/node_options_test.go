package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// Tests of options and calls of the package against ws of Node.js: no
// context takeover asked for one direction only, the per-message flags
// Compressed and Uncompressed, pings with a payload, and pongs sent with
// Pong.

// similarSizes are the sizes of the stream of similar messages: each is
// jsonText of its size, so each message is the one before it and a few
// bytes more, and a compressor that keeps its context sends it in a few
// bytes.
func similarSizes() []int {
	sizes := make([]int, 20)
	for i := range sizes {
		sizes[i] = 2000 + 7*i
	}
	return sizes
}

// checkContextTakeover checks the compressed sizes of msgs, a stream of
// similar messages as one end sent them: every message compressed and,
// after the first, with context takeover a quarter of the first's size at
// most, and without it half of it at least.
func checkContextTakeover(t *testing.T, what string, msgs [][]frameHeader, n int, takeover bool) {
	t.Helper()
	if len(msgs) != n {
		t.Errorf("%s: %d messages on the wire, want %d", what, len(msgs), n)
		return
	}
	size := func(m []frameHeader) (n int64) {
		for _, f := range m {
			n += f.length
		}
		return n
	}
	first := size(msgs[0])
	var sizes []int64
	for i, m := range msgs {
		if err := checkCompression(m, true); err != nil {
			t.Errorf("%s: message %d: %v", what, i, err)
		}
		sizes = append(sizes, size(m))
	}
	t.Logf("%s (context takeover %v): compressed sizes %v", what, takeover, sizes)
	for i, s := range sizes[1:] {
		if takeover && s*4 > first {
			t.Errorf("%s: message %d compressed to %d bytes, the first to %d: no context taken over", what, i+1, s, first)
		}
		if !takeover && s*2 < first {
			t.Errorf("%s: message %d compressed to %d bytes, the first to %d: context taken over", what, i+1, s, first)
		}
	}
}

// TestDeflateOneSidedNoContextTakeover asks for no context takeover in one
// direction only, ServerNoContextTakeover or ClientNoContextTakeover alone,
// with the Go end as client and as server: both ends must agree on exactly
// that parameter, a stream of similar messages must make the round trip
// intact, and on the wire the end without context takeover must compress
// each message on its own while the other keeps its context.
func TestDeflateOneSidedNoContextTakeover(t *testing.T) {
	requireNode(t)
	cases := []struct {
		name string
		opts ws.CompressionOptions
		want string
	}{
		{"server-no-context-takeover", ws.CompressionOptions{ServerNoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover"},
		{"client-no-context-takeover", ws.CompressionOptions{ClientNoContextTakeover: true},
			"permessage-deflate; client_no_context_takeover"},
	}
	sizes := similarSizes()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("go-client-node-server", func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				srv := startEchoServer(t, deflateEnv("true"))
				opts := tc.opts
				tap := new(wireTap)
				c, ev := srv.dial(ctx, t, "similar", &ws.DialOptions{
					NetDial: tap.dial,
					Options: ws.Options{Compression: &opts},
				})
				checkAgreed(t, tc.want, c.Extensions(), ev.Header, paramsExtension(ev.Params))
				tap.take() // the handshake
				for _, n := range sizes {
					echoOnce(ctx, t, c, ws.MessageText, jsonText(n))
				}
				sent, received := tap.take()
				checkContextTakeover(t, "the Go client", dataMessages(sent), len(sizes), !tc.opts.ClientNoContextTakeover)
				checkContextTakeover(t, "the Node.js server", dataMessages(received), len(sizes), !tc.opts.ServerNoContextTakeover)
				closeNormally(ctx, t, c, srv, "similar")
				srv.checkNoErrors(t)
			})

			t.Run("node-client-go-server", func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				opts := tc.opts
				srv := startGoServer(ctx, t, &ws.AcceptOptions{Options: ws.Options{Compression: &opts}})
				var plan []planEntry
				checks := []string{"close"}
				for i, n := range sizes {
					e := planEntry{Name: fmt.Sprintf("similar-%d", i), Kind: kindJSON, Size: n}
					plan, checks = append(plan, e), append(checks, e.Name)
				}
				planJSON, err := json.Marshal(plan)
				if err != nil {
					t.Fatal(err)
				}
				lines, res := runExchange(ctx, t, srv, runNodeClient, "similar-"+tc.name, "plan", checks,
					deflateEnv("true"), "WS_PLAN="+string(planJSON), clientTimeoutEnv(testTimeout))
				header, params := nodeReport(t, lines)
				checkAgreed(t, tc.want, res.extensions, header, params)
				sent, received := res.tap.take()
				checkContextTakeover(t, "the Node.js client", dataMessages(received), len(sizes), !tc.opts.ClientNoContextTakeover)
				checkContextTakeover(t, "the Go server", dataMessages(sent), len(sizes), !tc.opts.ServerNoContextTakeover)
			})
		})
	}
}

// waitEvents waits until the server has reported n events of kind on the
// connection name, and returns them.
func (s *peerServer) waitEvents(ctx context.Context, t *testing.T, kind, name string, n int) []peerEvent {
	t.Helper()
	var evs []peerEvent
	_, err := s.stdout.wait(ctx, s.exited, func(l string) bool {
		if e, ok := parseEvent(l); ok && e.Kind == kind && e.Name == name {
			evs = append(evs, e)
		}
		return len(evs) == n
	})
	if err != nil {
		t.Fatalf("waiting for %d %s events of %q from %s, have %d: %v", n, kind, name, s.script, len(evs), err)
	}
	return evs
}

// TestDeflatePerMessageFlags sends messages with the flags Compressed and
// Uncompressed, alternating, to the echo server of Node.js, with and
// without context takeover: Node.js must report each message compressed
// exactly when the flag (or, without one, the threshold) says so, the wire
// must show the same, and every echo must come back intact, which also
// proves that messages sent plainly between compressed ones leave the
// compression context of both ends in step.
func TestDeflatePerMessageFlags(t *testing.T) {
	requireNode(t)
	type message struct {
		name       string
		typ        ws.MessageType
		data       []byte
		compressed bool
	}
	messages := []message{
		{"uncompressed-text", ws.MessageText | ws.Uncompressed, jsonText(4000), false},
		{"compressed-text", ws.MessageText | ws.Compressed, jsonText(4001), true},
		{"uncompressed-binary", ws.MessageBinary | ws.Uncompressed, jsonText(4002), false},
		{"compressed-binary", ws.MessageBinary | ws.Compressed, jsonText(4003), true},
		{"short-compressed", ws.MessageText | ws.Compressed, []byte("short, under the threshold"), true},
		{"short-no-flag", ws.MessageText, []byte("short, no flag"), false},
		{"long-no-flag", ws.MessageText, jsonText(4004), true},
		{"uncompressed-again", ws.MessageText | ws.Uncompressed, jsonText(4005), false},
		{"compressed-again", ws.MessageText | ws.Compressed, jsonText(4006), true},
		{"empty-compressed", ws.MessageBinary | ws.Compressed, nil, true},
		{"empty-uncompressed", ws.MessageBinary | ws.Uncompressed, nil, false},
	}
	cases := []struct {
		name string
		opts ws.CompressionOptions
	}{
		{"context-takeover", ws.CompressionOptions{}},
		{"no-context-takeover", ws.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			srv := startEchoServer(t, deflateEnv("true"))
			opts := tc.opts
			tap := new(wireTap)
			const name = "flags"
			c, _ := srv.dialQuery(ctx, t, url.Values{"name": {name}, "report": {"1"}}, &ws.DialOptions{
				NetDial: tap.dial,
				Options: ws.Options{Compression: &opts},
			})
			if c.Extensions() == "" {
				t.Fatal("no permessage-deflate")
			}
			tap.take() // the handshake
			for _, m := range messages {
				t.Run(m.name, func(t *testing.T) {
					base := m.typ &^ (ws.Compressed | ws.Uncompressed)
					roundTrip(ctx, t, c, base, m.data, func() error { return c.Write(ctx, m.typ, m.data) })
				})
			}
			evs := srv.waitEvents(ctx, t, "MESSAGE", name, len(messages))
			sent, _ := tap.take()
			onWire := dataMessages(sent)
			if len(onWire) != len(messages) {
				t.Fatalf("%d messages on the wire, want %d: %v", len(onWire), len(messages), sent)
			}
			for i, m := range messages {
				ev := evs[i]
				switch {
				case ev.Compressed == nil:
					t.Errorf("%s: Node.js could not tell whether it arrived compressed", m.name)
				case *ev.Compressed != m.compressed:
					t.Errorf("%s: Node.js received it compressed=%v, want %v", m.name, *ev.Compressed, m.compressed)
				}
				if ev.Size != len(m.data) || ev.Binary != (m.typ&ws.MessageBinary != 0) {
					t.Errorf("%s: Node.js received %d bytes, binary %v; want %d, %v",
						m.name, ev.Size, ev.Binary, len(m.data), m.typ&ws.MessageBinary != 0)
				}
				if err := checkCompression(onWire[i], m.compressed); err != nil {
					t.Errorf("%s on the wire: %v", m.name, err)
				}
			}
			closeNormally(ctx, t, c, srv, name)
			srv.checkNoErrors(t)
		})
	}
}

// TestNodePingPayload pings the echo server of Node.js with payloads of
// the caller's, which Node.js answers by itself: Ping must return once the
// pong with that payload came back, while nothing else reads. Then, with
// DisableAutoPong, OnPing answers the pings of Node.js by calling Pong
// from a goroutine: Node.js must receive a pong with the ping's payload,
// and only that one. An unsolicited Pong must reach Node.js too.
func TestNodePingPayload(t *testing.T) {
	requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := startEchoServer(t)

	t.Run("ping", func(t *testing.T) {
		var mu sync.Mutex
		var pongs [][]byte
		c, _ := srv.dial(ctx, t, "ping-payload", &ws.DialOptions{Options: ws.Options{
			OnPong: func(p []byte) {
				mu.Lock()
				pongs = append(pongs, slices.Clone(p))
				mu.Unlock()
			},
		}})
		payloads := []struct {
			name string
			p    []byte
		}{
			{"text", []byte("ping from Go")},
			{"125-bytes", pattern(125, false)},
			{"empty", []byte{}},
			{"text-again", []byte("ping from Go")},
		}
		for i, tc := range payloads {
			t.Run(tc.name, func(t *testing.T) {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				start := time.Now()
				if err := c.Ping(pctx, tc.p); err != nil {
					t.Fatalf("ping: %v", err)
				}
				// Node.js answers at once; a Ping that returns only when
				// its context ends has missed its pong.
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("Ping returned after %v", d.Round(time.Millisecond))
				}
				mu.Lock()
				defer mu.Unlock()
				if len(pongs) != i+1 {
					t.Fatalf("Ping returned after %d pongs, want %d", len(pongs), i+1)
				}
				if got := pongs[i]; string(got) != string(tc.p) {
					t.Errorf("the pong carried %x, want %x", got, tc.p)
				}
			})
		}
		closeNormally(ctx, t, c, srv, "ping-payload")
	})

	t.Run("manual-pong", func(t *testing.T) {
		const name = "manual-pong"
		tap := new(wireTap)
		pinged := make(chan string, 4)
		ponged := make(chan error, 4)
		var c *ws.Conn
		c, _ = srv.dial(ctx, t, name, &ws.DialOptions{NetDial: tap.dial, Options: ws.Options{
			DisableAutoPong: true,
			OnPing: func(p []byte) {
				payload := slices.Clone(p)
				pinged <- string(payload)
				go func() { ponged <- c.Pong(ctx, payload) }()
			},
		}})
		pongFrames := func() int {
			sent, _ := tap.take()
			n := 0
			for _, f := range sent {
				if f.opcode == 10 {
					n++
				}
			}
			return n
		}
		const payload = "answer me by hand"
		if err := c.Write(ctx, ws.MessageText, []byte("ping:"+payload)); err != nil {
			t.Fatal(err)
		}
		// echo-server.js sends "pong:<payload>" when its pong arrives.
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if want := "pong:" + payload; string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if p := <-pinged; p != payload {
			t.Errorf("OnPing saw %q, want %q", p, payload)
		}
		if err := <-ponged; err != nil {
			t.Errorf("Pong: %v", err)
		}
		if ev := srv.waitEvent(ctx, t, "PONG", name); ev.Payload != payload {
			t.Errorf("Node.js got a pong with %q, want %q", ev.Payload, payload)
		}
		// The ping was read, and Pong has returned: every pong the Go
		// client sent is on the wire by now.
		if n := pongFrames(); n != 1 {
			t.Errorf("the Go client sent %d pongs, want only the one of OnPing", n)
		}

		const unsolicited = "unsolicited"
		if err := c.Pong(ctx, []byte(unsolicited)); err != nil {
			t.Fatalf("Pong: %v", err)
		}
		if _, got, err = c.Read(ctx); err != nil {
			t.Fatalf("read: %v", err)
		}
		if want := "pong:" + unsolicited; string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if n := pongFrames(); n != 1 {
			t.Errorf("the Go client sent %d pongs, want 1", n)
		}
		var payloads []string
		for _, ev := range srv.waitEvents(ctx, t, "PONG", name, 2) {
			payloads = append(payloads, ev.Payload)
		}
		if want := []string{payload, unsolicited}; !slices.Equal(payloads, want) {
			t.Errorf("Node.js got pongs %q, want %q", payloads, want)
		}
		if len(pinged) != 0 {
			t.Errorf("OnPing saw %d more pings", len(pinged))
		}
		closeNormally(ctx, t, c, srv, name)
	})
	srv.checkNoErrors(t)
}

// TestNodeRefused has Node's client meet a Go server that refuses its
// handshake, for a foreign Origin, through AcceptOptions.Refuse: Node's
// unexpected-response event sees the status, body and content type that
// Refuse wrote, and Accept returns the HandshakeError.
func TestNodeRefused(t *testing.T) {
	requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	errs := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := ws.Accept(w, r, &ws.AcceptOptions{Refuse: func(w http.ResponseWriter, r *http.Request, err *ws.HandshakeError) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(err.Status)
			fmt.Fprintf(w, "<h1>%d</h1>", err.Status)
		}})
		errs <- err
	}))
	defer srv.Close()
	lines, err := runNodeClient(ctx, t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/", "refused", "WS_ORIGIN=http://elsewhere.example")
	if err != nil {
		t.Fatalf("client.js: %v\n%s", err, strings.Join(lines, "\n"))
	}
	want := `RESPONSE 403 "<h1>403</h1>" "text/html; charset=utf-8"`
	if !slices.Contains(lines, want) {
		t.Fatalf("client.js reported %q, want %q", lines, want)
	}
	var he *ws.HandshakeError
	if err := <-errs; !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("Accept returned %v, want a HandshakeError with 403", err)
	}
}
