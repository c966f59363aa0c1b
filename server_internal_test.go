//go:build !js

package ws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIdleStack guards the README's figure for an idle ws.Server
// connection: its handler, parked in Read, fits the smallest goroutine
// stack, 2 KiB. A frame that grows on that path doubles it, which costs
// 2 KiB per connection, 30 MiB at 15,000.
//
// It measures in a child process with GODEBUG=adaptivestackstart=0, so
// every goroutine starts with 2 KiB and grows only if its calls need
// more; with the default, the runtime starts goroutines with the average
// stack it has seen, which depends on the other goroutines of the
// process.
func TestIdleStack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation makes frames larger; CI runs this without it")
	}
	if os.Getenv("WS_IDLE_STACK_CHILD") == "1" {
		idleStackChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleStack$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "WS_IDLE_STACK_CHILD=1", "GODEBUG=adaptivestackstart=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "stack per idle connection: ")
	if !ok {
		t.Fatalf("child printed no figure:\n%s", out)
	}
	per, err := strconv.Atoi(strings.Fields(rest)[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack per idle connection: %d bytes", per)
	if per > 2300 {
		t.Errorf("an idle connection's goroutine has %d bytes of stack; it should fit 2 KiB", per)
	}
}

func idleStackChild(t *testing.T) {
	const n = 500
	parked := make(chan struct{}, n)
	srv := &Server{Handler: func(c *Conn, r *http.Request) {
		parked <- struct{}{}
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	clients := make([]*Conn, n)
	for i := range clients {
		c, _, err := Dial(context.Background(), hs.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
		<-parked
	}
	defer func() {
		for _, c := range clients {
			c.CloseNow()
		}
	}()
	time.Sleep(100 * time.Millisecond) // every handler reaches its wait
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.StackInuse) - int64(before.StackInuse)) / n
	t.Logf("stack per idle connection: %d bytes", per)
}
