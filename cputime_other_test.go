//go:build !unix && !js

package ws_test

import (
	"testing"
	"time"
)

// cpuTime returns 0: the process's CPU time is read on Unix only, and the
// benchmarks then report no CPU per message.
func cpuTime(*testing.B) time.Duration { return 0 }
