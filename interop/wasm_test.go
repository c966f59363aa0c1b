package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// wasmHost is the Go server of the package's tests under js/wasm
// (host_js_test.go, host_js_deflate_test.go): the endpoints they dial, on
// loopback, with a wireTap on every connection.
type wasmHost struct {
	url     string            // ws://127.0.0.1:PORT, for WS_TEST_SERVER
	deflate chan serverResult // how each connection to /deflate ended
}

// wasmServer starts a wasmHost, which shuts down when the test ends.
func wasmServer(t testing.TB) *wasmHost {
	var mu sync.Mutex
	lastClose := "none"
	accept := func(w http.ResponseWriter, r *http.Request, opts *ws.AcceptOptions) *ws.Conn {
		if opts == nil {
			opts = &ws.AcceptOptions{}
		}
		opts.InsecureSkipOriginCheck = true // the page of a test runner
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			t.Logf("accept %s: %v", r.URL, err)
			return nil
		}
		return c
	}
	h := &wasmHost{deflate: make(chan serverResult, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if c := accept(w, r, nil); c != nil {
			echoMessages(context.Background(), c)
			c.CloseNow()
		}
	})
	// /deflate agrees to permessage-deflate if the client offers it, sends
	// the extensions it agreed on as its first message, then echoes.
	deflateOpts := &ws.AcceptOptions{InsecureSkipOriginCheck: true, Options: ws.Options{Compression: &ws.CompressionOptions{}}}
	mux.HandleFunc("/deflate", func(w http.ResponseWriter, r *http.Request) {
		if len(h.deflate) == cap(h.deflate) {
			http.Error(w, "too many connections to /deflate", http.StatusServiceUnavailable)
			return
		}
		t.Logf("/deflate: %s offers %q", r.UserAgent(), r.Header.Get("Sec-WebSocket-Extensions"))
		serveConn(w, r, deflateOpts, h.deflate, "/deflate", func(c *ws.Conn) error {
			ctx := context.Background()
			if err := c.Write(ctx, ws.MessageText, []byte(c.Extensions())); err != nil {
				return err
			}
			return echoMessages(ctx, c)
		})
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		c.Close(ws.StatusCode(code), r.URL.Query().Get("reason"))
	})
	mux.HandleFunc("/report-close", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		_, _, err := c.Read(context.Background())
		var ce ws.CloseError
		mu.Lock()
		if errors.As(err, &ce) {
			lastClose = fmt.Sprintf("%d %q", int(ce.Code), ce.Reason)
		} else {
			lastClose = err.Error()
		}
		mu.Unlock()
	})
	mux.HandleFunc("/last-close", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		mu.Lock()
		s := lastClose
		mu.Unlock()
		c.Write(context.Background(), ws.MessageText, []byte(s))
		c.Read(context.Background())
	})
	mux.HandleFunc("/fragmented", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, &ws.AcceptOptions{Subprotocols: []string{"a"}})
		if c == nil {
			return
		}
		ctx := context.Background()
		wr, err := c.Writer(ctx, ws.MessageText)
		if err != nil {
			return
		}
		p := make([]byte, 60000)
		for i := range p {
			p[i] = 'a' + byte(i%26)
		}
		// Pieces larger than the writer's buffer go out as frames of their own.
		for i := 0; i < len(p); i += 20000 {
			wr.Write(p[i : i+20000])
		}
		wr.Close()
		c.Read(ctx)
	})
	mux.HandleFunc("/lines", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		nc := ws.NetConn(context.Background(), c, ws.MessageText)
		defer nc.Close()
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			fmt.Fprintf(nc, "%s\n", strings.ToUpper(sc.Text()))
		}
	})
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	mux.HandleFunc("/flood", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		p := make([]byte, 16<<10)
		for range 64 {
			if c.Write(ctx, ws.MessageBinary, p) != nil {
				return
			}
		}
		c.Read(ctx)
	})
	h.url = "ws://" + serveTapped(t, mux)
	return h
}

// wasmRun selects the tests that TestWasmNode and TestWasmChromium run:
// the environment variable WASM_RUN, or every TestHost test.
func wasmRun() string {
	if r := os.Getenv("WASM_RUN"); r != "" {
		return r
	}
	return "^TestHost"
}

// goRoot is the GOROOT of the go command, whose lib/wasm holds
// go_js_wasm_exec and wasm_exec.js.
var goRoot = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	return strings.TrimSpace(string(out)), err
})

// wasmBuildDir holds the test binary that wasmTestBinary builds; TestMain
// removes it.
var wasmBuildDir string

