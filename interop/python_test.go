package interop

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

// The tests against the websockets library of Python, with the scripts of
// the python directory: the same suite as against Node.js, up to 1 MiB
// messages, with and without permessage-deflate, which websockets offers
// and accepts by default.

// pythonBin is Debian's Python, which python3-websockets installs for; a
// python3 found first on PATH (pyenv, say) may lack the package.
const pythonBin = "/usr/bin/python3"

// pythonDir is the directory of the Python scripts.
const pythonDir = "python"

// pythonHint tells how to install the Python side of the tests.
const pythonHint = "install it with `apt-get install -y python3-websockets` (Debian, as root)"

// requirePython returns the path of the Python interpreter. It fails the
// test if Python or its websockets library, versions 10 to 13 (whose
// asyncio API the scripts use), is missing.
func requirePython(t *testing.T) string {
	t.Helper()
	if err := pythonCheck(); err != nil {
		t.Fatalf("%v; %s", err, pythonHint)
	}
	return pythonBin
}

// pythonCheck finds out once whether Python has a websockets library the
// scripts can use.
var pythonCheck = sync.OnceValue(func() error {
	out, err := exec.Command(pythonBin, "-c", "import websockets; print(websockets.__version__)").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import websockets: %v\n%s", pythonBin, err, out)
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 10 || n > 13 {
		return fmt.Errorf("want version 10 to 13 of the Python websockets library, have %q", version)
	}
	return nil
})

// startPythonServer starts echo_server.py with the extra environment env.
func startPythonServer(t *testing.T, env ...string) *peerServer {
	t.Helper()
	py := requirePython(t)
	return startPeerServer(t, []string{py, filepath.Join(pythonDir, "echo_server.py"), "0"}, env)
}

// runPythonClient is the peerClient of client.py.
func runPythonClient(ctx context.Context, t *testing.T, target, mode string, env ...string) ([]string, error) {
	t.Helper()
	py := requirePython(t)
	return runPeerClient(ctx, t, []string{py, filepath.Join(pythonDir, "client.py"), target, mode}, env)
}

// pythonDefaultWindows is what the websockets server agrees on by default
// with a client that lets it choose the windows: 4 KiB (12 bits) each way.
const pythonDefaultWindows = "permessage-deflate; client_max_window_bits=12; server_max_window_bits=12"

// TestGoClientPythonServer runs the client of the package against the
// websockets server of Python: echoes up to 1 MiB, fragmented messages,
// pings both ways, and closes started by either side, without and with
// permessage-deflate.
func TestGoClientPythonServer(t *testing.T) {
	requirePython(t)
	cases := []struct {
		name   string
		client ws.Options // the Go client's compression
		env    string     // of the server
		want   string     // the extension both sides agree on
	}{
		{"go-no-compression", ws.Options{}, "", ""},
		{"python-no-compression", ctxTakeover, "WS_COMPRESSION=none", ""},
		{"deflate-context-takeover", ctxTakeover, "", pythonDefaultWindows},
		{"deflate-no-context-takeover", noCtxTakeover, "",
			"permessage-deflate; client_max_window_bits=12; client_no_context_takeover; server_max_window_bits=12; server_no_context_takeover"},
		{"deflate-windows-9-10", with(ctxTakeover, func(c *ws.CompressionOptions) { c.ServerMaxWindowBits, c.ClientMaxWindowBits = 9, 10 }), "",
			"permessage-deflate; client_max_window_bits=10; server_max_window_bits=9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
			defer cancel()
			srv := startPythonServer(t, tc.env)
			srv.compression = tc.client

			t.Run("extension", func(t *testing.T) {
				tap := new(wireTap)
				c, ev := srv.dial(ctx, t, "extension", &ws.DialOptions{NetDial: tap.dial})
				if got := canonExtension(c.Extensions()); got != canonExtension(tc.want) {
					t.Errorf("agreed on %q, want %q", c.Extensions(), tc.want)
				}
				if ev.Extensions != extensionNames(tc.want) {
					t.Errorf("the Python server has the extensions %q, want %q", ev.Extensions, extensionNames(tc.want))
				}
				// websockets compresses every message; the Go client those
				// of 1 KiB and more.
				typ, data := payload(kindJSON, 4096)
				echoOnce(ctx, t, c, typ, data)
				sent, received := tap.take()
				checkOneMessage(t, "the Go client's message", sent, tc.want != "", 0)
				checkOneMessage(t, "the Python echo", received, tc.want != "", 0)
				closeNormally(ctx, t, c, srv, "extension")
			})
			testEchoServer(ctx, t, srv, 1<<20)
		})
	}
}

