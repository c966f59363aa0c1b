// Package node is one process of the cluster: a ws.Server whose clients
// send chat messages, which the process publishes on the backplane, and
// receive every message that any process published, which it takes from
// the backplane and hands to ws.Server.Broadcast.
//
// The process's own messages take the same path as everyone else's: it
// does not broadcast them locally before publishing them, so each
// publisher's messages reach every client in the cluster in one order,
// the backplane's.
package node

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/backplane"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/message"
)

// Config is what a Node needs.
type Config struct {
	// Name names the process in messages and metrics: n1, n2, ...
	Name string
	// Backplane carries the messages between the processes.
	Backplane backplane.Backplane
	// SendQueue is each client's send queue, in messages: how far a
	// client may fall behind the broadcasts before it is disconnected
	// with 1013 (Try Again Later). 0 means 256.
	SendQueue int
	// DrainWait is how long a draining process keeps serving, with its
	// health check failing, before it closes its listener and sends 1001
	// to its clients: long enough for the load balancer to see it down.
	// 0 means 2 seconds.
	DrainWait time.Duration
	// CloseTimeout bounds the close handshakes of the drain; 0 means
	// ws.DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Log, if set, gets a line for each event of the process's life.
	Log *log.Logger
}

// Node is one process of the cluster.
type Node struct {
	cfg     Config
	boot    uint64
	srv     ws.Server
	out     chan outgoing // to the publisher
	pubDone chan struct{}
	m       *metrics

	draining atomic.Bool
	// subscribed is true while the backplane's subscription is in place:
	// new connections are refused while it is not, since they could miss
	// messages without learning of it.
	subscribed atomic.Bool
	started    atomic.Bool // Start has started the publisher
	// greeted holds the connections whose hello is queued: a broadcast
	// goes to them alone, so that the hello comes first.
	greetMu   sync.Mutex
	greeted   map[*ws.Conn]struct{}
	published atomic.Uint64
	seq       uint64 // the publisher's, which alone uses it
	closeOnce sync.Once
}

type outgoing struct{ from, text string }

// New returns a Node; Start subscribes it to the backplane.
func New(cfg Config) *Node {
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = 256
	}
	if cfg.DrainWait <= 0 {
		cfg.DrainWait = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = log.New(discard{}, "", 0)
	}
	var b [8]byte
	rand.Read(b[:])
	n := &Node{
		cfg:     cfg,
		boot:    binary.LittleEndian.Uint64(b[:]),
		out:     make(chan outgoing, 4096),
		greeted: map[*ws.Conn]struct{}{},
		pubDone: make(chan struct{}),
	}
	n.srv = ws.Server{
		Handler:  n.serveConn,
		Overflow: ws.OverflowClose,
		Options: ws.AcceptOptions{Options: ws.Options{
			SendQueue:    cfg.SendQueue,
			CloseTimeout: cfg.CloseTimeout,
			ReadLimit:    64 << 10,
		}},
	}
	n.m = newMetrics(n)
	return n
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Start subscribes to the backplane and starts the publisher. Serve the
// Handler only after it returns: a client then receives every message
// published after its hello.
func (n *Node) Start(ctx context.Context) error {
	err := n.cfg.Backplane.Subscribe(ctx, backplane.Handlers{
		Message:  n.fanOut,
		Lost:     n.lost,
		Restored: n.restored,
	})
	if err != nil {
		return err
	}
	n.subscribed.Store(true)
	n.started.Store(true)
	go n.publish()
	return nil
}

// Handler serves the WebSocket endpoint at /, the health check at
// /healthz and the metrics at /metrics.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", n.health)
	mux.Handle("GET /metrics", n.m.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !n.subscribed.Load() {
			http.Error(w, "the backplane is not subscribed", http.StatusServiceUnavailable)
			return
		}
		n.srv.ServeHTTP(w, r)
	})
	return mux
}

// health answers the load balancer's check: 200 while the process
// takes clients, 503 while it drains or has lost the backplane.
func (n *Node) health(w http.ResponseWriter, _ *http.Request) {
	switch {
	case n.draining.Load():
		http.Error(w, "draining", http.StatusServiceUnavailable)
	case !n.subscribed.Load():
		http.Error(w, "backplane down", http.StatusServiceUnavailable)
	default:
		w.Write([]byte("ok\n"))
	}
}

