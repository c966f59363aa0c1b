//go:build !js

package main

// These tests build the ws binary once and run it as a person does: as a
// process, typing into its standard input and reading its standard output
// and standard error.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

// bin is the ws binary that TestMain builds.
var bin string

// raceEnabled is set by race_test.go when the tests run with -race; the
// binary is then built with -race too, so races in it fail the tests.
var raceEnabled bool

// waitTimeout bounds every wait for a process or its output.
const waitTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ws-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ws")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ws:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// output collects what a process writes to one of its streams.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

// snapshot returns what was written so far, and a channel closed at the
// next write.
func (o *output) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String(), o.changed
}

func (o *output) String() string {
	s, _ := o.snapshot()
	return s
}

// proc is a running ws process.
type proc struct {
	t      *testing.T
	args   []string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *output
	stderr *output
	done   chan struct{} // closed when the process has exited
	code   int           // its exit status, once done is closed
}

// start runs ws with args. The process is killed at the end of the test
// if it is still running.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, args: args, stdout: newOutput(), stderr: newOutput(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	// A binary built with -race sleeps a second before exiting, unless
	// told not to; a race it finds makes it exit with status 66.
	p.cmd.Env = append(os.Environ(), strings.TrimSpace("GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE")))
	p.cmd.WaitDelay = 5 * time.Second
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("ws %s\n--- stdout:\n%s--- stderr:\n%s", strings.Join(args, " "), p.stdout, p.stderr)
		}
	})
	return p
}

// send types text into the process's standard input.
func (p *proc) send(text string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, text); err != nil {
		p.t.Fatalf("ws %s: writing stdin: %v", p.args[0], err)
	}
}

// wait waits for the process to exit and returns its exit status.
func (p *proc) wait() int {
	p.t.Helper()
	t := time.NewTimer(waitTimeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.code
	case <-t.C:
		p.t.Fatalf("ws %s did not exit within %v", strings.Join(p.args, " "), waitTimeout)
		return -1
	}
}

// interrupt sends the process SIGINT, as Ctrl-C does.
func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatal(err)
	}
}

// waitOutput waits until ok holds for what the process wrote to o, and
// returns it.
func (p *proc) waitOutput(o *output, what string, ok func(string) bool) string {
	p.t.Helper()
	t := time.NewTimer(waitTimeout)
	defer t.Stop()
	for {
		s, changed := o.snapshot()
		if ok(s) {
			return s
		}
		select {
		case <-changed:
		case <-p.done:
			// Wait has returned, so all the output is in.
			if s := o.String(); ok(s) {
				return s
			}
			p.t.Fatalf("ws %s exited with status %d before its output had %s", strings.Join(p.args, " "), p.code, what)
		case <-t.C:
			p.t.Fatalf("ws %s: no %s within %v", strings.Join(p.args, " "), what, waitTimeout)
		}
	}
}

func (p *proc) waitStdout(sub string) string {
	p.t.Helper()
	return p.waitOutput(p.stdout, fmt.Sprintf("%q on stdout", sub), func(s string) bool { return strings.Contains(s, sub) })
}

func (p *proc) waitStderr(sub string) string {
	p.t.Helper()
	return p.waitOutput(p.stderr, fmt.Sprintf("%q on stderr", sub), func(s string) bool { return strings.Contains(s, sub) })
}

var addrRE = regexp.MustCompile(`ws://(127\.0\.0\.1:[0-9]+)/`)

// startServer runs "ws listen" on a free port of 127.0.0.1 and returns
// the process and the address it printed.
func startServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("stopping ws listen takes SIGINT, which Windows cannot send")
	}
	p := start(t, append([]string{"listen", "-addr", "127.0.0.1:0"}, args...)...)
	out := p.waitOutput(p.stdout, "the address", addrRE.MatchString)
	return p, addrRE.FindStringSubmatch(out)[1]
}

