//go:build !js

package conformance

// The suite over HTTP/2 (RFC 8441): each case runs on a stream of an
// HTTP/2 connection, which carries the frames of RFC 6455 as a TCP
// connection does. The library's server takes the raw client's extended
// CONNECT with ws.Accept, and the library's client opens one with ws.Dial
// through a RoundTripper the caller gives; the caller also gives the
// servers, and the raw client's way to open a stream, since both need
// golang.org/x/net/http2, which this module does not depend on. The h2
// module's TestConformanceHTTP2 calls RunHTTP2.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// HTTP2Env is what RunHTTP2 needs to run the suite over HTTP/2.
type HTTP2Env struct {
	// Serve starts h on a server on loopback that speaks HTTP/2 over TLS
	// and takes extended CONNECT (RFC 8441), stopped when t ends, and
	// returns its URL, https://host:port. RunHTTP2 starts its two servers
	// before it connects or dials.
	Serve func(t testing.TB, h http.Handler) string

	// Connect is the raw client's: it sends an extended CONNECT request
	// to url (https://host:port/path) with header, which holds the
	// pseudo-header :protocol, and returns the response and the writer of
	// the stream's other direction, whose Close ends it (END_STREAM) and
	// makes a Write in progress return. The stream lives until ctx ends,
	// which resets it. It should not go through the library's code.
	Connect func(ctx context.Context, url string, header http.Header) (*http.Response, io.WriteCloser, error)

	// Transport is the library client's ws.DialOptions.HTTP2, for wss://
	// URLs of Serve's servers.
	Transport http.RoundTripper
}

// RunHTTP2 runs the suite's cases that apply to a WebSocket over HTTP/2
// (confHTTP2Cases) against the library's server and client, each on a
// stream of one HTTP/2 connection per side, in subtests named as those of
// TestConformance, and logs their number.
func RunHTTP2(t *testing.T, env HTTP2Env) {
	if env.Serve == nil || env.Connect == nil || env.Transport == nil {
		t.Fatal("conformance.RunHTTP2: the HTTP2Env lacks Serve, Connect or Transport")
	}
	cases := confHTTP2Cases(t)
	h := &confH2{env: env}
	h.libURL = env.Serve(t, &h.lib)
	h.rawURL = "wss" + strings.TrimPrefix(env.Serve(t, &h.raw), "https")
	confRunAll(t, cases, []confSide{
		{"server", confServerSide, h.runServer},
		{"client", confClientSide, h.runClient},
	})
	t.Log(confCounts(cases, " over HTTP/2"))
}

// CountsHTTP2 returns the number of cases per category and side that
// RunHTTP2 runs.
func CountsHTTP2(t *testing.T) string {
	return confCounts(confHTTP2Cases(t), " over HTTP/2")
}

// confHTTP2Cases returns the cases that apply over HTTP/2: all but the
// opening handshake's (category H), which are about HTTP/1.1's upgrade.
// The negotiation of permessage-deflate (category 13) applies, with the
// offers in headers of the CONNECT request and the answer in headers of
// its 200 response (RFC 8441 5).
//
// Left out too are the messages of 4 and 16 MiB in fragments of 64 B,
// 4 KiB and 64 KiB (9.3.6 to 9.3.11, 9.4.6 to 9.4.11, http1Only): under
// the race detector they take three fifths of the run's time over
// HTTP/2, and check the library's reassembly of fragments, which the
// transport does not touch and which the same cases over HTTP/1.1 and
// those of 1 MiB over HTTP/2 check. The whole messages of 4 and 16 MiB
// stay: they cross many flow-control windows each way.
func confHTTP2Cases(t *testing.T) []*confCase {
	var out []*confCase
	for _, c := range confCases(t) {
		if c.cat == "H" || c.http1Only {
			continue
		}
		if c.reqHeaders != nil || c.checkResp != nil || c.rawResp != nil {
			t.Fatalf("case %q checks HTTP/1.1's handshake, but is not in category H", c.title())
		}
		out = append(out, c)
	}
	return out
}

// confH2 runs cases over HTTP/2: lib routes to the library's server of
// each case, raw to the raw server of each.
type confH2 struct {
	env    HTTP2Env
	libURL string // https://
	rawURL string // wss://
	lib    confRoutes
	raw    confRoutes
}

