package ws

import (
	"context"
	"errors"
	"io"
	"net"

	"golang.org/x/sync/errgroup"
)

// Relay passes messages between a and b, in both directions, until either
// connection ends or ctx is done; then it ends the other one too, passing
// on the close code and reason where there is one. The two directions run
// in one errgroup, and Relay returns when both have stopped: nil when a
// peer closed with StatusNormalClosure, StatusGoingAway or no status, and
// otherwise the first error. Messages are streamed, not held whole.
//
// To relay between a WebSocket connection and a plain byte stream, such as
// a TCP connection, wrap the WebSocket with NetConn and io.Copy both ways
// in an errgroup (see the example).
func Relay(ctx context.Context, a, b *Conn) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return relayOneWay(gctx, a, b) })
	g.Go(func() error { return relayOneWay(gctx, b, a) })
	err := g.Wait()
	if errors.Is(err, errRelayDone) {
		return nil
	}
	return err
}

// errRelayDone stops the other direction after a normal close.
var errRelayDone = errors.New("ws: relay done")

func relayOneWay(ctx context.Context, src, dst *Conn) error {
	for {
		typ, r, err := src.Reader(ctx)
		if err != nil {
			return endRelay(err, dst)
		}
		w, err := dst.Writer(ctx, typ)
		if err != nil {
			src.CloseNow()
			return err
		}
		_, cerr := io.Copy(w, r)
		werr := w.Close()
		if cerr != nil || werr != nil {
			src.CloseNow()
			dst.CloseNow()
			return errors.Join(cerr, werr)
		}
	}
}

// endRelay ends dst after src ended with err.
func endRelay(err error, dst *Conn) error {
	var ce CloseError
	if errors.As(err, &ce) {
		code, reason := ce.Code, ce.Reason
		if !code.validOnWire() {
			code, reason = StatusNoStatusReceived, ""
		}
		dst.Close(code, reason)
		switch ce.Code {
		case StatusNormalClosure, StatusGoingAway, StatusNoStatusReceived:
			return errRelayDone
		}
		return err
	}
	if errors.Is(err, net.ErrClosed) {
		// src was closed on this side, by the other direction.
		dst.CloseNow()
		return errRelayDone
	}
	dst.CloseNow()
	return err
}
