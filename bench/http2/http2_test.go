// Package http2 compares WebSockets over HTTP/2 (RFC 8441) with
// WebSockets over HTTP/1.1 with TLS, both served by ws.Server, on three
// figures: what it costs to open a WebSocket (when the HTTP/2 connection
// exists already, against a fresh TCP and TLS connection for HTTP/1.1),
// the server's memory per idle WebSocket, and the server's CPU per echoed
// 1 KiB message.
//
// The server runs in a process of its own (this test binary, started
// again with WS_H2BENCH_SERVER=1 and GODEBUG=http2xconnect=1), pinned to
// CPU 0 with taskset when there is one, and the benchmarks, the client,
// run on CPU 1; the server's CPU time is read from its rusage before and
// after each benchmark. Run:
//
//	cd bench && go test -run XXX -bench . -count 5 ./http2
//
// Each benchmark reports server-cpu-µs/op (the server's user and system
// time per operation), and the idle ones server-B/conn (heap in use plus
// goroutine stacks, after a GC, per WebSocket).
package http2

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
	"github.com/seed-d6ba7b20/ws/h2"
)

const serverEnv = "WS_H2BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		serve()
		return
	}
	os.Exit(m.Run())
}

// stats is the server's answer to "stats".
type stats struct {
	HeapInuse  uint64 `json:"heapInuse"`
	StackInuse uint64 `json:"stackInuse"`
	Goroutines int    `json:"goroutines"`
	CPU        int64  `json:"cpuNs"` // user and system time
	Conns      int    `json:"conns"` // WebSockets open
}

// serve is the server process: ws.Server at /, serving HTTP/1.1 and
// HTTP/2 over TLS, each WebSocket echoing until it closes. It prints its
// URL and certificate, then answers "stats" on standard input until
// "quit" or the end of it.
func serve() {
	harness.RaiseNoFile(1 << 16)
	wss := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
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
	}}
	srv := httptest.NewUnstartedServer(wss)
	srv.EnableHTTP2 = true
	// Every WebSocket of the idle benchmark on one connection.
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1 << 16}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	defer srv.Close()
	fmt.Println(srv.URL, base64.StdEncoding.EncodeToString(srv.Certificate().Raw))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "stats":
			// The CPU time first, so that the GC below does not count.
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b, _ := json.Marshal(stats{
				HeapInuse:  ms.HeapInuse,
				StackInuse: ms.StackInuse,
				Goroutines: runtime.NumGoroutine(),
				CPU:        ru.Utime.Nano() + ru.Stime.Nano(),
				Conns:      wss.Len(),
			})
			fmt.Println(string(b))
		case "quit":
			return
		}
	}
}

// server is a running server process.
type server struct {
	cmd  *exec.Cmd
	in   *os.File
	out  *bufio.Reader
	url  string // wss://
	pool *x509.CertPool
}

