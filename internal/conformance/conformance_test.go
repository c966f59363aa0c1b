//go:build !js

package conformance

import "testing"

// TestConformance runs the suite over HTTP/1.1: the raw peer against the
// library's server (the raw peer upgrades a TCP connection) and against
// the library's client (the raw peer answers its upgrade).
func TestConformance(t *testing.T) {
	cases := confCases(t)
	confRunAll(t, cases, []confSide{
		{"server", confServerSide, confRunServer},
		{"client", confClientSide, confRunClient},
	})
	t.Log(confCounts(cases, ""))
}

// TestConformanceCounts prints the size of the suite.
func TestConformanceCounts(t *testing.T) {
	t.Log(confCounts(confCases(t), ""))
}
