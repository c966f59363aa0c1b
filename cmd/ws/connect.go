//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

const connectUsage = `Usage: ws connect [flags] URL

Connects to URL, sends each line of standard input as a text message (as
a binary message with -binary), and prints each message that arrives on
standard output: a text message as it is, followed by a newline, and a
binary message as "[binary N bytes] " followed by its bytes in hex and a
newline. Connection events, close codes and reasons, pings and pongs
(with -show-ping) and errors go to standard error.

URL is ws://, wss://, http:// or https://, or ws+unix:/path/to.sock:/path
for a Unix socket; without a scheme ("localhost:8080/chat") it is ws://.
Flags may come before or after URL.

When standard input ends (Ctrl-D) or on Ctrl-C, ws closes the connection
with 1000 (NormalClosure) and waits for the server's close frame. When
the server closes the connection, ws exits.

If the server refuses the handshake (401, 404, ...), ws prints the status
line, the headers and up to 16 KiB of the body on standard error.

Exit status: 0 when the connection ended with close code 1000 or 1001;
1 when the dial or handshake failed, the server closed with another code,
or the connection was lost; 2 for a bad command line.

Flags:
`

// connectConfig is the command line of connect.
type connectConfig struct {
	url          string
	subprotocols listFlag
	header       headerFlag
	compress     compressFlag
	ping         time.Duration
	binary       bool
	showPing     bool
	origin       string
	insecure     bool
	timeout      time.Duration
}

func connectFlags(cfg *connectConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.Var(&cfg.subprotocols, "subprotocol", "offer a subprotocol (repeatable, or a comma-separated `list`, in order of preference)")
	fs.Var(&cfg.header, "H", "add a `'Name: value'` header to the handshake request (repeatable)")
	fs.Var(&cfg.compress, "compress", "negotiate permessage-deflate with context takeover; -compress=notakeover: without context takeover")
	fs.DurationVar(&cfg.ping, "ping", 0, "send a keepalive ping every `interval` (30s, say) and give up on the connection when a pong is late")
	fs.BoolVar(&cfg.binary, "binary", false, "send the lines of standard input as binary messages instead of text")
	fs.BoolVar(&cfg.showPing, "show-ping", false, "print the pings and pongs that arrive, on standard error")
	fs.StringVar(&cfg.origin, "origin", "", "send an Origin `header`, as a browser does (\"http://localhost:3000\", say)")
	fs.BoolVar(&cfg.insecure, "insecure", false, "skip the verification of the server's TLS certificate (wss://)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "give up on the dial and handshake after this `duration` (0: no limit)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), connectUsage)
		fs.PrintDefaults()
	}
	return fs
}

// connect runs "ws connect".
func connect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg connectConfig
	fs := connectFlags(&cfg)
	pos, status, ok := parseFlags(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "ws connect: want one URL, got %d arguments\nRun \"ws help connect\" for usage.\n", len(pos))
		return exitUsage
	}
	cfg.url = normalizeURL(pos[0])
	return (&client{cfg: &cfg, stdin: stdin, stdout: stdout, stderr: &syncWriter{w: stderr}}).run()
}

// normalizeURL gives a URL without a scheme the scheme ws.
func normalizeURL(s string) string {
	lower := strings.ToLower(s)
	if strings.Contains(s, "://") || strings.HasPrefix(lower, "ws+unix:") || strings.HasPrefix(lower, "wss+unix:") {
		return s
	}
	return "ws://" + s
}

// client is one run of "ws connect".
type client struct {
	cfg    *connectConfig
	stdin  io.Reader
	stdout io.Writer // written by the reading goroutine only
	stderr *syncWriter
}

