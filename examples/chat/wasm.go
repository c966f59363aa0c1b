//go:build !js

package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/chatpage"
)

// wasmPage is the page of the chat's client in Go, /wasm.html: the
// chat's page with the scripts of wasm_scripts.html, which load and run
// the client, in place of its own.
var wasmPage = replaceScripts(chatpage.HTML, wasmScripts)

//go:embed wasm_scripts.html
var wasmScripts []byte

// replaceScripts returns page with everything from its first <script> to
// its last </script> replaced by scripts.
func replaceScripts(page, scripts []byte) []byte {
	start := bytes.Index(page, []byte("<script"))
	end := bytes.LastIndex(page, []byte("</script>"))
	if start < 0 || end < start {
		panic("chat: the chat's page has no script to replace")
	}
	return slices.Concat(page[:start], scripts, bytes.TrimPrefix(page[end+len("</script>"):], []byte("\n")))
}

// clientPackage is the chat's client in Go, under examples/chat/wasm.
const clientPackage = "github.com/seed-d6ba7b20/ws/examples/chat/wasm"

// wasmClient serves the chat's client in Go: the page /wasm.html, the
// program compiled to WebAssembly, /chat.wasm, and Go's wasm_exec.js,
// which runs it. The program is built with the go command on PATH the
// first time it is asked for, so the chat starts at once and costs
// nothing more to those who never open the page; the repository holds
// no binary, and there is no build step to remember. Without a go
// command the page says the client is unavailable.
type wasmClient struct {
	once   sync.Once
	wasm   []byte // the program
	execJS []byte // wasm_exec.js of the same Go
	err    error  // why there is no program
}

func (c *wasmClient) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /wasm.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(wasmPage)
	})
	mux.HandleFunc("GET /chat.wasm", c.serve("application/wasm", func() []byte { return c.wasm }))
	mux.HandleFunc("GET /wasm_exec.js", c.serve("text/javascript; charset=utf-8", func() []byte { return c.execJS }))
}

// serve returns a handler of one of the built files, which answers 503
// with the reason when there is none.
func (c *wasmClient) serve(contentType string, file func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.once.Do(func() { c.wasm, c.execJS, c.err = buildClient() })
		if c.err != nil {
			http.Error(w, c.err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(file())
	}
}

// buildClient builds the client with GOOS=js GOARCH=wasm into a
// temporary directory, and reads it and the wasm_exec.js of the Go that
// built it.
func buildClient() (wasm, execJS []byte, err error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, nil, errors.New("the chat builds its Go client with the go command, and there is none on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	goroot, err := exec.CommandContext(ctx, goCmd, "env", "GOROOT").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("go env GOROOT: %v", err)
	}
	execJS, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "chat-wasm-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "chat.wasm")
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", out, clientPackage)
	cmd.Dir = sourceDir()
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("building the Go client: %v\n%s", err, msg)
	}
	wasm, err = os.ReadFile(out)
	return wasm, execJS, err
}

// sourceDir returns the directory of this file when it still exists, so
// that the client builds with the module the chat was built from
// wherever the chat runs, and the working directory otherwise.
func sourceDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if _, err := os.Stat(file); err == nil {
			return filepath.Dir(file)
		}
	}
	return ""
}
