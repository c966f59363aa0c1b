package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// result is one measurement: the server's stats before and after n idle
// connections.
type result struct {
	lib           string
	round, n      int
	before, after stats
}

// perConn is (after - before)/n of one stat, in KiB.
func (r result) perConn(f func(stats) float64) float64 {
	return (f(r.after) - f(r.before)) / float64(r.n) / 1024
}

var (
	rssOf   = func(s stats) float64 { return float64(s.RSS) }
	heapOf  = func(s stats) float64 { return float64(s.HeapAlloc) }
	stackOf = func(s stats) float64 { return float64(s.StackInuse) }
	metaOf  = func(s stats) float64 { return float64(s.RuntimeMeta) }
)

func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	libs := fs.String("libs", "tcp,ws,gorilla,coder,gobwas,gws", "comma-separated libraries: "+libNames())
	n := fs.Int("n", 10000, "idle connections per measurement")
	rounds := fs.Int("rounds", 3, "rounds; each round measures every library once, in rotated order")
	conc := fs.Int("c", 32, "connections opened at once")
	limit := fs.Duration("timeout", 2*time.Minute, "time limit of one measurement")
	md := fs.String("md", "", "write the results as Markdown to this file")
	profile := fs.String("profile", "", "write each server's heap profile, after the connections, to this directory")
	rate := fs.Int("memprofilerate", 0, "the servers' runtime.MemProfileRate if > 0")
	fs.Parse(args)

	names := strings.Split(*libs, ",")
	for _, l := range names {
		if _, ok := servers[l]; !ok {
			return fmt.Errorf("unknown library %q; one of %s", l, libNames())
		}
	}
	lim, err := raiseNoFile(noFile(*n), uint64(*n)+256)
	if err != nil {
		return err
	}
	fmt.Printf("RLIMIT_NOFILE %d\n", lim)
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			return err
		}
	}

	var all []result
	for round := 1; round <= *rounds; round++ {
		for i := range names {
			lib := names[(i+round-1)%len(names)]
			var prof string
			if *profile != "" {
				prof = filepath.Join(*profile, fmt.Sprintf("heap-%s-%d.pb.gz", lib, round))
			}
			ctx, cancel := context.WithTimeout(context.Background(), *limit)
			r, err := measure(ctx, lib, *n, *conc, *rate, prof)
			cancel()
			if err != nil {
				return fmt.Errorf("%s round %d: %w", lib, round, err)
			}
			r.round = round
			all = append(all, r)
			fmt.Printf("round %d %-8s %7.2f KiB/conn RSS (heap %.2f, stacks %.2f, runtime meta %.2f), goroutines %d -> %d\n",
				round, lib, r.perConn(rssOf), r.perConn(heapOf), r.perConn(stackOf), r.perConn(metaOf),
				r.before.Goroutines, r.after.Goroutines)
		}
	}
	table := medianTable(names, all)
	fmt.Print("\n" + table)
	if *md != "" {
		return os.WriteFile(*md, []byte(markdown(table, all)), 0o644)
	}
	return nil
}

// noFile is the RLIMIT_NOFILE both processes ask for, for n connections:
// at least 25,000.
func noFile(n int) uint64 { return max(25000, uint64(n)+1024) }

