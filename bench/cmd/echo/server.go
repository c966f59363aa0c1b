package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	coder "github.com/coder/websocket"
	gobwas "github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	ws "github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// server serves ln until it fails.
type server func(ln net.Listener) error

// broadcaster is a server that can send one message to every connection.
type broadcaster interface {
	broadcast(p []byte) (int, error)
}

// servers are the echo servers, by name.
var servers = map[string]server{
	"tcp":        serveTCP,
	"ws":         httpServer(wsHandler(nil, wsStreamEcho)),
	"ws-rw":      httpServer(wsHandler(nil, wsEcho)),
	"ws-ra":      httpServer(wsHandler(nil, wsAppendEcho)),
	"ws-server":  serveWSServer,
	"gorilla":    httpServer(gorillaStream),
	"gorilla-rw": httpServer(gorillaReadWrite(false)),
	"coder":      httpServer(coderReadWrite(nil)),
	"gobwas":     serveGobwas,
	"gws":        serveGWS(&gws.ServerOption{ReadMaxPayloadSize: readLimit}, true),
	"gws-server": serveGWSServer(&gws.ServerOption{ReadMaxPayloadSize: readLimit}),
}

// broadcasters are the servers of servers that set a broadcaster, and so
// can run the broadcast test (besides node).
var broadcasters = []string{"ws-server", "gws"}

// current is the broadcaster of the running server, if it is one.
var current atomic.Pointer[broadcaster]

// setCurrent makes b the running server's broadcaster.
func setCurrent(b broadcaster) { current.Store(&b) }

func libNames() string { return harness.Names(servers) }

// httpServer serves ln with net/http and h.
func httpServer(h http.HandlerFunc) server {
	return func(ln net.Listener) error { return (&http.Server{Handler: h}).Serve(ln) }
}

// copyBufSize is the per-connection buffer of the tcp echo.
const copyBufSize = 32 << 10

// readLimit is the read limit set where a library's default is below the
// largest message measured.
const readLimit = 4 << 20

// serveTCP is the floor: a raw TCP echo, no framing.
func serveTCP(ln net.Listener) error {
	return harness.Serve(ln, func(c net.Conn) {
		buf := make([]byte, copyBufSize)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// wsHandler accepts with ws.Accept(opts) and runs echo on the connection.
func wsHandler(opts *ws.AcceptOptions, echo func(*ws.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}
}

// wsStreamEcho echoes with Reader/Writer and io.Copy. The message writer
// is an io.ReaderFrom, which reads the message into its own frame buffer,
// so io.Copy allocates no buffer (and io.CopyBuffer would not use one).
func wsStreamEcho(c *ws.Conn) {
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
		if err := wr.Close(); err != nil {
			return
		}
	}
}

// wsAppendEcho echoes with ReadAppend/Write of whole messages, reading
// each into the same buffer.
func wsAppendEcho(c *ws.Conn) {
	ctx := context.Background()
	var buf []byte
	for {
		typ, p, err := c.ReadAppend(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
		buf = p
	}
}

// wsEcho echoes whole messages on c until it fails.
func wsEcho(c *ws.Conn) {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}

// wsServer is ws.Server with Read/Write echo, and Broadcast.
type wsServer struct{ s *ws.Server }

func (b wsServer) broadcast(p []byte) (int, error) {
	return b.s.Broadcast(ws.MessageBinary, p, nil)
}

// serveWSServer serves with ws.Server, echoing with Read/Write.
func serveWSServer(ln net.Listener) error {
	s := &ws.Server{Handler: func(c *ws.Conn, _ *http.Request) { wsEcho(c) }}
	setCurrent(wsServer{s})
	return s.Serve(context.Background(), ln)
}

// gorillaStream echoes with gorilla's NextReader/NextWriter and io.Copy;
// gorilla's message writer is an io.ReaderFrom too.
func gorillaStream(w http.ResponseWriter, r *http.Request) {
	up := gorilla.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		typ, rd, err := c.NextReader()
		if err != nil {
			return
		}
		wr, err := c.NextWriter(typ)
		if err != nil {
			return
		}
		if _, err := io.Copy(wr, rd); err != nil {
			return
		}
		if err := wr.Close(); err != nil {
			return
		}
	}
}

// gorillaReadWrite echoes with gorilla's ReadMessage/WriteMessage,
// offering permessage-deflate if compress.
func gorillaReadWrite(compress bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		up := gorilla.Upgrader{EnableCompression: compress}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	}
}

// coderReadWrite echoes with coder/websocket's Accept(opts) and
// Read/Write.
func coderReadWrite(opts *coder.AcceptOptions) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(readLimit)
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}
}

