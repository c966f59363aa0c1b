package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/launch"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/message"
)

// bench measures broadcast across processes beside broadcast in one:
// for each setup in turn, round after round, it starts the processes,
// connects the receivers straight to them (no load balancer), and has
// three of the receivers, one per process, publish bursts of messages;
// each burst waits until every receiver has every message of it.
func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	setups := fs.String("setups", "redis,local", "comma-separated: redis and nats (3 processes), local (1 process, Broadcast alone)")
	receivers := fs.Int("clients", 3000, "receivers in all, split evenly over the processes")
	size := fs.Int("size", 1024, "bytes of text in each message (the JSON around it adds about 120)")
	burst := fs.Int("burst", 16, "messages per burst")
	bursts := fs.Int("bursts", 20, "bursts measured in each run")
	warmup := fs.Int("warmup", 2, "bursts before the measured ones")
	runs := fs.Int("runs", 5, "rounds; each runs every setup once")
	limit := fs.Duration("limit", 2*time.Minute, "bound of one run of one setup")
	fs.Parse(args)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ws-cluster-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := strings.Split(*setups, ",")
	results := map[string][]benchResult{}
	for r := range *runs {
		for _, setup := range names {
			nodes := 3
			if setup == "local" {
				nodes = 1
			}
			rctx, cancel := context.WithTimeout(ctx, *limit)
			res, err := benchRun(rctx, launch.Options{
				Engine: setup, Nodes: nodes, Program: self, Args: []string{"node"},
				DrainWait: 100 * time.Millisecond, Dir: dir,
			}, benchParams{receivers: *receivers, size: *size, burst: *burst, bursts: *bursts, warmup: *warmup})
			cancel()
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, setup, err)
			}
			fmt.Printf("run %d %-6s %s\n", r+1, setup, res)
			results[setup] = append(results[setup], res)
		}
	}
	fmt.Printf("\nmedians of %d runs: %d receivers, %d B of text, %d bursts of %d after %d warm-up bursts\n\n",
		*runs, *receivers, *size, *bursts, *burst, *warmup)
	fmt.Println("| setup | deliveries/s | p50 ms | p99 ms | server CPU µs per delivery | deliveries per write |")
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	for _, setup := range names {
		rs := results[setup]
		med := func(f func(benchResult) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f |\n", setup,
			med(func(r benchResult) float64 { return r.rate }),
			med(func(r benchResult) float64 { return r.p50.Seconds() * 1e3 }),
			med(func(r benchResult) float64 { return r.p99.Seconds() * 1e3 }),
			med(func(r benchResult) float64 { return r.cpuPerDelivery.Seconds() * 1e6 }),
			med(func(r benchResult) float64 { return r.perWrite }))
	}
	return nil
}

type benchParams struct {
	receivers, size, burst, bursts, warmup int
}

type benchResult struct {
	rate           float64 // deliveries per second
	p50, p99       time.Duration
	cpuPerDelivery time.Duration // of the processes and the engine together
	perWrite       float64       // deliveries per write system call of the processes
}

func (r benchResult) String() string {
	return fmt.Sprintf("%9.0f deliveries/s  p50 %7.2f ms  p99 %7.2f ms  %.2f µs CPU per delivery  %.2f deliveries per write",
		r.rate, r.p50.Seconds()*1e3, r.p99.Seconds()*1e3, r.cpuPerDelivery.Seconds()*1e6, r.perWrite)
}

