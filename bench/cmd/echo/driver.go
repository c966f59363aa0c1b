package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// cell is one measurement setting: a test, a message size and a number of
// connections (for "hs", concurrent dialers).
type cell struct {
	test  string // "echo", "zecho" (compressed), "hs" or "bcast"
	size  int
	conns int
}

func (c cell) String() string {
	switch c.test {
	case "hs":
		if c.conns == 1 {
			return "sequential"
		}
		return fmt.Sprintf("%d concurrent", c.conns)
	case "bcast":
		return fmt.Sprintf("%s x %d clients", sizeName(c.size), c.conns)
	}
	return fmt.Sprintf("%s x %d", sizeName(c.size), c.conns)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// sample is one measurement of one library in one cell.
type sample struct {
	lib      string
	round    int
	cell     cell
	ops      int     // messages echoed, handshakes or deliveries
	secs     float64 // wall time of the ops
	p50, p99 float64 // round trip (handshake) latency, µs
	cpuNs    float64 // server CPU time over the ops, ns (schedstat)
	tickNs   float64 // the same from utime+stime, ns
	// For zecho: bytes on the client's connections over the ops, and the
	// server's Sec-WebSocket-Extensions.
	wireOut, wireIn float64
	ext             string
}

func (s sample) rate() float64      { return float64(s.ops) / s.secs }
func (s sample) cpuPerOp() float64  { return s.cpuNs / float64(s.ops) }
func (s sample) tickPerOp() float64 { return s.tickNs / float64(s.ops) }
func (s sample) outPerOp() float64  { return s.wireOut / float64(s.ops) }
func (s sample) inPerOp() float64   { return s.wireIn / float64(s.ops) }

// config is the driver's settings.
type config struct {
	libs, bcastLibs []string
	zLibs           []string // compressed echo servers
	sizes, conns    []int
	rounds          int
	limit           time.Duration
	hsCount         int
	bcastClients    int
	bcastBursts     int
	profile         string
	pin             bool
	byServer        bool         // run each echo and compressed echo server's cells in a row, one server at a time
	nodeDir         string       // directory of echo.js, if a node lib runs
	node            nodeVersions // their versions, if a node lib runs
}

func parseInts(s string) ([]int, error) {
	var v []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		v = append(v, n)
	}
	return v, nil
}

