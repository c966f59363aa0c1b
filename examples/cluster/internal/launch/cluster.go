package launch

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options describe a cluster to start.
type Options struct {
	// Engine is the backplane: "redis", "nats", or "local" for one
	// process that needs none.
	Engine string
	// Nodes is how many processes to start; 3 when there is a load
	// balancer, whose configuration names three.
	Nodes int
	// Program and Args run one process of the cluster; Start adds
	// -name, -addr, -backplane and -drain-wait. Env is added to its
	// environment.
	Program string
	Args    []string
	Env     []string
	// HAProxyConfig is the load balancer's configuration, which takes the
	// addresses from the environment: LB_ADDR, STATS_ADDR and NODE1_ADDR
	// to NODE3_ADDR. Nil starts no load balancer.
	HAProxyConfig []byte
	// LBAddr and StatsAddr are the load balancer's addresses; NodeAddrs
	// the processes'; empty ones are free ports of 127.0.0.1.
	LBAddr, StatsAddr string
	NodeAddrs         []string
	// DrainWait is the processes' -drain-wait; 0 leaves their default.
	DrainWait time.Duration
	// Dir holds the load balancer's configuration file.
	Dir string
	// Log gets every process's output, each line prefixed with its name;
	// nil discards it.
	Log io.Writer
}

// Cluster is what Start started.
type Cluster struct {
	Engine       *Proc
	BackplaneURL string
	Nodes        []*Node
	LB           *Proc
	// LBAddr is the load balancer's address, for ws://LBAddr/; StatsAddr
	// serves its statistics page at / and its Prometheus metrics at
	// /metrics.
	LBAddr, StatsAddr string

	opts       Options
	engineAddr string
}

// Node is one process of the cluster.
type Node struct {
	*Proc
	Addr string
}

// Start starts the engine, the processes and the load balancer, and
// returns once the processes answer their health check and the load
// balancer sees them all up. If anything fails, what it had started is
// stopped.
func Start(ctx context.Context, o Options) (c *Cluster, err error) {
	c = &Cluster{opts: o}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	if o.HAProxyConfig != nil {
		// Before anything starts: a missing HAProxy fails at once.
		if _, err := Need("haproxy", "haproxy"); err != nil {
			return c, err
		}
	}
	addr, err := FreeAddr()
	if err != nil {
		return c, err
	}
	if err := c.startEngine(ctx, o, addr); err != nil {
		return c, err
	}
	for i := range o.Nodes {
		addr := ""
		if i < len(o.NodeAddrs) {
			addr = o.NodeAddrs[i]
		}
		if addr == "" {
			if addr, err = FreeAddr(); err != nil {
				return c, err
			}
		}
		n, err := c.spawnNode(i, addr)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		if err := waitHealthy(ctx, n); err != nil {
			return c, err
		}
	}
	if o.HAProxyConfig != nil {
		if err := c.startLB(ctx, o); err != nil {
			return c, err
		}
	}
	return c, nil
}

// spawnNode starts process i on addr.
func (c *Cluster) spawnNode(i int, addr string) (*Node, error) {
	o := c.opts
	name := fmt.Sprintf("n%d", i+1)
	args := append(o.Args[:len(o.Args):len(o.Args)], "-name", name, "-addr", addr, "-backplane", c.BackplaneURL)
	if o.DrainWait > 0 {
		args = append(args, "-drain-wait", o.DrainWait.String())
	}
	p, err := Spawn(name, o.Log, o.Env, o.Program, args...)
	if err != nil {
		return nil, err
	}
	return &Node{Proc: p, Addr: addr}, nil
}

// Restart is one step of a deploy: it stops process i with SIGTERM,
// which drains it, waits for it to exit, starts it again on the same
// address, and returns once the load balancer sees it up.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	old := c.Nodes[i]
	if err := old.Stop(time.Minute); err != nil {
		return fmt.Errorf("%s: %w", old.Name, err)
	}
	n, err := c.spawnNode(i, old.Addr)
	if err != nil {
		return err
	}
	c.Nodes[i] = n
	if err := waitHealthy(ctx, n); err != nil {
		return err
	}
	if c.LB == nil {
		return nil
	}
	return c.WaitLB(ctx, func(st map[string]string) bool { return st[n.Name] == "UP" })
}

// startEngine starts the engine on addr.
func (c *Cluster) startEngine(ctx context.Context, o Options, addr string) error {
	var p *Proc
	switch o.Engine {
	case "local":
		c.BackplaneURL = "local"
		return nil
	case "redis":
		prog, err := Need("redis-server", "redis-server")
		if err != nil {
			return err
		}
		// Loopback only, nothing saved to disk.
		p, err = Spawn("redis", o.Log, nil, prog, "--bind", "127.0.0.1", "--port", port(addr),
			"--save", "", "--appendonly", "no", "--loglevel", "warning")
		if err != nil {
			return err
		}
		c.BackplaneURL = "redis://" + addr
	case "nats":
		prog, err := Need("nats-server", "nats-server")
		if err != nil {
			return err
		}
		p, err = Spawn("nats", o.Log, nil, prog, "-a", "127.0.0.1", "-p", port(addr))
		if err != nil {
			return err
		}
		c.BackplaneURL = "nats://" + addr
	default:
		return fmt.Errorf("launch: engine %q: want redis, nats or local", o.Engine)
	}
	c.Engine, c.engineAddr = p, addr
	return waitTCP(ctx, p, addr)
}

