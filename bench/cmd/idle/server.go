package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	coder "github.com/coder/websocket"
	gobwas "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	ws "github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// server is one library's server: it serves ln, adding 1 to accepted for
// each connection once its handshake is done, and keeps every connection
// blocked in a read of the next message.
type server func(ln net.Listener, accepted *atomic.Int64) error

// servers are the libraries, by name. The http-based ones run under
// net/http's http.Server; the ws-server ones under ws.Server's Serve, as
// its ListenAndServe runs it.
var servers = map[string]server{
	"tcp":                serveTCP,
	"ws":                 httpServer(wsHandler),
	"ws-bg":              httpServer(wsBackgroundHandler),
	"ws-go":              httpServer(wsGoroutineHandler),
	"ws-drop":            httpServer(wsDropHandler),
	"ws-server":          wsServer(wsServerRead),
	"ws-server-reader":   wsServer(wsServerReader),
	"ws-server-messages": wsServer(wsServerMessages),
	"hijack":             httpServer(hijackHandler),
	"gorilla":            httpServer(gorillaHandler),
	"coder":              httpServer(coderHandler),
	"gobwas":             serveGobwas,
	"gws":                httpServer(gwsHandler),
}

func libNames() string { return harness.Names(servers) }

// httpServer serves ln with net/http and h as the handler.
func httpServer(h func(accepted *atomic.Int64) http.HandlerFunc) server {
	return func(ln net.Listener, accepted *atomic.Int64) error {
		srv := &http.Server{Handler: h(accepted)}
		return srv.Serve(ln)
	}
}

// serveTCP is the floor: a raw TCP server with one goroutine per
// connection, blocked in Read into a small buffer.
func serveTCP(ln net.Listener, accepted *atomic.Int64) error {
	return harness.Serve(ln, func(c net.Conn) {
		accepted.Add(1)
		var buf [16]byte
		for {
			if _, err := c.Read(buf[:]); err != nil {
				return
			}
		}
	})
}

// wsHandler accepts with ws and reads with the request's context in the
// handler goroutine.
func wsHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wsAcceptRead(r.Context(), accepted, w, r)
	}
}

// wsAcceptRead accepts with ws on w and reads with ctx until the
// connection fails.
func wsAcceptRead(ctx context.Context, accepted *atomic.Int64, w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	accepted.Add(1)
	wsRead(ctx, c)
}

// wsRead reads messages from c with ctx until it fails.
func wsRead(ctx context.Context, c *ws.Conn) {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

// gorillaHandler upgrades with gorilla and reads with ReadMessage in the
// handler goroutine.
func gorillaHandler(accepted *atomic.Int64) http.HandlerFunc {
	up := gorilla.Upgrader{}
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		accepted.Add(1)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}
}

// coderHandler accepts with coder/websocket and reads with Read in the
// handler goroutine.
func coderHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		accepted.Add(1)
		ctx := r.Context()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}
}

// serveGobwas uses gobwas/ws without net/http: ws.Upgrade on each
// accepted connection and wsutil.ReadClientData in a goroutine per
// connection.
func serveGobwas(ln net.Listener, accepted *atomic.Int64) error {
	return harness.Serve(ln, func(c net.Conn) {
		if _, err := gobwas.Upgrade(c); err != nil {
			return
		}
		accepted.Add(1)
		for {
			if _, _, err := wsutil.ReadClientData(c); err != nil {
				return
			}
		}
	})
}

// gwsEvents counts connections as gws opens them.
type gwsEvents struct {
	gws.BuiltinEventHandler
	accepted *atomic.Int64
}

func (e *gwsEvents) OnOpen(*gws.Conn) { e.accepted.Add(1) }

// gwsHandler upgrades with gws and runs ReadLoop in a goroutine of its
// own, as gws's README does.
func gwsHandler(accepted *atomic.Int64) http.HandlerFunc {
	up := gws.NewUpgrader(&gwsEvents{accepted: accepted}, nil)
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	}
}

// stats is the server's report.
type stats struct {
	Conns       int64  `json:"conns"`
	Goroutines  int    `json:"goroutines"`
	RSS         int64  `json:"rss"` // VmRSS, bytes
	HeapAlloc   uint64 `json:"heap_alloc"`
	HeapInuse   uint64 `json:"heap_inuse"`
	HeapObjects uint64 `json:"heap_objects"`
	StackInuse  uint64 `json:"stack_inuse"`
	RuntimeMeta uint64 `json:"runtime_meta"` // MSpanInuse + GCSys + OtherSys
	Sys         uint64 `json:"sys"`
	Error       string `json:"error,omitempty"`
}

// readStats collects garbage, returns free memory to the OS and reads the
// memory in use.
func readStats(accepted *atomic.Int64) stats {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := stats{
		Conns:       accepted.Load(),
		Goroutines:  runtime.NumGoroutine(),
		HeapAlloc:   ms.HeapAlloc,
		HeapInuse:   ms.HeapInuse,
		HeapObjects: ms.HeapObjects,
		StackInuse:  ms.StackInuse,
		RuntimeMeta: ms.MSpanInuse + ms.GCSys + ms.OtherSys,
		Sys:         ms.Sys,
	}
	rss, err := vmRSS()
	if err != nil {
		s.Error = err.Error()
	}
	s.RSS = rss
	return s
}

// vmRSS reads the resident set size from /proc/self/status, in bytes.
func vmRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(v))
			if len(f) != 2 || f[1] != "kB" {
				break
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

func serverMain(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	lib := fs.String("lib", "ws", "library: "+libNames())
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	rate := fs.Int("memprofilerate", 0, "runtime.MemProfileRate if > 0 (1 records every allocation)")
	nofile := fs.Uint64("nofile", 25000, "RLIMIT_NOFILE to ask for")
	need := fs.Uint64("need", 10256, "RLIMIT_NOFILE that must be had")
	fs.Parse(args)
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	serve, ok := servers[*lib]
	if !ok {
		return fmt.Errorf("unknown library %q; one of %s", *lib, libNames())
	}
	lim, err := raiseNoFile(*nofile, *need)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "idle server: RLIMIT_NOFILE", lim)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var accepted atomic.Int64
	go func() {
		err := serve(ln, &accepted)
		fmt.Fprintln(os.Stderr, "idle server:", err)
		os.Exit(1)
	}()

	var outMu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	reply := func(v any) {
		outMu.Lock()
		defer outMu.Unlock()
		b, _ := json.Marshal(v)
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
	}
	outMu.Lock()
	fmt.Fprintf(out, "addr %s\n", ln.Addr())
	out.Flush()
	outMu.Unlock()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for range sig {
			reply(readStats(&accepted))
		}
	}()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "count":
			reply(stats{Conns: accepted.Load(), Goroutines: runtime.NumGoroutine()})
		case "stats":
			reply(readStats(&accepted))
		case "profile":
			s := readStats(&accepted)
			if err := writeHeapProfile(arg); err != nil {
				s.Error = err.Error()
			}
			reply(s)
		case "quit":
			return nil
		default:
			reply(stats{Error: "unknown command " + strconv.Quote(cmd)})
		}
	}
	if err := in.Err(); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// writeHeapProfile writes the heap profile, as of the last GC, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
