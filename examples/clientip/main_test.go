//go:build !js

package main

import (
	"net/http"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, run)
	want := "RemoteAddr says 127.0.0.1\n" +
		"RemoteAddr says 127.0.0.1, X-Forwarded-For says 203.0.113.7\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestForwardedFor(t *testing.T) {
	for _, tt := range []struct {
		header []string
		want   string
	}{
		{nil, ""},
		{[]string{"203.0.113.7"}, "203.0.113.7"},
		// The client claimed 10.0.0.1; the proxy appended what it saw.
		{[]string{"10.0.0.1, 203.0.113.7"}, "203.0.113.7"},
		// Two headers count as one list.
		{[]string{"10.0.0.1", "2001:db8::1"}, "2001:db8::1"},
	} {
		r := &http.Request{Header: http.Header{"X-Forwarded-For": tt.header}}
		if got := forwardedFor(r); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.header, got, tt.want)
		}
	}
}