// serveConn greets the client, then publishes each message it sends.
func (n *Node) serveConn(c *ws.Conn, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > 64 {
		name = "anonymous"
	}
	ctx := context.Background()
	hello := message.Encode(&message.Message{Kind: message.Hello, Node: n.cfg.Name, Boot: n.boot, From: name})
	// The hello and the entry in greeted go together, between two
	// broadcasts: every broadcast after it is queued after the hello,
	// and none before it is.
	n.greetMu.Lock()
	err := c.TrySend(ws.MessageText, hello, nil)
	if err == nil {
		n.greeted[c] = struct{}{}
	}
	n.greetMu.Unlock()
	if err != nil {
		return
	}
	defer func() {
		n.greetMu.Lock()
		delete(n.greeted, c)
		n.greetMu.Unlock()
	}()
	for {
		_, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		// A full queue of the publisher slows this client down through
		// TCP rather than dropping its message.
		n.out <- outgoing{from: name, text: string(p)}
	}
}

// publish numbers the clients' messages and publishes them, as many as
// wait at once in one call, until the queue is closed.
func (n *Node) publish() {
	defer close(n.pubDone)
	batch := make([][]byte, 0, 128)
	for o := range n.out {
		batch = append(batch[:0], n.stamp(o))
	more:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-n.out:
				if !ok {
					break more
				}
				batch = append(batch, n.stamp(o))
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := n.cfg.Backplane.Publish(ctx, batch...)
		cancel()
		if err != nil {
			n.m.publishErrors.Add(float64(len(batch)))
			n.cfg.Log.Printf("publish: %v", err)
			continue
		}
		n.m.published.Add(float64(len(batch)))
		n.published.Add(uint64(len(batch)))
	}
}

// Published returns how many messages of its clients the process has
// published.
func (n *Node) Published() uint64 { return n.published.Load() }

func (n *Node) stamp(o outgoing) []byte {
	n.seq++
	return message.Encode(&message.Message{
		Kind: message.Chat, Node: n.cfg.Name, Boot: n.boot, Seq: n.seq,
		Sent: time.Now().UnixNano(), From: o.from, Text: o.text,
	})
}

// fanOut hands a message from the backplane to every client of this
// process. A client whose send queue is full is disconnected with 1013
// (OverflowClose): it misses the message, and knows it.
func (n *Node) fanOut(msg []byte) {
	n.m.received.Inc()
	if sent := message.SentAt(msg); sent != 0 {
		n.m.transit.Observe(time.Since(time.Unix(0, sent)).Seconds())
	}
	matched := 0
	n.greetMu.Lock()
	delivered, _ := n.srv.Broadcast(ws.MessageText, msg, func(c *ws.Conn) bool {
		_, ok := n.greeted[c]
		if ok {
			matched++
		}
		return ok
	})
	n.greetMu.Unlock()
	n.m.skipped.Add(float64(matched - delivered))
}

// lost is the backplane's word that messages may have been missed. The
// process refuses new clients until the subscription is back, and
// disconnects the ones it has with 1013, so that none of them misses a
// message without learning of it.
func (n *Node) lost(err error) {
	n.m.lost.Inc()
	n.subscribed.Store(false)
	n.cfg.Log.Printf("backplane lost: %v; disconnecting %d clients", err, n.srv.Len())
	for c := range n.srv.Conns() {
		go c.Close(ws.StatusTryAgainLater, "messages were lost; reconnect")
	}
}

func (n *Node) restored() {
	n.subscribed.Store(true)
	n.cfg.Log.Printf("backplane restored")
}

// Run serves on ln, after Start, until drain is closed, then drains:
// the health check fails at once, and after DrainWait the listener
// closes and every client gets 1001 (Going Away). When ctx ends it
// closes at once, without the DrainWait. Messages that its clients
// sent before then are published before Run returns, and the backplane
// is closed.
func (n *Node) Run(ctx context.Context, ln net.Listener, drain <-chan struct{}) error {
	hs := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
		errc <- serveErr
	case <-drain:
		n.draining.Store(true)
		n.cfg.Log.Printf("draining: health check failing, %d clients, closing in %v", n.srv.Len(), n.cfg.DrainWait)
		select {
		case <-time.After(n.cfg.DrainWait):
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	n.draining.Store(true)
	grace := n.cfg.CloseTimeout
	if grace <= 0 {
		grace = ws.DefaultCloseTimeout
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace+time.Second)
	defer cancel()
	// The listener first, so that no client comes back here; then 1001
	// to every client, while http.Server.Shutdown waits for plain
	// requests.
	closed := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	<-closed
	clients := n.srv.Len()
	err := n.srv.Shutdown(sctx)
	err = errors.Join(err, <-httpDone)
	<-errc // http.ErrServerClosed, or serveErr
	n.cfg.Log.Printf("drained: 1001 sent to %d clients", clients)
	return errors.Join(serveErr, err, n.Close())
}

// Close publishes what waits and closes the backplane. Run calls it
// once the clients' handlers have returned; call it after Start if Run
// is not called.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		close(n.out)
		if n.started.Load() {
			<-n.pubDone
		}
		err = n.cfg.Backplane.Close()
	})
	return err
}
