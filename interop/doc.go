// Package interop tests the ws package against another implementation of
// WebSocket: the ws library of Node.js, version 8.
//
// The Node.js side lives in the node directory. Install it before running
// the tests, from the repository root:
//
//	npm ci --prefix interop/node
//	cd interop && go test -race ./...
//
// The tests fail, rather than skip, when node or the ws package is missing.
package interop
