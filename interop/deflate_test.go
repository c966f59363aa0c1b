package interop

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

// The permessage-deflate tests (RFC 7692) against ws of Node.js, both
// ways: each case configures both ends, checks that they agree on the
// extension element the case expects, and sends messages of both kinds and
// every size of deflateSizes, checking each echo byte for byte and, on the
// wire, which messages went out compressed (RSV1) and which did not.

// deflateSizes are the message sizes of the permessage-deflate tests: an
// empty message, one byte, both sides of the default threshold of 1024
// bytes, a large message and one far beyond the 16 KiB write buffer.
var deflateSizes = []int{0, 1, 1023, 1024, 64 << 10, 16 << 20}

// The kinds of message payload.
const (
	kindJSON   = "json"   // JSON-like text, which compresses well
	kindRandom = "random" // random binary, which does not compress
)

// payload returns a message of kind and size n.
func payload(kind string, n int) (ws.MessageType, []byte) {
	if kind == kindRandom {
		b := make([]byte, n)
		rand.Read(b)
		return ws.MessageBinary, b
	}
	return ws.MessageText, jsonText(n)
}

// jsonText returns n bytes of JSON-like text that compresses about as well
// as real JSON: records with varying numbers and names, cut at n bytes.
func jsonText(n int) []byte {
	actions := []string{"login", "logout", "view", "click", "purchase", "search"}
	var b []byte
	x := 12345
	for i := 0; len(b) < n; i++ {
		x = x * 48271 % 2147483647
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","action":%q,"amount":%d.%02d,"tags":["t%d","t%d"],"ok":%v}`+"\n",
			i, x%997, actions[x%len(actions)], x%100000/100, x%100, x%13, x%7, x%3 != 0)
	}
	return b[:n]
}

// deflateSide predicts which messages an end sends compressed.
type deflateSide struct {
	threshold int  // messages shorter than this go out uncompressed
	every     bool // every message goes out compressed, whatever its size
}

// compresses reports whether the end sends a message of n bytes, or a
// fragmented message whose first fragment has n bytes, compressed.
func (s deflateSide) compresses(n int) bool { return s.every || n >= s.threshold }

// goSide returns how the Go end compresses under opts: by its threshold,
// with or without context takeover.
func goSide(opts ws.Options) deflateSide {
	th := opts.Compression.Threshold
	switch {
	case th == 0:
		th = ws.DefaultCompressionThreshold
	case th < 0:
		th = 0
	}
	return deflateSide{threshold: th}
}

// nodeSide returns how ws of Node.js compresses under its
// WS_PERMESSAGE_DEFLATE setting: it applies its threshold (1024 by
// default) only when it agreed to no context takeover for what it sends,
// and compresses every message otherwise.
func nodeSide(t *testing.T, setting string, noCtxTakeover bool) deflateSide {
	t.Helper()
	s := deflateSide{threshold: 1024, every: !noCtxTakeover}
	if strings.HasPrefix(setting, "{") {
		var o struct{ Threshold *int }
		if err := json.Unmarshal([]byte(setting), &o); err != nil {
			t.Fatalf("bad setting %s: %v", setting, err)
		}
		if o.Threshold != nil {
			s.threshold = *o.Threshold
		}
	}
	return s
}

// hasParam reports whether the extension element ext has the parameter
// name.
func hasParam(ext, name string) bool {
	for _, p := range strings.Split(ext, ";")[1:] {
		if k, _, _ := strings.Cut(strings.TrimSpace(p), "="); k == name {
			return true
		}
	}
	return false
}

// deflateCase configures permessage-deflate on both ends.
type deflateCase struct {
	name   string
	goOpts ws.Options // compression options of the Go end
	node   string     // WS_PERMESSAGE_DEFLATE of the Node.js end
	want   string     // the extension element both ends must agree on
	// big says whether the case sends the 16 MiB messages too, which
	// take seconds under the race detector.
	big bool
}

// sizes returns the message sizes of the case.
func (tc deflateCase) sizes() []int {
	if tc.big {
		return deflateSizes
	}
	return slices.DeleteFunc(slices.Clone(deflateSizes), func(n int) bool { return n > 1<<20 })
}

