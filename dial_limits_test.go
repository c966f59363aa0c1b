package ws_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// rawHTTPServer answers every connection with answer, which writes what
// it likes after the request has been read, until the test ends.
func rawHTTPServer(t *testing.T, answer func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, nc := range conns {
				nc.Close()
			}
		}()
		finished := make(chan struct{})
		defer func() {
			for range conns {
				<-finished
			}
		}()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, nc)
			go func() {
				defer func() { finished <- struct{}{} }()
				br := bufio.NewReader(nc)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				answer(nc)
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// endless writes chunk until the connection fails.
func endless(nc net.Conn, head, chunk string) {
	if _, err := io.WriteString(nc, head); err != nil {
		return
	}
	for {
		if _, err := io.WriteString(nc, chunk); err != nil {
			return
		}
	}
}

// heapGrowth returns how much the heap in use grew while f ran, sampled
// every millisecond.
func heapGrowth(f func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			max = maxU(max, ms.HeapAlloc)
			select {
			case <-stop:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	p := <-peak
	if p < base {
		return 0
	}
	return p - base
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func TestDialResponseHeadBounded(t *testing.T) {
	t.Run("header lines without end", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 101 Switching Protocols\r\n", "X-Filler: "+strings.Repeat("a", 100)+"\r\n")
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		start := time.Now()
		grew := heapGrowth(func() { _, _, err = ws.Dial(ctx, url, nil) })
		if !errors.Is(err, ws.ErrHeaderTooLarge) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
		if grew > 4<<20 {
			t.Errorf("heap grew by %d KiB", grew>>10)
		}
		t.Logf("%v after %v, heap +%d KiB", err, time.Since(start), grew>>10)
	})
	t.Run("a smaller bound", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Filler: "+strings.Repeat("a", 2000)+"\r\n\r\n")
		})
		_, _, err := ws.Dial(context.Background(), url, &ws.DialOptions{MaxResponseHeaderBytes: 1000})
		if !errors.Is(err, ws.ErrHeaderTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("one line that never ends, with a deadline", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Filler: ")
			for i := 0; i < 5000; i++ {
				if _, err := io.WriteString(nc, "a"); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		const d = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		_, _, err := ws.Dial(ctx, url, nil)
		took := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if took > d+150*time.Millisecond {
			t.Errorf("returned %v after the deadline", took-d)
		}
		if !strings.Contains(err.Error(), strings.TrimPrefix(strings.TrimSuffix(url, "/"), "ws://")) {
			t.Errorf("the error does not name the address: %v", err)
		}
	})
}

func TestDialRefusalBodyBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer func(nc net.Conn)
	}{
		{"401 with an endless chunked body", 401, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n", "400\r\n"+strings.Repeat("x", 0x400)+"\r\n")
		}},
		{"403 with a body of 10^12 bytes", 403, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("x", 1024))
		}},
		{"403 whose body stalls", 403, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nnot all")
			io.Copy(io.Discard, nc)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawHTTPServer(t, tc.answer)
			start := time.Now()
			// No deadline: the dial must end by itself.
			_, resp, err := ws.Dial(context.Background(), url, nil)
			var he *ws.HandshakeError
			if !errors.As(err, &he) || he.Status != tc.status || resp == nil {
				t.Fatalf("got %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			body, _ := io.ReadAll(resp.Body)
			if len(body) == 0 || len(body) > 16<<10 {
				t.Errorf("kept %d bytes of the body", len(body))
			}
		})
	}
}

func TestDialContextCause(t *testing.T) {
	url := rawHTTPServer(t, func(nc net.Conn) { io.Copy(io.Discard, nc) })
	cause := errors.New("the user gave up")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, cause)
	defer cancel()
	_, _, err := ws.Dial(ctx, url, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cause) {
		t.Fatalf("got %v", err)
	}
}
