//go:build !js

package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun gives the program a pipe as standard input, and checks each line
// comes back on standard output before the next one is written, as when
// someone types.
func TestRun(t *testing.T) {
	ctx := exampletest.Context(t)
	stdin, typing, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	screen, stdout := io.Pipe()

	done := make(chan error, 1)
	go func() {
		err := run(ctx, "", stdin, stdout)
		stdout.CloseWithError(err)
		done <- err
	}()

	lines := bufio.NewReader(screen)
	for _, line := range []string{"hello\n", "world\n"} {
		if _, err := io.WriteString(typing, line); err != nil {
			t.Fatal(err)
		}
		got, err := lines.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("got %q %v, want %q", got, err, line)
		}
	}

	// The end of the input (Ctrl-D) ends the program.
	typing.Close()
	if rest, err := io.ReadAll(lines); err != nil || len(rest) != 0 {
		t.Fatalf("got %q %v after the input ended", rest, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestLastReplies checks that input that ends at once still comes back
// whole before the program ends.
func TestLastReplies(t *testing.T) {
	input := strings.Repeat("a line of input\n", 5000)
	var out strings.Builder
	if err := run(exampletest.Context(t), "", strings.NewReader(input), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != input {
		t.Fatalf("got %d bytes back, want %d", out.Len(), len(input))
	}
}

// TestServerCloses checks the program ends without an error when the
// server closes first, at the next line of input.
func TestServerCloses(t *testing.T) {
	handled := make(chan struct{})
	srv := exampletest.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handled)
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), ws.MessageText, []byte("goodbye\n"))
		c.Close(ws.StatusGoingAway, "")
	}))
	ctx := exampletest.Context(t)
	stdin, typing := io.Pipe()
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- run(ctx, srv.URL, stdin, &out) }()
	// Keep typing until the program notices the connection is gone.
	go func() {
		for {
			if _, err := io.WriteString(typing, "anyone there?\n"); err != nil {
				return // the program has ended and the test closed the pipe
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	err := <-done
	typing.Close()
	if err != nil || out.String() != "goodbye\n" {
		t.Fatalf("got %q %v", out.String(), err)
	}
	<-handled // the server's Close drops the last lines it gets, then returns
}