// Compression options of the Go end.
var (
	ctxTakeover   = ws.Options{Compression: &ws.CompressionOptions{}}
	noCtxTakeover = ws.Options{Compression: &ws.CompressionOptions{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
	}}
)

// with returns o, with a copy of its compression options, changed by f.
func with(o ws.Options, f func(*ws.CompressionOptions)) ws.Options {
	c := *o.Compression
	f(&c)
	o.Compression = &c
	return o
}

// deflateCases returns the cases of the permessage-deflate tests with the
// Go end as the server (goServer) or as the client: first those of both
// directions, then those of one. A name ending in -go or -node says which
// end asks for the setting.
func deflateCases(goServer bool) []deflateCase {
	// windows returns o asking for the windows, in bits, of the server's
	// compressor and of the client's, whichever end Go is; 0 asks for
	// none.
	windows := func(o ws.Options, server, client int) ws.Options {
		return with(o, func(c *ws.CompressionOptions) {
			c.ServerMaxWindowBits, c.ClientMaxWindowBits = server, client
		})
	}
	const both = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	cases := []deflateCase{
		{name: "context-takeover", goOpts: ctxTakeover, node: "true", want: "permessage-deflate", big: true},
		{name: "no-context-takeover", goOpts: noCtxTakeover, node: "true", want: both, big: true},
		{name: "no-context-takeover-threshold-0",
			goOpts: with(noCtxTakeover, func(c *ws.CompressionOptions) { c.Threshold = -1 }),
			node:   `{"threshold":0}`, want: both},
		{name: "server-window-15-node",
			goOpts: ctxTakeover, node: `{"serverMaxWindowBits":15}`,
			want: "permessage-deflate; server_max_window_bits=15"},
		{name: "client-window-10-node",
			goOpts: ctxTakeover, node: `{"clientMaxWindowBits":10}`,
			want: "permessage-deflate; client_max_window_bits=10"},
		{name: "client-window-10-go",
			goOpts: windows(ctxTakeover, 0, 10), node: "true",
			want: "permessage-deflate; client_max_window_bits=10", big: !goServer},
		{name: "context-takeover-level-6-window-compressor",
			goOpts: with(ctxTakeover, func(c *ws.CompressionOptions) { c.Level, c.Engine = 6, ws.EngineWindow }), node: "true",
			want: "permessage-deflate", big: true},
		{name: "context-takeover-level-9-window-9-go",
			goOpts: windows(with(ctxTakeover, func(c *ws.CompressionOptions) { c.Level, c.Engine = 9, ws.EngineWindow }), 9, 9), node: "true",
			want: "permessage-deflate; client_max_window_bits=9; server_max_window_bits=9"},
		{name: "no-context-takeover-windows-9-10-level-9",
			goOpts: windows(with(noCtxTakeover, func(c *ws.CompressionOptions) { c.Level = 9 }), 9, 10),
			node:   `{"threshold":0,"zlibDeflateOptions":{"level":9}}`,
			want:   "permessage-deflate; client_max_window_bits=10; client_no_context_takeover; server_max_window_bits=9; server_no_context_takeover"},
	}
	if goServer {
		return append(cases,
			deflateCase{name: "no-context-takeover-node",
				goOpts: ctxTakeover, node: `{"serverNoContextTakeover":true,"clientNoContextTakeover":true}`,
				want: both},
			deflateCase{name: "server-window-9-go",
				goOpts: windows(ctxTakeover, 9, 0), node: "true",
				want: "permessage-deflate; server_max_window_bits=9", big: true},
			deflateCase{name: "server-window-12-node",
				goOpts: ctxTakeover, node: `{"serverMaxWindowBits":12}`,
				want: "permessage-deflate; server_max_window_bits=12"},
		)
	}
	return append(cases,
		deflateCase{name: "server-window-9-node",
			goOpts: ctxTakeover, node: `{"serverMaxWindowBits":9}`,
			want: "permessage-deflate; server_max_window_bits=9"},
		deflateCase{name: "server-window-12-go",
			goOpts: windows(ctxTakeover, 12, 0), node: "true",
			want: "permessage-deflate; server_max_window_bits=12"},
	)
}

