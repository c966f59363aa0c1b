package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// config is the driver's flags.
type config struct {
	conns, churn, echo, echoSize, workers int
	hold, every, echoEvery                time.Duration
	rampLimit, closeLimit, settle         time.Duration
	src                                   []net.IP
	profile                               string
	memProfileRate                        int
}

func runMain(args []string) error {
	var cfg config
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.IntVar(&cfg.conns, "conns", 15000, "connections held")
	fs.DurationVar(&cfg.hold, "hold", 3*time.Minute, "how long the connections are held")
	fs.IntVar(&cfg.churn, "churn", 1500, "idle connections closed and replaced by new ones in each churn round")
	fs.DurationVar(&cfg.every, "every", 10*time.Second, "time between churn rounds, which is also each round's time limit")
	fs.IntVar(&cfg.echo, "echo", 100, "connections that echo during the hold (never churned)")
	fs.DurationVar(&cfg.echoEvery, "echointerval", 100*time.Millisecond, "each echoing connection starts at most one round trip per interval")
	fs.IntVar(&cfg.echoSize, "echosize", 64, "bytes of each echoed (binary) message")
	fs.IntVar(&cfg.workers, "c", 32, "dials or closes in progress at once")
	fs.DurationVar(&cfg.rampLimit, "ramplimit", 30*time.Second, "time limit for opening the connections")
	fs.DurationVar(&cfg.closeLimit, "closelimit", 40*time.Second, "time limit for closing them all at the end; the rest are closed without a handshake")
	fs.DurationVar(&cfg.settle, "settle", 15*time.Second, "how long to wait, after the close, for the server to count no connection and its baseline of goroutines")
	src := fs.String("src", "", "comma-separated loopback source addresses to dial from, in turn (default: the kernel's choice)")
	fs.StringVar(&cfg.profile, "profile", "", "write the server's goroutine and heap profiles at the baseline, the end of the hold and after the close to this directory")
	fs.IntVar(&cfg.memProfileRate, "memprofilerate", 0, "the server's runtime.MemProfileRate if > 0, for -profile")
	fs.Parse(args)

	switch {
	case cfg.conns < 1 || cfg.echo < 0 || cfg.echo > cfg.conns:
		return errors.New("need -conns >= 1 and 0 <= -echo <= -conns")
	case cfg.churn < 0 || cfg.churn > cfg.conns-cfg.echo:
		return errors.New("-churn must be between 0 and -conns minus -echo")
	case cfg.hold <= 0 || cfg.workers < 1 || cfg.echoSize < 1 || cfg.echoEvery <= 0:
		return errors.New("-hold, -c, -echosize and -echointerval must be positive")
	case cfg.churn > 0 && cfg.every <= 0:
		return errors.New("-every must be positive when -churn is")
	}
	for _, s := range strings.Split(*src, ",") {
		if s == "" {
			continue
		}
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("-src %q is not a loopback address", s)
		}
		cfg.src = append(cfg.src, ip)
	}
	if cfg.profile != "" {
		if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
			return err
		}
	}
	return soak(cfg)
}

// server is the server process, as the driver talks to it.
type server struct {
	*harness.Proc
	pid int
}

// query sends cmd and decodes the server's answer.
func (s *server) query(cmd string) (stats, error) {
	var st stats
	if _, err := fmt.Fprintln(s.In, cmd); err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := s.Line(ctx)
	if err != nil {
		return st, fmt.Errorf("%s: %w", cmd, err)
	}
	if err := json.Unmarshal([]byte(l), &st); err != nil {
		return st, fmt.Errorf("%s: %q: %w", cmd, l, err)
	}
	if st.Error != "" {
		return st, fmt.Errorf("%s: %s", cmd, st.Error)
	}
	return st, nil
}

// sample is the server's state at one point of the run.
type sample struct {
	label string
	at    time.Duration // since the hold began; negative before it
	rss   int64         // VmRSS in bytes, read by the driver
	st    stats
}

