package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind, and removes the
// test binary that wasmTestBinary built. The tests run in a process whose
// GODEBUG has xconnectSetting: the test binary starts itself again with
// it when it lacks it, and exits as that process does.
func TestMain(m *testing.M) {
	if !strings.Contains(os.Getenv("GODEBUG"), xconnectSetting) {
		os.Exit(runWithXConnect())
	}
	goleak.VerifyTestMain(cleanupM{m})
}

// xconnectSetting makes net/http's HTTP/2 server announce and take the
// extended CONNECT of RFC 8441, which TestChromiumHTTP2 needs. net/http
// reads GODEBUG for it once, as the process starts, and a //go:debug line
// does not set it. It changes nothing for the other tests: their servers,
// and the Go programs they start, speak HTTP/1.1 only.
const xconnectSetting = "http2xconnect=1"

// runWithXConnect runs the test binary again, with the same arguments and
// xconnectSetting added to GODEBUG, and returns its exit code.
func runWithXConnect() int {
	godebug := xconnectSetting
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + xconnectSetting
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.Exited() {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "interop: running the tests with GODEBUG=%s: %v\n", godebug, err)
		return 1
	}
	return 0
}

// cleanupM runs the tests, then removes what they left for the others.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if wasmBuildDir != "" {
		os.RemoveAll(wasmBuildDir)
	}
	return code
}

// echoCase is a message sent to an echo server and expected back.
type echoCase struct {
	name string
	typ  ws.MessageType
	data []byte
}

// echoCases are the messages of the echo tests: both types, empty
// messages, the sizes at the edges of the frame length encodings, and a
// large message of each type, of big bytes.
func echoCases(big int) []echoCase {
	cases := []echoCase{
		{"text", ws.MessageText, []byte("hello from Go")},
		{"text-utf8", ws.MessageText, []byte("héllo wörld ✓ 🚀")},
		{"binary", ws.MessageBinary, []byte{0, 1, 2, 0xfe, 0xff}},
		{"empty-text", ws.MessageText, nil},
		{"empty-binary", ws.MessageBinary, nil},
	}
	for _, n := range []int{125, 126, 65535, 65536, big} {
		cases = append(cases, echoCase{fmt.Sprintf("binary-%d", n), ws.MessageBinary, pattern(n, false)})
	}
	for _, n := range []int{65536, big} {
		cases = append(cases, echoCase{fmt.Sprintf("text-%d", n), ws.MessageText, pattern(n, true)})
	}
	return cases
}

// TestGoClientNodeServer runs the client of the package against the ws
// server of Node.js: echoes, a fragmented message, pings both ways, and
// the close handshake started by either side. It runs against a server
// with permessage-deflate off and one with it on, which the Go client
// does not offer, so it must not be negotiated.
func TestGoClientNodeServer(t *testing.T) {
	requireNode(t)
	servers := []struct {
		name    string
		deflate string // WS_PERMESSAGE_DEFLATE of the server
	}{
		{"plain", ""},
		{"deflate-enabled", `{"serverMaxWindowBits":10,"clientNoContextTakeover":true,"threshold":0}`},
	}
	for _, sc := range servers {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			srv := startEchoServer(t, deflateEnv(sc.deflate))

			testEchoServer(ctx, t, srv, 16<<20)
		})
	}
}

// testEchoServer runs the tests of the Go client against an echo server
// of another implementation: echoes up to big bytes, fragmented messages,
// pings both ways, and closes started by either side. It fails if the
// server reported an error.
func testEchoServer(ctx context.Context, t *testing.T, srv *peerServer, big int) {
	t.Run("echo", func(t *testing.T) { testEcho(ctx, t, srv, big) })
	t.Run("fragmented", func(t *testing.T) { testFragmented(ctx, t, srv) })
	t.Run("ping", func(t *testing.T) { testPing(ctx, t, srv) })
	t.Run("server-ping", func(t *testing.T) { testServerPing(ctx, t, srv) })
	t.Run("client-close", func(t *testing.T) { testClientClose(ctx, t, srv) })
	t.Run("server-close", func(t *testing.T) { testServerClose(ctx, t, srv) })
	srv.checkNoErrors(t)
}

// testEcho sends each of echoCases on one connection and compares the
// echo, then closes normally.
func testEcho(ctx context.Context, t *testing.T, srv *peerServer, big int) {
	c, _ := srv.dial(ctx, t, "echo", nil)
	for _, tc := range echoCases(big) {
		t.Run(tc.name, func(t *testing.T) { echoOnce(ctx, t, c, tc.typ, tc.data) })
	}
	closeNormally(ctx, t, c, srv, "echo")
}