// TestDeflateGoClientNodeServer runs the Go client with permessage-deflate
// against the ws server of Node.js with perMessageDeflate on.
func TestDeflateGoClientNodeServer(t *testing.T) {
	requireNode(t)
	for _, tc := range deflateCases(false) {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
			defer cancel()
			srv := startEchoServer(t, deflateEnv(tc.node))
			srv.compression = tc.goOpts
			goEnd := goSide(tc.goOpts)
			nodeEnd := nodeSide(t, tc.node, hasParam(tc.want, "server_no_context_takeover"))

			t.Run("messages", func(t *testing.T) {
				tap := new(wireTap)
				c, ev := srv.dial(ctx, t, "messages", &ws.DialOptions{NetDial: tap.dial})
				checkAgreed(t, tc.want, c.Extensions(), ev.Header, paramsExtension(ev.Params))
				for _, kind := range []string{kindJSON, kindRandom} {
					for _, n := range tc.sizes() {
						t.Run(fmt.Sprintf("%s-%d", kind, n), func(t *testing.T) {
							typ, data := payload(kind, n)
							echoOnce(ctx, t, c, typ, data)
							sent, received := tap.take()
							checkOneMessage(t, "the Go client's message", sent, goEnd.compresses(n), 0)
							checkOneMessage(t, "the Node.js echo", received, nodeEnd.compresses(n), 0)
						})
					}
				}
				closeNormally(ctx, t, c, srv, "messages")
			})

			// The Go client streams messages with several writes larger
			// than its 16 KiB buffer; the server echoes each in three
			// fragments sent with compress: true.
			t.Run("fragmented", func(t *testing.T) {
				tap := new(wireTap)
				q := url.Values{"name": {"fragmented"}, "fragments": {"3"}}
				c, _ := srv.dialQuery(ctx, t, q, &ws.DialOptions{NetDial: tap.dial})
				for _, kind := range []string{kindJSON, kindRandom} {
					t.Run(kind, func(t *testing.T) {
						typ, _ := payload(kind, 0)
						var writes [][]byte
						size := 0
						for _, n := range []int{40 << 10, 100, 64 << 10, 20 << 10, 120 << 10} {
							_, p := payload(kind, n)
							writes, size = append(writes, p), size+n
						}
						streamOnce(ctx, t, c, typ, writes)
						sent, received := tap.take()
						t.Logf("the Go client sent %v; Node.js echoed %v", sent, received)
						msgs := dataMessages(sent)
						if len(msgs) != 1 || len(msgs[0]) < 2 {
							t.Errorf("the Go client sent %v, want one message in several frames", sent)
						}
						checkOneMessage(t, "the Go client's message", sent, goEnd.compresses(size), 0)
						checkOneMessage(t, "the Node.js echo", received, nodeEnd.compresses(size/3), 3)
					})
				}
				closeNormally(ctx, t, c, srv, "fragmented")
			})

			srv.checkNoErrors(t)
		})
	}
}

// checkAgreed checks that the Go end, the server's response header and
// the parameters the Node.js end works with all come to want.
func checkAgreed(t *testing.T, want, goExt, header, nodeParams string) {
	t.Helper()
	w := canonExtension(want)
	if got := canonExtension(goExt); got != w {
		t.Errorf("the Go end agreed on %q, want %q", goExt, want)
	}
	if got := canonExtension(header); got != w {
		t.Errorf("the server answered %q, want %q", header, want)
	}
	if nodeParams != w {
		t.Errorf("Node.js works with %q, want %q", nodeParams, want)
	}
}

// checkOneMessage checks that frames hold one data message, compressed if
// and only if compressed says so, and in nframes frames if nframes > 0.
func checkOneMessage(t *testing.T, what string, frames []frameHeader, compressed bool, nframes int) {
	t.Helper()
	msgs := dataMessages(frames)
	if len(msgs) != 1 {
		t.Errorf("%s: frames %v, want one message", what, frames)
		return
	}
	if err := checkCompression(msgs[0], compressed); err != nil {
		t.Errorf("%s: %v", what, err)
	}
	if nframes > 0 && len(msgs[0]) != nframes {
		t.Errorf("%s: frames %v, want %d", what, msgs[0], nframes)
	}
}

// planEntry is a message client.js sends in its plan mode.
type planEntry struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Size      int    `json:"size"`
	Fragments int    `json:"fragments,omitempty"`
}

