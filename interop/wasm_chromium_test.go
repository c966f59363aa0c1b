//go:build linux

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// wasmExit is what chromium/wasm.html posts to /exit.
type wasmExit struct {
	Code  int    `json:"code"`
	Error string `json:"error"`
}

// wasmConfig is the /config of chromium/wasm.html that runs the test
// binary with the arguments args and the environment env.
func wasmConfig(args, env []string) map[string]any {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return map[string]any{"argv": append([]string{"ws.test"}, args...), "env": vars}
}

// runInChromium opens chromium/wasm.html, served from 127.0.0.1 with
// config as its /config and bin as the test binary, in headless Chromium,
// and returns what the page wrote and its exit code once it is done.
func runInChromium(ctx context.Context, t testing.TB, bin string, config map[string]any) ([]byte, int) {
	t.Helper()
	goroot, err := goRoot()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	exited := make(chan wasmExit, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("chromium", "wasm.html"))
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("GET /ws.test.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, bin)
	})
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(config)
	})
	mux.HandleFunc("POST /output", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		io.Copy(&out, r.Body)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		var e wasmExit
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			e = wasmExit{Code: -1, Error: fmt.Sprintf("the exit report does not decode: %v", err)}
		}
		select {
		case exited <- e:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	page := "http://" + serveTapped(t, mux) + "/"

	start := time.Now()
	browser := launchChromium(ctx, t, "--headless", page)
	output := func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(out.Bytes())
	}
	select {
	case e := <-exited:
		t.Logf("Chromium ran the program in %v; exit code %d", time.Since(start).Round(time.Millisecond), e.Code)
		if e.Error != "" {
			t.Fatalf("the page failed: %s\n%s", e.Error, output())
		}
		return output(), e.Code
	case <-browser.exited:
		t.Fatalf("Chromium exited before the program did\n%s", output())
	case <-ctx.Done():
		t.Fatalf("the program did not exit: %v\n%s", ctx.Err(), output())
	}
	return nil, -1
}

// TestWasmChromium runs the package's tests under GOOS=js GOARCH=wasm in
// headless Chromium, with its WebSocket, against wasmServer.
func TestWasmChromium(t *testing.T) {
	requireChromium(t)
	bin := needWasmTestBinary(t)
	h := wasmServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"-test.v", "-test.timeout", "120s", "-test.run", wasmRun()}
	out, code := runInChromium(ctx, t, bin, wasmConfig(args, wasmEnv(h, "chromium")))
	t.Logf("%s", out)
	if code != 0 {
		t.Fatalf("the tests under js/wasm exited with %d", code)
	}
	checkWasmOutput(t, out)
	checkWasmDeflate(t, h, out, true) // Chromium compresses every message
}

// BenchmarkWasmThroughput measures how many
// binary messages of 1 KiB a second the package's client echoes through
// wasmServer's /echo: under js/wasm in headless Chromium (the package's
// BenchmarkHostEcho1KiB) and natively (echoWindow), the median of five
// runs of 20,000 messages each (WS_WASM_MESSAGES to change), 64 at most
// unanswered.
func BenchmarkWasmThroughput(b *testing.B) {
	t := b
	const runs, window = 5, 64
	n := 20000
	if s := os.Getenv("WS_WASM_MESSAGES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			t.Fatalf("WS_WASM_MESSAGES=%q, want a count of messages", s)
		}
	}
	requireChromium(t)
	bin := needWasmTestBinary(t)
	h := wasmServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// rates runs config in Chromium and returns the rates of the lines
	// "NAME n RATE msgs/s" (benchmark lines have more between) it wrote.
	rates := func(config map[string]any, name string) []float64 {
		out, code := runInChromium(ctx, t, bin, config)
		t.Logf("%s", out)
		if code != 0 {
			t.Fatalf("%s exited with %d", name, code)
		}
		var v []float64
		re := regexp.MustCompile(`(?m)^` + name + `\s+(\d+)\s.*?([0-9.e+]+) msgs/s`)
		for _, m := range re.FindAllSubmatch(out, -1) {
			if string(m[1]) == strconv.Itoa(n) {
				r, _ := strconv.ParseFloat(string(m[2]), 64)
				v = append(v, r)
			}
		}
		if len(v) != runs {
			t.Fatalf("%d results of %d messages from %s, want %d", len(v), n, name, runs)
		}
		return v
	}
	inChromium := rates(wasmConfig([]string{"-test.run", "^$", "-test.bench", "^BenchmarkHostEcho1KiB$",
		"-test.benchtime", fmt.Sprint(n, "x"), "-test.count", fmt.Sprint(runs), "-test.timeout", "9m"},
		wasmEnv(h, "chromium")), "BenchmarkHostEcho1KiB")
	jsOnly := rates(map[string]any{"jsEcho": map[string]any{"url": h.url + "/echo", "n": n, "runs": runs, "window": window}}, "JSEcho1KiB")

	var native []float64
	for range runs {
		c, _, err := ws.Dial(ctx, h.url+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := echoWindow(ctx, c, n, 1024, window)
		c.Close(ws.StatusNormalClosure, "")
		if err != nil {
			t.Fatal(err)
		}
		native = append(native, float64(n)/d.Seconds())
	}
	median := func(v []float64) float64 {
		v = slices.Sorted(slices.Values(v))
		return v[len(v)/2]
	}
	t.Logf("messages of 1 KiB echoed a second, median of %d runs of %d (each run):", runs, n)
	for _, r := range []struct {
		name string
		v    []float64
	}{{"Go, js/wasm in Chromium", inChromium}, {"JavaScript in Chromium", jsOnly}, {"Go, native", native}} {
		t.Logf("  %-24s %7.0f  %5.2fx  (%s)", r.name, median(r.v), median(r.v)/median(inChromium), formatRates(r.v))
	}
}

// formatRates formats messages a second for a log.
func formatRates(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(s, " ")
}

// echoWindow sends n binary messages of size bytes on c, which an echo
// server sends back, from a goroutine of its own, while it reads the
// echoes, with at most window unanswered, and returns how long that took.
// It is what BenchmarkHostEcho1KiB of the package does under js/wasm.
func echoWindow(ctx context.Context, c *ws.Conn, n, size, window int) (time.Duration, error) {
	msg := bytes.Repeat([]byte{0x5a}, size)
	slots := make(chan struct{}, window)
	sent := make(chan error, 1)
	start := time.Now()
	go func() {
		var err error
		for i := 0; i < n && err == nil; i++ {
			select {
			case slots <- struct{}{}:
				err = c.Write(ctx, ws.MessageBinary, msg)
			case <-c.Done():
				err = c.Err()
			}
		}
		sent <- err
	}()
	for i := range n {
		if _, data, err := c.Read(ctx); err != nil || len(data) != size {
			c.CloseNow()
			<-sent
			return 0, fmt.Errorf("echo %d: %v, %d bytes", i, err, len(data))
		}
		<-slots
	}
	return time.Since(start), <-sent
}