// wasmTestBinary builds the package's test binary for GOOS=js GOARCH=wasm
// once for every test that runs it, and returns its path.
var wasmTestBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ws-wasm-")
	if err != nil {
		return "", err
	}
	wasmBuildDir = dir
	bin := filepath.Join(dir, "ws.test.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the test binary for js/wasm: %v\n%s", err, out)
	}
	return bin, nil
})

// needWasmTestBinary returns wasmTestBinary's path, or fails the test.
func needWasmTestBinary(t testing.TB) string {
	t.Helper()
	start := time.Now()
	bin, err := wasmTestBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the test binary for js/wasm: %s (%v)", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// wasmEnv is the environment of the package's tests under js/wasm on
// host (node or chromium), against the server h.
func wasmEnv(h *wasmHost, host string) []string {
	return []string{"WS_TEST_SERVER=" + h.url, "WS_TEST_HOST=" + host}
}

// checkWasmOutput fails the test unless the output of the package's tests
// under js/wasm shows at least 8 TestHost tests passed and none skipped or
// failed.
func checkWasmOutput(t *testing.T, out []byte) {
	t.Helper()
	passed := regexp.MustCompile(`(?m)^--- PASS: TestHost\w+`).FindAll(out, -1)
	if len(passed) < 8 || regexp.MustCompile(`(?m)^--- (SKIP|FAIL)`).Match(out) {
		t.Fatalf("%d tests passed under js/wasm, want 8 and no skip or failure", len(passed))
	}
	t.Logf("%d tests passed under js/wasm", len(passed))
}

// checkWasmDeflate checks, from the server's side, the connection that
// TestHostDeflate made to /deflate: permessage-deflate agreed on, and
// among the data messages on the wire, those from the Go server of 1 KiB
// and more compressed (some are shorter), and from the host all of them
// if hostCompresses, else none. out is the tests' output.
func checkWasmDeflate(t *testing.T, h *wasmHost, out []byte, hostCompresses bool) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^--- PASS: TestHostDeflate\b`).Match(out) {
		t.Fatal("TestHostDeflate did not pass under js/wasm")
	}
	var res serverResult
	select {
	case res = <-h.deflate:
	case <-time.After(testTimeout):
		t.Fatal("no connection to /deflate ended")
	}
	if !ws.IsNormalClosure(res.err) {
		t.Errorf("the connection to /deflate ended with %v, want a normal closure", res.err)
	}
	if canonExtension(res.extensions) != "permessage-deflate" {
		t.Errorf("the Go server agreed on %q, want permessage-deflate", res.extensions)
	}
	sent, received := res.tap.take()
	count := func(msgs [][]frameHeader) (compressed int) {
		for _, m := range msgs {
			if m[0].rsv1 {
				compressed++
			}
		}
		return compressed
	}
	fromHost, fromGo := dataMessages(received), dataMessages(sent)
	hc, gc := count(fromHost), count(fromGo)
	t.Logf("/deflate: extensions %q; the host sent %d messages, %d compressed; the Go server %d, %d compressed",
		res.extensions, len(fromHost), hc, len(fromGo), gc)
	if want := map[bool]int{true: len(fromHost), false: 0}[hostCompresses]; len(fromHost) == 0 || hc != want {
		t.Errorf("the host compressed %d of its %d messages, want %d", hc, len(fromHost), want)
	}
	if gc == 0 || gc == len(fromGo) {
		t.Errorf("the Go server compressed %d of its %d messages, want those of 1 KiB and more only", gc, len(fromGo))
	}
}

// TestWasmNode runs the package's tests under GOOS=js GOARCH=wasm in Node,
// with its WebSocket, against wasmServer, with go_js_wasm_exec from Go's
// lib/wasm.
func TestWasmNode(t *testing.T) {
	node := requireNode(t)
	bin := needWasmTestBinary(t)
	goroot, err := goRoot()
	if err != nil {
		t.Fatal(err)
	}
	h := wasmServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(goroot, "lib", "wasm", "go_js_wasm_exec"), bin,
		"-test.v", "-test.timeout", "120s", "-test.run", wasmRun())
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), wasmEnv(h, "node")...)
	cmd.Env = append(cmd.Env,
		"PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NODE_OPTIONS=--experimental-websocket --no-warnings",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the tests under js/wasm failed: %v", err)
	}
	t.Logf("Node ran them in %v", time.Since(start).Round(time.Millisecond))
	checkWasmOutput(t, out)
	checkWasmDeflate(t, h, out, wasmNodeCompresses)
}

// wasmNodeCompresses says whether Node's WebSocket compresses the messages
// it sends once permessage-deflate is agreed on. Node 20's (undici 6)
// offers the extension and inflates what it receives, but sends every
// message uncompressed.
const wasmNodeCompresses = false