func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	libs := fs.String("libs", "tcp,ws,ws-rw,gorilla,gorilla-rw,coder,gobwas,gws,node", "echo servers: "+libNames()+", node")
	bcast := fs.String("bcastlibs", "ws-server,gws", "broadcast servers ("+strings.Join(broadcasters, ", ")+", node); empty for none")
	zlibs := fs.String("zlibs", "", "compressed echo servers ("+harness.Names(zServers)+", node-deflate); empty for none")
	nodeDir := fs.String("nodedir", "", "directory of the Node.js server echo.js, with node_modules (default: the first of ./node, ./bench/node, ../../node and the source tree's bench/node that holds echo.js)")
	sizes := fs.String("sizes", "16,1024,65536", "message sizes, bytes; empty for no echo cells")
	conns := fs.String("conns", "1,16", "connections")
	rounds := fs.Int("rounds", 3, "rounds; each runs every server once, in rotated order")
	limit := fs.Duration("limit", 3*time.Second, "time limit of one cell's load")
	hs := fs.Int("hs", 2000, "handshakes per handshake cell (0: none)")
	bclients := fs.Int("bcastclients", 1000, "broadcast receivers")
	bbursts := fs.Int("bcastbursts", 20, "bursts of 16 broadcasts each")
	md := fs.String("md", "", "write the results as Markdown to this file")
	profile := fs.String("profile", "", "write each server's CPU profile to this directory")
	nopin := fs.Bool("nopin", false, "do not pin with taskset")
	byServer := fs.Bool("byserver", false, "run each echo and compressed echo server's cells in a row, one server at a time, instead of every server in each cell in turn")
	fs.Parse(args)

	cfg := config{rounds: *rounds, limit: *limit, hsCount: *hs, bcastClients: *bclients, bcastBursts: *bbursts, profile: *profile, byServer: *byServer}
	if *libs != "" {
		cfg.libs = strings.Split(*libs, ",")
	}
	if *bcast != "" {
		cfg.bcastLibs = strings.Split(*bcast, ",")
	}
	if *zlibs != "" {
		cfg.zLibs = strings.Split(*zlibs, ",")
	}
	needNode := false
	for test, ls := range map[string][]string{"echo": cfg.libs, "zecho": cfg.zLibs, "bcast": cfg.bcastLibs} {
		for _, l := range ls {
			switch {
			case isNodeLib(l):
				if !nodeTest(l, test) {
					return fmt.Errorf("%q cannot run the %s test (node goes in -libs and -bcastlibs, node-deflate in -zlibs)", l, test)
				}
				needNode = true
			case test == "zecho":
				if _, ok := zServers[l]; !ok {
					return fmt.Errorf("%q is not a compressed echo server", l)
				}
			case test == "bcast":
				if !slices.Contains(broadcasters, l) {
					return fmt.Errorf("%q cannot broadcast; -bcastlibs takes %s and node", l, strings.Join(broadcasters, ", "))
				}
			default:
				if _, ok := servers[l]; !ok {
					return fmt.Errorf("unknown library %q; one of %s, node, node-deflate", l, libNames())
				}
			}
		}
	}
	var err error
	if cfg.sizes, err = parseInts(*sizes); err != nil {
		return err
	}
	if cfg.conns, err = parseInts(*conns); err != nil {
		return err
	}
	if tp, err := exec.LookPath("taskset"); err == nil && !*nopin {
		cfg.pin = true
		if os.Getenv("ECHO_PINNED") == "" {
			// Re-execute the load generator on CPU 1.
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			argv := append([]string{"taskset", "-c", "1", exe}, os.Args[1:]...)
			return syscall.Exec(tp, argv, append(os.Environ(), "ECHO_PINNED=1"))
		}
	}
	if needNode {
		if cfg.nodeDir, err = findNodeDir(*nodeDir); err != nil {
			return err
		}
		if cfg.node, err = checkNode(cfg.nodeDir); err != nil {
			return err
		}
		fmt.Printf("node servers: %s, from %s\n", cfg.node, cfg.nodeDir)
	}
	// The servers inherit the limit: the Go ones raise it again, node
	// cannot.
	lim, err := harness.RaiseNoFile(20000)
	if err != nil {
		return err
	}
	need := slices.Max(cfg.conns)
	if len(cfg.bcastLibs) > 0 {
		need = max(need, cfg.bcastClients)
	}
	if need += 64; lim < uint64(need) {
		return fmt.Errorf("RLIMIT_NOFILE is %d, and the cells need about %d descriptors in each process; raise the hard limit (ulimit -Hn) or use fewer connections", lim, need)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("RLIMIT_NOFILE %d, GOMAXPROCS %d, pinned %v, loadavg %s", lim, runtime.GOMAXPROCS(0), cfg.pin, load)
	if cfg.profile != "" {
		if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
			return err
		}
	}
	start := time.Now()
	var all []sample
	// The compressed echo's messages, made once: enough for the cell with
	// the most connections, each connection taking its own slice.
	var zmsgs [][]byte
	if len(cfg.zLibs) > 0 {
		n := 0
		for _, c := range cfg.conns {
			n = max(n, zMessageCount(c))
		}
		zmsgs = zMessages(n, 1)
	}
	// Each group runs in this order in every round. Echo and compressed
	// echo servers run cell by cell unless -byserver; the rest one server
	// at a time, in an order that rotates by one each round.
	type group struct {
		mode string
		libs []string
	}
	groups := []group{{"echo", cfg.libs}, {"zecho", cfg.zLibs}, {"bcast", cfg.bcastLibs}}
	for round := 1; round <= cfg.rounds; round++ {
		var byServer []struct{ lib, mode string }
		for _, g := range groups {
			if len(g.libs) == 0 {
				continue
			}
			if g.mode == "bcast" || cfg.byServer {
				for _, l := range g.libs {
					byServer = append(byServer, struct{ lib, mode string }{l, g.mode})
				}
				continue
			}
			cells := echoCells(cfg)
			if g.mode == "zecho" {
				cells = zechoCells(cfg)
			}
			ss, err := runByCell(cfg, round, g.libs, cells, zmsgs)
			if err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
			all = append(all, ss...)
		}
		for i := range byServer {
			e := byServer[(i+round-1)%len(byServer)]
			ss, err := runServer(cfg, e.lib, round, e.mode, zmsgs)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", e.lib, round, err)
			}
			all = append(all, ss...)
		}
	}
	elapsed := time.Since(start)
	loadEnd, _ := os.ReadFile("/proc/loadavg")
	rep := report(cfg, all)
	fmt.Print("\n" + rep)
	fmt.Printf("\nelapsed %v, loadavg at the end %s", elapsed.Round(time.Second), loadEnd)
	if *md != "" {
		return os.WriteFile(*md, []byte(markdown(cfg, rep, string(load), string(loadEnd), elapsed)), 0o644)
	}
	return nil
}

