package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// nodeDir is the directory of the Node.js scripts and their node_modules.
const nodeDir = "node"

// testTimeout bounds each test: its connections, processes and waits.
const testTimeout = 60 * time.Second

// waitDelay bounds how long exec waits for a killed process's output.
const waitDelay = 5 * time.Second

// installHint tells how to install the Node.js side of the tests.
const installHint = "run `npm ci --prefix interop/node` from the repository root"

// requireNode returns the path of the node binary. It fails the test if
// node or version 8 of the ws package is missing: an interoperability
// test that silently skips proves nothing.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v; install Node.js 20 or later, then %s", err, installHint)
	}
	b, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "ws", "package.json"))
	if err != nil {
		t.Fatalf("the Node.js ws package is missing: %v; %s", err, installHint)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || !strings.HasPrefix(pkg.Version, "8.") {
		t.Fatalf("want version 8 of the Node.js ws package, have %q (%v); %s", pkg.Version, err, installHint)
	}
	return node
}

// deflateEnv returns the environment setting of permessage-deflate for the
// Node.js scripts: "" for off, "true" for ws's defaults, or JSON options.
func deflateEnv(v string) string { return "WS_PERMESSAGE_DEFLATE=" + v }

// clientTimeoutEnv returns the environment setting of how long client.js
// may run before it gives up, which is 50 seconds by default.
func clientTimeoutEnv(d time.Duration) string {
	return fmt.Sprintf("WS_CLIENT_TIMEOUT_MS=%d", d.Milliseconds())
}

// lineLog is an io.Writer that collects a process's output as lines and
// lets callers wait for a line.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

// Write adds output, splitting it into lines.
func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		added = true
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// Lines returns the complete lines so far.
func (l *lineLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// String returns all the output so far.
func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + string(l.partial)
}

