//go:build !linux

package ws

// idlePolling says that the Messages goroutine parks while its socket has
// nothing to read. It does on Linux only; elsewhere it waits in Read.
const idlePolling = false

// idlePoller does nothing where the Messages goroutine does not park.
type idlePoller struct{}

// poller is the process's idlePoller.
var poller idlePoller

func (idlePoller) watch(*Conn) uint64 { return 0 }

func (idlePoller) forget(uint64) {}
