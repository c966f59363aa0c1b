//go:build linux

package interop

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// The test of WebSockets over HTTP/2 (RFC 8441) in a browser: headless
// Chromium loads chromium/h2.html over HTTPS and HTTP/2 from a server of
// the package, and the page's wss:// WebSockets to the same origin go as
// extended CONNECT requests on streams of that connection. Chromium sends
// them only on an HTTP/2 connection it already has, whose server
// announced SETTINGS_ENABLE_CONNECT_PROTOCOL; Go's server announces it
// only in a process started with GODEBUG=http2xconnect=1 (see TestMain).

// h2Message is a message of the pattern (helpers_test.go) of a type and
// size. It is also how the page describes a message it received, with
// the SHA-256 of its bytes in hex.
type h2Message struct {
	Text   bool   `json:"text"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

func (m h2Message) String() string {
	if m.Text {
		return fmt.Sprintf("text-%d", m.Size)
	}
	return fmt.Sprintf("binary-%d", m.Size)
}

// described returns m as the page describes it once received.
func (m h2Message) described() h2Message {
	return describeMessage(m.Text, pattern(m.Size, m.Text))
}

// describeMessage describes a message of data as the page does.
func describeMessage(text bool, data []byte) h2Message {
	sum := sha256.Sum256(data)
	return h2Message{Text: text, Size: len(data), SHA256: hex.EncodeToString(sum[:])}
}

// h2Messages are the messages of the echo cases: both types, empty, of
// 64 KiB and of 16 MiB.
var h2Messages = []h2Message{
	{Text: true}, {}, {Text: true, Size: 64 << 10}, {Size: 64 << 10}, {Text: true, Size: 16 << 20}, {Size: 16 << 20},
}

// The closes of the cases: the page's, which the server's read returns,
// and the server's, which the page's close event shows.
var (
	h2PageClose   = ws.CloseError{Code: 4001, Reason: "bye from the page"}
	h2ServerClose = ws.CloseError{Code: 4002, Reason: "bye from the server"}
)

// h2Closing is the message the server sends before it closes.
const h2Closing = "closing"

// h2Case is a case of TestChromiumHTTP2: its endpoint, what the server
// does there, and the spec of h2.html's startCase.
type h2Case struct {
	name   string // the endpoint is /name
	opts   ws.Options
	wantPD bool // permessage-deflate is agreed on
	// serverCloses: the server sends h2Closing and closes with
	// h2ServerClose; otherwise the page sends h2Messages, which the
	// server checks and echoes, and closes with h2PageClose.
	serverCloses bool
}

// spec returns the spec of startCase in h2.html for the case.
func (tc h2Case) spec() map[string]any {
	if tc.serverCloses {
		return map[string]any{"path": "/" + tc.name, "send": []h2Message{}, "close": nil}
	}
	return map[string]any{"path": "/" + tc.name, "send": h2Messages,
		"close": map[string]any{"code": h2PageClose.Code, "reason": h2PageClose.Reason}}
}

// received returns the messages the page must receive, as it describes
// them.
func (tc h2Case) received() []h2Message {
	if tc.serverCloses {
		return []h2Message{describeMessage(true, []byte(h2Closing))}
	}
	var msgs []h2Message
	for _, m := range h2Messages {
		msgs = append(msgs, m.described())
	}
	return msgs
}

// serve is what the server does with the case's connection.
func (tc h2Case) serve(ctx context.Context, c *ws.Conn) error {
	if !tc.serverCloses {
		return echoChecked(ctx, c, h2Messages)
	}
	if err := c.Write(ctx, ws.MessageText, []byte(h2Closing)); err != nil {
		return err
	}
	return c.Close(h2ServerClose.Code, h2ServerClose.Reason)
}

// h2Report is the page's report of a case.
type h2Report struct {
	Extensions string      `json:"extensions"`
	Messages   []h2Message `json:"messages"`
	Close      *struct {
		Code     int    `json:"code"`
		Reason   string `json:"reason"`
		WasClean bool   `json:"wasClean"`
	} `json:"close"`
	Error string `json:"error"`
}

// TestChromiumHTTP2 runs chromium/h2.html in headless Chromium, served
// over HTTP/2 by a server of the package, with the cases:
//
//	echo          the page sends h2Messages, each once the echo of the
//	              one before has come; the server checks each and echoes
//	              it; then the page closes with h2PageClose, which the
//	              server's read returns
//	server-close  the server sends h2Closing and closes with
//	              h2ServerClose, which the page's close event shows
//
// each against an endpoint without and one with permessage-deflate. The
// test checks every message the page received against what the server
// sent. The server refuses a WebSocket that did not come as an extended
// CONNECT over HTTP/2, and the test fails then.
func TestChromiumHTTP2(t *testing.T) {
	requireChromium(t)
	if !strings.Contains(os.Getenv("GODEBUG"), xconnectSetting) {
		t.Fatalf("GODEBUG=%q lacks %s: TestMain should have run the tests with it", os.Getenv("GODEBUG"), xconnectSetting)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*testTimeout)
	defer cancel()

	deflate := ws.Options{Compression: &ws.CompressionOptions{}}
	cases := []h2Case{
		{name: "echo"},
		{name: "echo-deflate", opts: deflate, wantPD: true},
		{name: "server-close", serverCloses: true},
		{name: "server-close-deflate", opts: deflate, wantPD: true, serverCloses: true},
	}
	o := startH2Origin(t)
	for _, tc := range cases {
		o.handle("/"+tc.name, &ws.AcceptOptions{Options: tc.opts}, func(c *ws.Conn) error { return tc.serve(ctx, c) })
	}

	start := time.Now()
	browser, endpoint := startChromiumCDP(ctx, t)
	cdp := dialCDP(ctx, t, endpoint)
	// The server has httptest's certificate, which Chromium does not
	// trust.
	if _, err := cdp.call(ctx, "", "Security.setIgnoreCertificateErrors", map[string]any{"ignore": true}); err != nil {
		t.Fatal(err)
	}
	page, err := cdp.openPage(ctx, "h2", o.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := poll(ctx, page, `document.readyState === "complete" && typeof startCase === "function"`,
		func(ready bool) bool { return ready }); err != nil {
		t.Fatal(err)
	}
	var proto string
	if err := page.eval(ctx, "pageProtocol()", &proto); err != nil {
		t.Fatal(err)
	}
	t.Logf("Chromium started and loaded the page over %q in %v", proto, time.Since(start).Round(time.Millisecond))
	if proto != "h2" {
		t.Errorf("the page came over %q, want h2", proto)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			rep := runH2Case(ctx, t, page, tc.name, tc.spec())
			res := o.results.result(ctx, t, "/"+tc.name)
			if errors.Is(res.err, errNotExtendedConnect) {
				t.Fatal(res.err)
			}
			t.Logf("done in %v; extensions %q; Chromium's close event %+v; the server's end: %v",
				time.Since(start).Round(time.Millisecond), rep.Extensions, rep.Close, res.err)
			if rep.Error != "" {
				t.Errorf("the page failed: %s", rep.Error)
			}
			wantMsgs := tc.received()
			if len(rep.Messages) != len(wantMsgs) {
				t.Errorf("the page received %d messages, want %d", len(rep.Messages), len(wantMsgs))
			}
			for i, m := range rep.Messages[:min(len(rep.Messages), len(wantMsgs))] {
				if m != wantMsgs[i] {
					t.Errorf("message %d that the page received: %+v, want %+v", i, m, wantMsgs[i])
				}
			}
			if rep.Extensions != res.extensions {
				t.Errorf("extensions: Chromium has %q, the Go server %q", rep.Extensions, res.extensions)
			}
			if pd := extensionNames(res.extensions) == "permessage-deflate"; pd != tc.wantPD {
				t.Errorf("the Go server agreed on %q, want permessage-deflate %v", res.extensions, tc.wantPD)
			}

			if tc.serverCloses {
				c, want := rep.Close, h2ServerClose
				if c == nil || c.Code != int(want.Code) || c.Reason != want.Reason || !c.WasClean {
					t.Errorf("Chromium's close event: %+v, want a clean %d %q", c, want.Code, want.Reason)
				}
				if res.err != nil {
					t.Errorf("the server's Close: %v", res.err)
				}
				return
			}
			c, want := rep.Close, h2PageClose
			var ce ws.CloseError
			if !errors.As(res.err, &ce) || ce != want {
				t.Errorf("the server's read ended with %v, want a CloseError %d %q", res.err, want.Code, want.Reason)
			}
			if c == nil || c.Code != int(want.Code) || !c.WasClean {
				t.Errorf("Chromium's close event: %+v, want a clean %d", c, want.Code)
			}
		})
	}

	if err := cdp.closeBrowser(ctx, browser); err != nil {
		t.Error(err)
	}
	// Chromium opens a WebSocket over HTTP/2 only as a stream of a
	// connection it has: the page's.
	t.Logf("%d TCP connections accepted; the remote address of each path: %v", o.conns(), o.addrs())
}

// runH2Case starts the case id of h2.html with spec and waits for its
// report.
func runH2Case(ctx context.Context, t *testing.T, page *cdpPage, id string, spec map[string]any) *h2Report {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := page.eval(ctx, fmt.Sprintf("startCase(%q, %s)", id, b), nil); err != nil {
		t.Fatal(err)
	}
	var rep *h2Report
	if _, err := poll(ctx, page, fmt.Sprintf("reports[%q] ?? null", id), func(r *h2Report) bool {
		rep = r
		return r != nil
	}); err != nil {
		t.Fatal(err)
	}
	return rep
}

// echoChecked reads msgs in turn, checks each against its pattern and
// echoes it, then reads on, and returns the error that ended the
// connection: the page's close frame, as a ws.CloseError.
func echoChecked(ctx context.Context, c *ws.Conn, msgs []h2Message) error {
	for _, m := range msgs {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("reading %v: %w", m, err)
		}
		if got := describeMessage(typ == ws.MessageText, data); got != m.described() {
			return fmt.Errorf("got %v, want %v: %s", got, m, diff(data, pattern(m.Size, m.Text)))
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return fmt.Errorf("echoing %v: %w", m, err)
		}
	}
	_, _, err := c.Read(ctx)
	return err
}

// errNotExtendedConnect is the error of a WebSocket that did not come as
// an extended CONNECT over HTTP/2.
var errNotExtendedConnect = errors.New("not an extended CONNECT over HTTP/2")

// h2Origin is an HTTPS server on 127.0.0.1 that speaks HTTP/2, and
// HTTP/1.1 to a client that offers only that, so that a WebSocket that
// comes over HTTP/1.1 reaches its handler, which refuses it. It serves
// chromium/h2.html at /, the messages the page sends at /pattern, and
// the WebSocket endpoints that handle adds.
type h2Origin struct {
	*httptest.Server
	mux     *http.ServeMux
	results *goServer // only its results, named by path

	mu      sync.Mutex
	nconns  int               // TCP connections accepted
	remotes map[string]string // path → the remote address of its request
}

// startH2Origin starts an h2Origin, which shuts down, handlers included,
// when the test ends.
func startH2Origin(t *testing.T) *h2Origin {
	t.Helper()
	o := &h2Origin{
		mux:     http.NewServeMux(),
		results: &goServer{results: make(chan serverResult, 16), pending: map[string]serverResult{}},
		remotes: map[string]string{},
	}
	o.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		o.note(r)
		http.ServeFile(w, r, filepath.Join("chromium", "h2.html"))
	})
	o.mux.HandleFunc("GET /pattern", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("size"))
		if err != nil || n < 0 || n > 16<<20 {
			http.Error(w, "want a size of up to 16 MiB", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pattern(n, r.URL.Query().Get("text") == "1"))
	})
	o.Server = httptest.NewUnstartedServer(o.mux)
	o.EnableHTTP2 = true
	o.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	o.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			o.mu.Lock()
			o.nconns++
			o.mu.Unlock()
		}
	}
	// What the server logs, TLS handshakes that Chromium gave up on
	// included, shows when the test fails.
	errs := newLineLog()
	o.Config.ErrorLog = log.New(errs, "", log.LstdFlags)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", errs)
		}
	})
	o.StartTLS()
	t.Cleanup(o.Close)
	return o
}

// handle serves f on path for WebSockets over HTTP/2: it accepts with
// opts, runs f, closes, and reports how the connection ended (serveConn).
// A request that is not an extended CONNECT over HTTP/2 is refused and
// reported with errNotExtendedConnect.
func (o *h2Origin) handle(path string, opts *ws.AcceptOptions, f func(*ws.Conn) error) {
	o.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		o.note(r)
		if r.ProtoMajor != 2 || r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
			o.results.results <- serverResult{name: path, err: fmt.Errorf("%w: %s %s over %s, :protocol %q, Upgrade %q",
				errNotExtendedConnect, r.Method, r.URL, r.Proto, r.Header.Get(":protocol"), r.Header.Get("Upgrade"))}
			http.Error(w, "WebSockets over HTTP/2 only", http.StatusBadRequest)
			return
		}
		serveConn(w, r, opts, o.results.results, path, f)
	})
}

// note keeps the remote address of r, under its path.
func (o *h2Origin) note(r *http.Request) {
	o.mu.Lock()
	o.remotes[r.URL.Path] = r.RemoteAddr
	o.mu.Unlock()
}

// addrs returns the remote address of each path's last request.
func (o *h2Origin) addrs() map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.remotes)
}

// conns returns how many TCP connections the server accepted.
func (o *h2Origin) conns() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nconns
}