// wait returns the first line that match accepts, waiting for it until ctx
// is done or exited is closed.
func (l *lineLog) wait(ctx context.Context, exited <-chan struct{}, match func(string) bool) (string, error) {
	seen := 0
	for {
		l.mu.Lock()
		lines, changed := l.lines[seen:], l.changed
		l.mu.Unlock()
		for _, s := range lines {
			if match(s) {
				return s, nil
			}
		}
		seen += len(lines)
		select {
		case <-changed:
		case <-exited:
			// Lines written just before the exit are in by now.
			for _, s := range l.Lines()[seen:] {
				if match(s) {
					return s, nil
				}
			}
			return "", errors.New("the process exited")
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// peerEvent is one line "KIND {json}" that an echo server of another
// implementation prints: echo-server.js or echo_server.py.
type peerEvent struct {
	Kind string `json:"-"`
	Name string `json:"name"`
	// Extensions names the extensions in force, as ws.extensions of
	// Node.js does: "permessage-deflate" or "".
	Extensions string `json:"extensions"`
	// Header is the Sec-WebSocket-Extensions header of the server's
	// handshake response, "" if there was none.
	Header string `json:"header"`
	// Params (Node.js only) are the permessage-deflate parameters the
	// server works with, null without the extension.
	Params map[string]any `json:"params"`
	// Size, Binary and Compressed describe a message the server received
	// (echo-server.js with report=1): Compressed is nil when the server
	// could not tell.
	Size       int    `json:"size"`
	Binary     bool   `json:"binary"`
	Compressed *bool  `json:"compressed"`
	Payload    string `json:"payload"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

// parseEvent parses an event line; ok is false for other lines.
func parseEvent(line string) (ev peerEvent, ok bool) {
	kind, rest, found := strings.Cut(line, " ")
	if !found || !strings.HasPrefix(rest, "{") {
		return ev, false
	}
	if err := json.Unmarshal([]byte(rest), &ev); err != nil {
		return ev, false
	}
	ev.Kind = kind
	return ev, true
}

// serverLifetime bounds how long an echo server process may run; the
// test that started it kills it when it ends.
const serverLifetime = 10 * time.Minute

// peerServer is a running echo server of another implementation. Every
// connection echoes each message with the same type, except the text
// commands "close:CODE:REASON", "close:" and "ping:PAYLOAD" (see
// echo-server.js), and its events name it by its query parameter "name".
type peerServer struct {
	script string // for messages
	url    string // ws://127.0.0.1:PORT
	stdout *lineLog
	stderr *lineLog
	exited chan struct{} // closed once the process has exited
	// compression is what dial asks for when its options do not turn
	// compression on themselves.
	compression ws.Options
}

// startPeerServer runs argv, an echo server that listens on a free port of
// 127.0.0.1 and prints "PORT <n>" first, with the extra environment env.
// The process is killed when the test ends.
func startPeerServer(t *testing.T, argv, env []string) *peerServer {
	t.Helper()
	script := filepath.Base(argv[1])
	ctx, cancel := context.WithTimeout(context.Background(), serverLifetime)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	s := &peerServer{script: script, stdout: newLineLog(), stderr: newLineLog(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", script, err)
	}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills the process if it still runs
		<-s.exited
		if t.Failed() {
			t.Logf("%s (%v) stdout:\n%s\nstderr:\n%s", script, waitErr, s.stdout, s.stderr)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, testTimeout)
	defer wcancel()
	line, err := s.stdout.wait(wctx, s.exited, func(l string) bool { return strings.HasPrefix(l, "PORT ") })
	if err != nil {
		t.Fatalf("%s did not report its port: %v\nstderr:\n%s", script, err, s.stderr)
	}
	port, err := strconv.Atoi(strings.TrimPrefix(line, "PORT "))
	if err != nil || port <= 0 {
		t.Fatalf("%s reported a bad port: %q", script, line)
	}
	s.url = "ws://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return s
}

// startEchoServer starts echo-server.js of Node.js with the extra
// environment env; permessage-deflate is off unless env says otherwise.
func startEchoServer(t *testing.T, env ...string) *peerServer {
	t.Helper()
	node := requireNode(t)
	return startPeerServer(t, []string{node, filepath.Join(nodeDir, "echo-server.js"), "0"}, append([]string{deflateEnv("")}, env...))
}

// waitEvent waits for the server's event of kind on the connection name.
func (s *peerServer) waitEvent(ctx context.Context, t *testing.T, kind, name string) peerEvent {
	t.Helper()
	var ev peerEvent
	_, err := s.stdout.wait(ctx, s.exited, func(l string) bool {
		e, ok := parseEvent(l)
		if ok && e.Kind == kind && e.Name == name {
			ev = e
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for the %s event of %q from %s: %v", kind, name, s.script, err)
	}
	return ev
}

// events returns the server's events of kind so far, on any connection.
func (s *peerServer) events(kind string) []peerEvent {
	var evs []peerEvent
	for _, l := range s.stdout.Lines() {
		if e, ok := parseEvent(l); ok && e.Kind == kind {
			evs = append(evs, e)
		}
	}
	return evs
}

// checkNoErrors fails the test for every error the server has reported.
func (s *peerServer) checkNoErrors(t *testing.T) {
	t.Helper()
	for _, ev := range s.events("ERROR") {
		t.Errorf("%s error on %q: %s (%s)", s.script, ev.Name, ev.Message, ev.ErrorCode)
	}
}

// echoOnce writes a message with Write and checks its echo; see roundTrip.
func echoOnce(ctx context.Context, t *testing.T, c *ws.Conn, typ ws.MessageType, data []byte) {
	t.Helper()
	roundTrip(ctx, t, c, typ, data, func() error { return c.Write(ctx, typ, data) })
}

// streamOnce writes a message with Writer in the given writes and checks
// its echo; see roundTrip.
func streamOnce(ctx context.Context, t *testing.T, c *ws.Conn, typ ws.MessageType, writes [][]byte) {
	t.Helper()
	roundTrip(ctx, t, c, typ, bytes.Join(writes, nil), func() error {
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		for _, p := range writes {
			if _, err := w.Write(p); err != nil {
				w.Close()
				return err
			}
		}
		return w.Close()
	})
}

// roundTrip sends a message of typ with write and reads its echo,
// concurrently: a large message fills the TCP buffers both ways before its
// echo is read. It checks that the echo is want, of typ.
func roundTrip(ctx context.Context, t *testing.T, c *ws.Conn, typ ws.MessageType, want []byte, write func() error) {
	t.Helper()
	werr := make(chan error, 1)
	go func() { werr <- write() }()
	gotTyp, got, err := c.Read(ctx)
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotTyp != typ {
		t.Errorf("echo is %v, want %v", gotTyp, typ)
	}
	if d := diff(got, want); d != "" {
		t.Errorf("echo differs: %s", d)
	}
}

// closeNormally closes c, the connection name, with 1000 and waits for
// the server to see it.
func closeNormally(ctx context.Context, t *testing.T, c *ws.Conn, srv *peerServer, name string) {
	t.Helper()
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	if ev := srv.waitEvent(ctx, t, "CLOSE", name); ev.Code != int(ws.StatusNormalClosure) {
		t.Errorf("the server saw close code %d, want 1000", ev.Code)
	}
}

// dial opens a connection named name to the server, with s.compression
// unless opts turns compression on itself. It checks that both sides
// agree on the extensions: the names, and the parameters of the server's
// response against what the Go client reports. It returns the connection
// and the server's OPEN event, and closes the connection at the end of the
// test if the test has not.
func (s *peerServer) dial(ctx context.Context, t *testing.T, name string, opts *ws.DialOptions) (*ws.Conn, peerEvent) {
	t.Helper()
	return s.dialQuery(ctx, t, url.Values{"name": {name}}, opts)
}

// dialQuery is dial with more query parameters than the name.
func (s *peerServer) dialQuery(ctx context.Context, t *testing.T, query url.Values, opts *ws.DialOptions) (*ws.Conn, peerEvent) {
	t.Helper()
	name := query.Get("name")
	var o ws.DialOptions
	if opts != nil {
		o = *opts
	}
	if o.Compression == nil {
		o.Compression = s.compression.Compression
	}
	c, resp, err := ws.Dial(ctx, s.url+"/?"+query.Encode(), &o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	ev := s.waitEvent(ctx, t, "OPEN", name)
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != ev.Header {
		t.Errorf("Sec-WebSocket-Extensions: the Go client got %q, %s says it sent %q", got, s.script, ev.Header)
	}
	if ev.Extensions != extensionNames(c.Extensions()) {
		t.Errorf("extensions: %s has %q, the Go client %q", s.script, ev.Extensions, c.Extensions())
	}
	if canonExtension(ev.Header) != canonExtension(c.Extensions()) {
		t.Errorf("extension parameters: %s answered %q, the Go client has %q", s.script, ev.Header, c.Extensions())
	}
	if t.Failed() {
		t.FailNow()
	}
	return c, ev
}

// extensionNames returns the names of the extensions of a
// Sec-WebSocket-Extensions value, comma-separated as ws.extensions of
// Node.js gives them.
func extensionNames(exts string) string {
	var names []string
	for _, e := range strings.Split(exts, ",") {
		if name, _, _ := strings.Cut(e, ";"); strings.TrimSpace(name) != "" {
			names = append(names, strings.TrimSpace(name))
		}
	}
	return strings.Join(names, ",")
}

// runPeerClient runs argv, a client of another implementation, with the
// extra environment env, and returns its stdout lines and the error of its
// exit. The lines follow client.js: EXTENSIONS, OK, FAIL, MESSAGE, CLOSE
// and DONE.
func runPeerClient(ctx context.Context, t *testing.T, argv, env []string) ([]string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr := newLineLog(), newLineLog()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	t.Logf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(argv[1:], " "), err, stdout, stderr)
	return stdout.Lines(), err
}

// peerClient runs a client of another implementation, client.js or
// client.py, against target in mode with the extra environment env, and
// returns its stdout lines and the error of its exit.
type peerClient func(ctx context.Context, t *testing.T, target, mode string, env ...string) ([]string, error)

// runNodeClient is the peerClient of client.js.
func runNodeClient(ctx context.Context, t *testing.T, target, mode string, env ...string) ([]string, error) {
	t.Helper()
	node := requireNode(t)
	return runPeerClient(ctx, t, []string{node, filepath.Join(nodeDir, "client.js"), target, mode}, append([]string{deflateEnv("")}, env...))
}

// runExchange runs client in mode, exchange or plan, against the echo
// handler of srv as the connection name, with the extra environment env.
// It checks that the client passed the checks want (see
// checkClientReport) and got back its close 4000 "done", and that the Go
// server's connection ended with that close. It returns the client's
// lines and the server's result.
func runExchange(ctx context.Context, t *testing.T, srv *goServer, client peerClient, name, mode string, want []string, env ...string) ([]string, serverResult) {
	t.Helper()
	lines, err := client(ctx, t, srv.url+"/echo?name="+url.QueryEscape(name), mode, env...)
	checkClientReport(t, lines, err, want)
	if code, _, err := parseCloseLine(lines); err != nil || code != 4000 {
		t.Errorf("the client got close code %d (%v), want the echo of 4000", code, err)
	}
	res := srv.result(ctx, t, name)
	var ce ws.CloseError
	if !errors.As(res.err, &ce) || ce != (ws.CloseError{Code: 4000, Reason: "done"}) {
		t.Errorf("the Go server's connection ended with %v, want a CloseError 4000 \"done\"", res.err)
	}
	return lines, res
}

// testClientAwaitsClose runs client, in its await-close mode, against the
// close handler of srv with several codes and reasons: the client must get
// the handler's message, then exactly that close, and the Go server's
// Close must succeed.
func testClientAwaitsClose(ctx context.Context, t *testing.T, srv *goServer, client peerClient) {
	cases := []struct {
		name   string
		code   ws.StatusCode
		reason string
	}{
		{"4003-reason", 4003, "server going away"},
		{"1000-empty", ws.StatusNormalClosure, ""},
		{"4999-utf8", 4999, "ünïcödé ✓ 🚀 & <html>"},
		{"3000-123-bytes", 3000, string(pattern(123, true))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"name": {"server-close-" + tc.name}, "code": {fmt.Sprint(int(tc.code))}, "reason": {tc.reason}}
			srv.awaitClose(ctx, t, client, "/close", q, fmt.Sprintf("closing: %d", tc.code), ws.CloseError{Code: tc.code, Reason: tc.reason})
		})
	}
}

// awaitClose runs client, in its await-close mode, against the handler
// path of s with the query q, which names the connection: the client must
// get the text message msg, then the close want, and the Go server's
// connection must end without an error. It returns the server's result.
func (s *goServer) awaitClose(ctx context.Context, t *testing.T, client peerClient, path string, q url.Values, msg string, want ws.CloseError) serverResult {
	t.Helper()
	lines, err := client(ctx, t, s.url+path+"?"+q.Encode(), "await-close")
	checkClientReport(t, lines, err, []string{"close"})
	if line := fmt.Sprintf("MESSAGE text %q", msg); !slices.Contains(lines, line) {
		t.Errorf("the client did not report %s", line)
	}
	if code, reason, err := parseCloseLine(lines); err != nil || code != int(want.Code) || reason != want.Reason {
		t.Errorf("the client got close %d %q (%v), want %d %q", code, reason, err, want.Code, want.Reason)
	}
	res := s.result(ctx, t, q.Get("name"))
	if res.err != nil {
		t.Errorf("the Go server's connection ended with %v", res.err)
	}
	return res
}

// checkClientReport checks the report of a client run that should have
// passed the checks want: each reported OK, no FAIL, the DONE summary, and
// an exit status of 0.
func checkClientReport(t *testing.T, lines []string, runErr error, want []string) {
	t.Helper()
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		t.Errorf("the client failed with %v", runErr)
	} else if runErr != nil {
		t.Fatalf("running the client: %v", runErr)
	}
	for _, check := range want {
		if !slices.Contains(lines, "OK "+check) {
			t.Errorf("the client did not pass %q", check)
		}
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL ") {
			t.Errorf("the client: %s", l)
		}
	}
	if done := fmt.Sprintf("DONE pass=%d fail=0", len(want)); !slices.Contains(lines, done) {
		t.Errorf("the client did not report %q", done)
	}
}

// lineValue returns the value of the first line "KEY value" of a client's
// output, and whether there was one.
func lineValue(lines []string, key string) (string, bool) {
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, key+" "); ok {
			return v, true
		}
	}
	return "", false
}

// quotedLine returns the JSON string of the first line "KEY "value"".
func quotedLine(lines []string, key string) (string, error) {
	v, ok := lineValue(lines, key)
	if !ok {
		return "", fmt.Errorf("no %s line", key)
	}
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return "", fmt.Errorf("bad %s line %q: %v", key, v, err)
	}
	return s, nil
}

// parseCloseLine finds the line `CLOSE <code> "<reason>"` of client.js.
func parseCloseLine(lines []string) (code int, reason string, err error) {
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, "CLOSE ")
		if !ok {
			continue
		}
		c, r, _ := strings.Cut(rest, " ")
		if code, err = strconv.Atoi(c); err != nil {
			return 0, "", fmt.Errorf("bad line %q: %v", l, err)
		}
		if err = json.Unmarshal([]byte(r), &reason); err != nil {
			return 0, "", fmt.Errorf("bad line %q: %v", l, err)
		}
		return code, reason, nil
	}
	return 0, "", errors.New("no CLOSE line")
}

// serverResult is how a connection of goServer ended.
type serverResult struct {
	name       string
	extensions string
	err        error    // the error that ended the echo, or Close's
	tap        *wireTap // the connection's traffic
}

// goServer is a server of the package under test, on 127.0.0.1, whose
// connections a wireTap sees. Its handlers take the connection name from
// the query parameter "name":
//
//	/echo   echoes every message with Reader and Writer until the
//	        connection ends, then reports the error that ended it
//	/close  sends the text "closing: CODE", closes with the query
//	        parameters code and reason, and reports Close's error
//	/ping   pings the client three times while reading, sends the text
//	        "pinged 3", closes with 1000 "pinged", and reports the first
//	        error
type goServer struct {
	url     string // ws://127.0.0.1:PORT
	ctx     context.Context
	opts    *ws.AcceptOptions
	results chan serverResult
	pending map[string]serverResult // results taken while waiting for another
}

// tapKey is the context key of a request's wireTap.
type tapKey struct{}

// startGoServer starts a goServer that accepts with opts, and whose
// connections live at most as long as ctx. It shuts down, handlers
// included, when the test ends.
func startGoServer(ctx context.Context, t *testing.T, opts *ws.AcceptOptions) *goServer {
	t.Helper()
	s := &goServer{ctx: ctx, opts: opts, results: make(chan serverResult, 16), pending: map[string]serverResult{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", s.handle(s.echo))
	mux.HandleFunc("/close", s.handle(s.close))
	mux.HandleFunc("/ping", s.handle(s.ping))
	s.url = "ws://" + serveTapped(t, mux)
	return s
}

// serveTapped serves h on a free port of 127.0.0.1, with a wireTap on
// every connection that handlers find with tapOf, and returns the address.
// The server shuts down, handlers included, when the test ends.
func serveTapped(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handlers sync.WaitGroup // hijacked connections outlive hs.Close
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers.Add(1)
			defer handlers.Done()
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, tapKey{}, c.(*tapConn).tap)
		},
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(tapListener{ln})
	}()
	t.Cleanup(func() {
		hs.Close()
		<-served
		handlers.Wait()
	})
	return ln.Addr().String()
}

// tapOf returns the wireTap of r's connection.
func tapOf(r *http.Request) *wireTap {
	tap, _ := r.Context().Value(tapKey{}).(*wireTap)
	return tap
}

// handle adapts a handler of an accepted connection to serveConn.
func (s *goServer) handle(f func(r *http.Request, c *ws.Conn) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serveConn(w, r, s.opts, s.results, r.URL.Query().Get("name"), func(c *ws.Conn) error { return f(r, c) })
	}
}

// serveConn accepts r's WebSocket with opts, runs f on it, closes it and
// reports how it ended to results, under name.
func serveConn(w http.ResponseWriter, r *http.Request, opts *ws.AcceptOptions, results chan<- serverResult, name string, f func(*ws.Conn) error) {
	c, err := ws.Accept(w, r, opts)
	if err != nil {
		results <- serverResult{name: name, err: err, tap: tapOf(r)}
		return
	}
	err = f(c)
	c.CloseNow()
	results <- serverResult{name: name, extensions: c.Extensions(), err: err, tap: tapOf(r)}
}

// echo echoes messages with echoMessages.
func (s *goServer) echo(_ *http.Request, c *ws.Conn) error { return echoMessages(s.ctx, c) }

// echoMessages echoes messages, streaming each with Reader and Writer,
// and returns the error that ended the connection.
func echoMessages(ctx context.Context, c *ws.Conn) error {
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}

// close sends one message, then closes with the requested code and reason.
func (s *goServer) close(r *http.Request, c *ws.Conn) error {
	q := r.URL.Query()
	code, err := strconv.Atoi(q.Get("code"))
	if err != nil {
		return err
	}
	if err := c.Write(s.ctx, ws.MessageText, []byte("closing: "+q.Get("code"))); err != nil {
		return err
	}
	return c.Close(ws.StatusCode(code), q.Get("reason"))
}

// ping pings the client three times, which needs a read running to take
// the pongs, then stops the read, sends "pinged 3" and closes normally.
func (s *goServer) ping(_ *http.Request, c *ws.Conn) error {
	const pings = 3
	rctx, stopRead := context.WithCancel(s.ctx)
	read := make(chan error, 1)
	go func() {
		_, _, err := c.Read(rctx)
		read <- err
	}()
	var err error
	for range pings {
		if err = c.Ping(s.ctx, nil); err != nil {
			break
		}
	}
	stopRead()
	if rerr := <-read; !errors.Is(rerr, context.Canceled) {
		return fmt.Errorf("the read during the pings returned %v", rerr)
	}
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := c.Write(s.ctx, ws.MessageText, []byte(fmt.Sprintf("pinged %d", pings))); err != nil {
		return err
	}
	return c.Close(ws.StatusNormalClosure, "pinged")
}

// result waits for the result of the connection name.
func (s *goServer) result(ctx context.Context, t *testing.T, name string) serverResult {
	t.Helper()
	for {
		if r, ok := s.pending[name]; ok {
			delete(s.pending, name)
			return r
		}
		select {
		case r := <-s.results:
			s.pending[r.name] = r
		case <-ctx.Done():
			t.Fatalf("no result from the Go server for %q: %v", name, ctx.Err())
		}
	}
}

// pattern returns n bytes that show a misplaced byte: ASCII letters and
// digits for text, every byte value for binary. It matches pattern() of
// client.js.
func pattern(n int, text bool) []byte {
	alphabet := []byte("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	if !text {
		alphabet = make([]byte, 251) // 251 is prime
		for i := range alphabet {
			alphabet[i] = byte(i)
		}
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i>>8)%len(alphabet)]
	}
	return b
}

// diff describes how got differs from want, or returns "" if it does not.
func diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}

// nodeReport returns what client.js reported of its handshake: the
// Sec-WebSocket-Extensions header of the server's response, and the
// permessage-deflate parameters in force as an extension element.
func nodeReport(t *testing.T, lines []string) (header, params string) {
	t.Helper()
	header, err := quotedLine(lines, "HEADER")
	if err != nil {
		t.Fatalf("client.js: %v", err)
	}
	p, _ := lineValue(lines, "PARAMS")
	var nodeParams map[string]any
	if err := json.Unmarshal([]byte(p), &nodeParams); err != nil {
		t.Fatalf("client.js: bad PARAMS %q: %v", p, err)
	}
	return header, paramsExtension(nodeParams)
}
