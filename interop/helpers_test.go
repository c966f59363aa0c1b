package interop

import (
	"bytes"
	"context"
	"encoding/binary"
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

// nodeEvent is one line "KIND {json}" that echo-server.js prints.
type nodeEvent struct {
	Kind       string `json:"-"`
	Name       string `json:"name"`
	Extensions string `json:"extensions"`
	Payload    string `json:"payload"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

// parseEvent parses an event line; ok is false for other lines.
func parseEvent(line string) (ev nodeEvent, ok bool) {
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

// nodeServer is a running echo-server.js.
type nodeServer struct {
	url    string // ws://127.0.0.1:PORT
	stdout *lineLog
	stderr *lineLog
	exited chan struct{} // closed once the process has exited
}

// startEchoServer starts echo-server.js on a free port of 127.0.0.1 with
// the extra environment env. The process is killed when the test ends.
func startEchoServer(t *testing.T, env ...string) *nodeServer {
	t.Helper()
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodeDir, "echo-server.js"), "0")
	cmd.Env = append(append(os.Environ(), deflateEnv("")), env...)
	s := &nodeServer{stdout: newLineLog(), stderr: newLineLog(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting echo-server.js: %v", err)
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
			t.Logf("echo-server.js (%v) stdout:\n%s\nstderr:\n%s", waitErr, s.stdout, s.stderr)
		}
	})
	line, err := s.stdout.wait(ctx, s.exited, func(l string) bool { return strings.HasPrefix(l, "PORT ") })
	if err != nil {
		t.Fatalf("echo-server.js did not report its port: %v\nstderr:\n%s", err, s.stderr)
	}
	port, err := strconv.Atoi(strings.TrimPrefix(line, "PORT "))
	if err != nil || port <= 0 {
		t.Fatalf("echo-server.js reported a bad port: %q", line)
	}
	s.url = "ws://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return s
}

// waitEvent waits for the server's event of kind on the connection name.
func (s *nodeServer) waitEvent(ctx context.Context, t *testing.T, kind, name string) nodeEvent {
	t.Helper()
	var ev nodeEvent
	_, err := s.stdout.wait(ctx, s.exited, func(l string) bool {
		e, ok := parseEvent(l)
		if ok && e.Kind == kind && e.Name == name {
			ev = e
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for the echo server's %s event of %q: %v", kind, name, err)
	}
	return ev
}

// events returns the server's events of kind so far, on any connection.
func (s *nodeServer) events(kind string) []nodeEvent {
	var evs []nodeEvent
	for _, l := range s.stdout.Lines() {
		if e, ok := parseEvent(l); ok && e.Kind == kind {
			evs = append(evs, e)
		}
	}
	return evs
}

// dial opens a connection named name to the server, checks that both
// sides agree on the extensions, and closes the connection at the end of
// the test if the test has not.
func (s *nodeServer) dial(ctx context.Context, t *testing.T, name string, opts *ws.DialOptions) *ws.Conn {
	t.Helper()
	c, resp, err := ws.Dial(ctx, s.url+"/?name="+url.QueryEscape(name), opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	if ev := s.waitEvent(ctx, t, "OPEN", name); ev.Extensions != c.Extensions() {
		t.Fatalf("extensions: node has %q, Go has %q", ev.Extensions, c.Extensions())
	}
	return c
}

// runNodeClient runs client.js against target in mode with the extra
// environment env, and returns its stdout lines and the error of its exit.
func runNodeClient(ctx context.Context, t *testing.T, target, mode string, env ...string) ([]string, error) {
	t.Helper()
	node := requireNode(t)
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodeDir, "client.js"), target, mode)
	cmd.Env = append(append(os.Environ(), deflateEnv("")), env...)
	stdout, stderr := newLineLog(), newLineLog()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	t.Logf("client.js %s %s: %v\nstdout:\n%s\nstderr:\n%s", target, mode, err, stdout, stderr)
	return stdout.Lines(), err
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
	err        error // the error that ended the echo, or Close's
}

// goServer is a server of the package under test, on 127.0.0.1. Its
// handlers take the connection name from the query parameter "name":
//
//	/echo   echoes every message with Reader and Writer until the
//	        connection ends, then reports the error that ended it
//	/close  sends the text "closing: CODE", closes with the query
//	        parameters code and reason, and reports Close's error
type goServer struct {
	url     string // ws://127.0.0.1:PORT
	ctx     context.Context
	results chan serverResult
	pending map[string]serverResult // results taken while waiting for another
	wg      sync.WaitGroup
}

// startGoServer starts a goServer whose connections live at most as long
// as ctx. It shuts down, handlers included, when the test ends.
func startGoServer(ctx context.Context, t *testing.T) *goServer {
	t.Helper()
	s := &goServer{ctx: ctx, results: make(chan serverResult, 16), pending: map[string]serverResult{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", s.handle(s.echo))
	mux.HandleFunc("/close", s.handle(s.close))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(ln)
	}()
	t.Cleanup(func() {
		hs.Close()
		<-served
		s.wg.Wait() // hijacked connections outlive hs.Close
	})
	s.url = "ws://" + ln.Addr().String()
	return s
}

// handle adapts a handler of an accepted connection: it accepts, runs f,
// closes the connection and reports the result.
func (s *goServer) handle(f func(r *http.Request, c *ws.Conn) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.wg.Add(1)
		defer s.wg.Done()
		name := r.URL.Query().Get("name")
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			s.results <- serverResult{name: name, err: err}
			return
		}
		err = f(r, c)
		c.CloseNow()
		s.results <- serverResult{name: name, extensions: c.Extensions(), err: err}
	}
}

// echo echoes messages, streaming each with Reader and Writer, and returns
// the error that ended the connection.
func (s *goServer) echo(_ *http.Request, c *ws.Conn) error {
	for {
		typ, r, err := c.Reader(s.ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(s.ctx, typ)
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

// frameHeader is the header of a frame seen on the wire.
type frameHeader struct {
	fin    bool
	opcode byte
	length int64
}

// String returns the header as, say, "binary(16370)" or "cont(20480,fin)".
func (h frameHeader) String() string {
	name := map[byte]string{0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}[h.opcode]
	if h.fin {
		return fmt.Sprintf("%s(%d,fin)", name, h.length)
	}
	return fmt.Sprintf("%s(%d)", name, h.length)
}

// frameSniffer records the headers of the frames a client writes. Its dial
// is a DialOptions.NetDial; it parses what the connection writes once
// start is called, after the opening handshake.
type frameSniffer struct {
	mu     sync.Mutex
	on     bool
	hdr    []byte // the header being read
	skip   int64  // payload bytes left of the current frame
	frames []frameHeader
}

// dial opens a TCP connection whose writes the sniffer sees.
func (f *frameSniffer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: nc, f: f}, nil
}

// start begins parsing frames; call it once the handshake is done.
func (f *frameSniffer) start() {
	f.mu.Lock()
	f.on = true
	f.mu.Unlock()
}

// take returns the frames seen so far and forgets them.
func (f *frameSniffer) take() []frameHeader {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := f.frames
	f.frames = nil
	return fr
}

// observe parses bytes written to the connection.
func (f *frameSniffer) observe(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on {
		return
	}
	for len(p) > 0 {
		if f.skip > 0 {
			n := min(int64(len(p)), f.skip)
			p = p[n:]
			f.skip -= n
			continue
		}
		f.hdr = append(f.hdr, p[0])
		p = p[1:]
		if len(f.hdr) < 2 || len(f.hdr) < headerSize(f.hdr) {
			continue
		}
		h := frameHeader{fin: f.hdr[0]&0x80 != 0, opcode: f.hdr[0] & 0x0f, length: int64(f.hdr[1] & 0x7f)}
		switch h.length {
		case 126:
			h.length = int64(binary.BigEndian.Uint16(f.hdr[2:]))
		case 127:
			h.length = int64(binary.BigEndian.Uint64(f.hdr[2:]))
		}
		f.frames = append(f.frames, h)
		f.skip = h.length
		f.hdr = f.hdr[:0]
	}
}

// headerSize returns the size of the frame header that starts with h,
// which holds at least two bytes.
func headerSize(h []byte) int {
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4 // masking key
	}
	return n
}

// sniffConn is a net.Conn whose writes a frameSniffer sees.
type sniffConn struct {
	net.Conn
	f *frameSniffer
}

// Write writes p and shows what went out to the sniffer.
func (c *sniffConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.f.observe(p[:n])
	return n, err
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
