// Package backplane carries messages between the processes of the
// cluster. Each process publishes what its clients send and subscribes
// to what every process publishes, its own messages included, so every
// client in the cluster sees one order per publisher. The Backplane
// interface is the seam: Redis pub/sub and NATS sit behind it, and
// Local, for a single process, takes the place of both.
//
// Both engines deliver at most once: a subscriber that is disconnected,
// or too slow for the engine's buffers, misses what was published
// meanwhile. The implementations here never hide that: they call
// Handlers.Lost, and the process then ends its clients' connections, so
// that a client that stays connected never misses a message silently.
package backplane

import (
	"context"
	"fmt"
	"net/url"
	"sync"
)

// Backplane is a pub/sub engine seen by one process.
type Backplane interface {
	// Subscribe starts delivering every message published from now on,
	// by any process, to h.Message, one at a time, in the order in which
	// each publisher published them. It returns once the engine has the
	// subscription: whatever is published after it returns is
	// delivered, unless h.Lost is called. It is called once.
	Subscribe(ctx context.Context, h Handlers) error
	// Publish sends msgs, in order. Calls from one goroutine keep their
	// order too.
	Publish(ctx context.Context, msgs ...[]byte) error
	// Close ends the subscription and the connections.
	Close() error
}

// Handlers receive what a subscription delivers, from one goroutine.
type Handlers struct {
	// Message gets each message, which it may keep: the backplane does
	// not reuse it (ws.Server.Broadcast holds it until it is written).
	Message func(msg []byte)
	// Lost says that messages may have been missed since the last
	// delivery: the connection broke or the engine dropped messages for
	// a slow subscriber. The subscription is restored on its own.
	Lost func(err error)
	// Restored says that the subscription is in place again after Lost.
	Restored func()
}

// Open connects to the engine that rawURL names: redis://host:port/db
// for Redis, nats://host:port for NATS, or "local" for Local. name
// identifies the process to the engine; topic is the channel (Redis) or
// subject (NATS) that the cluster shares.
func Open(ctx context.Context, rawURL, name, topic string) (Backplane, error) {
	if rawURL == "local" {
		return &Local{}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "redis":
		return openRedis(ctx, rawURL, name, topic)
	case "nats":
		return openNATS(rawURL, name, topic)
	}
	return nil, fmt.Errorf("backplane: %q: the URL's scheme must be redis or nats, or the URL local", rawURL)
}

// Local is the backplane of a process that runs alone: Publish delivers
// to its own subscription at once.
type Local struct {
	mu sync.Mutex
	h  Handlers
}

// Subscribe implements Backplane.
func (l *Local) Subscribe(_ context.Context, h Handlers) error {
	l.mu.Lock()
	l.h = h
	l.mu.Unlock()
	return nil
}

// Publish implements Backplane.
func (l *Local) Publish(_ context.Context, msgs ...[]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h.Message != nil {
		for _, m := range msgs {
			l.h.Message(m)
		}
	}
	return nil
}

// Close implements Backplane.
func (l *Local) Close() error {
	l.mu.Lock()
	l.h = Handlers{}
	l.mu.Unlock()
	return nil
}
