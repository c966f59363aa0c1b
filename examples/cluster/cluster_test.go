package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/client"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/launch"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/message"
)

// TestMain lets the test binary serve as the program: the cluster's
// processes are this binary run with CLUSTER_TEST_MAIN=1 and the node
// command.
func TestMain(m *testing.M) {
	if os.Getenv("CLUSTER_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const clients = 300

// TestCluster runs the cluster on each backplane: three processes behind
// HAProxy, 300 clients through it. It checks that the clients spread
// over the processes; that every client receives every message published
// from each process exactly once, in order; that a process drained with
// SIGTERM fails its health check before it sends 1001, that its clients
// come back on the others, and that the clients of the others miss
// nothing meanwhile; and that every client, moved or not, receives what
// is published after.
func TestCluster(t *testing.T) { onEachEngine(t, testCluster) }

func testCluster(t *testing.T, ctx context.Context, c *launch.Cluster) {
	// 300 clients through the load balancer.
	recs := connect(t, ctx, c, clients)

	// They spread over the three processes, as the processes count them.
	byNode := map[string][]*recorder{}
	for _, r := range recs {
		n := r.node()
		byNode[n] = append(byNode[n], r)
	}
	for _, n := range c.Nodes {
		got := len(byNode[n.Name])
		if got < clients/6 {
			t.Fatalf("the load balancer sent %d clients to %s: %v", got, n.Name, spread(byNode))
		}
		if m := scrape(t, ctx, n.Addr); m["ws_open"] != float64(got) {
			t.Errorf("%s counts %v connections in its metrics, its clients %d", n.Name, m["ws_open"], got)
		}
	}
	t.Logf("spread: %v", spread(byNode))

	// A sender on each process: 40 messages each, which every client
	// receives once, in order.
	senders := map[string]*recorder{}
	for _, n := range c.Nodes {
		senders[n.Name] = byNode[n.Name][0]
	}
	for name, s := range senders {
		for i := range 40 {
			if err := s.Send(ctx, fmt.Sprintf("%s first %d", name, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, ctx, "120 messages at every client", func() string {
		return countUnless(recs, func(r *recorder) bool { return r.received() >= 120 })
	})
	for _, r := range recs {
		r.check(t, func(pub string, seqs []uint64) error {
			return contiguous(seqs, 1, 40)
		})
	}

	// Traffic from the three senders, every 20 ms for 2.5 s, and a
	// drain of n3 a quarter of a second in.
	drained := c.Nodes[2]
	stayers := append(byNode["n1"][:len(byNode["n1"]):len(byNode["n1"])], byNode["n2"]...)
	movers := byNode[drained.Name]
	trafficDone := make(chan struct{})
	go func() {
		defer close(trafficDone)
		traffic(ctx, senders, 125, 20*time.Millisecond)
	}()
	time.Sleep(250 * time.Millisecond)
	termAt := time.Now()
	if err := drained.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Its health check fails first: the load balancer marks it down
	// before any of its clients gets 1001.
	if err := c.WaitLB(ctx, func(st map[string]string) bool { return st[drained.Name] == "DOWN" }); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	select {
	case <-drained.Done():
	case <-ctx.Done():
		t.Fatalf("%s still runs %v after SIGTERM", drained.Name, time.Since(termAt))
	}
	if err := drained.Err(); err != nil {
		t.Fatalf("%s exited with %v", drained.Name, err)
	}
	// Its clients got 1001, after it was down, and came back on the
	// others.
	waitFor(t, ctx, "the drained process's clients back on the others", func() string {
		return countUnless(movers, func(r *recorder) bool { return r.connections() == 2 })
	})
	for _, r := range movers {
		r.mu.Lock()
		code, at, back := ws.CloseStatus(r.closes[0].err), r.closes[0].at, r.hellos[1].Node
		r.mu.Unlock()
		if code != ws.StatusGoingAway || at.Before(downAt) || back == drained.Name {
			t.Fatalf("%s: closed with %d at +%v (down at +%v), back on %s", r.Name, code, at.Sub(termAt), downAt.Sub(termAt), back)
		}
	}
	t.Logf("%s: down at +%v, exited at +%v", drained.Name, downAt.Sub(termAt), time.Since(termAt))
	<-trafficDone
	// Each sender's own last message coming back says that its process
	// has published all it sent before.
	for name, s := range senders {
		text := name + " end"
		if err := s.Send(ctx, text); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the end of "+name+"'s traffic", func() string {
			if s.has(text) {
				return ""
			}
			return "not yet"
		})
	}

	// The clients of n1 and n2 received every message that each process
	// published, once and in order; n3's received every message up to
	// its 1001, and nothing twice.
	published := map[string]uint64{}
	for _, n := range c.Nodes[:2] {
		published[n.Name] = uint64(scrape(t, ctx, n.Addr)["cluster_backplane_published_total"])
	}
	published[drained.Name] = publishedAtExit(t, drained.Proc)
	t.Logf("published during the test: %v", published)
	waitFor(t, ctx, "every message at the clients that stayed", func() string {
		return countUnless(stayers, func(r *recorder) bool { return r.hasAll(published) })
	})
	for _, r := range stayers {
		if r.connections() != 1 {
			t.Fatalf("%s, on %s, was disconnected: %v", r.Name, r.node(), r.closes)
		}
		r.check(t, func(pub string, seqs []uint64) error {
			return contiguous(seqs, 1, published[nodeOf(pub)])
		})
	}
	for _, r := range movers {
		r.checkFirstConnection(t)
	}

	// Every client, moved or not, receives what is published now.
	before := published
	for _, name := range []string{"n1", "n2"} {
		for i := range 20 {
			if err := senders[name].Send(ctx, fmt.Sprintf("%s last %d", name, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, ctx, "the last messages at every client", func() string {
		return countUnless(recs, func(r *recorder) bool {
			return r.hasAll(map[string]uint64{"n1": before["n1"] + 20, "n2": before["n2"] + 20})
		})
	})
	for _, r := range recs {
		r.check(t, func(pub string, seqs []uint64) error {
			if n := nodeOf(pub); n != drained.Name {
				return contiguous(seqs[len(seqs)-20:], before[n]+1, before[n]+20)
			}
			return nil
		})
	}
	for _, n := range c.Nodes[:2] {
		m := scrape(t, ctx, n.Addr)
		if m["cluster_backplane_lost_total"] != 0 || m["cluster_broadcast_skipped_total"] != 0 || m["ws_overflow_closed_total"] != 0 {
			t.Errorf("%s: lost %v times, skipped %v deliveries, closed %v slow clients", n.Name,
				m["cluster_backplane_lost_total"], m["cluster_broadcast_skipped_total"], m["ws_overflow_closed_total"])
		}
	}
}

// TestBackplaneLost stops the engine under the cluster and starts it
// again: every process disconnects its clients with 1013 and fails its
// health check while its subscription is broken, rather than let them
// miss messages without knowing; once the engine is back, the clients
// come back and receive what is published.
func TestBackplaneLost(t *testing.T) { onEachEngine(t, testBackplaneLost) }

func testBackplaneLost(t *testing.T, ctx context.Context, c *launch.Cluster) {
	recs := connect(t, ctx, c, 30)

	err := c.RestartEngine(ctx, func() error {
		waitFor(t, ctx, "1013 at every client", func() string {
			return countUnless(recs, func(r *recorder) bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				return len(r.closes) > 0 && ws.CloseStatus(r.closes[0].err) == ws.StatusTryAgainLater
			})
		})
		for _, n := range c.Nodes {
			if m := scrape(t, ctx, n.Addr); m["cluster_backplane_up"] != 0 || m["cluster_backplane_lost_total"] != 1 {
				t.Fatalf("%s, its engine stopped: backplane_up %v, lost_total %v", n.Name, m["cluster_backplane_up"], m["cluster_backplane_lost_total"])
			}
		}
		return c.WaitLB(ctx, func(st map[string]string) bool {
			return st["n1"] == "DOWN" && st["n2"] == "DOWN" && st["n3"] == "DOWN"
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "every client back", func() string {
		return countUnless(recs, func(r *recorder) bool { return r.connections() == 2 })
	})
	sender := recs[0]
	for i := range 10 {
		if err := sender.Send(ctx, fmt.Sprintf("after %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	node := sender.node()
	waitFor(t, ctx, "the messages at every client", func() string {
		return countUnless(recs, func(r *recorder) bool { return r.hasAll(map[string]uint64{node: 10}) })
	})
	for _, r := range recs {
		r.check(t, func(pub string, seqs []uint64) error { return contiguous(seqs, 1, 10) })
	}
}

// onEachEngine runs test on a cluster of each backplane, Redis then NATS,
// within 45 s each.
func onEachEngine(t *testing.T, test func(t *testing.T, ctx context.Context, c *launch.Cluster)) {
	for _, engine := range []string{"redis", "nats"} {
		t.Run(engine, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
			defer cancel()
			test(t, ctx, startCluster(t, ctx, engine))
		})
	}
}

// connect starts n clients through the load balancer, which run until
// the test ends, and waits for every one's hello.
func connect(t *testing.T, ctx context.Context, c *launch.Cluster, n int) []*recorder {
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		stop()
		wg.Wait()
	})
	recs := make([]*recorder, n)
	for i := range recs {
		r := &recorder{}
		recs[i] = r
		r.Client = client.Client{
			URL: "ws://" + c.LBAddr, Name: fmt.Sprintf("c%03d", i),
			MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
			Event: r.event,
		}
		wg.Go(func() { r.Run(cctx) })
	}
	waitFor(t, ctx, "every client's hello", func() string {
		return countUnless(recs, func(r *recorder) bool { return r.connections() == 1 })
	})
	return recs
}

// startCluster starts the engine, three processes and HAProxy, and stops
// them all, by PID, when the test ends. A missing program fails the
// test, naming its Debian package.
func startCluster(t *testing.T, ctx context.Context, engine string) *launch.Cluster {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := launch.Start(sctx, launch.Options{
		Engine: engine, Nodes: 3,
		Program: self, Args: []string{"node"}, Env: []string{"CLUSTER_TEST_MAIN=1"},
		HAProxyConfig: haproxyConfig,
		DrainWait:     2 * time.Second,
		Dir:           t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range append([]*launch.Proc{c.Engine, c.LB}, procs(c)...) {
				t.Logf("output of %s:\n%s", p.Name, p.Output())
			}
		}
	})
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func procs(c *launch.Cluster) []*launch.Proc {
	var ps []*launch.Proc
	for _, n := range c.Nodes {
		ps = append(ps, n.Proc)
	}
	return ps
}

// traffic has each sender send count messages, one every interval.
// While a sender is between connections its message is not sent.
func traffic(ctx context.Context, senders map[string]*recorder, count int, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range count {
		for name, s := range senders {
			s.Send(ctx, fmt.Sprintf("%s during %d", name, i))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// recorder is a client that keeps every event.
type recorder struct {
	client.Client
	mu     sync.Mutex
	hellos []message.Message
	closes []closed
	msgs   []received
	dups   []received
}

type closed struct {
	err error
	at  time.Time
}

type received struct {
	conn int // which of the client's connections it came on, from 0
	m    message.Message
}

func (r *recorder) event(e client.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case client.Connected:
		r.hellos = append(r.hellos, e.Msg)
	case client.Received:
		r.msgs = append(r.msgs, received{conn: len(r.closes), m: e.Msg})
	case client.Disconnected:
		r.closes = append(r.closes, closed{e.Err, time.Now()})
	case client.Duplicate:
		r.dups = append(r.dups, received{conn: len(r.closes), m: e.Msg})
	}
}

func (r *recorder) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hellos)
}

// node is the process of the client's last connection.
func (r *recorder) node() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hellos[len(r.hellos)-1].Node
}

func (r *recorder) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// has says whether the client received its own message text.
func (r *recorder) has(text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.msgs {
		if x.m.From == r.Name && x.m.Text == text {
			return true
		}
	}
	return false
}

// hasAll says whether the client has message want[node] of each node's
// publisher.
func (r *recorder) hasAll(want map[string]uint64) bool {
	last := map[string]uint64{}
	r.mu.Lock()
	for _, x := range r.msgs {
		last[x.m.Node] = max(last[x.m.Node], x.m.Seq)
	}
	r.mu.Unlock()
	for n, seq := range want {
		if last[n] < seq {
			return false
		}
	}
	return true
}

// sequences returns the numbers of the messages of each publisher, in
// the order received, from the connections that keep accepts.
func (r *recorder) sequences(keep func(conn int) bool) map[string][]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	seqs := map[string][]uint64{}
	for _, x := range r.msgs {
		if keep(x.conn) {
			p := x.m.Publisher()
			seqs[p] = append(seqs[p], x.m.Seq)
		}
	}
	return seqs
}

// check fails the test unless each publisher's messages came in
// increasing order, without a repeat, and f accepts them. A message may
// come twice only on two connections, the second time as the first
// message of the new one.
func (r *recorder) check(t *testing.T, f func(pub string, seqs []uint64) error) {
	t.Helper()
	r.mu.Lock()
	for _, d := range r.dups {
		if d.conn == 0 {
			t.Fatalf("%s: %s #%d twice on one connection", r.Name, d.m.Publisher(), d.m.Seq)
		}
	}
	r.mu.Unlock()
	for pub, seqs := range r.sequences(func(int) bool { return true }) {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("%s: from %s, #%d after #%d", r.Name, pub, seqs[i], seqs[i-1])
			}
		}
		if err := f(pub, seqs); err != nil {
			t.Fatalf("%s: from %s: %v", r.Name, pub, err)
		}
	}
}

// checkFirstConnection fails the test unless the client received, on
// its first connection, each publisher's messages from the first on,
// with no gap, up to its 1001.
func (r *recorder) checkFirstConnection(t *testing.T) {
	t.Helper()
	for pub, seqs := range r.sequences(func(conn int) bool { return conn == 0 }) {
		if err := contiguous(seqs, 1, uint64(len(seqs))); err != nil {
			t.Fatalf("%s, before its 1001: from %s: %v", r.Name, pub, err)
		}
	}
}

// contiguous says whether seqs are exactly from, from+1, ..., to.
func contiguous(seqs []uint64, from, to uint64) error {
	if uint64(len(seqs)) != to-from+1 {
		return fmt.Errorf("%d messages, want #%d to #%d", len(seqs), from, to)
	}
	for i, s := range seqs {
		if s != from+uint64(i) {
			return fmt.Errorf("#%d where #%d was due", s, from+uint64(i))
		}
	}
	return nil
}

func nodeOf(pub string) string { return strings.Split(pub, "/")[0] }

func spread(byNode map[string][]*recorder) map[string]int {
	m := map[string]int{}
	for n, rs := range byNode {
		m[n] = len(rs)
	}
	return m
}

// countUnless returns "N of M not yet" for the recorders that ok does
// not accept, or "" when it accepts all.
func countUnless(recs []*recorder, ok func(*recorder) bool) string {
	n := 0
	for _, r := range recs {
		if !ok(r) {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d not yet", n, len(recs))
}

// waitFor polls until pending returns "", and fails the test with its
// last answer if ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, pending func() string) {
	t.Helper()
	start := time.Now()
	for {
		p := pending()
		if p == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting %v for %s: %s", time.Since(start), what, p)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// scrape reads the process's metrics.
func scrape(t *testing.T, ctx context.Context, addr string) map[string]float64 {
	t.Helper()
	m, err := launch.Metrics(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var publishedLine = regexp.MustCompile(`stopped: published (\d+) messages`)

// publishedAtExit reads, in the output of a process that has exited, how
// many messages it published.
func publishedAtExit(t *testing.T, p *launch.Proc) uint64 {
	t.Helper()
	m := publishedLine.FindStringSubmatch(p.Output())
	if m == nil {
		t.Fatalf("%s did not say how many messages it published:\n%s", p.Name, p.Output())
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}