// errNoAnswer is the error of a wait for the server's next line that
// times out.
var errNoAnswer = errors.New("no answer from the server")

// startServer starts lib's server, pinned to CPU 0 if cfg.pin.
func startServer(cfg config, lib string, round int) (*harness.Proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{exe, "server", "-lib", lib}
	if cfg.profile != "" {
		args = append(args, "-cpuprofile", filepath.Join(cfg.profile, fmt.Sprintf("cpu-%s-%d.pprof", lib, round)))
	}
	if isNodeLib(lib) {
		prof := ""
		if cfg.profile != "" {
			prof = filepath.Join(cfg.profile, fmt.Sprintf("cpu-%s-%d.cpuprofile", lib, round))
		}
		args = nodeArgs(cfg.nodeDir, lib, prof)
	}
	if cfg.pin {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "ECHO_PINNED=")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 10*time.Second, errNoAnswer)
	defer cancel()
	return harness.Start(ctx, cmd)
}

// cpuTime returns the process's time on CPU in ns: the sum of the first
// field of /proc/PID/task/*/schedstat, and utime+stime of /proc/PID/stat.
func cpuTime(pid int) (sched, ticks float64, err error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseFloat(f[0], 64)
			sched += n
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields 14 and 15 of stat; f starts at field 3. USER_HZ is 100.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return sched, (ut + st) * 1e7, nil
}

// runServer runs every cell of mode ("echo" with handshakes, "zecho" or
// "bcast") against one fresh server process for lib.
func runServer(cfg config, lib string, round int, mode string, zmsgs [][]byte) ([]sample, error) {
	srv, err := startServer(cfg, lib, round)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	var out []sample
	if mode == "bcast" {
		s, err := runBroadcast(srv, srv.Cmd.Process.Pid, 1024, cfg.bcastClients, cfg.bcastBursts, 10*cfg.limit)
		return out, record(&out, lib, round, s, err)
	}
	cells := echoCells(cfg)
	if mode == "zecho" {
		cells = zechoCells(cfg)
	}
	for _, c := range cells {
		s, err := runCell(cfg, srv, lib, c, zmsgs)
		if err := record(&out, lib, round, s, err); err != nil {
			return out, err
		}
	}
	return out, nil
}

// record appends s, measured on lib in round, to out and prints it, or
// returns err naming the cell.
func record(out *[]sample, lib string, round int, s sample, err error) error {
	if err != nil {
		return fmt.Errorf("%v: %w", s.cell, err)
	}
	s.lib, s.round = lib, round
	*out = append(*out, s)
	fmt.Printf("round %d %-10s %-6s %-18v %10.0f ops/s  p50 %8.1f µs  p99 %8.1f µs  CPU %8.2f µs/op (ticks %.2f)\n",
		round, lib, s.cell.test, s.cell, s.rate(), s.p50, s.p99, s.cpuPerOp()/1e3, s.tickPerOp()/1e3)
	if s.cell.test == "zecho" {
		fmt.Printf("        wire bytes/msg: client to server %.1f, server to client %.1f; extension %q\n",
			s.outPerOp(), s.inPerOp(), s.ext)
	}
	return nil
}

// echoCells are the cells of the echo mode, in the order they run: every
// size with every connection count, then the handshakes.
func echoCells(cfg config) []cell { return slices.Concat(sizeCells(cfg), hsCells(cfg)) }

// sizeCells are the echo cells: every size with every connection count.
func sizeCells(cfg config) []cell {
	var cells []cell
	for _, size := range cfg.sizes {
		for _, n := range cfg.conns {
			cells = append(cells, cell{"echo", size, n})
		}
	}
	return cells
}

// hsCells are the handshake cells, sequential and with 16 dialers, if
// cfg asks for handshakes.
func hsCells(cfg config) []cell {
	if cfg.hsCount == 0 {
		return nil
	}
	return []cell{{"hs", 0, 1}, {"hs", 0, 16}}
}

// zechoCells are the cells of the compressed echo, one per connection
// count.
func zechoCells(cfg config) []cell {
	var cells []cell
	for _, n := range cfg.conns {
		cells = append(cells, cell{"zecho", zSize, n})
	}
	return cells
}