// pythonExchangeChecks are the checks client.py reports in its exchange
// mode.
var pythonExchangeChecks = []string{
	"echo/text", "echo/text-utf8", "echo/binary", "echo/empty-text", "echo/empty-binary",
	"echo/binary-125", "echo/binary-126", "echo/binary-65535", "echo/binary-65536",
	"echo/binary-1048576", "echo/text-65536", "echo/text-1048576",
	"fragmented/text", "fragmented/binary",
	"ping/payload", "ping/empty", "ping/125",
	"close",
}

// TestPythonClientGoServer runs the websockets client of Python against a
// server of the package: the scripted exchange of client.py against an
// echo handler, with the server's compression off and on, closes started
// by the server, and pings from the server.
func TestPythonClientGoServer(t *testing.T) {
	requirePython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()

	t.Run("exchange", func(t *testing.T) {
		cases := []struct {
			name   string
			server ws.Options // the Go server's compression
			env    string     // of the client
			want   string     // the extension both sides agree on
		}{
			{"go-no-compression", ws.Options{}, "", ""},
			{"python-no-compression", ctxTakeover, "WS_COMPRESSION=none", ""},
			{"deflate-context-takeover", ctxTakeover, "", "permessage-deflate"},
			{"deflate-no-context-takeover", noCtxTakeover, "",
				"permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
			{"deflate-windows-9-10", with(ctxTakeover, func(c *ws.CompressionOptions) { c.ServerMaxWindowBits, c.ClientMaxWindowBits = 9, 10 }), "",
				"permessage-deflate; client_max_window_bits=10; server_max_window_bits=9"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := startGoServer(ctx, t, &ws.AcceptOptions{Options: tc.server})
				lines, res := runExchange(ctx, t, srv, runPythonClient, "exchange-"+tc.name, "exchange", pythonExchangeChecks, tc.env)
				if got := canonExtension(res.extensions); got != canonExtension(tc.want) {
					t.Errorf("the Go server agreed on %q, want %q", res.extensions, tc.want)
				}
				if header, err := quotedLine(lines, "HEADER"); err != nil || header != res.extensions {
					t.Errorf("client.py got the header %q (%v), the Go server has %q", header, err, res.extensions)
				}
				if names, err := quotedLine(lines, "EXTENSIONS"); err != nil || names != extensionNames(tc.want) {
					t.Errorf("client.py has the extensions %q (%v), want %q", names, err, extensionNames(tc.want))
				}

				// websockets compresses every message; the Go server
				// compresses the echoes of 1 KiB and more, and only those.
				sent, received := res.tap.take()
				fromPython, fromGo := dataMessages(received), dataMessages(sent)
				for i, m := range fromPython {
					if m[0].rsv1 != (tc.want != "") {
						t.Errorf("message %d from Python: frames %v, compressed should be %v", i, m, tc.want != "")
					}
				}
				compressed := 0
				for _, m := range fromGo {
					if m[0].rsv1 {
						compressed++
					}
				}
				if tc.want == "" && compressed > 0 || tc.want != "" && (compressed == 0 || compressed == len(fromGo)) {
					t.Errorf("the Go server compressed %d of its %d messages; want none without the extension, some but not all with it", compressed, len(fromGo))
				}
			})
		}
	})

	srv := startGoServer(ctx, t, &ws.AcceptOptions{Options: ctxTakeover})
	t.Run("server-close", func(t *testing.T) { testClientAwaitsClose(ctx, t, srv, runPythonClient) })

	// The server pings; websockets answers on its own.
	t.Run("server-ping", func(t *testing.T) {
		res := srv.awaitClose(ctx, t, runPythonClient, "/ping", url.Values{"name": {"server-ping"}}, "pinged 3", ws.CloseError{Code: ws.StatusNormalClosure, Reason: "pinged"})
		var pings, pongs int
		sent, received := res.tap.take()
		for _, f := range sent {
			if f.opcode == 9 {
				pings++
			}
		}
		for _, f := range received {
			if f.opcode == 10 {
				pongs++
			}
		}
		if pings != 3 || pongs != 3 {
			t.Errorf("%d pings and %d pongs on the wire, want 3 each", pings, pongs)
		}
	})
}
