package backplane

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// NATS is a backplane on core NATS: publish and subscribe on one
// subject.
type NATS struct {
	nc      *nats.Conn
	subject string
	h       atomic.Pointer[Handlers]
}

func openNATS(rawURL, name, subject string) (*NATS, error) {
	n := &NATS{subject: subject}
	nc, err := nats.Connect(rawURL,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if h := n.h.Load(); h != nil {
				if err == nil {
					err = errors.New("nats: disconnected")
				}
				h.Lost(err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			// The client sent its subscriptions again before this call;
			// a round trip makes sure the server has them.
			if h := n.h.Load(); h != nil && nc.FlushTimeout(5*time.Second) == nil {
				h.Restored()
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// A slow consumer: the client dropped messages that the
			// handler did not take in time.
			if h := n.h.Load(); h != nil && errors.Is(err, nats.ErrSlowConsumer) {
				h.Lost(err)
			}
		}),
	)
	if err != nil {
		return nil, err
	}
	n.nc = nc
	return n, nil
}

// Subscribe implements Backplane. A flush, a round trip to the server
// after SUB, makes sure the server has the subscription before it
// returns.
func (n *NATS) Subscribe(ctx context.Context, h Handlers) error {
	n.h.Store(&h)
	_, err := n.nc.Subscribe(n.subject, func(m *nats.Msg) { h.Message(m.Data) })
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return n.nc.FlushWithContext(ctx)
}

// Publish implements Backplane. The client writes in the order of the
// calls, on one connection.
func (n *NATS) Publish(_ context.Context, msgs ...[]byte) error {
	for _, m := range msgs {
		if err := n.nc.Publish(n.subject, m); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Backplane: it sends what waits, then closes.
func (n *NATS) Close() error {
	n.h.Store(nil)
	err := n.nc.Drain() // unsubscribes, flushes and closes
	for !n.nc.IsClosed() && err == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return err
}