// benchRun starts one setup, measures it and stops it.
func benchRun(ctx context.Context, o launch.Options, p benchParams) (res benchResult, err error) {
	c, err := launch.Start(ctx, o)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, c.Stop()) }()
	var nodes []*launch.Proc
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Proc)
	}
	servers := nodes
	if c.Engine != nil {
		servers = append(nodes[:len(nodes):len(nodes)], c.Engine)
	}

	// The receivers, split evenly, each read by a goroutine that counts
	// the chat messages and keeps their latency once recording is on.
	var (
		delivered atomic.Int64
		greeted   atomic.Int64
		recording atomic.Bool
		wg        sync.WaitGroup
		mu        sync.Mutex
		lat       []time.Duration
	)
	conns := make([]*ws.Conn, p.receivers)
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.CloseNow()
			}
		}
		wg.Wait()
	}()
	sem := make(chan struct{}, 64)
	var dialErr error
	var dialMu sync.Mutex
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			url := fmt.Sprintf("ws://%s/?name=r%d", c.Nodes[i%len(c.Nodes)].Addr, i)
			conn, _, err := ws.Dial(ctx, url, nil)
			<-sem
			if err != nil {
				dialMu.Lock()
				dialErr = err
				dialMu.Unlock()
				return
			}
			dialMu.Lock()
			conns[i] = conn
			dialMu.Unlock()
			var own []time.Duration
			var buf []byte
			for {
				_, buf, err = conn.ReadAppend(context.Background(), buf[:0])
				if err != nil {
					break
				}
				sent := message.SentAt(buf)
				if sent == 0 { // the hello
					greeted.Add(1)
					continue
				}
				if recording.Load() {
					own = append(own, time.Duration(time.Now().UnixNano()-sent))
				}
				delivered.Add(1)
			}
			mu.Lock()
			lat = append(lat, own...)
			mu.Unlock()
		})
	}
	// Every receiver connected and greeted.
	for {
		dialMu.Lock()
		err := dialErr
		dialMu.Unlock()
		if err != nil {
			return res, err
		}
		n := int(greeted.Load())
		if n == p.receivers {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d receivers connected: %w", n, p.receivers, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// One publisher on each process: the receivers 0, 1 and 2.
	text := []byte(strings.Repeat("x", p.size))
	var want int64
	sendBurst := func() error {
		for j := range p.burst {
			if err := conns[j%len(c.Nodes)].Write(ctx, ws.MessageText, text); err != nil {
				return err
			}
		}
		want += int64(p.burst * p.receivers)
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for delivered.Load() < want {
			select {
			case <-bctx.Done():
				return fmt.Errorf("a burst: %d of %d deliveries: %w", delivered.Load(), want, bctx.Err())
			case <-time.After(200 * time.Microsecond):
			}
		}
		return nil
	}
	for range p.warmup {
		if err := sendBurst(); err != nil {
			return res, err
		}
	}
	cpu0, err := sum(servers, (*launch.Proc).CPU)
	if err != nil {
		return res, err
	}
	writes0, err := sum(nodes, (*launch.Proc).Writes)
	if err != nil {
		return res, err
	}
	recording.Store(true)
	start := time.Now()
	base := delivered.Load()
	for range p.bursts {
		if err := sendBurst(); err != nil {
			return res, err
		}
	}
	elapsed := time.Since(start)
	recording.Store(false)
	cpu1, err := sum(servers, (*launch.Proc).CPU)
	if err != nil {
		return res, err
	}
	writes1, err := sum(nodes, (*launch.Proc).Writes)
	if err != nil {
		return res, err
	}
	n := delivered.Load() - base
	for _, conn := range conns {
		conn.CloseNow()
	}
	wg.Wait()
	slices.Sort(lat)
	res = benchResult{
		rate:           float64(n) / elapsed.Seconds(),
		p50:            lat[len(lat)/2],
		p99:            lat[len(lat)*99/100],
		cpuPerDelivery: (cpu1 - cpu0) / time.Duration(n),
		perWrite:       float64(n) / float64(writes1-writes0),
	}
	return res, nil
}

// sum adds up f over ps.
func sum[T time.Duration | int64](ps []*launch.Proc, f func(*launch.Proc) (T, error)) (T, error) {
	var total T
	for _, p := range ps {
		v, err := f(p)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return total, nil
}
