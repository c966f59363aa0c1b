// Package conformance holds a conformance suite of the library in the
// categories of the Autobahn testsuite: a raw peer written from RFC 6455
// and RFC 7692 alone runs scripts of frames against the library's server
// and the library's client, each echoing every message, and checks every
// frame and close code they send.
//
// go test ./internal/conformance runs it over HTTP/1.1; go test -run
// 'TestConformanceCounts' -v ./internal/conformance prints the number of
// cases per category and side. RunHTTP2 runs the cases that apply over
// HTTP/2 (RFC 8441) on streams that the caller's HTTP2Env provides: the
// h2 module's TestConformanceHTTP2 does, since that needs
// golang.org/x/net/http2, on which this module does not depend. The
// package is for tests only, and imports testing.
package conformance
