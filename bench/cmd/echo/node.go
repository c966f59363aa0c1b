package main

// The Node.js ws servers: bench/node/echo.js, run with node as a process
// of its own, like the Go servers, and speaking the same protocol on its
// standard input and output.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// nodeLibs are the Node.js ws servers, by name, and the tests each may
// run: node is the plain echo (also handshakes and broadcast),
// node-deflate the compressed echo. The name is echo.js's --mode.
var nodeLibs = map[string][]string{
	"node":         {"echo", "bcast"},
	"node-deflate": {"zecho"},
}

// isNodeLib says whether lib is served by echo.js.
func isNodeLib(lib string) bool {
	_, ok := nodeLibs[lib]
	return ok
}

// nodeTest says whether the node lib lib may run test ("echo", "zecho" or
// "bcast").
func nodeTest(lib, test string) bool {
	return slices.Contains(nodeLibs[lib], test)
}

// nodeVersions is what `node echo.js --versions` prints.
type nodeVersions struct {
	Node            string `json:"node"`
	WS              string `json:"ws"`
	Bufferutil      string `json:"bufferutil"`
	BufferutilAddon string `json:"bufferutilAddon"`
}

func (v nodeVersions) String() string {
	return fmt.Sprintf("Node.js %s, ws %s, bufferutil %s (native addon %s)", v.Node, v.WS, v.Bufferutil, v.BufferutilAddon)
}

// findNodeDir returns the directory of echo.js: dir if it is set, else the
// first of ./node, ./bench/node and ../../node (relative to the working
// directory: bench, the repository's root or bench/cmd/echo), and
// bench/node next to this source file as it was compiled, that holds
// echo.js.
func findNodeDir(dir string) (string, error) {
	var cands []string
	if dir != "" {
		cands = []string{dir}
	} else {
		cands = []string{"node", filepath.Join("bench", "node"), filepath.Join("..", "..", "node")}
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			cands = append(cands, filepath.Join(filepath.Dir(file), "..", "..", "node"))
		}
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "echo.js")); err == nil {
			return filepath.Abs(d)
		}
	}
	if dir != "" {
		return "", fmt.Errorf("-nodedir %s: no echo.js there", dir)
	}
	return "", fmt.Errorf("no bench/node/echo.js found from the working directory (tried %s); run from bench or pass -nodedir", strings.Join(cands, ", "))
}

// checkNode makes sure that node, ws and bufferutil's native addon are
// there, and returns their versions.
func checkNode(dir string) (nodeVersions, error) {
	var v nodeVersions
	if _, err := exec.LookPath("node"); err != nil {
		return v, errors.New("a Node.js server was asked for, but node is not on PATH: install Node.js 20 or later, or leave the node libs out")
	}
	for _, m := range []string{"ws", "bufferutil"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			return v, fmt.Errorf("a Node.js server was asked for, but %s is not installed in %s: run `npm ci` there", m, filepath.Join(dir, "node_modules"))
		}
	}
	cmd := exec.Command("node", filepath.Join(dir, "echo.js"), "--versions")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return v, fmt.Errorf("node %s --versions: %w", filepath.Join(dir, "echo.js"), err)
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return v, fmt.Errorf("node %s --versions said %q: %w", filepath.Join(dir, "echo.js"), out, err)
	}
	return v, nil
}

// nodeArgs is the command line of lib's server; prof, if set, is the file
// for a V8 CPU profile (.cpuprofile, written when the server exits).
func nodeArgs(dir, lib, prof string) []string {
	args := []string{"node"}
	if prof != "" {
		args = append(args, "--cpu-prof", "--cpu-prof-dir="+filepath.Dir(prof), "--cpu-prof-name="+filepath.Base(prof))
	}
	return append(args, filepath.Join(dir, "echo.js"), "--mode", lib)
}