// testFragmented streams messages with Writer in writes larger than the
// writer's 16 KiB buffer, checks that the server reassembled them (the echo
// comes back whole) and, on the wire, that they went out in several frames
// (unless compressed, which shrinks them below the buffer).
func testFragmented(ctx context.Context, t *testing.T, srv *peerServer) {
	// The text's writes split its multi-byte characters between frames.
	text := []byte(strings.Repeat("ünïcödé ✓ 🚀 ", 3000))
	cases := []struct {
		name   string
		typ    ws.MessageType
		writes [][]byte
	}{
		{"binary", ws.MessageBinary, [][]byte{
			pattern(20<<10, false), pattern(100, false), pattern(40<<10, false), pattern(17<<10, false),
		}},
		{"text", ws.MessageText, [][]byte{
			text[:20001], text[20001:20003], text[20003:50001], text[50001:],
		}},
	}
	tap := new(wireTap)
	c, _ := srv.dial(ctx, t, "fragmented", &ws.DialOptions{NetDial: tap.dial})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			streamOnce(ctx, t, c, tc.typ, tc.writes)
			frames, _ := tap.take()
			t.Logf("frames: %v", frames)
			if len(frames) < 2 && c.Extensions() == "" {
				t.Fatalf("the message went out in %d frame(s), want several", len(frames))
			}
			for i, f := range frames {
				wantOp := byte(0)
				if i == 0 {
					wantOp = byte(tc.typ)
				}
				if f.opcode != wantOp || f.fin != (i == len(frames)-1) {
					t.Fatalf("frame %d is %v in %v", i, f, frames)
				}
			}
		})
	}
	closeNormally(ctx, t, c, srv, "fragmented")
}

// testPing sends pings, which the server answers, while a goroutine reads:
// Ping returns only once the reader has seen the pong.
func testPing(ctx context.Context, t *testing.T, srv *peerServer) {
	var pongs [][]byte // appended by the reading goroutine only
	c, _ := srv.dial(ctx, t, "ping", &ws.DialOptions{Options: ws.Options{
		OnPong: func(p []byte) { pongs = append(pongs, slices.Clone(p)) },
	}})
	type readResult struct {
		data []byte
		err  error
	}
	rc := make(chan readResult, 1)
	go func() {
		_, b, err := c.Read(ctx)
		rc <- readResult{b, err}
	}()
	const pings = 3
	for i := range pings {
		if err := c.Ping(ctx, nil); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	// A message echoed ends the read.
	if err := c.Write(ctx, ws.MessageText, []byte("after the pings")); err != nil {
		t.Fatal(err)
	}
	r := <-rc
	if r.err != nil || string(r.data) != "after the pings" {
		t.Fatalf("read %q, %v; want the echo of %q", r.data, r.err, "after the pings")
	}
	if len(pongs) != pings {
		t.Errorf("got %d pongs, want %d", len(pongs), pings)
	}
	for _, p := range pongs {
		if len(p) != 8 {
			t.Errorf("pong payload %x: want the 8 bytes of the ping", p)
		}
	}
	closeNormally(ctx, t, c, srv, "ping")
}

// testServerPing has the server ping the Go client: the client's read
// answers the ping with a pong carrying the same payload.
func testServerPing(ctx context.Context, t *testing.T, srv *peerServer) {
	const payload = "hello from Go, ping me"
	var pinged []string // appended by this goroutine, within Read
	c, _ := srv.dial(ctx, t, "server-ping", &ws.DialOptions{Options: ws.Options{
		OnPing: func(p []byte) { pinged = append(pinged, string(p)) },
	}})
	if err := c.Write(ctx, ws.MessageText, []byte("ping:"+payload)); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != "pong:"+payload {
		t.Errorf("got %q, want %q", got, "pong:"+payload)
	}
	if !slices.Equal(pinged, []string{payload}) {
		t.Errorf("OnPing saw %q, want [%q]", pinged, payload)
	}
	if ev := srv.waitEvent(ctx, t, "PONG", "server-ping"); ev.Payload != payload {
		t.Errorf("the server's pong payload is %q, want %q", ev.Payload, payload)
	}
	closeNormally(ctx, t, c, srv, "server-ping")
}

// testClientClose closes from the Go side with several codes and reasons
// and checks that the server saw exactly them.
func testClientClose(ctx context.Context, t *testing.T, srv *peerServer) {
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
	}{
		{"4001-bye", 4001, "bye"},
		{"1000-empty", ws.StatusNormalClosure, ""},
		{"1001-utf8", ws.StatusGoingAway, "au revoir ✓ 🚀"},
		{"3000-123-bytes", 3000, string(pattern(123, true))},
		{"no-code", ws.StatusNoStatusReceived, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "client-close-" + tc.name
			c, _ := srv.dial(ctx, t, name, nil)
			if err := c.Close(tc.code, tc.reason); err != nil {
				t.Fatalf("close: %v", err)
			}
			ev := srv.waitEvent(ctx, t, "CLOSE", name)
			if ev.Code != int(tc.code) || ev.Reason != tc.reason {
				t.Errorf("the server saw close %d %q, want %d %q", ev.Code, ev.Reason, tc.code, tc.reason)
			}
			if _, _, err := c.Read(ctx); !errors.Is(err, net.ErrClosed) {
				t.Errorf("read after close: %v, want net.ErrClosed", err)
			}
			// The server's close frame answered with the same code and reason.
			if err, want := c.Err(), (ws.CloseError{Code: tc.code, Reason: tc.reason}); !errors.Is(err, want) {
				t.Errorf("Err after the close handshake: %v, want %v", err, want)
			}
		})
	}
}

