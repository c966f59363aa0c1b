//go:build unix

package ws_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user plus system time so far, for the
// benchmarks that report CPU per message (0 where it cannot be read).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
