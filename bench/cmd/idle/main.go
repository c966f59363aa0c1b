// Command idle measures how much server memory an idle WebSocket
// connection costs, for this module's ws package and for peer libraries.
//
// It has two modes. The server mode accepts connections with one library
// and reports its memory on request:
//
//	idle server -lib ws -addr 127.0.0.1:0
//
// It prints "addr HOST:PORT" and then answers commands on standard input,
// one per line, each with one line of JSON on standard output:
//
//	count        the number of connections accepted, without a GC
//	stats        runtime.GC, debug.FreeOSMemory, then VmRSS and heap stats
//	profile PATH stats, and a heap profile written to PATH
//	quit         exit (so does the end of standard input)
//
// SIGUSR1 prints stats too.
//
// The driver mode starts the server as a separate process, so the
// client's memory does not count, reads its baseline, opens N idle
// connections to it, waits until the server has accepted them all, and
// reads its memory again:
//
//	idle run -libs tcp,ws,gorilla,coder,gobwas,gws -n 10000 -rounds 3
//
// It prints one line per measurement and a table of medians, and with -md
// writes the table and the machine's details as Markdown.
package main

import (
	"fmt"
	"os"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

func main() { harness.Main("idle", usage, serverMain, runMain) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: idle server -lib LIB [-addr 127.0.0.1:0] [-memprofilerate N]")
	fmt.Fprintln(os.Stderr, "       idle run [-libs LIB,...] [-n 10000] [-rounds 3] [-md FILE] [-profile DIR]")
	fmt.Fprintln(os.Stderr, "LIB is one of:", libNames())
	os.Exit(2)
}

// raiseNoFile raises RLIMIT_NOFILE to want (see harness.RaiseNoFile); the
// limit in force must be at least need. It returns that limit.
func raiseNoFile(want, need uint64) (uint64, error) {
	lim, err := harness.RaiseNoFile(want)
	if err == nil && lim < need {
		err = fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d needed", lim, need)
	}
	return lim, err
}
