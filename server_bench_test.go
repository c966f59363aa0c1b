//go:build !js

package ws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// BenchmarkBroadcast sends 1 KiB messages to 1,000 loopback clients, with
// Server.Broadcast (framed once, queued per receiver) and with a naive loop
// of Write calls, and reports deliveries per second, the process's CPU
// time per delivery (both ends, getrusage) and, on Linux, deliveries per
// write system call of the process (/proc/self/io's syscw, which counts
// the runtime's own wake-up writes too, so it errs low).
func BenchmarkBroadcast(b *testing.B) {
	const clients = 1000
	msg := make([]byte, 1024)
	for _, mode := range []string{"Broadcast", "WriteLoop"} {
		b.Run(mode, func(b *testing.B) {
			s := &ws.Server{
				Options: ws.AcceptOptions{Options: ws.Options{SendQueue: 1024}},
				Handler: func(c *ws.Conn, r *http.Request) {
					for range c.Messages() {
					}
				},
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ctx := context.Background()
			var wg sync.WaitGroup
			conns := make([]*ws.Conn, clients)
			n := b.N
			for i := range conns {
				c, _, err := ws.Dial(ctx, srv.URL, nil)
				if err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			for s.Len() < clients {
				time.Sleep(time.Millisecond)
			}
			wg.Add(clients)
			for _, c := range conns {
				go func() {
					defer wg.Done()
					readMessages(ctx, c, n, make([]byte, 2048))
				}()
			}
			server := make([]*ws.Conn, 0, clients)
			for c := range s.Conns() {
				server = append(server, c)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, w0 := cpuTime(b), writeSyscalls()
			for i := 0; i < n; i++ {
				if mode == "Broadcast" {
					s.Broadcast(ws.MessageBinary, msg, nil)
				} else {
					for _, c := range server {
						c.Write(ctx, ws.MessageBinary, msg)
					}
				}
			}
			wg.Wait()
			cpu, writes := cpuTime(b)-cpu0, writeSyscalls()-w0
			b.StopTimer()
			b.ReportMetric(float64(n*clients)/b.Elapsed().Seconds(), "deliveries/s")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*clients), "cpu-ns/delivery")
			}
			if w0 >= 0 && writes > 0 {
				b.ReportMetric(float64(n*clients)/float64(writes), "deliveries/write")
			}
			b.ReportMetric(0, "ns/op")
			for _, c := range conns {
				c.CloseNow()
			}
			s.Shutdown(ctx)
		})
	}
}

// writeSyscalls returns how many write system calls the process has made,
// from /proc/self/io, or -1 where that cannot be read.
func writeSyscalls() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
