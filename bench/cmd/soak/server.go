package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"

	ws "github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// stats is the server's report, one line of JSON.
type stats struct {
	// Goroutines is runtime.NumGoroutine.
	Goroutines int `json:"goroutines"`
	// Open is Server.Len: the connections whose handler has not returned.
	Open int `json:"open"`
	// Accepted counts handlers started; Ended, handlers returned; Clean,
	// those whose read ended with the peer's 1000 close frame. The first
	// few other reasons are in Unclean.
	Accepted int64    `json:"accepted"`
	Ended    int64    `json:"ended"`
	Clean    int64    `json:"clean"`
	Unclean  []string `json:"unclean,omitempty"`

	// The fields of runtime.MemStats of the same names.
	HeapAlloc    uint64 `json:"heap_alloc"`
	HeapInuse    uint64 `json:"heap_inuse"`
	HeapIdle     uint64 `json:"heap_idle"`
	HeapReleased uint64 `json:"heap_released"`
	HeapObjects  uint64 `json:"heap_objects"`
	StackInuse   uint64 `json:"stack_inuse"`
	StackSys     uint64 `json:"stack_sys"`
	MSpanSys     uint64 `json:"mspan_sys"`
	GCSys        uint64 `json:"gc_sys"`
	OtherSys     uint64 `json:"other_sys"`
	Sys          uint64 `json:"sys"`
	NumGC        uint32 `json:"num_gc"`
	PauseTotalNs uint64 `json:"pause_total_ns"`

	// Error is why a command failed.
	Error string `json:"error,omitempty"`
}

// ends counts how the handlers ended.
type ends struct {
	accepted, ended, clean atomic.Int64

	mu      sync.Mutex
	unclean []string // the first few other errors, each once
}

// record counts the end of a handler whose last read or write failed
// with err.
func (e *ends) record(err error) {
	e.ended.Add(1)
	if ws.CloseStatus(err) == ws.StatusNormalClosure {
		e.clean.Add(1)
		return
	}
	msg := fmt.Sprint(err)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.unclean) < 8 && !strings.Contains(strings.Join(e.unclean, "\n"), msg) {
		e.unclean = append(e.unclean, msg)
	}
}

// echo is the server's handler: it reads each message with Read and
// writes it back, until either fails.
func (e *ends) echo(c *ws.Conn, r *http.Request) {
	e.accepted.Add(1)
	ctx := r.Context()
	var err error
	for {
		var typ ws.MessageType
		var p []byte
		if typ, p, err = c.Read(ctx); err != nil {
			break
		}
		if err = c.Write(ctx, typ, p); err != nil {
			break
		}
	}
	e.record(err)
}

// report reads the runtime's figures and the counts.
func (e *ends) report(s *ws.Server) stats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	st := stats{
		Goroutines:   runtime.NumGoroutine(),
		Open:         s.Len(),
		Accepted:     e.accepted.Load(),
		Ended:        e.ended.Load(),
		Clean:        e.clean.Load(),
		HeapAlloc:    m.HeapAlloc,
		HeapInuse:    m.HeapInuse,
		HeapIdle:     m.HeapIdle,
		HeapReleased: m.HeapReleased,
		HeapObjects:  m.HeapObjects,
		StackInuse:   m.StackInuse,
		StackSys:     m.StackSys,
		MSpanSys:     m.MSpanSys,
		GCSys:        m.GCSys,
		OtherSys:     m.OtherSys,
		Sys:          m.Sys,
		NumGC:        m.NumGC,
		PauseTotalNs: m.PauseTotalNs,
	}
	e.mu.Lock()
	st.Unclean = append([]string(nil), e.unclean...)
	e.mu.Unlock()
	return st
}

func serverMain(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	rate := fs.Int("memprofilerate", 0, "runtime.MemProfileRate if > 0 (1 records every allocation)")
	fs.Parse(args)
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}

	if _, err := harness.RaiseNoFile(1 << 20); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var e ends
	s := &ws.Server{Handler: e.echo}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	out := json.NewEncoder(os.Stdout)
	fmt.Printf("addr %s\n", ln.Addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		var st stats
		switch cmd {
		case "stats":
			st = e.report(s)
		case "gc":
			// The second collection empties what sync.Pool's victim
			// cache kept through the first.
			runtime.GC()
			runtime.GC()
			st = e.report(s)
		case "free":
			debug.FreeOSMemory()
			st = e.report(s)
		case "goroutines", "heap":
			if err := writeProfile(cmd, arg); err != nil {
				st.Error = err.Error()
			} else {
				st = e.report(s)
			}
		case "quit":
			cancel()
			return <-served
		default:
			st.Error = fmt.Sprintf("unknown command %q", cmd)
		}
		if err := out.Encode(st); err != nil {
			return err
		}
	}
	cancel()
	return <-served
}

// writeProfile writes the goroutine profile (as text, stacks counted) or
// a heap profile to path.
func writeProfile(kind, path string) error {
	if path == "" {
		return fmt.Errorf("%s needs a file name", kind)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if kind == "goroutines" {
		err = pprof.Lookup("goroutine").WriteTo(f, 1)
	} else {
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
