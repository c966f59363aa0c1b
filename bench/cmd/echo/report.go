package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// medianOf is the median of f over the samples of lib in c.
func medianOf(all []sample, lib string, c cell, f func(sample) float64) (float64, bool) {
	var v []float64
	for _, s := range all {
		if s.lib == lib && s.cell == c {
			v = append(v, f(s))
		}
	}
	return harness.Median(v), len(v) > 0
}

// family is a library's name without its variant: ws-rw is ws.
func family(lib string) string {
	f, _, _ := strings.Cut(lib, "-")
	return f
}

// refs are the libraries lib is compared with: the WebSocket libraries of
// another family than lib's if ref is "peer", else the library named ref
// ("tcp" for raw TCP).
func refs(libs []string, lib, ref string) []string {
	var out []string
	for _, l := range libs {
		if ref == "peer" && l != "tcp" && family(l) != family(lib) || l == ref {
			out = append(out, l)
		}
	}
	return out
}

// best is the best of value over libs; lower says whether lower is
// better.
func best(libs []string, lower bool, value func(l string) (float64, bool)) (float64, bool) {
	var b float64
	found := false
	for _, l := range libs {
		v, ok := value(l)
		if ok && (!found || (lower && v < b) || (!lower && v > b)) {
			b, found = v, true
		}
	}
	return b, found
}

// bestPeer is the best median of f in c over the WebSocket libraries of
// another family than lib's; lower says whether lower is better.
func bestPeer(all []sample, libs []string, lib string, c cell, f func(sample) float64, lower bool) (float64, bool) {
	return best(refs(libs, lib, "peer"), lower, func(l string) (float64, bool) { return medianOf(all, l, c, f) })
}

// valueIn is f of lib's sample in c in round r.
func valueIn(all []sample, lib string, c cell, r int, f func(sample) float64) (float64, bool) {
	for _, s := range all {
		if s.lib == lib && s.cell == c && s.round == r {
			return f(s), true
		}
	}
	return 0, false
}

// pairedRatio is the median over rounds of lib's value of m in c divided
// by the reference's in the same round: the best of refs(libs, lib, ref).
// When every server runs each cell in turn (the default), the samples of
// one round were taken seconds apart, so this ratio is steadier than the
// ratio of medians.
func pairedRatio(all []sample, libs []string, lib string, c cell, m metric, ref string) (float64, bool) {
	rs := refs(libs, lib, ref)
	var v []float64
	for _, s := range all {
		if s.lib != lib || s.cell != c {
			continue
		}
		b, ok := best(rs, m.lower, func(l string) (float64, bool) { return valueIn(all, l, c, s.round, m.f) })
		if ok && b != 0 {
			v = append(v, m.f(s)/b)
		}
	}
	return harness.Median(v), len(v) > 0
}

// metric is one column family of the report.
type metric struct {
	title string
	f     func(sample) float64
	scale float64
	prec  int
	lower bool
}

var (
	rateM = metric{"ops/s", sample.rate, 1, 0, false}
	cpuM  = metric{"server CPU µs per op (schedstat)", sample.cpuPerOp, 1e3, 2, true}
	p50M  = metric{"p50 µs", func(s sample) float64 { return s.p50 }, 1, 1, true}
	p99M  = metric{"p99 µs", func(s sample) float64 { return s.p99 }, 1, 1, true}
)