// RestartEngine stops the engine, which breaks every process's
// subscription, waits for stopped to return, and starts the engine
// again on the same address.
func (c *Cluster) RestartEngine(ctx context.Context, stopped func() error) error {
	c.Engine.Stop(10 * time.Second)
	if err := stopped(); err != nil {
		return err
	}
	return c.startEngine(ctx, c.opts, c.engineAddr)
}

func (c *Cluster) startLB(ctx context.Context, o Options) error {
	if len(c.Nodes) != 3 {
		return fmt.Errorf("launch: the load balancer's configuration names 3 processes, not %d", len(c.Nodes))
	}
	prog, err := Need("haproxy", "haproxy")
	if err != nil {
		return err
	}
	c.LBAddr, c.StatsAddr = o.LBAddr, o.StatsAddr
	for _, a := range []*string{&c.LBAddr, &c.StatsAddr} {
		if *a == "" {
			if *a, err = FreeAddr(); err != nil {
				return err
			}
		}
	}
	cfg := filepath.Join(o.Dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, o.HAProxyConfig, 0o644); err != nil {
		return err
	}
	env := []string{"LB_ADDR=" + c.LBAddr, "STATS_ADDR=" + c.StatsAddr}
	for i, n := range c.Nodes {
		env = append(env, fmt.Sprintf("NODE%d_ADDR=%s", i+1, n.Addr))
	}
	// -db: in the foreground, one process, so that its PID is the
	// one to stop.
	p, err := Spawn("lb", o.Log, env, prog, "-db", "-f", cfg)
	if err != nil {
		return err
	}
	c.LB = p
	if err := waitTCP(ctx, p, c.LBAddr); err != nil {
		return err
	}
	return c.WaitLB(ctx, func(st map[string]string) bool {
		for _, n := range c.Nodes {
			if st[n.Name] != "UP" {
				return false
			}
		}
		return true
	})
}

// LBStatus returns the state of each process as the load balancer sees
// it (UP, DOWN, ...), by name, from its statistics in CSV.
func (c *Cluster) LBStatus(ctx context.Context) (map[string]string, error) {
	resp, err := get(ctx, "http://"+c.StatsAddr+"/;csv")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("haproxy statistics: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(h, "# ")] = i
	}
	st := map[string]string{}
	for _, row := range rows[1:] {
		if len(row) > col["status"] && row[col["pxname"]] == "nodes" {
			st[row[col["svname"]]] = strings.Fields(row[col["status"]] + " ?")[0]
		}
	}
	return st, nil
}

// WaitLB waits until ok accepts the load balancer's view of the
// processes, or ctx ends.
func (c *Cluster) WaitLB(ctx context.Context, ok func(map[string]string) bool) error {
	var last map[string]string
	for {
		st, err := c.LBStatus(ctx)
		if err == nil {
			if ok(st) {
				return nil
			}
			last = st
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the load balancer still sees %v (%v): %w", last, err, context.Cause(ctx))
		case <-c.LB.done:
			return fmt.Errorf("haproxy exited: %v\n%s", c.LB.err, c.LB.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitHealthy waits until the process answers 200 at /healthz.
func waitHealthy(ctx context.Context, n *Node) error {
	for {
		resp, err := get(ctx, "http://"+n.Addr+"/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("%s exited: %v\n%s", n.Name, n.err, n.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s: not healthy at %s: %w", n.Name, n.Addr, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop stops every process Start started, by its PID: the load balancer
// first, then the processes, which drain, then the engine. It returns
// the errors of processes that did not exit with status 0 after the
// signal.
func (c *Cluster) Stop() error {
	const grace = 15 * time.Second
	var errs []error
	if c.LB != nil {
		c.LB.Stop(grace) // HAProxy stops at once on SIGTERM
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Go(func() {
			if err := n.Stop(grace); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w\n%s", n.Name, err, n.Output()))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if c.Engine != nil {
		c.Engine.Stop(grace)
	}
	return errors.Join(errs...)
}

// Metrics reads the metrics of the process at addr, by name without
// labels (each process's metrics have one label, its name).
func Metrics(ctx context.Context, addr string) (map[string]float64, error) {
	resp, err := get(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			m[name] = v
		}
	}
	return m, sc.Err()
}

// get sends a GET request to url.
func get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