// TestDeflateNodeClientGoServer runs the ws client of Node.js with
// perMessageDeflate on against a server of the package with compression
// on.
func TestDeflateNodeClientGoServer(t *testing.T) {
	requireNode(t)
	for _, tc := range deflateCases(true) {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
			defer cancel()
			srv := startGoServer(ctx, t, &ws.AcceptOptions{Options: tc.goOpts})
			goEnd := goSide(tc.goOpts)
			nodeEnd := nodeSide(t, tc.node, hasParam(tc.want, "client_no_context_takeover"))

			var plan []planEntry
			for _, kind := range []string{kindJSON, kindRandom} {
				for _, n := range tc.sizes() {
					plan = append(plan, planEntry{Name: fmt.Sprintf("%s-%d", kind, n), Kind: kind, Size: n})
				}
				plan = append(plan, planEntry{Name: kind + "-fragmented", Kind: kind, Size: 3 * 40 << 10, Fragments: 3})
			}
			planJSON, err := json.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}

			checks := []string{"close"}
			for _, e := range plan {
				checks = append(checks, e.Name)
			}
			lines, res := runExchange(ctx, t, srv, runNodeClient, "plan-"+tc.name, "plan", checks,
				deflateEnv(tc.node), "WS_PLAN="+string(planJSON), clientTimeoutEnv(3*testTimeout))
			header, params := nodeReport(t, lines)
			checkAgreed(t, tc.want, res.extensions, header, params)
			if exts, _ := quotedLine(lines, "EXTENSIONS"); exts != "permessage-deflate" {
				t.Errorf("ws.extensions of Node.js is %q, want permessage-deflate", exts)
			}

			// On the wire, message by message: what Node.js sent (the
			// server received) and the echo.
			sent, received := res.tap.take()
			fromNode, fromGo := dataMessages(received), dataMessages(sent)
			if len(fromNode) != len(plan) || len(fromGo) != len(plan) {
				t.Fatalf("%d messages from Node.js and %d from Go on the wire, want %d each", len(fromNode), len(fromGo), len(plan))
			}
			for i, e := range plan {
				first := e.Size
				if e.Fragments > 1 {
					first = e.Size / e.Fragments
					if len(fromNode[i]) != e.Fragments {
						t.Errorf("%s: Node.js sent frames %v, want %d", e.Name, fromNode[i], e.Fragments)
					}
				}
				if err := checkCompression(fromNode[i], nodeEnd.compresses(first)); err != nil {
					t.Errorf("%s from Node.js: %v", e.Name, err)
				}
				// The echo is streamed with Writer: an empty message is
				// compressed too when the threshold is negative.
				if err := checkCompression(fromGo[i], goEnd.compresses(e.Size)); err != nil {
					t.Errorf("%s echoed by Go: %v", e.Name, err)
				}
			}
		})
	}
}

// wireJSONMessages returns n JSON messages of exactly 1024 bytes each, of
// the kind a service streams: records with varying fields and a padding
// field that brings each to size.
func wireJSONMessages(n int) [][]byte {
	msgs := make([][]byte, n)
	x := 42
	for i := range msgs {
		x = x * 48271 % 2147483647
		rec := fmt.Sprintf(`{"seq":%d,"ts":"2024-05-%02dT%02d:%02d:%02d.%03dZ","symbol":"SYM%d","bid":%d.%02d,"ask":%d.%02d,"volume":%d,"venue":"venue-%d","flags":["f%d","f%d"],"note":"`,
			i, 1+x%28, x%24, x%60, (x/60)%60, x%1000, x%50, x%5000, x%100, x%5000+1, (x/7)%100, x%1000000, x%9, x%4, x%11)
		pad := 1024 - len(rec) - len(`"}`)
		var b strings.Builder
		b.WriteString(rec)
		for j := 0; b.Len() < len(rec)+pad; j++ {
			b.WriteString(strconv.Itoa((x >> (j % 20)) % 10))
			if j%9 == 8 && b.Len() < len(rec)+pad {
				b.WriteByte(' ')
			}
		}
		b.WriteString(`"}`)
		msgs[i] = []byte(b.String())
	}
	return msgs
}

