//go:build !unix

package ws

import "net"

// setRawRead does nothing where a socket cannot be read through its raw
// descriptor in a portable way (Windows, Plan 9, js and WASI): readIdle
// then lands an idle connection's first bytes in a small array, so it
// still holds no pooled buffer while it waits.
func (c *Conn) setRawRead(net.Conn) {}