// stopServer stops a "ws listen" process with Ctrl-C and checks that it
// shuts down cleanly.
func stopServer(t *testing.T, p *proc) {
	t.Helper()
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Errorf("ws listen exited with status %d after SIGINT, want 0", code)
	}
	if s := p.stderr.String(); !strings.Contains(s, "shutting down") {
		t.Errorf("ws listen stderr lacks %q:\n%s", "shutting down", s)
	}
}

// wsURL is the ws:// URL of an httptest server.
func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/" }

// wsServer starts an httptest server that accepts each WebSocket with
// opts and hands it to serve, with a context of waitTimeout; the
// connection is closed when serve returns, the server when the test ends.
func wsServer(t *testing.T, opts *ws.AcceptOptions, serve func(ctx context.Context, c *ws.Conn, r *http.Request)) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		serve(ctx, c, r)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// get fetches url over a connection of its own and returns the status and
// the body.
func get(t *testing.T, url string) (status, body string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: waitTimeout}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.Status, string(b)
}

// wantExit checks that the process exits with the status want.
func wantExit(t *testing.T, p *proc, want int) {
	t.Helper()
	if code := p.wait(); code != want {
		t.Fatalf("ws %s exited with status %d, want %d", strings.Join(p.args, " "), code, want)
	}
}

// wantStdout checks that the process wrote exactly want on stdout.
func wantStdout(t *testing.T, p *proc, want string) {
	t.Helper()
	if got := p.stdout.String(); got != want {
		t.Errorf("stdout = %.200q, want %.200q", got, want)
	}
}

// wantStderr checks that the process wrote sub on stderr.
func wantStderr(t *testing.T, p *proc, sub string) {
	t.Helper()
	if s := p.stderr.String(); !strings.Contains(s, sub) {
		t.Errorf("stderr lacks %q:\n%s", sub, s)
	}
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout for status 0, else in stderr
	}{
		{[]string{"-h"}, 0, "ws connect [flags] URL"},
		{[]string{"help"}, 0, "ws listen [flags]"},
		{[]string{"help", "connect"}, 0, "-subprotocol"},
		{[]string{"connect", "-h"}, 0, "-show-ping"},
		{[]string{"listen", "-help"}, 0, "-mode"},
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"connect"}, 2, "want one URL"},
		{[]string{"connect", "-H", "no colon", "ws://127.0.0.1:1/"}, 2, "Name: value"},
		{[]string{"connect", "-compress=maybe", "ws://127.0.0.1:1/"}, 2, "-compress=notakeover"},
		{[]string{"listen", "-mode", "party"}, 2, "echo or chat"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			p := start(t, tc.args...)
			wantExit(t, p, tc.code)
			o := p.stdout
			if tc.code != 0 {
				o = p.stderr
			}
			if s := o.String(); !strings.Contains(s, tc.out) {
				t.Errorf("output lacks %q:\n%s", tc.out, s)
			}
		})
	}
}

