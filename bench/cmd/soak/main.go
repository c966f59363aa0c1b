// Command soak holds many WebSocket connections to a ws server for
// minutes, with churn and a few busy connections, and watches the
// server's memory and goroutines: during the hold, and after every
// connection has closed, against the server's baseline.
//
// It has two modes. The driver starts the server as a process of its own
// (this binary again, in server mode), so the server's RSS is its own:
//
//	soak run [-conns 15000] [-hold 3m] [-churn 1500] [-every 10s] [-echo 100]
//
// The driver opens -conns connections, then holds them for -hold. Every
// -every it closes -churn of the idle ones with a close handshake and
// dials as many new ones (and redials any that failed before).
// Meanwhile -echo connections, which are never churned, each send a
// -echosize message and wait for its echo, at most once per
// -echointerval. It reads the server's VmRSS from /proc and asks for its
// goroutines and heap at the baseline, at the start, middle and end of
// the hold and after each churn round. After the hold it closes
// everything, waits for the server to count no connection and at most
// its baseline of goroutines (up to -settle), and reports them again,
// before and after a GC. Each phase has a time limit, so a run with the
// defaults ends within about 4.5 minutes whatever happens; a smoke run
// is, for example:
//
//	soak run -conns 500 -hold 20s -churn 50 -every 5s -echo 10
//
// The server mode is a ws.Server, with default Options, run by
// Server.Serve (inside net/http's http.Server) on a loopback port. Its
// handler echoes each message, read with Conn.Read and written back with
// Conn.Write:
//
//	soak server [-addr 127.0.0.1:0] [-memprofilerate N]
//
// It prints "addr HOST:PORT", then answers commands on standard input,
// one per line, each with one line of JSON on standard output:
//
//	stats           goroutines, open connections and heap, without a GC
//	gc              runtime.GC twice, then the same
//	free            debug.FreeOSMemory, then the same
//	goroutines PATH the goroutine profile (debug=1 text) written to PATH
//	heap PATH       a heap profile written to PATH
//	quit            shut down and exit (so does the end of standard input)
package main

import (
	"fmt"
	"os"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

func main() { harness.Main("soak", usage, serverMain, runMain) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: soak server [-addr 127.0.0.1:0] [-memprofilerate N]")
	fmt.Fprintln(os.Stderr, "       soak run [-conns 15000] [-hold 3m] [-churn 1500] [-every 10s] [-echo 100] [flags]")
	fmt.Fprintln(os.Stderr, "run 'soak run -h' for every flag")
	os.Exit(2)
}
