//go:build !js

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/chatpage"
)

const listenUsage = `Usage: ws listen [flags]

Runs a WebSocket server until Ctrl-C (SIGINT) or SIGTERM, then shuts down
gracefully: every client gets the close code 1001 (GoingAway).

-mode echo (the default) sends every message back to its sender, at any
path. -mode chat sends every message to every client (its sender too),
with the WebSocket at /ws and a chat page for browsers at
http://ADDR/; a WebSocket client may also connect at /.

The first line on standard output says where the server listens, for
example "listening on 127.0.0.1:8080 (echo): ws://127.0.0.1:8080/".
Connections, the messages they send (unless -quiet), closes and errors
are logged on standard error.

Any page may connect, whatever its origin, unless -origin is given.

Flags:
`

// listenConfig is the command line of listen.
type listenConfig struct {
	addr         string
	mode         string
	subprotocols listFlag
	header       headerFlag
	compress     compressFlag
	ping         time.Duration
	showPing     bool
	origins      listFlag
	quiet        bool
}

func listenFlags(cfg *listenConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", ":8080", "listen on this `host:port` (port 0 picks a free port)")
	fs.StringVar(&cfg.mode, "mode", "echo", "`mode`: echo (send each message back to its sender) or chat (send it to every client)")
	fs.Var(&cfg.subprotocols, "subprotocol", "speak a subprotocol (repeatable, or a comma-separated `list`, in order of preference); the first one the client offers is chosen")
	fs.Var(&cfg.header, "H", "add a `'Name: value'` header to the 101 response (repeatable)")
	fs.Var(&cfg.compress, "compress", "accept permessage-deflate with context takeover; -compress=notakeover: without context takeover")
	fs.DurationVar(&cfg.ping, "ping", 0, "send each client a keepalive ping every `interval` and drop it when a pong is late")
	fs.BoolVar(&cfg.showPing, "show-ping", false, "log the pings and pongs that arrive")
	fs.Var(&cfg.origins, "origin", "accept browsers' connections only from the server's own origin and from these hosts (path.Match `patterns` such as \"localhost:3000\" or \"*.example.com\"; repeatable or comma-separated)")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log messages, only connections")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), listenUsage)
		fs.PrintDefaults()
	}
	return fs
}

// listen runs "ws listen".
func listen(args []string, stdout, stderr io.Writer) int {
	var cfg listenConfig
	fs := listenFlags(&cfg)
	pos, status, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "ws listen: unexpected argument %q\nRun \"ws help listen\" for usage.\n", pos[0])
		return exitUsage
	}
	if cfg.mode != "echo" && cfg.mode != "chat" {
		fmt.Fprintf(stderr, "ws listen: -mode is echo or chat, not %q\n", cfg.mode)
		return exitUsage
	}
	log := &syncWriter{w: stderr}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.printErr(err)
		return exitError
	}
	srv := newServer(&cfg, log)
	hs := &http.Server{Handler: serverHandler(cfg.mode, srv), ReadHeaderTimeout: 10 * time.Second}

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	hostPort := net.JoinHostPort(host, port)
	if cfg.mode == "chat" {
		fmt.Fprintf(stdout, "listening on %s (chat): open http://%s/ in a browser; WebSocket at ws://%s/ws\n", ln.Addr(), hostPort, hostPort)
	} else {
		fmt.Fprintf(stdout, "listening on %s (echo): ws://%s/\n", ln.Addr(), hostPort)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case err := <-serveErr:
		log.printErr(err)
		return exitError
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C kills the process
	log.printf("shutting down\n")
	sctx, cancel := context.WithTimeout(context.Background(), ws.DefaultCloseTimeout)
	defer cancel()
	// The listener closes at once; the WebSockets close while net/http
	// waits for idle connections.
	closed := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan struct{})
	go func() {
		hs.Shutdown(sctx)
		close(httpDone)
	}()
	<-closed
	if err := srv.Shutdown(sctx); err != nil {
		log.printf("shutdown: %v (closed the rest at once)\n", err)
	}
	<-httpDone
	<-serveErr
	log.printf("stopped\n")
	return exitOK
}

// newServer returns the WebSocket server of cfg.
func newServer(cfg *listenConfig, log *syncWriter) *ws.Server {
	srv := &ws.Server{}
	o := &srv.Options
	o.Subprotocols = cfg.subprotocols
	o.ResponseHeader = cfg.header.h
	o.Compression = cfg.compress.options()
	o.PingInterval = cfg.ping
	if len(cfg.origins) > 0 {
		o.OriginPatterns = cfg.origins
	} else {
		o.InsecureSkipOriginCheck = true
	}
	if cfg.showPing {
		o.OnPing = func(p []byte) { log.printf("ping received %q\n", p) }
		o.OnPong = func(p []byte) { log.printf("pong received %q\n", p) }
	}
	chat := cfg.mode == "chat"
	srv.Handler = func(c *ws.Conn, r *http.Request) {
		who := r.RemoteAddr
		log.printf("%s connected%s\n", who, describeConn(c))
		ctx := context.Background()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				var ce ws.CloseError
				if errors.As(err, &ce) {
					log.printf("%s closed: %s\n", who, describeClose(ce))
				} else {
					log.printf("%s disconnected: %v\n", who, err)
				}
				return
			}
			if !cfg.quiet {
				if typ == ws.MessageText {
					log.printf("%s: %q\n", who, data)
				} else {
					log.printf("%s: %s", who, formatMessage(nil, typ, data))
				}
			}
			if chat {
				srv.Broadcast(typ, data, nil)
			} else if err := c.Write(ctx, typ, data); err != nil {
				log.printf("%s: %v\n", who, err)
				return
			}
		}
	}
	return srv
}

// serverHandler routes the HTTP requests of mode.
func serverHandler(mode string, srv *ws.Server) http.Handler {
	if mode == "chat" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/ws" || isUpgrade(r):
				srv.ServeHTTP(w, r)
			case r.URL.Path == "/":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(chatpage.HTML)
			default:
				http.NotFound(w, r)
			}
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isUpgrade(r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "This is a WebSocket echo server: connect a WebSocket client to ws://%s%s\n", r.Host, r.URL.Path)
			return
		}
		srv.ServeHTTP(w, r)
	})
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}