// runCell measures the echo, handshake or compressed echo cell c on lib's
// server srv; zmsgs are the compressed echo's messages.
func runCell(cfg config, srv *harness.Proc, lib string, c cell, zmsgs [][]byte) (sample, error) {
	pid := srv.Cmd.Process.Pid
	ws := lib != "tcp"
	switch c.test {
	case "hs":
		return runHandshakes(srv.Addr, ws, pid, cfg.hsCount, c.conns, cfg.limit)
	case "zecho":
		return runZEcho(srv.Addr, pid, c.conns, cfg.limit, zmsgs)
	}
	return runEcho(srv.Addr, ws, pid, c.size, c.conns, cfg.limit)
}

// runByCell runs one round of cells with every server of libs running at
// once, idle but for the cell at hand: each cell is measured on every
// server in turn, seconds apart, so that a change in the machine's speed
// falls on all of them alike and the ratios of one round compare like
// with like. The order of the servers rotates by one from each cell to
// the next, and from each round to the next.
func runByCell(cfg config, round int, libs []string, cells []cell, zmsgs [][]byte) ([]sample, error) {
	n := len(libs)
	srvs := make([]*harness.Proc, n)
	defer func() {
		for _, s := range srvs {
			if s != nil {
				s.Stop()
			}
		}
	}()
	for i := range n {
		j := (i + round - 1) % n
		s, err := startServer(cfg, libs[j], round)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", libs[j], err)
		}
		srvs[j] = s
	}
	var out []sample
	for k, c := range cells {
		for i := range n {
			j := (i + round - 1 + k) % n
			s, err := runCell(cfg, srvs[j], libs[j], c, zmsgs)
			if err := record(&out, libs[j], round, s, err); err != nil {
				return out, fmt.Errorf("%s: %w", libs[j], err)
			}
		}
	}
	return out, nil
}

// totalMessages is how many messages an echo cell sends, over all its
// connections.
func totalMessages(size int) int {
	switch {
	case size <= 1<<10:
		return 30000
	case size <= 64<<10:
		return 3000
	}
	return 300
}

// echoCounts is how many round trips each of n connections of an echo
// cell with messages of size bytes makes: warm to warm up, per measured.
func echoCounts(size, n int) (warm, per int) {
	per = max(totalMessages(size)/n, 20)
	return min(per/10, 100), per
}

// timed runs f, which is to stop at end, limit after its start. It sets
// s.secs to f's wall time, and s.cpuNs and s.tickNs to the CPU time of
// the server process pid over it.
func timed(s *sample, pid int, limit time.Duration, f func(end time.Time) error) error {
	sched0, tick0, err := cpuTime(pid)
	if err != nil {
		return err
	}
	start := time.Now()
	err = f(start.Add(limit))
	s.secs = time.Since(start).Seconds()
	sched1, tick1, cerr := cpuTime(pid)
	if err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	s.cpuNs, s.tickNs = sched1-sched0, tick1-tick0
	return nil
}

// roundTrips calls rt(j) for j from 0 up to count, or until end, and
// appends the time of each call to *lat unless lat is nil.
func roundTrips(count int, end time.Time, lat *[]time.Duration, rt func(j int) error) error {
	for j := range count {
		t := time.Now()
		if t.After(end) {
			return nil
		}
		if err := rt(j); err != nil {
			return err
		}
		if lat != nil {
			*lat = append(*lat, time.Since(t))
		}
	}
	return nil
}

// latencies sets s.ops to the number of round trips in lat, and s.p50 and
// s.p99 to their percentiles.
func latencies(s *sample, lat [][]time.Duration) {
	d := slices.Concat(lat...)
	s.ops = len(d)
	percentiles(s, d)
}

// percentiles sets p50 and p99 of d, in µs.
func percentiles(s *sample, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	s.p50 = float64(d[len(d)/2]) / 1e3
	s.p99 = float64(d[min(len(d)-1, len(d)*99/100)]) / 1e3
}

// runEcho measures n connections, each sending messages of size bytes one
// at a time and waiting for each echo, up to a fixed count per connection
// and the time limit.
func runEcho(addr string, ws bool, pid, size, n int, limit time.Duration) (sample, error) {
	s := sample{cell: cell{"echo", size, n}}
	warm, per := echoCounts(size, n)
	clients := make([]*client, 0, n)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for range n {
		c, err := dial(addr, ws, 64<<10)
		if err != nil {
			return s, err
		}
		clients = append(clients, c)
	}
	msg := message(size, ws)
	rt := func(c *client) func(int) error {
		return func(int) error { return c.roundTrip(msg, size) }
	}
	// Warm up: 10% of the count, at most 100 round trips per connection,
	// and no longer than the time limit (with many connections of large
	// messages, even the warm-up's count would take long).
	wend := time.Now().Add(limit)
	if err := parallel(n, func(i int) error {
		clients[i].c.SetDeadline(wend.Add(10 * time.Second))
		return roundTrips(warm, wend, nil, rt(clients[i]))
	}); err != nil {
		return s, fmt.Errorf("warm-up: %w", err)
	}
	lat := make([][]time.Duration, n)
	for i := range lat {
		lat[i] = make([]time.Duration, 0, per)
	}
	if err := timed(&s, pid, limit, func(end time.Time) error {
		return parallel(n, func(i int) error {
			clients[i].c.SetDeadline(end.Add(10 * time.Second))
			return roundTrips(per, end, &lat[i], rt(clients[i]))
		})
	}); err != nil {
		return s, err
	}
	latencies(&s, lat)
	return s, nil
}