// (1) An echo server and a client: the lines typed come back.
func TestEcho(t *testing.T) {
	srv, addr := startServer(t, "-compress", "-show-ping", "-subprotocol", "echo.v2,echo.v1", "-H", "X-Server: ws-cmd")
	url := "ws://" + addr + "/"

	t.Run("text", func(t *testing.T) {
		c := start(t, "connect", url)
		c.waitStderr("connected to " + url)
		c.send("one\n")
		c.waitStdout("one\n")
		c.send("two\r\n")
		c.waitStdout("two\n")
		// Lines piped in at once, the last without a newline, and the
		// end of input right behind them: all echoes still arrive.
		c.send("three\n\nfour")
		c.stdin.Close()
		wantExit(t, c, 0)
		wantStdout(t, c, "one\ntwo\nthree\n\nfour\n")
		wantStderr(t, c, "closed: 1000 (NormalClosure)")
		srv.waitStderr(`: "three"`)
	})

	t.Run("handshake", func(t *testing.T) {
		// The flags of ws listen, seen by a client of the package.
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, resp, err := ws.Dial(ctx, url, &ws.DialOptions{
			Subprotocols: []string{"echo.v1", "echo.v2"},
			Options: ws.Options{Compression: &ws.CompressionOptions{
				ServerNoContextTakeover: true,
				ClientNoContextTakeover: true,
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if got := resp.Header.Get("X-Server"); got != "ws-cmd" {
			t.Errorf("X-Server = %q, want ws-cmd", got)
		}
		if got := c.Subprotocol(); got != "echo.v2" {
			t.Errorf("subprotocol = %q, want echo.v2 (the server's first choice)", got)
		}
		if got := c.Extensions(); !strings.HasPrefix(got, "permessage-deflate") {
			t.Errorf("extensions = %q", got)
		}
		if err := c.Write(ctx, ws.MessageText, []byte("via the package")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := c.Read(ctx); err != nil || string(msg) != "via the package" {
			t.Fatalf("echo = %q, %v", msg, err)
		}
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		srv.waitStderr("subprotocol: echo.v2, extensions: permessage-deflate")
	})

	t.Run("binary", func(t *testing.T) {
		c := start(t, "connect", "-binary", "-compress", url)
		c.send("hi\n")
		c.stdin.Close()
		wantExit(t, c, 0)
		wantStdout(t, c, "[binary 2 bytes] 6869\n")
		wantStderr(t, c, "extensions: permessage-deflate")
	})

	t.Run("plain GET", func(t *testing.T) {
		if status, body := get(t, "http://"+addr+"/"); !strings.Contains(body, "echo server") {
			t.Errorf("GET / = %s %q", status, body)
		}
	})

	stopServer(t, srv)
}

// (2) A chat server and two clients: a line typed in one appears in the
// other; at shutdown both get 1001 and exit 0.
func TestChat(t *testing.T) {
	srv, addr := startServer(t, "-mode", "chat")

	if status, page := get(t, "http://"+addr+"/"); !strings.Contains(page, "new WebSocket(") || !strings.Contains(page, `"/ws"`) {
		t.Fatalf("GET / = %s, not the chat page:\n%s", status, page)
	}

	a := start(t, "connect", "ws://"+addr+"/ws")
	b := start(t, "connect", "ws://"+addr+"/ws")
	// The server logs a client once it is in the broadcast set.
	srv.waitOutput(srv.stderr, "two connections", func(s string) bool { return strings.Count(s, " connected") == 2 })

	a.send("hello from a\n")
	b.waitStdout("hello from a\n")
	a.waitStdout("hello from a\n")
	b.send("hi from b\n")
	a.waitStdout("hi from b\n")
	b.waitStdout("hi from b\n")

	stopServer(t, srv)
	for _, c := range []*proc{a, b} {
		wantExit(t, c, 0)
		wantStderr(t, c, "closed by the server: 1001 (GoingAway)")
	}
}

// (3) A refused handshake: the status, the headers and the body are shown,
// and the exit status is not 0.
func TestHandshakeRefused(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "you need a token to come in\n")
	}))
	defer hs.Close()
	c := start(t, "connect", wsURL(hs))
	if code := c.wait(); code == 0 {
		t.Fatal("exit status 0 after a 401")
	}
	s := c.stderr.String() + c.stdout.String()
	for _, want := range []string{"401 Unauthorized", "Www-Authenticate: Bearer", "you need a token to come in"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// (4) -H and -subprotocol reach the server, and so does -origin.
func TestHeadersAndSubprotocol(t *testing.T) {
	hs := wsServer(t, &ws.AcceptOptions{
		Subprotocols:   []string{"v2.chat", "v1.chat"},
		OriginPatterns: []string{"example.test"},
	}, func(ctx context.Context, c *ws.Conn, r *http.Request) {
		msg := fmt.Sprintf("token=%s multi=%s origin=%s subprotocol=%s",
			r.Header.Get("X-Token"), strings.Join(r.Header.Values("X-Multi"), "|"), r.Header.Get("Origin"), c.Subprotocol())
		c.Write(ctx, ws.MessageText, []byte(msg))
		c.Close(ws.StatusNormalClosure, "bye")
	})
	// Flags after the URL count too.
	c := start(t, "connect", "-H", "X-Token: s3cret", "-subprotocol", "v1.chat", wsURL(hs),
		"-subprotocol", "v3.chat,v2.chat", "-H", "X-Multi: a", "-H", "X-Multi: b", "-origin", "http://example.test")
	wantExit(t, c, 0)
	wantStdout(t, c, "token=s3cret multi=a|b origin=http://example.test subprotocol=v2.chat\n")
	wantStderr(t, c, "subprotocol: v2.chat")
	wantStderr(t, c, `closed by the server: 1000 (NormalClosure) "bye"`)
}

// (5) -compress negotiates permessage-deflate, and compressed messages
// make the round trip.
func TestCompress(t *testing.T) {
	opts := &ws.AcceptOptions{Options: ws.Options{Compression: &ws.CompressionOptions{}}}
	hs := wsServer(t, opts, func(ctx context.Context, c *ws.Conn, _ *http.Request) {
		if err := c.Write(ctx, ws.MessageText, []byte("extensions="+c.Extensions())); err != nil {
			return
		}
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
	long := strings.Repeat("compress me, ", 400) // over the threshold
	for _, tc := range []struct {
		flag, ext string
	}{
		{"-compress", "extensions=permessage-deflate\n"},
		{"-compress=notakeover", "extensions=permessage-deflate; server_no_context_takeover; client_no_context_takeover\n"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			c := start(t, "connect", tc.flag, wsURL(hs))
			c.send(long + "\n" + long + "\n")
			c.stdin.Close()
			wantExit(t, c, 0)
			wantStdout(t, c, tc.ext+long+"\n"+long+"\n")
		})
	}
	t.Run("off", func(t *testing.T) {
		c := start(t, "connect", wsURL(hs))
		c.stdin.Close()
		wantExit(t, c, 0)
		wantStdout(t, c, "extensions=\n")
	})
}

// (6) -show-ping prints the pings the server sends, and the pongs of
// -ping keepalive.
func TestShowPing(t *testing.T) {
	hs := wsServer(t, nil, func(ctx context.Context, c *ws.Conn, _ *http.Request) {
		if err := c.Ping(ctx, nil); err != nil {
			return
		}
		if err := c.Write(ctx, ws.MessageText, []byte("pinged")); err != nil {
			return
		}
		for { // answer the client's pings until it closes
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	c := start(t, "connect", "-show-ping", "-ping", "500ms", wsURL(hs))
	c.waitStdout("pinged\n")
	c.waitStderr("ping received")
	c.waitStderr("pong received")
	c.stdin.Close()
	wantExit(t, c, 0)
}

// The server's close code decides the exit status, and a connection lost
// without a close frame fails.
func TestServerCloses(t *testing.T) {
	hs := wsServer(t, nil, func(_ context.Context, c *ws.Conn, r *http.Request) {
		switch r.URL.Path {
		case "/4001":
			c.Close(4001, "not today")
		case "/going-away":
			c.Close(ws.StatusGoingAway, "")
		default:
			c.CloseNow()
		}
	})
	for _, tc := range []struct {
		path   string
		code   int
		stderr string
	}{
		{"4001", 1, `closed by the server: 4001 "not today"`},
		{"going-away", 0, "closed by the server: 1001 (GoingAway)"},
		{"vanish", 1, "without a close frame"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c := start(t, "connect", wsURL(hs)+tc.path)
			wantExit(t, c, tc.code)
			wantStderr(t, c, tc.stderr)
		})
	}
}

// -timeout bounds a handshake that never completes.
func TestDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // never accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := start(t, "connect", "-timeout", "200ms", ln.Addr().String())
	wantExit(t, c, 1)
	wantStderr(t, c, "deadline exceeded")
}