// serveGobwas echoes with gobwas/ws without net/http: ws.Upgrade, then
// wsutil.ReadClientData and wsutil.WriteServerMessage.
func serveGobwas(ln net.Listener) error {
	return harness.Serve(ln, func(c net.Conn) {
		if _, err := gobwas.Upgrade(c); err != nil {
			return
		}
		for {
			p, op, err := wsutil.ReadClientData(c)
			if err != nil {
				return
			}
			if err := wsutil.WriteServerMessage(c, op, p); err != nil {
				return
			}
		}
	})
}

// gwsEcho echoes in OnMessage and tracks connections for Broadcast.
type gwsEcho struct {
	gws.BuiltinEventHandler
	mu    sync.Mutex
	conns map[*gws.Conn]struct{}
}

func (e *gwsEcho) OnOpen(c *gws.Conn) {
	e.mu.Lock()
	e.conns[c] = struct{}{}
	e.mu.Unlock()
}

func (e *gwsEcho) OnClose(c *gws.Conn, _ error) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
}

func (e *gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	c.WriteMessage(m.Opcode, m.Bytes())
}

// broadcast sends p to every connection with one gws.Broadcaster.
func (e *gwsEcho) broadcast(p []byte) (int, error) {
	b := gws.NewBroadcaster(gws.OpcodeBinary, p)
	defer b.Close()
	e.mu.Lock()
	conns := make([]*gws.Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	n := 0
	for _, c := range conns {
		if b.Broadcast(c) == nil {
			n++
		}
	}
	return n, nil
}

// serveGWS echoes with gws and opt, ReadLoop on a goroutine per
// connection as gws's README does; it is the broadcaster if bcast.
func serveGWS(opt *gws.ServerOption, bcast bool) server {
	return func(ln net.Listener) error {
		e := &gwsEcho{conns: make(map[*gws.Conn]struct{})}
		if bcast {
			setCurrent(e)
		}
		up := gws.NewUpgrader(e, opt)
		return (&http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r)
			if err != nil {
				return
			}
			go c.ReadLoop()
		})}).Serve(ln)
	}
}

// serveGWSServer echoes with gws's own server, gws.NewServer, which
// reads the request with http.ReadRequest on a pooled bufio.Reader in an
// accept loop of its own, without net/http's server, and runs ReadLoop on
// the goroutine that upgraded.
func serveGWSServer(opt *gws.ServerOption) server {
	return func(ln net.Listener) error {
		e := &gwsEcho{conns: make(map[*gws.Conn]struct{})}
		s := gws.NewServer(e, opt)
		s.OnError = func(net.Conn, error) {}
		return s.RunListener(ln)
	}
}

func serverMain(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	lib := fs.String("lib", "ws", "library: "+libNames())
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.Parse(args)
	serve, ok := servers[*lib]
	if !ok {
		return fmt.Errorf("unknown library %q; one of %s", *lib, libNames())
	}
	if _, err := harness.RaiseNoFile(20000); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	go func() {
		err := serve(ln)
		fmt.Fprintln(os.Stderr, "echo server:", err)
		os.Exit(1)
	}()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "addr %s\n", ln.Addr())
	out.Flush()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 1 && f[0] == "quit":
			return nil
		case len(f) == 3 && f[0] == "broadcast":
			fmt.Fprintln(out, broadcastCmd(f[1], f[2]))
		default:
			fmt.Fprintf(out, "error unknown command %q\n", in.Text())
		}
		out.Flush()
	}
	return in.Err()
}

// broadcastCmd broadcasts k messages of size bytes each and returns "ok
// N", N being the deliveries queued, or "error ...".
func broadcastCmd(k, size string) string {
	b := current.Load()
	if b == nil {
		return "error this server does not broadcast"
	}
	nk, err1 := strconv.Atoi(k)
	ns, err2 := strconv.Atoi(size)
	if err1 != nil || err2 != nil {
		return "error bad broadcast arguments"
	}
	p := make([]byte, ns)
	total := 0
	for range nk {
		n, err := (*b).broadcast(p)
		if err != nil {
			return "error " + err.Error()
		}
		total += n
	}
	return "ok " + strconv.Itoa(total)
}
