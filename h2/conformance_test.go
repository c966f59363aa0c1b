package h2_test

import (
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/conformance"
)

// TestConformanceHTTP2 runs the conformance suite's cases that apply over
// HTTP/2 (all but those of HTTP/1.1's opening handshake) on streams of
// extended CONNECT: the raw peer against the library's server and
// against the library's client.
func TestConformanceHTTP2(t *testing.T) {
	conformance.RunHTTP2(t, conformanceEnv(t))
}

// TestConformanceHTTP2Counts prints the number of cases that
// TestConformanceHTTP2 runs.
func TestConformanceHTTP2Counts(t *testing.T) {
	t.Log(conformance.CountsHTTP2(t))
}
