package backplane

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a backplane on Redis pub/sub: PUBLISH and SUBSCRIBE on one
// channel.
type Redis struct {
	rdb   *redis.Client
	topic string

	mu     sync.Mutex
	ps     *redis.PubSub
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func openRedis(ctx context.Context, rawURL, name, topic string) (*Redis, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opt.ClientName = name
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, err
	}
	return &Redis{rdb: rdb, topic: topic}, nil
}

// Subscribe implements Backplane. Redis acknowledges SUBSCRIBE before it
// returns. One goroutine reads the subscription; another pings it when
// it is quiet, so that a connection that died without a word is noticed.
func (r *Redis) Subscribe(ctx context.Context, h Handlers) error {
	ps := r.rdb.Subscribe(ctx, r.topic)
	// The first reply is SUBSCRIBE's acknowledgement.
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	r.ps, r.cancel = ps, cancel
	r.mu.Unlock()
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		receive(rctx, ps, h)
	}()
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				ps.Ping(rctx) // a broken connection fails the read instead
			}
		}
	}()
	return nil
}

// receive reads the subscription until ctx ends. A read that fails
// means the connection broke: what was published meanwhile is lost. The
// next read reconnects and subscribes again, and Redis's new
// acknowledgement says the subscription is back.
func receive(ctx context.Context, ps *redis.PubSub, h Handlers) {
	lost := false
	wait := 50 * time.Millisecond
	for {
		v, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !lost {
				lost = true
				h.Lost(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 2*time.Second)
			continue
		}
		switch v := v.(type) {
		case *redis.Message:
			h.Message([]byte(v.Payload))
		case *redis.Subscription:
			if lost && v.Kind == "subscribe" {
				lost = false
				wait = 50 * time.Millisecond
				h.Restored()
			}
		}
	}
}

// Publish implements Backplane: one round trip for all of msgs, in a
// pipeline on one connection, which keeps their order.
func (r *Redis) Publish(ctx context.Context, msgs ...[]byte) error {
	if len(msgs) == 1 {
		return r.rdb.Publish(ctx, r.topic, msgs[0]).Err()
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			p.Publish(ctx, r.topic, m)
		}
		return nil
	})
	return err
}

// Close implements Backplane.
func (r *Redis) Close() error {
	r.mu.Lock()
	ps, cancel := r.ps, r.cancel
	r.mu.Unlock()
	var err error
	if ps != nil {
		cancel()
		err = ps.Close()
		r.wg.Wait()
	}
	return errors.Join(err, r.rdb.Close())
}