// testServerClose has the server close with several codes and reasons and
// checks that the Go client's read returns exactly them as a CloseError.
func testServerClose(ctx context.Context, t *testing.T, srv *peerServer) {
	cases := []struct {
		name    string
		command string
		want    ws.CloseError
	}{
		{"4002-reason", "close:4002:server says bye", ws.CloseError{Code: 4002, Reason: "server says bye"}},
		{"1000-empty", "close:1000:", ws.CloseError{Code: ws.StatusNormalClosure}},
		{"1011-colons", "close:1011:internal: a:b", ws.CloseError{Code: ws.StatusInternalError, Reason: "internal: a:b"}},
		{"4999-utf8", "close:4999:ünïcödé ✓ 🚀", ws.CloseError{Code: 4999, Reason: "ünïcödé ✓ 🚀"}},
		{"3000-123-bytes", "close:3000:" + string(pattern(123, true)), ws.CloseError{Code: 3000, Reason: string(pattern(123, true))}},
		{"no-code", "close:", ws.CloseError{Code: ws.StatusNoStatusReceived}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "server-close-" + tc.name
			c, _ := srv.dial(ctx, t, name, nil)
			if err := c.Write(ctx, ws.MessageText, []byte(tc.command)); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.Read(ctx)
			var ce ws.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read returned %v, want a CloseError", err)
			}
			if ce != tc.want {
				t.Errorf("got close %d %q, want %d %q", ce.Code, ce.Reason, tc.want.Code, tc.want.Reason)
			}
			if got := ws.CloseStatus(err); got != tc.want.Code {
				t.Errorf("CloseStatus = %v, want %v", got, tc.want.Code)
			}
			// The client answers with the same code.
			if ev := srv.waitEvent(ctx, t, "CLOSE", name); ev.Code != int(tc.want.Code) {
				t.Errorf("the server saw the answer %d %q, want code %d", ev.Code, ev.Reason, tc.want.Code)
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("the connection did not close after the close handshake")
			}
		})
	}
}

// exchangeChecks are the checks client.js reports in its exchange mode.
var exchangeChecks = []string{
	"echo/text", "echo/text-utf8", "echo/binary", "echo/empty-text", "echo/empty-binary",
	"echo/binary-125", "echo/binary-126", "echo/binary-65535", "echo/binary-65536",
	"echo/binary-16777216", "echo/text-65536",
	"fragmented/text", "fragmented/binary",
	"ping/payload", "ping/empty", "ping/125",
	"close",
}

// TestNodeClientGoServer runs the ws client of Node.js against a server of
// the package: the scripted exchange of client.js against an echo handler,
// with and without a permessage-deflate offer, which the server must
// decline, and closes started by the server.
func TestNodeClientGoServer(t *testing.T) {
	requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := startGoServer(ctx, t, nil)

	t.Run("exchange", func(t *testing.T) {
		cases := []struct {
			name    string
			deflate string // WS_PERMESSAGE_DEFLATE of the client
		}{
			{"plain", ""},
			{"deflate-offered", "true"},
			{"deflate-offered-options", `{"clientMaxWindowBits":10,"serverNoContextTakeover":true}`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				lines, res := runExchange(ctx, t, srv, runNodeClient, "exchange-"+tc.name, "exchange", exchangeChecks, deflateEnv(tc.deflate))
				ext := fmt.Sprintf("EXTENSIONS %q", res.extensions)
				if !slices.Contains(lines, ext) {
					t.Errorf("client.js did not report %s, the extensions of the Go server", ext)
				}
			})
		}
	})

	t.Run("server-close", func(t *testing.T) { testClientAwaitsClose(ctx, t, srv, runNodeClient) })
}