// take reads the server's RSS, then asks it cmd (stats, gc or free).
func (s *server) take(label, cmd string, t0 time.Time) (sample, error) {
	sm := sample{label: label, at: time.Since(t0)}
	st, err := s.query(cmd)
	if err != nil {
		return sm, err
	}
	sm.st = st
	// After the command, so that gc and free show in it.
	sm.rss, err = vmRSS(s.pid)
	return sm, err
}

func (sm sample) String() string {
	return fmt.Sprintf("%-22s t=%6.1fs RSS %7.1f MiB, open %5d, goroutines %5d, heap alloc %6.1f MiB, inuse %6.1f MiB, stack %6.1f MiB",
		sm.label, sm.at.Seconds(), mib(sm.rss), sm.st.Open, sm.st.Goroutines,
		mib(int64(sm.st.HeapAlloc)), mib(int64(sm.st.HeapInuse)), mib(int64(sm.st.StackInuse)))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// vmRSS reads VmRSS of process pid, in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// pool dials and closes the client connections and counts what fails.
type pool struct {
	url  string
	opts []*ws.DialOptions // one per source address, used in turn

	dials, dialFails   atomic.Int64
	closes, closeFails atomic.Int64
	closesCut          atomic.Int64 // closed without a handshake at a time limit

	mu       sync.Mutex
	errs     []string // the first few distinct errors
	dialTime []time.Duration
}

func newPool(addr string, src []net.IP) *pool {
	p := &pool{url: "ws://" + addr + "/"}
	if len(src) == 0 {
		src = []net.IP{nil}
	}
	for _, ip := range src {
		d := &net.Dialer{}
		if ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		// Setting NetDial also keeps any proxy of the environment out.
		p.opts = append(p.opts, &ws.DialOptions{NetDial: d.DialContext})
	}
	return p
}

func (p *pool) note(err error) {
	msg := err.Error()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) < 8 && !slices.Contains(p.errs, msg) {
		p.errs = append(p.errs, msg)
	}
}

// dial opens connection i, or returns nil and counts the failure.
func (p *pool) dial(ctx context.Context, i int) *ws.Conn {
	p.dials.Add(1)
	start := time.Now()
	c, _, err := ws.Dial(ctx, p.url, p.opts[i%len(p.opts)])
	if err != nil {
		p.dialFails.Add(1)
		p.note(fmt.Errorf("dial: %w", err))
		return nil
	}
	d := time.Since(start)
	p.mu.Lock()
	p.dialTime = append(p.dialTime, d)
	p.mu.Unlock()
	return c
}

// close closes c with a close handshake, or at once when ctx has ended.
func (p *pool) close(ctx context.Context, c *ws.Conn) {
	p.closes.Add(1)
	if ctx.Err() != nil {
		p.closesCut.Add(1)
		c.CloseNow()
		return
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		p.closeFails.Add(1)
		p.note(fmt.Errorf("close: %w", err))
	}
}

// parallel calls f(0) ... f(n-1) on up to workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// echoer is one echoing connection's record.
type echoer struct {
	lat   []time.Duration
	began []time.Time // when each round trip began
	err   error       // what stopped it before the end of the hold
}

// run sends a message of size bytes and waits for its echo, at most once
// per every, until ctx ends or a round trip fails.
func (e *echoer) run(ctx context.Context, c *ws.Conn, size int, every time.Duration, done *atomic.Int64) {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(rand.IntN(256))
	}
	buf := make([]byte, 0, size)
	t := time.NewTimer(rand.N(every)) // spread the connections over the interval
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		t.Reset(every)
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Write(octx, ws.MessageBinary, msg)
		var typ ws.MessageType
		if err == nil {
			typ, buf, err = c.ReadAppend(octx, buf[:0])
		}
		cancel()
		if ctx.Err() != nil {
			return // the hold ended during the round trip: not counted
		}
		if err == nil && (typ != ws.MessageBinary || !bytes.Equal(buf, msg)) {
			err = errors.New("the echo differs from the message")
		}
		if err != nil {
			e.err = err
			return
		}
		e.lat = append(e.lat, time.Since(start))
		e.began = append(e.began, start)
		done.Add(1)
	}
}

