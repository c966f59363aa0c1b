// Package client is the cluster's chat client. It stays connected: when
// its connection ends, for a process that drains (1001) or any other
// cause, it dials again through the load balancer after a jittered
// backoff, and so lands on a live process.
//
// Across a reconnection a message may arrive twice: on the old
// connection just before its 1001, and on the new one if that process
// had not yet received it from the backplane when the client arrived. The
// client keeps the last number it received from each publisher, passes
// on each message once, and tells how many of a publisher's messages it
// missed while it was away.
package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/examples/cluster/internal/message"
)

// ErrNotConnected is Send's error between connections.
var ErrNotConnected = errors.New("client: not connected")

// Client is one chat client.
type Client struct {
	// URL is the load balancer's WebSocket URL; the client adds
	// ?name=Name.
	URL  string
	Name string
	// MinBackoff and MaxBackoff bound the wait before a dial: the first
	// after a connection ends waits a random time below MinBackoff, so
	// that the clients of a process that drains do not all come back at
	// once, and each failed dial doubles the bound, up to MaxBackoff.
	// 0 means 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// Event, if set, is called with each event, from the client's
	// goroutine, in order.
	Event func(Event)

	mu   sync.Mutex
	conn *ws.Conn
	last map[string]uint64 // by publisher, the number of the last message passed on
}

// EventKind says what happened.
type EventKind int

// The kinds of Event.
const (
	// Connected: the process greeted the client; Msg is its hello.
	Connected EventKind = iota
	// Received: Msg is a chat message.
	Received
	// Disconnected: the connection ended; ws.CloseStatus(Err) is the
	// code of the process's close frame (1001 for a drain).
	Disconnected
	// DialFailed: a dial failed; Err says why. The client waits and
	// tries again.
	DialFailed
	// Duplicate: Msg had arrived already, on the connection before; it
	// is not passed on as Received.
	Duplicate
)

// Event is one event of the client's life.
type Event struct {
	Kind EventKind
	Msg  message.Message
	Err  error
	// Missed, for Received, counts the messages of Msg's publisher that
	// came before Msg and after the last one received: what was published
	// while the client was away. 0 for the first message of a publisher.
	Missed uint64
}

// Run connects and reconnects until ctx ends, then closes the
// connection with 1000 and returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	minB, maxB := c.MinBackoff, c.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB <= 0 {
		maxB = 5 * time.Second
	}
	u := c.URL + "/?" + url.Values{"name": {c.Name}}.Encode()
	bound := time.Duration(0) // the first dial waits for nothing
	for {
		if bound > 0 {
			t := time.NewTimer(rand.N(bound))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, _, err := ws.Dial(dctx, u, nil)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.emit(Event{Kind: DialFailed, Err: err})
			bound = min(max(2*bound, minB), maxB)
			continue
		}
		err = c.read(ctx, conn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.emit(Event{Kind: Disconnected, Err: err})
		bound = minB
	}
}

// read reads the connection's messages until it ends, and returns why.
func (c *Client) read(ctx context.Context, conn *ws.Conn) error {
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
		if ctx.Err() != nil {
			conn.Close(ws.StatusNormalClosure, "bye")
		}
		conn.CloseNow()
	}()
	var buf []byte
	for {
		var err error
		_, buf, err = conn.ReadAppend(ctx, buf[:0])
		if err != nil {
			return err
		}
		m, err := message.Decode(buf)
		if err != nil {
			conn.Close(ws.StatusUnsupportedData, "not a message")
			return err
		}
		if m.Kind == message.Hello {
			c.emit(Event{Kind: Connected, Msg: m})
			continue
		}
		// Read by this goroutine alone.
		if c.last == nil {
			c.last = map[string]uint64{}
		}
		p := m.Publisher()
		last, seen := c.last[p]
		if m.Seq <= last {
			c.emit(Event{Kind: Duplicate, Msg: m})
			continue
		}
		c.last[p] = m.Seq
		e := Event{Kind: Received, Msg: m}
		if seen {
			e.Missed = m.Seq - last - 1
		}
		c.emit(e)
	}
}

func (c *Client) emit(e Event) {
	if c.Event != nil {
		c.Event(e)
	}
}

// Send sends text on the current connection. It fails with
// ErrNotConnected between connections: the caller decides whether to
// try again.
func (c *Client) Send(ctx context.Context, text string) error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return ErrNotConnected
	}
	return conn.Write(ctx, ws.MessageText, []byte(text))
}
