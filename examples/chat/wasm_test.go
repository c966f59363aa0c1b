//go:build !js

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
)

// buildTimeout bounds building the client, which a cold build cache makes
// slow on a busy machine.
const buildTimeout = 3 * time.Minute

// TestWasmFiles checks that the chat builds its client in Go and serves
// the page, wasm_exec.js of the Go on PATH and the program, each with its
// content type.
func TestWasmFiles(t *testing.T) {
	_, h := newServer()
	srv := exampletest.Server(t, h)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path, contentType string
		check             func([]byte) bool
	}{
		{"/wasm.html", "text/html; charset=utf-8", func(b []byte) bool {
			// The chat's page, its elements and style, with the scripts
			// that run the client in Go instead of its own.
			return bytes.Contains(b, []byte(`src="wasm_exec.js"`)) && bytes.Contains(b, []byte(`fetch("chat.wasm")`)) &&
				bytes.Contains(b, []byte(`id="log"`)) && bytes.Contains(b, []byte("</style>")) &&
				!bytes.Contains(b, []byte("new WebSocket")) && bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>"))
		}},
		{"/wasm_exec.js", "text/javascript; charset=utf-8", func(b []byte) bool { return bytes.Equal(b, execJS) }},
		{"/chat.wasm", "application/wasm", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x00asm")) }},
	} {
		status, contentType, body := get(t, srv.URL+f.path)
		if status != 200 || contentType != f.contentType || !f.check(body) {
			t.Errorf("GET %s: %d, %q, %d bytes: %.200q; want 200, %q and its file", f.path, status, contentType, len(body), body, f.contentType)
		}
	}
}

// TestWasmUnavailable checks that without a go command the page still
// loads, and the program's request says why there is none.
func TestWasmUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, h := newServer()
	srv := exampletest.Server(t, h)
	if status, _, _ := get(t, srv.URL+"/wasm.html"); status != 200 {
		t.Errorf("GET /wasm.html: %d, want 200", status)
	}
	for _, path := range []string{"/chat.wasm", "/wasm_exec.js"} {
		status, _, body := get(t, srv.URL+path)
		if status != 503 || !bytes.Contains(body, []byte("none on PATH")) {
			t.Errorf("GET %s: %d %q, want 503 and the reason", path, status, body)
		}
	}
}

// TestWasmInNode runs the page's Go client in Node (testdata/wasmpage.js
// stands in for the page) in the chat with a client of the package:
// each sees what the other sends, and the client in Go shows the close
// code when the chat shuts down.
func TestWasmInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node, which runs the wasm client, is not on PATH: %v; install Node.js 20 or later", err)
	}
	s, h := newServer()
	srv := exampletest.Server(t, h)
	// The first request builds the client: give it time.
	if status, _, body := get(t, srv.URL+"/chat.wasm"); status != 200 {
		t.Fatalf("GET /chat.wasm: %d %s", status, body)
	}

	args := []string{"testdata/wasmpage.js", srv.URL}
	if nodeMajor(t, node) < 22 {
		args = append([]string{"--experimental-websocket", "--no-warnings"}, args...)
	}
	cmd := exec.Command(node, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	exited := false
	defer func() {
		stdin.Close()
		if !exited {
			cmd.Process.Kill()
		}
		for range lines {
		}
		cmd.Wait()
	}()
	expect := func(want string) {
		t.Helper()
		timeout := time.After(exampletest.Timeout)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("node ended before printing %s", want)
				}
				if line == want {
					return
				}
				t.Logf("node: %s", line)
			case <-timeout:
				t.Fatalf("node did not print %s", want)
			}
		}
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }

	expect("status " + quote("connected"))
	ctx := exampletest.Context(t)
	a := exampletest.Dial(t, ctx, srv.URL+"/ws", nil)
	waitConns(t, s, 2)

	fromNative := "from Go natively: ünïcödé ✓"
	if err := a.Write(ctx, ws.MessageText, []byte(fromNative)); err != nil {
		t.Fatal(err)
	}
	expect("log " + quote(fromNative))
	fromWasm := "from Go in wasm: " + strings.Repeat("long ", 2000)
	io.WriteString(stdin, quote(fromWasm)+"\n")
	expect("log " + quote(fromWasm))
	for _, want := range []string{fromNative, fromWasm} {
		if _, msg, err := a.Read(ctx); err != nil || string(msg) != want {
			t.Fatalf("the native client read %.40q %v, want %.40q", msg, err, want)
		}
	}

	go a.Read(ctx)
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	expect("status " + quote("disconnected (1001 server shutting down)"))
	expect("exit " + quote("input disabled"))
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Errorf("node: %v", err)
	}
}

// get returns the status, content type and body of url.
func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	client := &http.Client{Timeout: buildTimeout}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// nodeMajor returns node's major version.
func nodeMajor(t *testing.T, node string) int {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		t.Fatalf("node --version: %q", out)
	}
	return n
}
