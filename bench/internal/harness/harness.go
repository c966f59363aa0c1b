// Package harness is what the echo and idle benchmarks share: the
// command's entry point, the RLIMIT_NOFILE raise, the accept loop of the
// servers without net/http, the server process that the driver talks to
// line by line, and small helpers.
package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Main runs the mode that os.Args[1] names, server or run, with the
// arguments after it. It calls usage, which is to exit, if the mode is
// missing or unknown, and exits 1 with the error, after name, if the mode
// fails.
func Main(name string, usage func(), server, run func(args []string) error) {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = server(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to want, the hard limit too if
// it is lower and the process may (it needs CAP_SYS_RESOURCE); otherwise
// it raises the soft limit to the hard one. It returns the limit in force.
func RaiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	n := lim
	n.Cur = want
	n.Max = max(lim.Max, want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err == nil {
		return want, nil
	}
	n = lim
	n.Cur = min(lim.Max, want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		return lim.Cur, err
	}
	return n.Cur, nil
}

// Serve accepts connections on ln until Accept fails, and returns its
// error. It calls handle with each connection on a goroutine of its own
// and closes the connection when handle returns.
func Serve(ln net.Listener, handle func(c net.Conn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			handle(c)
		}()
	}
}

// Names is m's keys, sorted and joined with commas.
func Names[V any](m map[string]V) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

// Median is the median of v, which it sorts; 0 if v is empty.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Handshake is the client's opening handshake to addr, the same for every
// connection (the key is RFC 6455's example). It offers no extension.
func Handshake(addr string) string {
	return "GET / HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
}

// Proc is a running server process: it prints "addr HOST:PORT" first, and
// then answers the commands written to In, a line each.
type Proc struct {
	Cmd   *exec.Cmd
	In    io.WriteCloser
	Addr  string
	lines chan string
}

// Start starts cmd, its standard error going to ours, and waits for its
// address until ctx ends; if none comes, it stops the process.
func Start(ctx context.Context, cmd *exec.Cmd) (*Proc, error) {
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, In: in, lines: make(chan string, 1)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	line, err := p.Line(ctx)
	if err != nil {
		p.Stop()
		return nil, err
	}
	addr, ok := strings.CutPrefix(line, "addr ")
	if !ok {
		p.Stop()
		return nil, fmt.Errorf("server said %q, want its address", line)
	}
	p.Addr = addr
	return p, nil
}

// Line returns the server's next line of output. If ctx ends first, the
// error is its cause.
func (p *Proc) Line(ctx context.Context) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", errors.New("server exited")
		}
		return l, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// Stop asks the server to quit and waits for it; it kills it if it has
// not exited in 10 seconds.
func (p *Proc) Stop() {
	io.WriteString(p.In, "quit\n")
	p.In.Close()
	done := make(chan struct{})
	go func() {
		p.Cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.Cmd.Process.Kill()
		<-done
	}
}
