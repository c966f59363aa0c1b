// Package conformance holds, in its tests only, a conformance suite of the
// library in the categories of the Autobahn testsuite: a raw peer written
// from RFC 6455 and RFC 7692 alone runs scripts of frames against the
// library's server and the library's client, each echoing every message,
// and checks every frame and close code they send.
//
// go test ./internal/conformance runs it; go test -run
// 'TestConformanceCounts' -v ./internal/conformance prints the number of
// cases per category and side.
package conformance
