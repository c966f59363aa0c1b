//go:build !js

package main

import (
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, run)
	if got := strings.Count(out, "on the wire\n"); got != len(settings) {
		t.Fatalf("%d results, want %d:\n%s", got, len(settings), out)
	}
}

func TestSettings(t *testing.T) {
	ctx := exampletest.Context(t)
	// What each setting must agree on, and whether the messages must take
	// less room on the wire than they hold.
	want := []struct {
		ext    string
		shrink bool
	}{
		{"", false},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", false},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", false},
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits=10", true},
	}
	if len(want) != len(settings) {
		t.Fatalf("%d settings, %d expectations", len(settings), len(want))
	}
	var uncompressed int64
	for i, s := range settings {
		ext, wire, payload, err := try(ctx, s)
		if err != nil {
			t.Fatal(s.name, err)
		}
		if ext != want[i].ext {
			t.Errorf("%s: extensions %q, want %q", s.name, ext, want[i].ext)
		}
		if (wire < payload) != want[i].shrink {
			t.Errorf("%s: %d bytes took %d", s.name, payload, wire)
		}
		switch i {
		case 0:
			uncompressed = wire
		case 1:
			// Under the threshold, nothing is compressed: the same bytes
			// as without compression.
			if wire != uncompressed {
				t.Errorf("%s: %d bytes on the wire, want %d", s.name, wire, uncompressed)
			}
		}
	}
}
