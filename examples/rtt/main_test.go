package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, "", 3, &out); err != nil {
		t.Fatal(err)
	}
	line := `round-trip time: [0-9.]+(ns|µs|ms|s)\n`
	if !regexp.MustCompile(`^(` + line + `){3}$`).MatchString(out.String()) {
		t.Fatalf("got %q", out.String())
	}
}
