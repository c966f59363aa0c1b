//go:build !js

package ws

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// idleShapes are the handler shapes of ws.Server that
// TestIdleStackAndHeap measures: each reads every message until the
// connection fails, as users write it. heap is the most heap an idle
// connection of that shape may hold on the server, in bytes.
var idleShapes = []struct {
	name    string
	handler func(c *Conn)
	heap    int64
}{
	{"Read", func(c *Conn) {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}, 1600},
	{"Reader", func(c *Conn) {
		for {
			_, r, err := c.Reader(context.Background())
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			if err != nil {
				return
			}
		}
	}, 1600},
	{"Messages", func(c *Conn) {
		for range c.Messages() {
		}
	}, 2200},
}

// idleBatch is how many idle connections each measurement adds.
const idleBatch = 1000

// TestIdleStackAndHeap guards the memory of an idle ws.Server connection,
// run by Serve, for each handler shape, and for Read mounted on an
// http.Server as well: all its goroutines together hold one 2 KiB
// stack, the smallest there is, and its heap stays under the figure of
// its shape. A connection that parks two goroutines, or one whose stack
// has doubled, costs 2 KiB more, 30 MiB at 15,000 connections. Each
// handler runs under userFrame bytes of stack more, the room that the
// guard keeps for handlers of users' own.
//
// The server runs in a child process of its own, so that only the
// server's side is counted, with the garbage collector off except when
// the test collects: every figure is then read from a heap and stacks
// that hold only what the live objects need. The parent opens 1,000
// idle connections, the child collects garbage once every goroutine of
// theirs has parked, and the parent opens 1,000 more. The figures are
// those of the second thousand, the difference of the child's
// runtime.MemStats (StackInuse, HeapAlloc) and goroutine count after
// each batch, divided by 1,000.
//
// Why two batches: the runtime starts each goroutine with the average
// stack in use, plus a guard of 928 bytes, that the last collection
// found (GODEBUG=adaptivestackstart, on by default), rounded up to a
// power of two. Once an idle goroutine parks with more than 1,120 bytes
// in use, every goroutine started after the next collection gets 4 KiB,
// though none of them would outgrow 2 KiB; and a stack shrinks back only
// below a quarter in use. So the cost of the second thousand is what a
// server that holds many idle connections pays for each new one, whether
// a frame grew the stack on the way to the wait or the wait itself sits
// too deep.
func TestIdleStackAndHeap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation makes frames larger; CI runs this without it")
	}
	if shape := os.Getenv("WS_IDLE_SHAPE"); shape != "" {
		idleServerChild(t, shape)
		return
	}
	type run struct {
		shape   int
		mounted bool // on an http.Server rather than run by Serve
	}
	runs := []run{{0, false}, {1, false}, {2, false}, {0, true}}
	for _, r := range runs {
		shape := idleShapes[r.shape]
		name := shape.name
		if r.mounted {
			name += "/http.Server"
		}
		t.Run(name, func(t *testing.T) {
			first, second := idleMeasure(t, shape.name, r.mounted)
			stack := (second.Stack - first.Stack) / idleBatch
			heap := (second.Heap - first.Heap) / idleBatch
			g := float64(second.Goroutines-first.Goroutines) / idleBatch
			t.Logf("per idle connection: %d bytes of stack, %d of heap, %.2f goroutines; new goroutines start with %d bytes of stack",
				stack, heap, g, first.StartingStack)
			if first.StartingStack > 2048 {
				t.Errorf("with idle connections only, new goroutines start with %d bytes of stack: an idle goroutine parks with more than 1,120 bytes in use",
					first.StartingStack)
			}
			// A stack is 2,048 bytes; the rest is the stack spans' slack.
			if stack > 2048+256 {
				t.Errorf("an idle connection holds %d bytes of stack (%.2f goroutines); it should fit one 2 KiB stack", stack, g)
			}
			if heap > shape.heap {
				t.Errorf("an idle connection holds %d bytes of heap; at most %d were expected", heap, shape.heap)
			}
		})
	}
}

// idleStats is the child's report after a batch of connections.
type idleStats struct {
	Conns         int64  `json:"conns"`
	Goroutines    int64  `json:"goroutines"`
	Stack         int64  `json:"stack"` // runtime.MemStats.StackInuse
	Heap          int64  `json:"heap"`  // runtime.MemStats.HeapAlloc
	StartingStack uint64 `json:"starting_stack"`
}