// quantile is the q-quantile of sorted v (nearest rank).
func quantile(v []time.Duration, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	i := int(float64(len(v))*q+0.999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

// open counts the connections in slots.
func open(slots []*ws.Conn) int {
	n := 0
	for _, c := range slots {
		if c != nil {
			n++
		}
	}
	return n
}

func soak(cfg config) error {
	began := time.Now()
	lim, err := harness.RaiseNoFile(1 << 20)
	if err != nil {
		return err
	}
	if need := uint64(cfg.conns + 256); lim < need {
		return fmt.Errorf("RLIMIT_NOFILE is %d, below the %d needed", lim, need)
	}
	ports := "?"
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		ports = strings.Join(strings.Fields(string(b)), "-")
		var lo, hi int
		if _, err := fmt.Sscan(string(b), &lo, &hi); err == nil {
			if per := cfg.conns / max(1, len(cfg.src)); per > (hi-lo+1)*9/10 {
				fmt.Printf("warning: %d connections per source address and %d local ports; use -src\n", per, hi-lo+1)
			}
		}
	}
	fmt.Printf("soak: %d connections, hold %v, churn %d every %v, %d echoing every %v with %d B; RLIMIT_NOFILE %d; local ports %s; GOMAXPROCS %d\n",
		cfg.conns, cfg.hold, cfg.churn, cfg.every, cfg.echo, cfg.echoEvery, cfg.echoSize, lim, ports, runtime.GOMAXPROCS(0))
	printLoad("loadavg at the start")

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	proc, err := harness.Start(sctx, exec.Command(exe, "server", "-memprofilerate", strconv.Itoa(cfg.memProfileRate)))
	scancel()
	if err != nil {
		return err
	}
	srv := &server{Proc: proc, pid: proc.Cmd.Process.Pid}
	defer srv.Stop()
	fmt.Printf("server pid %d at %s\n", srv.pid, srv.Addr)

	t0 := time.Now() // set again when the hold begins
	var samples []sample
	take := func(label, cmd string) (sample, error) {
		sm, err := srv.take(label, cmd, t0)
		if err == nil {
			samples = append(samples, sm)
			fmt.Println(sm)
		}
		return sm, err
	}
	if cfg.profile != "" {
		srv.profiles(cfg.profile, "baseline")
	}
	baseGC, err := take("baseline (gc)", "gc")
	if err != nil {
		return err
	}
	baseFree, err := take("baseline (gc+free)", "free")
	if err != nil {
		return err
	}
	clientBase := runtime.NumGoroutine()

	// Open the connections.
	p := newPool(srv.Addr, cfg.src)
	slots := make([]*ws.Conn, cfg.conns)
	rctx, rcancel := context.WithTimeout(context.Background(), cfg.rampLimit)
	rampStart := time.Now()
	parallel(cfg.conns, cfg.workers, func(i int) { slots[i] = p.dial(rctx, i) })
	rcancel()
	rampTime := time.Since(rampStart)
	rampFails := p.dialFails.Load()
	rampDials := slices.Clone(p.dialTime)
	fmt.Printf("opened %d of %d in %v (%d dial failures)\n", open(slots), cfg.conns, rampTime.Round(time.Millisecond), rampFails)
	// The server counts a connection just after its 101 goes out.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err := srv.query("stats"); err != nil || st.Open >= open(slots) {
			break
		}
	}

	// The hold.
	t0 = time.Now()
	start, err := take("hold start", "stats")
	if err != nil {
		return err
	}
	ectx, ecancel := context.WithCancel(context.Background())
	defer ecancel()
	echoers := make([]echoer, cfg.echo)
	var echoed atomic.Int64
	var ewg sync.WaitGroup
	for i := range echoers {
		if c := slots[i]; c != nil {
			ewg.Go(func() { echoers[i].run(ectx, c, cfg.echoSize, cfg.echoEvery, &echoed) })
		}
	}
	holdEnd := t0.Add(cfg.hold)
	midAt := t0.Add(cfg.hold / 2)
	var mid sample
	midDone := false
	takeMid := func() error {
		time.Sleep(time.Until(midAt))
		var err error
		mid, err = take("hold middle", "stats")
		midDone = true
		return err
	}
	rounds := 0
	var churning []window
	for k := 1; cfg.churn > 0; k++ {
		at := t0.Add(time.Duration(k) * cfg.every)
		if !at.Before(holdEnd) {
			break
		}
		if !midDone && !midAt.After(at) {
			if err := takeMid(); err != nil {
				return err
			}
		}
		time.Sleep(time.Until(at))
		rounds++
		churning = append(churning, churnRound(cfg, p, slots, &echoed, k))
		if _, err := take(fmt.Sprintf("after churn %d", k), "stats"); err != nil {
			return err
		}
	}
	if !midDone {
		if err := takeMid(); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(holdEnd))
	ecancel()
	ewg.Wait()
	end, err := take("hold end", "stats")
	if err != nil {
		return err
	}
	if cfg.profile != "" {
		srv.profiles(cfg.profile, "hold-end")
	}

	// Close everything.
	n := open(slots)
	cctx, ccancel := context.WithTimeout(context.Background(), cfg.closeLimit)
	closeStart := time.Now()
	parallel(len(slots), cfg.workers, func(i int) {
		if c := slots[i]; c != nil {
			p.close(cctx, c)
			slots[i] = nil
		}
	})
	ccancel()
	closeTime := time.Since(closeStart)
	fmt.Printf("closed %d in %v\n", n, closeTime.Round(time.Millisecond))
	settleStart := time.Now()
	var settled bool
	var last stats
	for deadline := settleStart.Add(cfg.settle); ; time.Sleep(100 * time.Millisecond) {
		if last, err = srv.query("stats"); err != nil {
			return err
		}
		if last.Open == 0 && last.Goroutines <= baseGC.st.Goroutines {
			settled = true
			break
		}
		if time.Now().After(deadline) {
			break
		}
	}
	settleTime := time.Since(settleStart)
	after, err := take("after close", "stats")
	if err != nil {
		return err
	}
	afterGC, err := take("after close (gc)", "gc")
	if err != nil {
		return err
	}
	afterFree, err := take("after close (gc+free)", "free")
	if err != nil {
		return err
	}
	if cfg.profile != "" {
		srv.profiles(cfg.profile, "after-close")
	}
	var leftover string
	if afterGC.st.Goroutines > baseGC.st.Goroutines {
		dir := cfg.profile
		if dir == "" {
			dir = os.TempDir()
		}
		leftover = filepath.Join(dir, fmt.Sprintf("soak-leftover-goroutines-%d.txt", srv.pid))
		if _, err := srv.query("goroutines " + leftover); err != nil {
			leftover = err.Error()
		}
	}
	clientAfter := runtime.NumGoroutine()
	printLoad("loadavg at the end")

	// The report.
	var lat, latIn, latOut []time.Duration
	echoFailed := 0
	for _, e := range echoers {
		lat = append(lat, e.lat...)
		for j, d := range e.lat {
			if slices.ContainsFunc(churning, func(w window) bool { return w.holds(e.began[j]) }) {
				latIn = append(latIn, d)
			} else {
				latOut = append(latOut, d)
			}
		}
		if e.err != nil {
			echoFailed++
			p.note(fmt.Errorf("echo: %w", e.err))
		}
	}
	slices.Sort(lat)
	slices.Sort(latIn)
	slices.Sort(latOut)
	slices.Sort(rampDials)
	churnDials := p.dialTime[len(rampDials):]
	slices.Sort(churnDials)
	peak := slices.MaxFunc(samples, func(a, b sample) int { return int(a.rss - b.rss) })

	fmt.Printf("\n## Soak summary\n\n")
	fmt.Printf("- command: `soak run %s`\n", strings.Join(os.Args[2:], " "))
	fmt.Printf("- connections: %d held for %v; churn rounds: %d of %d closes and dials, every %v; echoing connections: %d, one round trip of %d B at most every %v each\n",
		cfg.conns, cfg.hold, rounds, cfg.churn, cfg.every, cfg.echo, cfg.echoSize, cfg.echoEvery)
	fmt.Printf("- ramp: %d opened in %v (%.0f/s); dial time p50 %s, p99 %s\n",
		cfg.conns-int(rampFails), rampTime.Round(time.Millisecond), float64(cfg.conns-int(rampFails))/rampTime.Seconds(),
		ms(quantile(rampDials, 0.5)), ms(quantile(rampDials, 0.99)))
	fmt.Printf("- churn dials: %d, dial time p50 %s, p99 %s\n", len(churnDials), ms(quantile(churnDials, 0.5)), ms(quantile(churnDials, 0.99)))
	fmt.Printf("- dials: %d, failed %d (%d in the ramp); closes: %d, failed %d, cut at a time limit %d\n",
		p.dials.Load(), p.dialFails.Load(), rampFails, p.closes.Load(), p.closeFails.Load(), p.closesCut.Load())
	fmt.Printf("- server RSS: baseline %.1f MiB (after GC and FreeOSMemory); hold start %.1f MiB, middle %.1f MiB, end %.1f MiB; peak of the samples %.1f MiB (%s)\n",
		mib(baseFree.rss), mib(start.rss), mib(mid.rss), mib(end.rss), mib(peak.rss), peak.label)
	fmt.Printf("- server open/goroutines: hold start %d/%d, middle %d/%d, end %d/%d\n",
		start.st.Open, start.st.Goroutines, mid.st.Open, mid.st.Goroutines, end.st.Open, end.st.Goroutines)
	fmt.Printf("- close: %d closed in %v; the server counted no connection and at most its baseline of goroutines after %v more (settled: %v)\n",
		n, closeTime.Round(time.Millisecond), settleTime.Round(time.Millisecond), settled)
	fmt.Printf("- server goroutines: baseline %d, after close %d (after GC %d)\n", baseGC.st.Goroutines, after.st.Goroutines, afterGC.st.Goroutines)
	fmt.Printf("- server heap after GC: baseline alloc %d B / inuse %d B / objects %d; after close alloc %d B / inuse %d B / objects %d\n",
		baseGC.st.HeapAlloc, baseGC.st.HeapInuse, baseGC.st.HeapObjects, afterGC.st.HeapAlloc, afterGC.st.HeapInuse, afterGC.st.HeapObjects)
	fmt.Printf("- server runtime memory, baseline -> after close (MiB): stack in use %.2f -> %.2f, stack sys %.2f -> %.2f, mspan sys %.2f -> %.2f, GC sys %.2f -> %.2f, other sys %.2f -> %.2f, Sys %.1f -> %.1f\n",
		mib(int64(baseGC.st.StackInuse)), mib(int64(afterGC.st.StackInuse)), mib(int64(baseGC.st.StackSys)), mib(int64(afterGC.st.StackSys)),
		mib(int64(baseGC.st.MSpanSys)), mib(int64(afterGC.st.MSpanSys)), mib(int64(baseGC.st.GCSys)), mib(int64(afterGC.st.GCSys)),
		mib(int64(baseGC.st.OtherSys)), mib(int64(afterGC.st.OtherSys)), mib(int64(baseGC.st.Sys)), mib(int64(afterGC.st.Sys)))
	fmt.Printf("- server RSS after close: %.1f MiB, after GC %.1f MiB, after FreeOSMemory %.1f MiB (baseline %.1f MiB)\n",
		mib(after.rss), mib(afterGC.rss), mib(afterFree.rss), mib(baseFree.rss))
	fmt.Printf("- server handlers: %d started, %d ended, %d by the client's 1000 close; other endings: %q\n",
		afterFree.st.Accepted, afterFree.st.Ended, afterFree.st.Clean, afterFree.st.Unclean)
	fmt.Printf("- echo: %d round trips, p50 %s, p99 %s, max %s; connections whose echo failed: %d\n",
		len(lat), ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)), ms(quantile(lat, 1)), echoFailed)
	fmt.Printf("- echo while a churn round ran: %d round trips, p50 %s, p99 %s; the rest of the time: %d, p50 %s, p99 %s\n",
		len(latIn), ms(quantile(latIn, 0.5)), ms(quantile(latIn, 0.99)), len(latOut), ms(quantile(latOut, 0.5)), ms(quantile(latOut, 0.99)))
	fmt.Printf("- server GC during the hold: %d cycles, %v of pauses in all\n",
		end.st.NumGC-start.st.NumGC, time.Duration(end.st.PauseTotalNs-start.st.PauseTotalNs).Round(time.Microsecond))
	fmt.Printf("- client goroutines: %d before the ramp, %d after the close\n", clientBase, clientAfter)
	if len(p.errs) > 0 {
		fmt.Printf("- first errors: %q\n", p.errs)
	}
	if leftover != "" {
		fmt.Printf("- LEFTOVER server goroutines: profile in %s\n", leftover)
	}
	fmt.Printf("- run took %v\n", time.Since(began).Round(time.Second))
	return nil
}

