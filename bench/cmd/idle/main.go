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
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = serverMain(os.Args[2:])
	case "run":
		err = runMain(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: idle server -lib LIB [-addr 127.0.0.1:0] [-memprofilerate N]")
	fmt.Fprintln(os.Stderr, "       idle run [-libs LIB,...] [-n 10000] [-rounds 3] [-md FILE] [-profile DIR]")
	fmt.Fprintln(os.Stderr, "LIB is one of:", libNames())
	os.Exit(2)
}

// raiseNoFile raises RLIMIT_NOFILE to want, the hard limit too if the
// process may (it needs CAP_SYS_RESOURCE). Otherwise it raises the soft
// limit to the hard one, which must be at least need. It returns the limit
// in force.
func raiseNoFile(want, need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	n := lim
	n.Cur = want
	n.Max = max(lim.Max, want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err == nil {
		return want, nil
	}
	n = lim
	n.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		return lim.Cur, err
	}
	if n.Cur < need {
		return n.Cur, fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d needed", n.Cur, need)
	}
	return n.Cur, nil
}