// parallel runs f(i) for i from 0 up to n, all at once, and returns the
// first error.
func parallel(n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		wg.Go(func() {
			if err := f(i); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return first
}

// runHandshakes opens count connections, conc at a time, each with the
// opening handshake and then the close handshake, up to the time limit;
// the latencies are of both handshakes.
func runHandshakes(addr string, ws bool, pid, count, conc int, limit time.Duration) (sample, error) {
	s := sample{cell: cell{"hs", 0, conc}}
	// Warm up.
	for range 20 {
		c, err := dial(addr, ws, 4096)
		if err != nil {
			return s, err
		}
		if err := c.closeHandshake(); err != nil {
			return s, err
		}
	}
	// One slot per handshake, taken in turn by the dialers; a slot taken
	// when time is up stays 0.
	lat := make([]time.Duration, count)
	var next atomic.Int64
	if err := timed(&s, pid, limit, func(end time.Time) error {
		return parallel(conc, func(int) error {
			for k := next.Add(1) - 1; k < int64(count); k = next.Add(1) - 1 {
				t := time.Now()
				if !t.Before(end) {
					return nil
				}
				c, err := dial(addr, ws, 4096)
				if err != nil {
					return err
				}
				if err := c.closeHandshake(); err != nil {
					return err
				}
				lat[k] = time.Since(t)
			}
			return nil
		})
	}); err != nil {
		return s, err
	}
	latencies(&s, [][]time.Duration{slices.DeleteFunc(lat, func(d time.Duration) bool { return d == 0 })})
	return s, nil
}

// bcastBurst is the number of broadcasts per command: well within ws's
// send queue of 64, so that no receiver overflows.
const bcastBurst = 16

// runBroadcast connects n receivers, then has the server broadcast
// bursts of bcastBurst messages of size bytes, waiting after each burst
// until every receiver has read it. p50 and p99 are of the burst times.
func runBroadcast(srv *harness.Proc, pid, size, n, bursts int, limit time.Duration) (sample, error) {
	s := sample{cell: cell{"bcast", size, n}}
	clients := make([]*client, 0, n)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for range n {
		c, err := dial(srv.Addr, true, 4096)
		if err != nil {
			return s, err
		}
		c.c.SetDeadline(time.Now().Add(limit + 10*time.Second))
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range clients {
		go func() {
			for i := 1; ctx.Err() == nil; i++ {
				if err := c.readMessage(size); err != nil {
					if ctx.Err() == nil {
						failed.CompareAndSwap(nil, &err)
					}
					return
				}
				if i%bcastBurst == 0 {
					wg.Done()
				}
			}
		}()
	}
	burst := func() (time.Duration, error) {
		t := time.Now()
		wg.Add(n)
		fmt.Fprintf(srv.In, "broadcast %d %d\n", bcastBurst, size)
		lctx, lcancel := context.WithTimeoutCause(context.Background(), limit, errNoAnswer)
		l, err := srv.Line(lctx)
		lcancel()
		if err != nil {
			return 0, err
		}
		if l != fmt.Sprintf("ok %d", n*bcastBurst) {
			return 0, fmt.Errorf("server: %s", l)
		}
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(limit):
			if e := failed.Load(); e != nil {
				return 0, *e
			}
			return 0, errors.New("receivers did not get the burst in time")
		}
		return time.Since(t), nil
	}
	for range 2 { // warm up
		if _, err := burst(); err != nil {
			return s, err
		}
	}
	var d []time.Duration
	if err := timed(&s, pid, limit, func(end time.Time) error {
		for range bursts {
			bt, err := burst()
			if err != nil {
				return err
			}
			d = append(d, bt)
			if time.Now().After(end) {
				break
			}
		}
		return nil
	}); err != nil {
		return s, err
	}
	s.ops = len(d) * bcastBurst * n
	percentiles(&s, d)
	return s, nil
}