// table writes one Markdown table: a row per library, a column per cell.
func table(b *strings.Builder, all []sample, libs []string, cells []cell, m metric, kind string) {
	if strings.HasSuffix(kind, "-paired") {
		fmt.Fprintf(b, "\n%s: median over rounds", m.title)
	} else {
		fmt.Fprintf(b, "\n%s, median of rounds", m.title)
	}
	switch kind {
	case "peer":
		b.WriteString(": ratio to the best library of another family (>1 is better for ops/s, <1 is better for CPU and latency)")
	case "tcp":
		b.WriteString(": ratio to raw TCP")
	case "peer-paired":
		b.WriteString(" of the ratio, in each round, to the best library of another family in that round (>1 is better for ops/s, <1 is better for CPU)")
	case "tcp-paired":
		b.WriteString(" of the ratio, in each round, to raw TCP in that round")
	default:
		if ref, ok := strings.CutSuffix(kind, "-paired"); ok {
			fmt.Fprintf(b, " of the ratio, in each round, to %s in that round", ref)
		}
	}
	b.WriteString("\n\n| library |")
	for _, c := range cells {
		fmt.Fprintf(b, " %v |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(cells)) + "\n")
	for _, lib := range libs {
		// Raw TCP is no peer; against a named library (as in
		// "gws-paired") its row shows the floor.
		if lib == "tcp" && (kind == "peer" || kind == "tcp" || kind == "peer-paired") || kind == lib+"-paired" {
			continue
		}
		fmt.Fprintf(b, "| %s |", lib)
		for _, c := range cells {
			v, ok := medianOf(all, lib, c, m.f)
			var ref float64
			switch kind {
			case "peer":
				ref, ok = bestPeer(all, libs, lib, c, m.f, m.lower)
			case "tcp":
				ref, ok = medianOf(all, "tcp", c, m.f)
			default:
				if r, paired := strings.CutSuffix(kind, "-paired"); paired {
					v, ok = pairedRatio(all, libs, lib, c, m, r)
					ref = 1
					break
				}
				ref = m.scale
			}
			if !ok || ref == 0 {
				b.WriteString(" – |")
				continue
			}
			prec := m.prec
			if kind != "" {
				prec = 2
			}
			fmt.Fprintf(b, " %.*f |", prec, v/ref)
		}
		b.WriteString("\n")
	}
}

// report returns the tables of medians and ratios, in Markdown.
func report(cfg config, all []sample) string {
	var b strings.Builder
	echo := sizeCells(cfg)
	if len(cfg.libs) > 0 {
		b.WriteString("### Echo\n")
		for _, m := range []metric{cpuM, rateM, p50M, p99M} {
			table(&b, all, cfg.libs, echo, m, "")
		}
		table(&b, all, cfg.libs, echo, cpuM, "peer")
		table(&b, all, cfg.libs, echo, rateM, "peer")
		table(&b, all, cfg.libs, echo, cpuM, "tcp")
		table(&b, all, cfg.libs, echo, rateM, "tcp")
		for _, m := range []metric{cpuM, rateM} {
			table(&b, all, cfg.libs, echo, m, "peer-paired")
			table(&b, all, cfg.libs, echo, m, "tcp-paired")
		}
	}
	if len(cfg.zLibs) > 0 {
		zReport(&b, cfg, all)
	}
	if hs := hsCells(cfg); len(hs) > 0 && len(cfg.libs) > 0 {
		b.WriteString("\n### Handshakes (opening and close handshakes; tcp: connect, one round trip of the request's bytes, shutdown and the server's end of stream)\n")
		for _, m := range []metric{cpuM, rateM, p50M, p99M} {
			table(&b, all, cfg.libs, hs, m, "")
		}
		table(&b, all, cfg.libs, hs, cpuM, "peer")
		table(&b, all, cfg.libs, hs, rateM, "peer")
		for _, m := range []metric{cpuM, rateM} {
			table(&b, all, cfg.libs, hs, m, "peer-paired")
			table(&b, all, cfg.libs, hs, m, "tcp-paired")
			for _, ref := range []string{"gws", "gws-server"} {
				if slices.Contains(cfg.libs, ref) {
					table(&b, all, cfg.libs, hs, m, ref+"-paired")
				}
			}
		}
	}
	if len(cfg.bcastLibs) > 0 {
		bc := []cell{{"bcast", 1024, cfg.bcastClients}}
		b.WriteString("\n### Broadcast (ops are deliveries; p50/p99 are of a burst of 16 broadcasts)\n")
		for _, m := range []metric{rateM, cpuM, p50M, p99M} {
			table(&b, all, cfg.bcastLibs, bc, m, "")
		}
	}
	b.WriteString("\n### Every sample\n\n| round | library | cell | ops/s | p50 µs | p99 µs | CPU µs/op (schedstat) | CPU µs/op (utime+stime) | wire B/msg out | wire B/msg in |\n|--:|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range all {
		out, in := "–", "–"
		if s.cell.test == "zecho" {
			out, in = fmt.Sprintf("%.1f", s.outPerOp()), fmt.Sprintf("%.1f", s.inPerOp())
		}
		fmt.Fprintf(&b, "| %d | %s | %s %v | %.0f | %.1f | %.1f | %.2f | %.2f | %s | %s |\n",
			s.round, s.lib, s.cell.test, s.cell, s.rate(), s.p50, s.p99, s.cpuPerOp()/1e3, s.tickPerOp()/1e3, out, in)
	}
	return b.String()
}

// zReport writes the compressed echo's tables: one row per server and
// connection count, with the medians and the negotiated extension, and
// the ratios of the ws rows to each gws and node server.
func zReport(b *strings.Builder, cfg config, all []sample) {
	b.WriteString("\n### Compressed echo (1 KiB JSON-like text, a different message each time; client: ws.Dial with Compression: &ws.CompressionOptions{})\n\n")
	b.WriteString("medians of rounds; wire bytes are counted on the client's TCP connections, frame headers and masks included\n\n")
	b.WriteString("| library | conns | msgs/s | server CPU µs/msg | p50 µs | p99 µs | wire B/msg client→server | wire B/msg server→client | Sec-WebSocket-Extensions |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	med := func(lib string, c cell, f func(sample) float64) float64 {
		v, _ := medianOf(all, lib, c, f)
		return v
	}
	for _, c := range zechoCells(cfg) {
		n := c.conns
		for _, lib := range cfg.zLibs {
			if _, ok := medianOf(all, lib, c, sample.rate); !ok {
				continue
			}
			exts := map[string]bool{}
			var ext []string
			for _, s := range all {
				if s.lib == lib && s.cell == c && !exts[s.ext] {
					exts[s.ext] = true
					ext = append(ext, fmt.Sprintf("`%s`", s.ext))
				}
			}
			fmt.Fprintf(b, "| %s | %d | %.0f | %.2f | %.1f | %.1f | %.1f | %.1f | %s |\n", lib, n,
				med(lib, c, sample.rate), med(lib, c, sample.cpuPerOp)/1e3, med(lib, c, func(s sample) float64 { return s.p50 }),
				med(lib, c, func(s sample) float64 { return s.p99 }), med(lib, c, sample.outPerOp), med(lib, c, sample.inPerOp),
				strings.Join(ext, ", "))
		}
	}
	for _, ref := range cfg.zLibs {
		if f := family(ref); f == "gws" || f == "node" {
			zRatios(b, cfg, all, ref)
		}
	}
}

// zRatios writes the ws rows of the compressed echo divided by ref's: the
// ratios of the medians, and the medians of each round's ratio.
func zRatios(b *strings.Builder, cfg config, all []sample, ref string) {
	fmt.Fprintf(b, "\nws rows divided by %s (msgs/s: >1 is better; CPU and bytes: <1 is better); \"paired\" is the median over rounds of the ratio in each round\n\n", ref)
	b.WriteString("| library | conns | msgs/s | server CPU µs/msg | wire B/msg server→client | msgs/s, paired | CPU, paired |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range zechoCells(cfg) {
		n := c.conns
		for _, lib := range cfg.zLibs {
			if family(lib) != "ws" {
				continue
			}
			r := func(f func(sample) float64) string {
				v, ok1 := medianOf(all, lib, c, f)
				g, ok2 := medianOf(all, ref, c, f)
				if !ok1 || !ok2 || g == 0 {
					return "–"
				}
				return fmt.Sprintf("%.2f", v/g)
			}
			paired := func(f func(sample) float64) string {
				v, ok := pairedRatio(all, cfg.zLibs, lib, c, metric{f: f}, ref)
				if !ok {
					return "–"
				}
				return fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s |\n", lib, n, r(sample.rate), r(sample.cpuPerOp), r(sample.inPerOp), paired(sample.rate), paired(sample.cpuPerOp))
		}
	}
}

// libModules are the modules of the libraries.
var libModules = []string{
	"github.com/seed-d6ba7b20/ws",
	"github.com/gorilla/websocket",
	"github.com/coder/websocket",
	"github.com/gobwas/ws",
	"github.com/lxzan/gws",
}

// markdown is the generated part of the report: the machine, the command
// and the tables.
func markdown(cfg config, rep, load, loadEnd string, elapsed time.Duration) string {
	var b strings.Builder
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "- machine: %d CPUs (nproc), kernel %s, %s %s/%s\n",
		onlineCPUs(), strings.TrimSpace(string(kernel)), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if slices.Contains(libModules, d.Path) {
				v := d.Version
				if d.Replace != nil {
					v = "local (replaced by " + d.Replace.Path + ")"
				}
				fmt.Fprintf(&b, "- %s %s\n", d.Path, v)
			}
		}
	}
	if cfg.nodeDir != "" {
		fmt.Fprintf(&b, "- node servers: %s\n", cfg.node)
	}
	cmd := []string{"echo"}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		cmd = append(cmd, a)
	}
	fmt.Fprintf(&b, "- command: `%s`\n", strings.Join(cmd, " "))
	fmt.Fprintf(&b, "- pinned with taskset (server CPU 0, load generator CPU 1): %v\n", cfg.pin)
	fmt.Fprintf(&b, "- loadavg at the start: %s; at the end: %s; run took %v\n",
		strings.TrimSpace(load), strings.TrimSpace(loadEnd), elapsed.Round(time.Second))
	b.WriteString("\n" + rep)
	return b.String()
}

// onlineCPUs counts the machine's processors in /proc/cpuinfo:
// runtime.NumCPU sees only the CPU taskset pinned the driver to.
func onlineCPUs() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	n := 0
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "processor") {
			n++
		}
	}
	return n
}