// runServer runs a case against the library's server: the raw client
// opens a stream with an extended CONNECT and runs the script on it.
func (h *confH2) runServer(t *testing.T, c *confCase, mode string) {
	libErr := make(chan error, 1)
	path := h.lib.add(t, confLibServer(c, mode, libErr))
	waitLib := confWaitLib(t, libErr)
	header := http.Header{}
	header.Set(":protocol", "websocket")
	header.Set("Sec-WebSocket-Version", "13")
	confAddLines(header, confReqHeaders(c))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(30*time.Second, cancel) // the response's wait
	resp, w, err := h.env.Connect(ctx, h.libURL+path, header)
	timer.Stop()
	if err != nil {
		cancel()
		t.Fatalf("the raw client's extended CONNECT: %v (library: %v)", err, waitLib())
	}
	nc := &confStream{r: resp.Body, w: w, kill: func() {
		cancel()
		w.Close()
	}}
	end := func() {
		nc.stop()
		w.Close()
		resp.Body.Close()
		cancel()
	}
	defer end()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	confOnServer(t, c, resp, confCheck2xx(resp), nc, bufio.NewReaderSize(nc, 64<<10), end, waitLib)
}

// confCheck2xx checks a server's answer to an extended CONNECT request.
func confCheck2xx(resp *http.Response) error {
	switch {
	case resp.ProtoMajor != 2:
		return fmt.Errorf("response over %s, want HTTP/2", resp.Proto)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("handshake status %s, want 2xx (RFC 8441 5)", resp.Status)
	}
	return nil
}

// runClient runs a case against the library's client: its Dial opens a
// stream to the raw server, which runs the script on it.
func (h *confH2) runClient(t *testing.T, c *confCase, mode string) {
	srvDone := make(chan confRawResult, 1)
	path := h.raw.add(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srvDone <- confServeRawHTTP2(w, r, c)
	}))
	// A response the client must refuse is a 200 over HTTP/2, not a 101.
	status := c.failStatus
	if status == http.StatusSwitchingProtocols {
		status = http.StatusOK
	}
	confOnClient(t, c, mode, h.rawURL+path, h.env.Transport, status, srvDone)
}

// confServeRawHTTP2 is the raw server of a client case over HTTP/2: it
// checks the client's extended CONNECT (RFC 8441 4, 5), answers 200 with
// the case's response lines, and runs the case's script on the stream.
func confServeRawHTTP2(w http.ResponseWriter, r *http.Request, c *confCase) (res confRawResult) {
	if res.err = confCheckRequestHTTP2(r); res.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	confAddLines(w.Header(), c.respLines)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		res.err = fmt.Errorf("sending the response: %w", err)
		return
	}
	if c.dialFail {
		return // the client must give up on this response
	}
	res.s, res.err = confRawScript(c, r.Header.Values("Sec-WebSocket-Extensions"))
	if res.err != nil {
		return
	}
	// net/http ends a stream at once when its deadlines are set in the
	// past: the read deadline closes the request's body, the write
	// deadline resets the stream.
	past := time.Unix(1, 0)
	nc := &confStream{r: r.Body, w: w, flush: rc.Flush, kill: func() {
		rc.SetReadDeadline(past)
		rc.SetWriteDeadline(past)
	}}
	defer nc.stop()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	res.err = confExec(nc, bufio.NewReaderSize(nc, 64<<10), res.s)
	return
}

// confAddLines adds header lines of the tables, "Name: value", to h.
func confAddLines(h http.Header, lines []string) {
	for _, l := range lines {
		name, v, _ := strings.Cut(l, ":")
		h.Add(strings.TrimSpace(name), strings.TrimSpace(v))
	}
}