// idleMeasure runs the server of shape in a child process and returns
// its reports after one batch of idle connections and after two.
func idleMeasure(t *testing.T, shape string, mounted bool) (first, second idleStats) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleStackAndHeap$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WS_IDLE_SHAPE="+shape)
	if mounted {
		cmd.Env = append(cmd.Env, "WS_IDLE_MOUNTED=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var clients []*Conn
	defer func() {
		for _, c := range clients {
			c.CloseNow()
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	lines := bufio.NewScanner(stdout)
	// next returns the value of the child's next line that starts with
	// key, passing over the test framework's lines.
	next := func(key string) string {
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), key+" "); ok {
				return v
			}
		}
		t.Fatalf("child ended before its %q line: %v", key, lines.Err())
		return ""
	}
	url := "ws://" + next("addr")
	batch := func() idleStats {
		for range idleBatch {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, _, err := Dial(ctx, url, nil)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		fmt.Fprintf(stdin, "measure %d\n", len(clients))
		var s idleStats
		if err := json.Unmarshal([]byte(next("stats")), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	return batch(), batch()
}

// idleServerChild is the child of idleMeasure: a ws.Server whose
// handler has the given shape, run by Serve, or mounted on an
// http.Server when WS_IDLE_MOUNTED is set. It prints "addr" and its address, then
// answers each "measure N" on stdin, once N connections are idle, with
// "stats" and an idleStats. It shuts down when stdin ends.
func idleServerChild(t *testing.T, name string) {
	var handler func(*Conn)
	for _, s := range idleShapes {
		if s.name == name {
			handler = s.handler
		}
	}
	if handler == nil {
		t.Fatalf("no handler shape %q", name)
	}
	// The collector runs only when the test asks: see TestIdleStackAndHeap.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var started atomic.Int64
	srv := &Server{Handler: func(c *Conn, r *http.Request) {
		started.Add(1)
		underUserFrame(c, handler)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	if os.Getenv("WS_IDLE_MOUNTED") != "" {
		hs := &http.Server{Handler: srv}
		go func() {
			hs.Serve(ln)
			close(served)
		}()
		defer func() {
			hs.Close()
			<-served
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		}()
	} else {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			if err := srv.Serve(ctx, ln); err != nil {
				t.Error(err)
			}
			close(served)
		}()
		defer func() {
			cancel()
			<-served
		}()
	}
	fmt.Printf("addr %s\n", ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.ParseInt(strings.TrimPrefix(in.Text(), "measure "), 10, 64)
		if err != nil {
			t.Fatalf("bad command %q", in.Text())
		}
		if err := waitIdle(&started, n); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		start := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
		metrics.Read(start)
		b, _ := json.Marshal(idleStats{
			Conns:         started.Load(),
			Goroutines:    int64(runtime.NumGoroutine()),
			Stack:         int64(ms.StackInuse),
			Heap:          int64(ms.HeapAlloc),
			StartingStack: start[0].Value.Uint64(),
		})
		fmt.Printf("stats %s\n", b)
	}
}

// userFrame is the stack that TestIdleStackAndHeap leaves to a handler
// of the user's, over what its shapes take: the room a handler has for
// locals and calls of its own before its connection's goroutine outgrows
// 2 KiB.
const userFrame = 128

// underUserFrame runs loop under a frame of userFrame bytes more.
//
//go:noinline
func underUserFrame(c *Conn, loop func(*Conn)) byte {
	var locals [userFrame]byte
	loop(c)
	// Read after the loop, locals stay on the stack all along.
	return locals[len(c.subprotocol)%userFrame]
}

// waitIdle waits until n handlers have started and every goroutine but
// the caller is parked, with no goroutine of net/http's left for a
// connection: the server is then idle, and stays so until a peer sends.
func waitIdle(started *atomic.Int64, n int64) error {
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if started.Load() >= n {
			for {
				m := runtime.Stack(buf, true)
				if m < len(buf) {
					buf = buf[:m]
					break
				}
				buf = make([]byte, 2*len(buf))
			}
			if busy := busyGoroutine(string(buf)); busy == "" {
				return nil
			} else if time.Now().After(deadline) {
				return fmt.Errorf("connections not idle after 30s:\n%s", busy)
			}
			buf = buf[:cap(buf)]
		} else if time.Now().After(deadline) {
			return fmt.Errorf("%d handlers started after 30s, not %d", started.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// busyGoroutine returns the trace of a goroutine in a dump of all of them
// that is neither the caller (the first) nor parked in a wait that lasts,
// or that serves a connection for net/http: "" if there is none.
func busyGoroutine(dump string) string {
	traces := strings.Split(dump, "\n\n")
	for _, g := range traces[1:] {
		head, _, _ := strings.Cut(g, "\n")
		switch {
		case strings.Contains(g, "net/http.(*conn).serve"),
			strings.Contains(g, "ws.(*Conn).readAwhile"): // about to park
			return g
		case strings.Contains(head, "[IO wait"), strings.Contains(head, "[chan receive"),
			strings.Contains(head, "[select"), strings.Contains(head, "[syscall"),
			strings.Contains(head, "[sync.Cond.Wait"), strings.Contains(head, "[sleep"):
		default:
			return g
		}
	}
	return ""
}
