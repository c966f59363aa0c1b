//go:build !js

package ws_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

// The channel benchmarks compare the channel face of the API (Messages,
// Send) with the calls it stands for (Read, Write), 1 KiB messages over
// loopback TCP, at 1 and at 16 connections at once. Wall time on a
// loopback pair mixes both ends and the scheduler; cpu-ns/op, the
// process's user and system time per message, counts the work of both
// ends too, but the same for both modes, so the ratio of the modes is
// fair. Compare with
//
//	go test -run X -bench 'Receive|Send' -count 8 . | tee out.txt
//	benchstat -col /mode out.txt

// channelConns is the numbers of connections the channel benchmarks run.
var channelConns = []int{1, 16}

// runPairs runs a channel benchmark over conns loopback pairs: for each
// pair, setup returns what its two goroutines do with their share of
// b.N, which runPairs runs at once and waits for. It reports CPU time
// per message.
func runPairs(b *testing.B, conns int, copts *ws.DialOptions, setup func(c, s *ws.Conn) (send, recv func(n int) error)) {
	type job struct{ send, recv func(int) error }
	jobs := make([]job, conns)
	for i := range jobs {
		var o *ws.DialOptions
		if copts != nil {
			cp := *copts
			o = &cp
		}
		c, s := pair(b, true, nil, o)
		jobs[i].send, jobs[i].recv = setup(c, s)
	}
	b.SetBytes(1024)
	b.ReportAllocs()
	var wg sync.WaitGroup
	errs := make(chan error, 2*conns)
	run := func(f func(int) error, n int) {
		defer wg.Done()
		if err := f(n); err != nil {
			errs <- err
		}
	}
	b.ResetTimer()
	start := cpuTime(b)
	for i, j := range jobs {
		n := b.N / conns
		if i < b.N%conns {
			n++
		}
		wg.Add(2)
		go run(j.send, n)
		go run(j.recv, n)
	}
	wg.Wait()
	cpu := cpuTime(b) - start
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkReceive compares receiving 1 KiB messages over loopback TCP with
// Read per message and with the Messages channel. The peer writes with
// Write in both modes.
func BenchmarkReceive(b *testing.B) {
	msg := make([]byte, 1024)
	ctx := context.Background()
	for _, conns := range channelConns {
		for _, mode := range []string{"Read", "Messages"} {
			b.Run(fmt.Sprintf("conns=%d/mode=%s", conns, mode), func(b *testing.B) {
				runPairs(b, conns, nil, func(c, s *ws.Conn) (send, recv func(int) error) {
					send = func(n int) error {
						for range n {
							if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
								return err
							}
						}
						return nil
					}
					if mode == "Read" {
						recv = func(n int) error {
							for range n {
								if _, _, err := s.Read(ctx); err != nil {
									return err
								}
							}
							return nil
						}
					} else {
						recv = func(n int) error {
							msgs := s.Messages()
							for range n {
								if _, ok := <-msgs; !ok {
									return s.Err()
								}
							}
							return nil
						}
					}
					return send, recv
				})
			})
		}
	}
}

// BenchmarkSend measures asynchronous sends of 1 KiB messages over loopback
// TCP beside synchronous Write. The peer reads with Reader into a buffer
// of its own in both modes.
func BenchmarkSend(b *testing.B) {
	msg := make([]byte, 1024)
	ctx := context.Background()
	for _, conns := range channelConns {
		for _, mode := range []string{"Write", "Send"} {
			b.Run(fmt.Sprintf("conns=%d/mode=%s", conns, mode), func(b *testing.B) {
				opts := &ws.DialOptions{Options: ws.Options{SendQueue: 256}}
				runPairs(b, conns, opts, func(c, s *ws.Conn) (send, recv func(int) error) {
					if mode == "Send" {
						send = func(n int) error {
							for range n {
								if err := c.Send(ctx, ws.MessageBinary, msg, nil); err != nil {
									return err
								}
							}
							return nil
						}
					} else {
						send = func(n int) error {
							for range n {
								if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
									return err
								}
							}
							return nil
						}
					}
					buf := make([]byte, 4096)
					recv = func(n int) error { return readMessages(ctx, s, n, buf) }
					return send, recv
				})
			})
		}
	}
}
