// Package launch starts and stops the processes of a cluster on one
// machine, on 127.0.0.1: the backplane's engine (redis-server or
// nats-server), the cluster's processes and HAProxy. Each is a child
// process of the caller, stopped by its PID.
package launch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a process that was started.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{}
	err  error // once done is closed
}

// Spawn starts prog with args, its output going to log (prefixed with
// name) and kept for Output.
func Spawn(name string, log io.Writer, env []string, prog string, args ...string) (*Proc, error) {
	p := &Proc{Name: name, out: &logBuffer{name: name, w: log}, done: make(chan struct{})}
	p.cmd = exec.Command(prog, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process exited, once Done is closed.
func (p *Proc) Err() error { <-p.done; return p.err }

// Output returns what the process has written so far.
func (p *Proc) Output() string { return p.out.String() }

// Stop sends SIGTERM and waits up to grace for the process to exit,
// then kills it. It returns how the process exited: nil for status 0.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (pid %d) did not stop within %v after SIGTERM and was killed", p.Name, p.PID(), grace)
}

// logBuffer keeps a process's output and copies it, line by line and
// prefixed with the process's name, to w.
type logBuffer struct {
	name string
	w    io.Writer
	mu   sync.Mutex
	all  bytes.Buffer
	line []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all.Write(p)
	if b.w == nil {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(b.w, "%-6s %s\n", b.name, b.line[:i])
		b.line = b.line[i+1:]
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.all.String()
}

// FreeAddr returns 127.0.0.1:PORT with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitTCP waits until addr accepts a TCP connection, or p exits, or ctx
// ends.
func waitTCP(ctx context.Context, p *Proc, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s: %v\n%s", p.Name, addr, p.err, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s: not listening on %s: %w", p.Name, addr, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Need returns the path of the program name, found on PATH or in
// /usr/sbin and /usr/bin, where Debian puts the servers, or an error
// that names the Debian package to install.
func Need(name, debian string) (string, error) {
	path, err := exec.LookPath(name)
	for _, dir := range []string{"/usr/sbin/", "/usr/bin/"} {
		if err != nil {
			path, err = exec.LookPath(dir + name)
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s is not installed: install Debian's %s (apt-get install --no-install-recommends %s)", name, debian, debian)
	}
	return path, nil
}

// port returns the port of addr.
func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// CPU returns the time the process has spent on a CPU, the sum over its
// threads of the first field of /proc/PID/task/TID/schedstat (Linux).
func (p *Proc) CPU() (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", p.PID())
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var ns int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread has just ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			ns += v
		}
	}
	return time.Duration(ns), nil
}

// Writes returns how many write system calls (write, writev, sendmsg
// and the like) the process has made, from syscw in /proc/PID/io
// (Linux).
func (p *Proc) Writes() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.PID()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no syscw in /proc/%d/io", p.PID())
}