// measure runs one server process for lib, opens n idle connections to
// it and returns its stats before and after. It stops the server and
// closes the connections before it returns.
func measure(ctx context.Context, lib string, n, conc, rate int, profile string) (result, error) {
	res := result{lib: lib, n: n}
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	args := []string{"server", "-lib", lib, "-addr", "127.0.0.1:0", "-nofile", strconv.FormatUint(noFile(n), 10), "-need", strconv.Itoa(n + 256)}
	if rate > 0 {
		args = append(args, "-memprofilerate", strconv.Itoa(rate))
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.WaitDelay = 5 * time.Second
	srv, err := harness.Start(ctx, cmd)
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	if res.before, err = ask(ctx, srv, "stats"); err != nil {
		return res, err
	}

	conns, err := openConns(ctx, srv.Addr, n, conc, lib != "tcp")
	defer closeConns(conns)
	if err != nil {
		return res, err
	}
	for {
		s, err := ask(ctx, srv, "count")
		if err != nil {
			return res, err
		}
		if s.Conns >= int64(n) {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("server accepted %d of %d: %w", s.Conns, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Let the last handlers reach their blocking read.
	time.Sleep(500 * time.Millisecond)
	q := "stats"
	if profile != "" {
		q = "profile " + profile
	}
	if res.after, err = ask(ctx, srv, q); err != nil {
		return res, err
	}
	if res.after.Conns != int64(n) {
		return res, fmt.Errorf("server counts %d connections, want %d", res.after.Conns, n)
	}
	return res, nil
}

// ask sends a command to the server and decodes the reply.
func ask(ctx context.Context, srv *harness.Proc, cmd string) (stats, error) {
	var st stats
	if _, err := io.WriteString(srv.In, cmd+"\n"); err != nil {
		return st, err
	}
	l, err := srv.Line(ctx)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(l), &st); err != nil {
		return st, fmt.Errorf("server reply %q: %w", l, err)
	}
	if st.Error != "" {
		return st, errors.New("server: " + st.Error)
	}
	return st, nil
}

// openConns opens n connections to addr, conc at a time, each with a
// WebSocket handshake if ws is set, and leaves them idle.
func openConns(ctx context.Context, addr string, n, conc int, ws bool) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	req := []byte(harness.Handshake(addr))
	var next atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range conc {
		wg.Go(func() {
			d := net.Dialer{Timeout: 10 * time.Second}
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := d.DialContext(ctx, "tcp", addr)
				if err == nil {
					conns[i] = c
					if ws {
						err = clientHandshake(c, req)
					}
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err) })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	return conns, firstErr
}

// clientHandshake sends req and reads the response up to its blank line;
// it must be 101.
func clientHandshake(c net.Conn, req []byte) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(req); err != nil {
		return err
	}
	var buf [1024]byte
	var got int
	for !strings.Contains(string(buf[:got]), "\r\n\r\n") {
		if got == len(buf) {
			return errors.New("handshake response too long")
		}
		m, err := c.Read(buf[got:])
		got += m
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
	}
	if resp := string(buf[:got]); !strings.HasPrefix(resp, "HTTP/1.1 101 ") {
		first, _, _ := strings.Cut(resp, "\r\n")
		return fmt.Errorf("handshake refused: %q", first)
	}
	return nil
}

// closeConns closes the connections with a reset, so that no port is left
// in TIME_WAIT.
func closeConns(conns []net.Conn) {
	for _, c := range conns {
		if c == nil {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// medianTable returns a table, in Markdown, of each library's medians.
func medianTable(names []string, all []result) string {
	var b strings.Builder
	b.WriteString("| library | version | KiB/conn (RSS) | rounds (RSS KiB/conn) | heap KiB/conn | stacks KiB/conn | goroutines/conn |\n")
	b.WriteString("|---|---|--:|---|--:|--:|--:|\n")
	for _, lib := range names {
		var rs []result
		for _, r := range all {
			if r.lib == lib {
				rs = append(rs, r)
			}
		}
		var each []string
		for _, r := range rs {
			each = append(each, fmt.Sprintf("%.2f", r.perConn(rssOf)))
		}
		g := 0.0
		if len(rs) > 0 {
			r := rs[0]
			g = float64(r.after.Goroutines-r.before.Goroutines) / float64(r.n)
		}
		fmt.Fprintf(&b, "| %s | %s | **%.2f** | %s | %.2f | %.2f | %.2f |\n",
			lib, libVersion(lib), median(rs, rssOf), strings.Join(each, ", "),
			median(rs, heapOf), median(rs, stackOf), g)
	}
	return b.String()
}

// median is the median over rs of a stat per connection, in KiB.
func median(rs []result, f func(stats) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.perConn(f)
	}
	return harness.Median(v)
}

// libModules are the modules of the libraries.
var libModules = map[string]string{
	"ws":      "github.com/seed-d6ba7b20/ws",
	"gorilla": "github.com/gorilla/websocket",
	"coder":   "github.com/coder/websocket",
	"gobwas":  "github.com/gobwas/ws",
	"gws":     "github.com/lxzan/gws",
}

// libVersion returns the version of lib's module that is built in.
func libVersion(lib string) string {
	if lib == "tcp" || lib == "hijack" {
		return runtime.Version()
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "?"
	}
	mod := libModules[lib]
	if strings.HasPrefix(lib, "ws-") {
		mod = libModules["ws"]
	}
	for _, d := range bi.Deps {
		if d.Path != mod {
			continue
		}
		if d.Replace != nil {
			return "local, replaced by " + d.Replace.Path
		}
		return d.Version
	}
	return "?"
}

// markdown is the report: the machine, the command and the table.
func markdown(table string, all []result) string {
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "- machine: %d CPUs (nproc), kernel %s, %s %s/%s\n",
		runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- command: `%s`\n", strings.Join(append([]string{"idle"}, os.Args[1:]...), " "))
	if len(all) > 0 {
		fmt.Fprintf(&b, "- %d connections per measurement; %d measurements\n", all[0].n, len(all))
	}
	b.WriteString("\n" + table)
	return b.String()
}
