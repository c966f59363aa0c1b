package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// wasmServer is the Go server of the package's tests under js/wasm
// (host_js_test.go): the endpoints they dial, on loopback.
func wasmServer(t *testing.T) *httptest.Server {
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
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r, nil)
		if c == nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			wr, err := c.Writer(ctx, typ)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
			if wr.Close() != nil {
				return
			}
		}
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
	return httptest.NewServer(mux)
}

// TestWasmNode runs the package's tests under GOOS=js GOARCH=wasm in Node,
// with its WebSocket, against wasmServer: go test with go_js_wasm_exec
// from Go's lib/wasm.
var wasmRun = "^TestHost"

func TestWasmNode(t *testing.T) {
	if r := os.Getenv("WASM_RUN"); r != "" {
		wasmRun = r
	}
	node := requireNode(t)
	srv := wasmServer(t)
	defer srv.Close()
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-timeout", "120s", "-run", wasmRun, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"GOOS=js", "GOARCH=wasm",
		"PATH="+filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm")+string(os.PathListSeparator)+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NODE_OPTIONS=--experimental-websocket --no-warnings",
		"WS_TEST_SERVER=ws://"+srv.Listener.Addr().String(),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the tests under js/wasm failed: %v", err)
	}
	passed := regexp.MustCompile(`(?m)^--- PASS: TestHost\w+`).FindAll(out, -1)
	if len(passed) < 8 || regexp.MustCompile(`(?m)^--- (SKIP|FAIL)`).Match(out) {
		t.Fatalf("%d tests passed under js/wasm, want 8 and no skip or failure", len(passed))
	}
}
