//go:build !js

// Command wasmsize builds, with GOOS=js GOARCH=wasm, the same small
// client (dial, write one message, read one, close) with this module's ws
// and with github.com/coder/websocket, and a program with no WebSocket as
// the floor, with and without -ldflags=-s -w, and prints the size of each
// binary and of it compressed with gzip -9, as a server would send it.
//
//	cd bench && go run ./cmd/wasmsize
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

var programs = []struct{ name, pkg, module string }{
	{"baseline (no WebSocket)", "./cmd/wasmsize/baseline", ""},
	{"ws", "./cmd/wasmsize/ws", "github.com/seed-d6ba7b20/ws"},
	{"coder/websocket", "./cmd/wasmsize/coder", "github.com/coder/websocket"},
}

func main() {
	dir, err := os.MkdirTemp("", "wasmsize-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GOOS=js GOARCH=wasm, %s; sizes in bytes (KiB)\n\n", strings.TrimSpace(string(goVersion)))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "program\tversion\tgo build\tgzip -9\t-ldflags=\"-s -w\"\tgzip -9\t")
	for _, p := range programs {
		fmt.Fprintf(tw, "%s\t%s\t", p.name, version(p.module))
		for _, ldflags := range []string{"", "-s -w"} {
			out := filepath.Join(dir, "out.wasm")
			cmd := exec.Command("go", "build", "-ldflags="+ldflags, "-o", out, p.pkg)
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			if msg, err := cmd.CombinedOutput(); err != nil {
				log.Fatalf("building %s: %v\n%s", p.pkg, err, msg)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Fprintf(tw, "%s\t%s\t", size(len(b)), size(gzipped(b)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// version returns the version of module that bench's go.mod requires,
// or "working tree" for this module's ws, which it replaces with ../.
func version(module string) string {
	if module == "" {
		return "-"
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}working tree{{else}}{{.Version}}{{end}}", module).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func size(n int) string { return fmt.Sprintf("%d (%.0f)", n, float64(n)/1024) }

func gzipped(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}
