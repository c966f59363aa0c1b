//go:build !js

package main

import (
	"context"
	"io"
	"regexp"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "", 3, out)
	})
	line := `round-trip time: [0-9.]+(ns|µs|ms|s)\n`
	if !regexp.MustCompile(`^(` + line + `){3}$`).MatchString(out) {
		t.Fatalf("got %q", out)
	}
}
