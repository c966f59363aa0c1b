// Package interop tests the ws package against other implementations of
// WebSocket, both ways: the ws library of Node.js, version 8 (with and
// without permessage-deflate), the websockets library of Python, and
// headless Chromium.
//
// The peers live in the node, python and chromium directories. Install
// them before running the tests (Debian, as root), from the repository
// root:
//
//	apt-get update && apt-get install -y python3-websockets chromium
//	npm ci --prefix interop/node
//	cd interop && go test -race ./...
//
// The tests fail, rather than skip, when a peer is missing. See README.md.
package interop
