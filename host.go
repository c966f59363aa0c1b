package ws

import (
	"errors"
	"fmt"
)

// hostTransport is a transport that is the host's WebSocket object rather
// than a byte stream: a browser's, or Node's, under js/wasm (see
// transport_js.go). The host does part of the protocol itself, so some
// calls are refused on it with an error wrapping errors.ErrUnsupported.
type hostTransport interface {
	// hostBuffered is how many bytes the host holds, sent but not yet on
	// the wire.
	hostBuffered() int64
	// hostCloseCode reports whether the host may send a close frame with
	// code: browsers send only 1000 and 3000-4999.
	hostCloseCode(code StatusCode) bool
}

// host returns c's transport if it is the host's WebSocket, or nil.
func (c *Conn) host() hostTransport {
	h, _ := c.transport.(hostTransport)
	return h
}

// errHost is the error of a call that the host's WebSocket cannot make.
func errHost(what string) error {
	return fmt.Errorf("ws: %s is not available on the host's WebSocket: %w", what, errors.ErrUnsupported)
}