func (cl *client) run() int {
	cfg := cl.cfg
	opts := &ws.DialOptions{
		Origin:       cfg.origin,
		Subprotocols: cfg.subprotocols,
	}
	opts.Compression = cfg.compress.options()
	opts.PingInterval = cfg.ping
	if cfg.showPing {
		opts.OnPing = func(p []byte) { cl.stderr.printf("ping received %q\n", p) }
		opts.OnPong = func(p []byte) { cl.stderr.printf("pong received %q\n", p) }
	}
	if cfg.insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	if h := cfg.header.h; h != nil {
		h = h.Clone()
		if host := h.Get("Host"); host != "" {
			opts.Host = host
			h.Del("Host")
		}
		opts.Header = h
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if cfg.timeout > 0 {
		dctx, cancel = context.WithTimeout(ctx, cfg.timeout)
	}
	c, resp, err := ws.Dial(dctx, cfg.url, opts)
	cancel()
	if err != nil {
		cl.stderr.printErr(err)
		if resp != nil {
			cl.printResponse(resp)
		}
		return exitError
	}
	defer c.CloseNow()
	cl.connected(c)

	readDone := make(chan error, 1)
	go func() { readDone <- cl.readLoop(c) }()
	sendDone := make(chan error, 1)
	go func() { sendDone <- cl.sendLoop(c) }()

	select {
	case err := <-readDone:
		// The server closed the connection, or it broke.
		return cl.finish(err, false)
	case err := <-sendDone:
		if err != nil {
			// A write failed: the connection is over, and the read says why.
			select {
			case rerr := <-readDone:
				return cl.finish(rerr, false)
			case <-time.After(time.Second):
				cl.stderr.printErr(err)
				c.CloseNow()
				<-readDone
				return exitError
			}
		}
	case <-ctx.Done():
	}
	// Standard input ended, or Ctrl-C: close normally. A second Ctrl-C
	// kills the process.
	stop()

	cerr := c.Close(ws.StatusNormalClosure, "")
	rerr := <-readDone
	if cerr != nil {
		var ce ws.CloseError
		if errors.As(rerr, &ce) {
			// The server had closed first.
			return cl.finish(rerr, false)
		}
		cl.stderr.printErr(cerr)
		return exitError
	}
	return cl.finish(rerr, true)
}

// connected reports the connection on stderr.
func (cl *client) connected(c *ws.Conn) {
	msg := "connected to " + cl.cfg.url + describeConn(c)
	if f, ok := cl.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			msg += "\ntype a message and press Enter to send it; Ctrl-D closes the connection"
		}
	}
	cl.stderr.printf("%s\n", msg)
}

// readLoop prints every message until the connection ends, and returns
// why it ended.
func (cl *client) readLoop(c *ws.Conn) error {
	ctx := context.Background()
	var line []byte
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		line = formatMessage(line[:0], typ, data)
		if _, err := cl.stdout.Write(line); err != nil {
			// Nobody reads our output any more (a closed pipe).
			c.CloseNow()
		}
	}
}

// formatMessage appends the line that shows a message to b.
func formatMessage(b []byte, typ ws.MessageType, data []byte) []byte {
	if typ == ws.MessageBinary {
		b = append(b, "[binary "...)
		b = strconv.AppendInt(b, int64(len(data)), 10)
		b = append(b, " bytes] "...)
		b = hex.AppendEncode(b, data)
	} else {
		b = append(b, data...)
	}
	return append(b, '\n')
}

// sendLoop sends each line of stdin as a message. It returns nil at the
// end of stdin, and the error of a write that failed.
func (cl *client) sendLoop(c *ws.Conn) error {
	typ := ws.MessageText
	if cl.cfg.binary {
		typ = ws.MessageBinary
	}
	ctx := context.Background()
	r := bufio.NewReaderSize(cl.stdin, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if werr := c.Write(ctx, typ, line); werr != nil {
				return werr
			}
		}
		if err != nil {
			if err != io.EOF {
				cl.stderr.printf("ws: reading standard input: %v\n", err)
			}
			return nil
		}
	}
}

// finish reports how the connection ended and returns the exit status.
// closing says whether ws sent the first close frame.
func (cl *client) finish(err error, closing bool) int {
	var ce ws.CloseError
	if !errors.As(err, &ce) {
		cl.stderr.printErr(err)
		return exitError
	}
	if closing {
		cl.stderr.printf("closed: %s\n", describeClose(ce))
		if normalClose(ce.Code) || ce.Code == ws.StatusNoStatusReceived {
			return exitOK
		}
		return exitError
	}
	cl.stderr.printf("closed by the server: %s\n", describeClose(ce))
	if normalClose(ce.Code) {
		return exitOK
	}
	return exitError
}

// printResponse shows the server's answer to a refused handshake: the
// status line, the headers and the body Dial kept.
func (cl *client) printResponse(resp *http.Response) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if resp.Body != nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) > 0 {
			b.WriteByte('\n')
			b.Write(body)
			if body[len(body)-1] != '\n' {
				b.WriteByte('\n')
			}
		}
	}
	cl.stderr.Write(b.Bytes())
}
