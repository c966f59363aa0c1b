//go:build !js

// Command ws is for trying WebSockets by hand, as wscat and websocat are
// for Node users: a client that sends the lines of its standard input and
// prints what arrives, and an echo or chat server.
//
//	ws connect [flags] URL
//	ws listen [-addr :8080] [-mode echo|chat] [flags]
//	ws help [connect|listen]
//
// Run "ws help connect" and "ws help listen" for the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/seed-d6ba7b20/ws"
)

// Exit statuses.
const (
	exitOK    = 0 // done; for connect, the connection ended with 1000 or 1001
	exitError = 1 // a failed dial or handshake, another close code, a lost connection
	exitUsage = 2 // bad command line
)

const mainUsage = `ws: try WebSockets by hand

Usage:
  ws connect [flags] URL   connect to URL, send each line of stdin as a message,
                           print each message that arrives
  ws listen [flags]        run an echo server, or a chat server with a web page
  ws help [command]        show this help, or the flags of a command

Run "ws help connect" or "ws help listen" for the flags of each command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "connect", "c":
		return connect(rest, stdin, stdout, stderr)
	case "listen", "l", "serve":
		return listen(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, mainUsage)
			return exitOK
		}
		switch rest[0] {
		case "connect", "c":
			return connect([]string{"-h"}, stdin, stdout, stderr)
		case "listen", "l", "serve":
			return listen([]string{"-h"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "ws: no help for %q\n\n%s", rest[0], mainUsage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "ws: unknown command %q\n\n%s", cmd, mainUsage)
		return exitUsage
	}
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("ws connect URL -H 'A: b'"), and returns the positional
// arguments and ok true. Everything after "--" is positional. With -h it
// prints the usage to stdout, and with a bad flag an error to stderr; then
// ok is false and status is the exit status, exitOK or exitUsage.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, status int, ok bool) {
	fs.SetOutput(io.Discard)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, exitOK, false
		}
		if err != nil {
			fmt.Fprintf(stderr, "ws %s: %v\n", fs.Name(), err)
			fmt.Fprintf(stderr, "Run \"ws help %s\" for usage.\n", fs.Name())
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// listFlag is a flag that may be repeated, each value a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// headerFlag is a repeatable -H 'Name: value' flag.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string {
	if f == nil || len(f.h) == 0 {
		return ""
	}
	var b strings.Builder
	for k, vs := range f.h {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + ": " + v)
		}
	}
	return b.String()
}

func (f *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("header %q is not of the form 'Name: value'", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, strings.TrimSpace(value))
	return nil
}

// compressFlag is -compress (permessage-deflate with context takeover),
// -compress=notakeover (without), or -compress=false.
type compressFlag struct{ mode compressMode }

// compressMode is a value of -compress.
type compressMode int

const (
	compressOff compressMode = iota
	compressTakeover
	compressNoTakeover
)

// options returns the compression options of the flag's value: nil for
// none.
func (f *compressFlag) options() *ws.CompressionOptions {
	switch f.mode {
	case compressTakeover:
		return &ws.CompressionOptions{}
	case compressNoTakeover:
		return &ws.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	}
	return nil
}

func (f *compressFlag) IsBoolFlag() bool { return true }

func (f *compressFlag) String() string {
	if f == nil {
		return "false"
	}
	switch f.mode {
	case compressTakeover:
		return "true"
	case compressNoTakeover:
		return "notakeover"
	}
	return "false"
}

func (f *compressFlag) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "on", "takeover":
		f.mode = compressTakeover
	case "notakeover", "no-takeover", "no_context_takeover":
		f.mode = compressNoTakeover
	case "false", "0", "off":
		f.mode = compressOff
	default:
		return fmt.Errorf("want -compress, -compress=notakeover or -compress=false, not %q", s)
	}
	return nil
}

// syncWriter serializes writes from several goroutines, so that lines do
// not interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) printf(format string, args ...any) {
	s.Write([]byte(fmt.Sprintf(format, args...)))
}

// printErr prints err on a line of its own, with the prefix "ws: " unless
// it has it already, as the package's errors do.
func (s *syncWriter) printErr(err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "ws: ") {
		msg = "ws: " + msg
	}
	s.printf("%s\n", msg)
}

// describeClose formats a close code and reason: 1000 (NormalClosure),
// or 4000 "reason" for a code without a name.
func describeClose(ce ws.CloseError) string {
	s := fmt.Sprint(int(ce.Code))
	if name := ce.Code.String(); !strings.HasPrefix(name, "StatusCode(") {
		s += " (" + name + ")"
	}
	if ce.Reason != "" {
		s += fmt.Sprintf(" %q", ce.Reason)
	}
	return s
}

// describeConn formats what a connection agreed on, as " (subprotocol:
// chat, extensions: permessage-deflate)", or "" if nothing.
func describeConn(c *ws.Conn) string {
	var extra []string
	if p := c.Subprotocol(); p != "" {
		extra = append(extra, "subprotocol: "+p)
	}
	if e := c.Extensions(); e != "" {
		extra = append(extra, "extensions: "+e)
	}
	if len(extra) == 0 {
		return ""
	}
	return " (" + strings.Join(extra, ", ") + ")"
}

// normalClose reports whether code ends a connection normally.
func normalClose(code ws.StatusCode) bool {
	return code == ws.StatusNormalClosure || code == ws.StatusGoingAway
}
