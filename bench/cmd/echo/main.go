// Command echo compares WebSocket echo servers of this module's ws package
// and of peer libraries, with one load generator for all of them.
//
// The server mode serves one library's echo handler and answers commands
// on standard input (quit, and "broadcast K SIZE" for ws-server and gws):
//
//	echo server -lib ws -addr 127.0.0.1:0 [-cpuprofile FILE]
//
// The driver mode starts each server as a separate process (pinned to CPU 0
// with taskset when it exists; the driver, which is the load generator,
// re-executes itself pinned to CPU 1), and measures echo throughput,
// round-trip latency and server CPU time per message, handshakes per
// second, and broadcast deliveries per second:
//
//	echo run -rounds 3 -md RESULTS-echo.md
//
// The driver also runs Node.js's ws (with bufferutil) as the servers node
// (echo, handshakes, broadcast) and node-deflate (compressed echo):
// bench/node/echo.js, started as `taskset -c 0 node echo.js --mode LIB`,
// which speaks the same protocol on its standard input and output. The
// directory of echo.js is -nodedir, by default found from the working
// directory (bench, the repository's root or bench/cmd/echo) or the
// source tree; `npm ci` must have been run in it.
//
// The client is the same for every server: raw TCP with hand-made
// WebSocket framing (masked binary frames out, any framing back).
package main

import (
	"fmt"
	"os"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

func main() { harness.Main("echo", usage, serverMain, runMain) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: echo server -lib LIB [-addr 127.0.0.1:0] [-cpuprofile FILE]")
	fmt.Fprintln(os.Stderr, "       echo run [-libs LIB,...] [-zlibs LIB,...] [-bcastlibs LIB,...] [-sizes 16,1024,65536] [-conns 1,16] [-rounds 3] [-md FILE] [-profile DIR] [-nodedir DIR]")
	fmt.Fprintln(os.Stderr, "LIB is one of:", libNames())
	fmt.Fprintln(os.Stderr, "and, for run only, node (-libs, -bcastlibs) and node-deflate (-zlibs): Node.js ws from bench/node/echo.js")
	os.Exit(2)
}