// confCheckRequestHTTP2 checks a client's extended CONNECT request
// against RFC 8441 sections 4 and 5.
func confCheckRequestHTTP2(r *http.Request) error {
	switch {
	case r.ProtoMajor != 2:
		return fmt.Errorf("handshake over %s, want HTTP/2", r.Proto)
	case r.Method != http.MethodConnect:
		return fmt.Errorf("handshake method %s, want CONNECT (RFC 8441 4, 5)", r.Method)
	case r.Header.Get(":protocol") != "websocket":
		return fmt.Errorf(":protocol %q, want websocket (RFC 8441 4, 5)", r.Header.Get(":protocol"))
	case r.URL.Path == "":
		return fmt.Errorf("extended CONNECT without :path (RFC 8441 4)")
	case r.Host == "":
		return fmt.Errorf("extended CONNECT without :authority (RFC 8441 4)")
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return fmt.Errorf("Sec-WebSocket-Version %q, want 13 (RFC 8441 5, RFC 6455 4.1)", r.Header.Get("Sec-WebSocket-Version"))
	}
	return nil
}

// confRoutes is the handler of a server shared by the cases: each case
// adds its handler under a path of its own for the length of its test.
type confRoutes struct {
	mu   sync.Mutex
	next int
	m    map[string]http.Handler
}

// add routes a path to h until t ends, and returns the path.
func (rt *confRoutes) add(t *testing.T, h http.Handler) string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.next++
	path := fmt.Sprintf("/conformance/%d", rt.next)
	if rt.m == nil {
		rt.m = map[string]http.Handler{}
	}
	rt.m[path] = h
	t.Cleanup(func() {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		delete(rt.m, path)
	})
	return path
}

func (rt *confRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.mu.Lock()
	h := rt.m[r.URL.Path]
	rt.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// errConfStreamEnded is how confStream reports a stream that the peer
// ended with RST_STREAM, or whose connection ended: over HTTP/2 that is
// the end of the connection, as a TCP connection's closing is over
// HTTP/1.1. A stream ended with END_STREAM reads io.EOF.
var errConfStreamEnded = errors.New("the HTTP/2 stream ended")

// confStream is the raw peer's end of an HTTP/2 stream, as confExec uses
// a TCP connection: reads come from what the library sends, writes go to
// what it reads, each flushed.
//
// A stream has no deadlines that it survives, and the raw peer needs
// none: its deadlines pass only when a case fails, or when it is over. A
// deadline of a confStream that passes ends the stream at once (kill),
// and makes every read and write fail with os.ErrDeadlineExceeded from
// then on.
type confStream struct {
	r     io.Reader
	w     io.Writer
	flush func() error // after each write; may be nil
	kill  func()       // resets the stream, so that reads and writes return

	mu      sync.Mutex
	timers  [2]*time.Timer // of the read and the write deadline
	gens    [2]uint64
	killed  bool
	stopped bool
}

func (s *confStream) Read(p []byte) (int, error) {
	if s.dead() {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := s.r.Read(p)
	switch {
	case err == nil, err == io.EOF:
	case s.dead():
		err = os.ErrDeadlineExceeded
	default:
		err = fmt.Errorf("%w: %w", errConfStreamEnded, err)
	}
	return n, err
}

func (s *confStream) Write(p []byte) (int, error) {
	if s.dead() {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := s.w.Write(p)
	if err == nil && s.flush != nil {
		err = s.flush()
	}
	if err != nil && s.dead() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

func (s *confStream) SetDeadline(t time.Time) error {
	s.set(0, t)
	s.set(1, t)
	return nil
}

func (s *confStream) SetReadDeadline(t time.Time) error {
	s.set(0, t)
	return nil
}

func (s *confStream) SetWriteDeadline(t time.Time) error {
	s.set(1, t)
	return nil
}

// set sets the read (i 0) or write (1) deadline; the zero time clears it.
func (s *confStream) set(i int, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gens[i]++
	if s.timers[i] != nil {
		s.timers[i].Stop()
		s.timers[i] = nil
	}
	if t.IsZero() || s.killed || s.stopped {
		return
	}
	d := time.Until(t)
	if d <= 0 {
		s.expire()
		return
	}
	gen := s.gens[i]
	s.timers[i] = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.gens[i] == gen && !s.stopped {
			s.expire()
		}
	})
}

// expire ends the stream, once (under mu).
func (s *confStream) expire() {
	if !s.killed {
		s.killed = true
		s.kill()
	}
}

func (s *confStream) dead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed
}

// stop stops the deadlines: no kill comes after it.
func (s *confStream) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for i, tm := range s.timers {
		if tm != nil {
			tm.Stop()
			s.timers[i] = nil
		}
	}
}
