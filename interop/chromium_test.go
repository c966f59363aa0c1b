//go:build linux

package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// The test against the WebSocket of a browser: headless Chromium loads a
// page from a server of the package, and the page's script talks to echo
// endpoints of the same server and posts its results back.

// chromiumBin is the Chromium of Debian's chromium package.
const chromiumBin = "/usr/bin/chromium"

// chromiumHint tells how to install Chromium.
const chromiumHint = "install it with `apt-get install -y chromium` (Debian, as root)"

// requireChromium fails the test if Chromium is missing.
func requireChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Fatalf("Chromium is missing: %v; %s", err, chromiumHint)
	}
}

// chromiumReport is what the page posts to /report.
type chromiumReport struct {
	UserAgent string `json:"userAgent"`
	Error     string `json:"error"`
	Results   []struct {
		Endpoint   string `json:"endpoint"`
		Extensions string `json:"extensions"`
		Error      string `json:"error"`
		Checks     []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
		Close *struct {
			Code     int    `json:"code"`
			Reason   string `json:"reason"`
			WasClean bool   `json:"wasClean"`
		} `json:"close"`
	} `json:"results"`
}

// TestChromium runs chromium/index.html in headless Chromium against echo
// endpoints of a server of the package, without and with
// permessage-deflate, which Chromium always offers.
func TestChromium(t *testing.T) {
	requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()

	endpoints := []struct {
		path string
		opts ws.Options
		want string // the extension agreed on
	}{
		{"/echo", ws.Options{}, ""},
		{"/echo-deflate", ctxTakeover, "permessage-deflate"},
		{"/echo-deflate-no-context-takeover-windows",
			with(noCtxTakeover, func(c *ws.CompressionOptions) { c.ServerMaxWindowBits, c.ClientMaxWindowBits = 10, 9 }),
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"},
	}

	results := make(chan serverResult, len(endpoints))
	reports := make(chan chromiumReport, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("chromium", "index.html"))
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep chromiumReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			rep.Error = fmt.Sprintf("the report does not decode: %v", err)
		}
		select {
		case reports <- rep:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	var paths []string
	for _, e := range endpoints {
		paths = append(paths, e.path)
		opts := &ws.AcceptOptions{Options: e.opts}
		mux.HandleFunc("GET "+e.path, func(w http.ResponseWriter, r *http.Request) {
			serveConn(w, r, opts, results, e.path, func(c *ws.Conn) error { return echoMessages(ctx, c) })
		})
	}
	addr := serveTapped(t, mux)
	page := "http://" + addr + "/?endpoints=" + strings.Join(paths, ",")

	browser := launchChromium(ctx, t, "--headless", page)
	var rep chromiumReport
	select {
	case rep = <-reports:
	case <-browser.exited:
		t.Fatalf("Chromium exited before the page reported\n%s", browser.output)
	case <-ctx.Done():
		t.Fatalf("no report from the page: %v\n%s", ctx.Err(), browser.output)
	}
	t.Logf("user agent: %s", rep.UserAgent)
	if rep.Error != "" {
		t.Fatalf("the page failed: %s", rep.Error)
	}
	if len(rep.Results) != len(endpoints) {
		t.Fatalf("the page reported on %d endpoints, want %d", len(rep.Results), len(endpoints))
	}

	server := map[string]serverResult{}
	for range endpoints {
		select {
		case r := <-results:
			server[r.name] = r
		case <-ctx.Done():
			t.Fatalf("the server's handlers did not all end: %v", ctx.Err())
		}
	}
	for i, e := range endpoints {
		t.Run(strings.TrimPrefix(e.path, "/"), func(t *testing.T) {
			res, page := server[e.path], rep.Results[i]
			if page.Error != "" {
				t.Errorf("the page: %s", page.Error)
			}
			for _, c := range page.Checks {
				if !c.OK {
					t.Errorf("echo of %s: %s", c.Name, c.Detail)
				}
			}
			t.Logf("%d echoes checked by the page", len(page.Checks))
			if page.Extensions != res.extensions {
				t.Errorf("extensions: Chromium has %q, the Go server %q", page.Extensions, res.extensions)
			}
			if canonExtension(res.extensions) != canonExtension(e.want) {
				t.Errorf("the Go server agreed on %q, want %q", res.extensions, e.want)
			}
			if page.Close == nil || page.Close.Code != 1000 || !page.Close.WasClean {
				t.Errorf("Chromium's close event: %+v, want a clean 1000", page.Close)
			}
			var ce ws.CloseError
			if !errors.As(res.err, &ce) || ce != (ws.CloseError{Code: ws.StatusNormalClosure, Reason: "bye"}) {
				t.Errorf("the Go server's connection ended with %v, want a CloseError 1000 \"bye\"", res.err)
			}

			// Chromium compresses every message when it may; the Go server
			// those of 1 KiB and more, and only those.
			sent, received := res.tap.take()
			fromChromium, fromGo := dataMessages(received), dataMessages(sent)
			if len(fromChromium) != len(page.Checks) || len(fromGo) != len(page.Checks) {
				t.Errorf("%d messages from Chromium and %d from Go on the wire, want %d", len(fromChromium), len(fromGo), len(page.Checks))
			}
			count := func(msgs [][]frameHeader) (compressed, fragmented int) {
				for _, m := range msgs {
					if err := checkCompression(m, m[0].rsv1); err != nil {
						t.Error(err)
					}
					if m[0].rsv1 {
						compressed++
					}
					if len(m) > 1 {
						fragmented++
					}
				}
				return compressed, fragmented
			}
			cc, cf := count(fromChromium)
			gc, gf := count(fromGo)
			t.Logf("Chromium sent %d messages, %d compressed, %d fragmented; the Go server %d, %d compressed, %d fragmented",
				len(fromChromium), cc, cf, len(fromGo), gc, gf)
			if e.want == "" && cc+gc > 0 {
				t.Errorf("compressed messages without the extension")
			}
			if e.want != "" && (cc == 0 || gc == 0 || gc == len(fromGo)) {
				t.Errorf("with the extension, want Chromium to compress and the Go server to compress some messages but not all")
			}
			if gf == 0 {
				t.Errorf("the Go server sent no fragmented message")
			}
		})
	}
}

// launchChromium starts Chromium with args after the flags every test
// needs, with a fresh profile, in a process group of its own (see
// startGroup).
func launchChromium(ctx context.Context, t testing.TB, args ...string) *groupProcess {
	t.Helper()
	flags := []string{"--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	b, err := startGroup(ctx, t, "Chromium", chromiumBin, append(flags, args...)...)
	if err != nil {
		t.Fatalf("starting Chromium: %v; %s", err, chromiumHint)
	}
	return b
}

// groupProcess is a process that runs in a process group of its own.
type groupProcess struct {
	cmd     *exec.Cmd
	output  *lineLog      // its stdout and stderr
	exited  chan struct{} // closed once the process has exited
	waitErr error         // the process's exit, once exited is closed
}

// startGroup starts the program name with args in a process group of its
// own, which is killed when ctx is done. When the test ends it kills the
// whole group, waits for the process, and fails the test if a process of
// the group outlives it; if the test failed, it logs the output under
// what.
func startGroup(ctx context.Context, t testing.TB, what, name string, args ...string) (*groupProcess, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	p := &groupProcess{cmd: cmd, output: newLineLog(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	pgid := cmd.Process.Pid
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel() // kills the group if the process still runs
		<-p.exited
		syscall.Kill(-pgid, syscall.SIGKILL) // the rest of the group, if the process went first
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := groupMembers(pgid)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("processes of %s's group %d outlived it: %v", what, pgid, left)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if t.Failed() {
			t.Logf("%s (%v):\n%s", what, p.waitErr, p.output)
		}
	})
	return p, nil
}

// groupMembers returns the processes of the process group pgid that have
// not exited, zombies left out, from /proc.
func groupMembers(pgid int) []int {
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and
		// parentheses, so split after its last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