// window is a span of time.
type window struct{ from, to time.Time }

func (w window) holds(t time.Time) bool { return !t.Before(w.from) && !t.After(w.to) }

// churnRound closes cfg.churn idle connections, chosen at random, with a
// close handshake, and dials as many new ones in their place, within
// cfg.every (at least 5 s). It returns when it ran.
func churnRound(cfg config, p *pool, slots []*ws.Conn, echoed *atomic.Int64, k int) window {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), max(cfg.every, 5*time.Second))
	defer cancel()
	var idle []int
	for i := cfg.echo; i < len(slots); i++ {
		if slots[i] != nil {
			idle = append(idle, i)
		}
	}
	rand.Shuffle(len(idle), func(i, j int) { idle[i], idle[j] = idle[j], idle[i] })
	pick := idle[:min(cfg.churn, len(idle))]
	fails0, cfails0 := p.dialFails.Load(), p.closeFails.Load()
	t := time.Now()
	parallel(len(pick), cfg.workers, func(j int) {
		i := pick[j]
		p.close(ctx, slots[i])
		slots[i] = nil
	})
	closeTime := time.Since(t)
	t = time.Now()
	// Replace the closed ones and any that failed to open before.
	var empty []int
	for i := cfg.echo; i < len(slots); i++ {
		if slots[i] == nil {
			empty = append(empty, i)
		}
	}
	parallel(len(empty), cfg.workers, func(j int) {
		i := empty[j]
		slots[i] = p.dial(ctx, i)
	})
	fmt.Printf("churn %d: closed %d in %v (%d failed), dialed %d in %v (%d failed); %d open; %d echoes so far\n",
		k, len(pick), closeTime.Round(time.Millisecond), p.closeFails.Load()-cfails0,
		len(empty), time.Since(t).Round(time.Millisecond), p.dialFails.Load()-fails0, open(slots), echoed.Load())
	return window{began, time.Now()}
}

// profiles has the server write its goroutine and heap profiles to dir,
// named after when.
func (s *server) profiles(dir, when string) {
	for _, kind := range []string{"goroutines", "heap"} {
		name := filepath.Join(dir, fmt.Sprintf("%s-%s.txt", kind, when))
		if kind == "heap" {
			name = strings.TrimSuffix(name, ".txt") + ".pb.gz"
		}
		if _, err := s.query(kind + " " + name); err != nil {
			fmt.Fprintln(os.Stderr, "soak: profile:", err)
		}
	}
}

func printLoad(what string) {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("%s: %s\n", what, strings.TrimSpace(string(b)))
	}
}