// wireBytes echoes msgs through the server at u with the Go client, with
// context takeover, and returns the bytes the server sent on the wire for
// them: frame headers and payloads, the handshake left out.
func wireBytes(ctx context.Context, t *testing.T, u string, msgs [][]byte) (int64, string) {
	t.Helper()
	tap := new(wireTap)
	c, _, err := ws.Dial(ctx, u, &ws.DialOptions{NetDial: tap.dial, Options: ctxTakeover})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	defer c.CloseNow()
	// Only the server's compression counts: the client sends plainly,
	// which saves time under the race detector.
	before := tap.receivedBytes()
	werr := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := c.Write(ctx, ws.MessageText|ws.Uncompressed, m); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for i, m := range msgs {
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if d := diff(got, m); d != "" {
			t.Fatalf("echo %d differs: %s", i, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	after := tap.receivedBytes()
	_, received := tap.take()
	for i, m := range dataMessages(received) {
		if !m[0].rsv1 {
			t.Errorf("message %d came uncompressed: %v", i, m)
			break
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
	return after - before, c.Extensions()
}

// TestDeflateWireBytes compares the bytes the Go server and the ws server
// of Node.js put on the wire for the same stream, 1,000 JSON messages of
// 1 KiB echoed with context takeover, both with their default settings.
// The target is the Go server sending no more than Node.js: at level 6,
// with the window compressor, it must. It also logs what other settings of
// the Go server send.
func TestDeflateWireBytes(t *testing.T) {
	requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	msgs := wireJSONMessages(1000)
	var raw int64
	for _, m := range msgs {
		if len(m) != 1024 {
			t.Fatalf("a message of %d bytes, want 1024", len(m))
		}
		raw += int64(len(m))
	}

	node := startEchoServer(t, deflateEnv("true"))
	nodeBytes, nodeExt := wireBytes(ctx, t, node.url+"/?name=wire-bytes", msgs)
	t.Logf("Node.js ws server (defaults: zlib level 6, 32 KiB window): %d bytes for %d bytes of messages (%.1f%%), %q",
		nodeBytes, raw, 100*float64(nodeBytes)/float64(raw), nodeExt)

	variants := []struct {
		name string
		opts ws.Options
		// limit, if not 0, is the most the variant may send, in percent
		// of what Node.js sends, for the reason why.
		limit int64
		why   string
	}{
		{"defaults: level 1, 4 KiB dictionary", ctxTakeover, 125,
			"more than a quarter over would mean context takeover or compression is not working"},
		{"level 6, window compressor", with(ctxTakeover, func(c *ws.CompressionOptions) { c.Level, c.Engine = 6, ws.EngineWindow }), 100,
			"the window compressor at zlib's default level is the setting for sending no more than Node.js"},
		{"level 6, whole flate writer (EngineWriter)", with(ctxTakeover, func(c *ws.CompressionOptions) {
			c.Level, c.Engine = 6, ws.EngineWriter
		}), 0, ""},
		{"level 8, whole flate writer (EngineWriter)", with(ctxTakeover, func(c *ws.CompressionOptions) {
			c.Level, c.Engine = 8, ws.EngineWriter
		}), 0, ""},
		{"level 9, whole flate writer (EngineWriter)", with(ctxTakeover, func(c *ws.CompressionOptions) {
			c.Level, c.Engine = 9, ws.EngineWriter
		}), 0, ""},
	}
	for _, v := range variants {
		srv := startGoServer(ctx, t, &ws.AcceptOptions{Options: v.opts})
		goBytes, goExt := wireBytes(ctx, t, srv.url+"/echo?name=wire-bytes", msgs)
		t.Logf("Go server (%s): %d bytes (%.1f%%, %+.1f%% against Node.js), %q",
			v.name, goBytes, 100*float64(goBytes)/float64(raw), 100*float64(goBytes-nodeBytes)/float64(nodeBytes), goExt)
		if res := srv.result(ctx, t, "wire-bytes"); ws.CloseStatus(res.err) != ws.StatusNormalClosure {
			t.Errorf("the Go server's echo ended with %v, want the client's close 1000", res.err)
		}
		if v.limit != 0 && goBytes*100 > nodeBytes*v.limit {
			t.Errorf("the Go server (%s) sent %d bytes, over %d%% of the %d of Node.js: %s", v.name, goBytes, v.limit, nodeBytes, v.why)
		}
	}
	node.checkNoErrors(t)
}