// startServer starts the server process, on CPU 0 if taskset exists.
func startServer(b *testing.B) *server {
	argv := []string{os.Args[0], "-test.run=XXX"}
	if tp, err := exec.LookPath("taskset"); err == nil {
		argv = append([]string{tp, "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), serverEnv+"=1", "GODEBUG=http2xconnect=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &server{cmd: cmd, out: bufio.NewReader(out)}
	b.Cleanup(func() {
		in.Write([]byte("quit\n"))
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	s.in, _ = in.(*os.File)
	if s.in == nil {
		b.Fatal("stdin pipe is not a file")
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		b.Fatalf("the server did not start: %v", err)
	}
	u, cert, _ := strings.Cut(strings.TrimSpace(line), " ")
	der, err := base64.StdEncoding.DecodeString(cert)
	if err != nil {
		b.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(c)
	s.url = "wss" + strings.TrimPrefix(u, "https")
	return s
}

// stats asks the server for its figures.
func (s *server) stats(b *testing.B) stats {
	if _, err := s.in.Write([]byte("stats\n")); err != nil {
		b.Fatal(err)
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var st stats
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		b.Fatal(err)
	}
	return st
}

// dialer opens WebSockets over HTTP/1.1 with TLS, a fresh connection
// each, or over HTTP/2, on the connection of one Transport.
type dialer struct {
	name string
	opts *ws.DialOptions
}

func dialers(s *server) ([]dialer, func()) {
	tlsConfig := &tls.Config{RootCAs: s.pool}
	tr := h2.NewTransport(tlsConfig)
	return []dialer{
		{"h1-tls", &ws.DialOptions{TLSConfig: tlsConfig}},
		{"h2", &ws.DialOptions{HTTP2: tr}},
	}, tr.CloseIdleConnections
}

// openFirst opens and closes one WebSocket before a measurement, so that
// the HTTP/2 connection exists before it starts.
func openFirst(ctx context.Context, b *testing.B, s *server, d dialer) {
	c, _, err := ws.Dial(ctx, s.url, d.opts)
	if err != nil {
		b.Fatal(err)
	}
	c.Close(ws.StatusNormalClosure, "")
}

// reportCPU reports the server's CPU per operation since before.
func reportCPU(b *testing.B, s *server, before stats) {
	after := s.stats(b)
	b.ReportMetric(float64(after.CPU-before.CPU)/1e3/float64(b.N), "server-cpu-µs/op")
}

// BenchmarkOpen opens a WebSocket and closes it with the close
// handshake: over HTTP/1.1, each with a TCP connection and TLS handshake
// of its own; over HTTP/2, each a stream of the connection that the first
// opened.
func BenchmarkOpen(b *testing.B) {
	s := startServer(b)
	ds, closeIdle := dialers(s)
	defer closeIdle()
	ctx := context.Background()
	for _, d := range ds {
		b.Run(d.name, func(b *testing.B) {
			openFirst(ctx, b, s, d)
			before := s.stats(b)
			b.ResetTimer()
			for range b.N {
				c, _, err := ws.Dial(ctx, s.url, d.opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportCPU(b, s, before)
		})
	}
}

// BenchmarkEcho sends a 1 KiB binary message and reads its echo, on one
// WebSocket.
func BenchmarkEcho(b *testing.B) {
	s := startServer(b)
	ds, closeIdle := dialers(s)
	defer closeIdle()
	ctx := context.Background()
	msg := bytes.Repeat([]byte{'e'}, 1<<10)
	for _, d := range ds {
		b.Run(d.name, func(b *testing.B) {
			c, _, err := ws.Dial(ctx, s.url, d.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			buf := make([]byte, 0, 2<<10)
			before := s.stats(b)
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
					b.Fatal(err)
				}
				if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportCPU(b, s, before)
			c.Close(ws.StatusNormalClosure, "")
		})
	}
}

// idleConns is how many WebSockets BenchmarkIdle opens.
const idleConns = 2000

// BenchmarkIdle opens idleConns WebSockets that then send nothing, and
// reports the server's memory for each (one operation: run it with
// -benchtime 1x).
func BenchmarkIdle(b *testing.B) {
	if _, err := harness.RaiseNoFile(1 << 16); err != nil {
		b.Fatal(err)
	}
	s := startServer(b)
	ds, closeIdle := dialers(s)
	defer closeIdle()
	ctx := context.Background()
	for _, d := range ds {
		b.Run(d.name, func(b *testing.B) {
			openFirst(ctx, b, s, d)
			time.Sleep(100 * time.Millisecond)
			before := s.stats(b)
			conns := make([]*ws.Conn, 0, idleConns)
			defer func() {
				for _, c := range conns {
					c.CloseNow()
				}
			}()
			for range idleConns {
				c, _, err := ws.Dial(ctx, s.url, d.opts)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
			}
			var after stats
			for deadline := time.Now().Add(10 * time.Second); ; {
				after = s.stats(b)
				if after.Conns == idleConns || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if after.Conns != idleConns {
				b.Fatalf("the server holds %d WebSockets, want %d", after.Conns, idleConns)
			}
			mem := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
			b.ReportMetric(mem/idleConns, "server-B/conn")
			b.ReportMetric(float64(after.StackInuse-before.StackInuse)/idleConns, "server-stack-B/conn")
			b.ReportMetric(float64(after.Goroutines-before.Goroutines)/idleConns, "server-goroutines/conn")
		})
	}
}
