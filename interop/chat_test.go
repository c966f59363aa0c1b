//go:build linux

package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The end-to-end test of the chat example: the real program, built from
// examples/chat, serves two tabs of headless Chromium, which the test
// drives through the DevTools protocol over the package's own client.

// chatPackage is the chat example, built with the ws module that the
// replace directive of go.mod points at: the working tree.
const chatPackage = "github.com/seed-d6ba7b20/ws/examples/chat"

// TestChat types a message in one tab of the chat page and sees it in
// both, then the other way round, then stops the program with SIGINT and
// sees both tabs disconnected.
func TestChat(t *testing.T) {
	requireChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()

	start := time.Now()
	chat := startChat(ctx, t)
	t.Logf("chat program built and serving %s in %v", chat.url, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	browser, endpoint := startChromiumCDP(ctx, t)
	cdp := dialCDP(ctx, t, endpoint)
	pages := make([]*cdpPage, 2)
	for i, name := range []string{"A", "B"} {
		p, err := cdp.openPage(ctx, name, chat.url+"/")
		if err != nil {
			t.Fatalf("opening page %s: %v", name, err)
		}
		pages[i] = p
	}
	const statusExpr = `document.getElementById("status")?.textContent ?? ""`
	for _, p := range pages {
		if _, err := poll(ctx, p, statusExpr, func(s string) bool { return s == "connected" }); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("Chromium started and both pages connected in %v", time.Since(start).Round(time.Millisecond))

	// Each message goes to everyone, its sender included. The page shows
	// messages with textContent, so markup in them shows as typed.
	const logExpr = `Array.from(document.querySelectorAll("#log p"), p => p.textContent)`
	var want []string
	for i, msg := range []string{
		"hello from A: <b>not bold</b> & ünïcödé ✓ 🚀",
		"hello from B, " + strings.Repeat("long ", 200),
	} {
		from := pages[i]
		js, _ := json.Marshal(msg)
		var left string
		if err := from.eval(ctx, fmt.Sprintf(`(() => {
			const text = document.getElementById("text");
			text.value = %s;
			document.getElementById("form").requestSubmit();
			return text.value;
		})()`, js), &left); err != nil {
			t.Fatalf("typing in page %s: %v", from.name, err)
		}
		if left != "" {
			t.Fatalf("page %s: the input holds %q after submitting, want it cleared by the form's handler", from.name, left)
		}
		want = append(want, msg)
		for _, p := range pages {
			d, err := poll(ctx, p, logExpr, func(got []string) bool { return slices.Equal(got, want) })
			if err != nil {
				t.Fatalf("the message typed in page %s: %v", from.name, err)
			}
			t.Logf("the message typed in page %s shown in page %s after %v", from.name, p.name, d.Round(time.Millisecond))
		}
	}

	// SIGINT stops the program gracefully: both pages see 1001 Going Away
	// and the program exits with status 0.
	start = time.Now()
	if err := chat.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		var status string
		if _, err := poll(ctx, p, statusExpr, func(s string) bool {
			status = s
			return strings.HasPrefix(s, "disconnected")
		}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(status, "disconnected (1001") {
			t.Errorf("page %s shows %q after SIGINT, want the 1001 Going Away close", p.name, status)
		}
		t.Logf("page %s shows %q %v after SIGINT", p.name, status, time.Since(start).Round(time.Millisecond))
	}
	select {
	case <-chat.exited:
	case <-ctx.Done():
		t.Fatalf("the chat program did not exit after SIGINT: %v", ctx.Err())
	}
	t.Logf("the chat program exited %v after SIGINT", time.Since(start).Round(time.Millisecond))
	if chat.waitErr != nil {
		t.Errorf("the chat program exited with %v after SIGINT, want status 0", chat.waitErr)
	}
	if strings.Contains(chat.output.String(), "WARNING: DATA RACE") {
		t.Errorf("the race detector reported on the chat program")
	}

	if err := cdp.closeBrowser(ctx, browser); err != nil {
		t.Error(err)
	}
}

// chatProgram is the running chat example.
type chatProgram struct {
	*groupProcess
	url string // http://127.0.0.1:PORT
}

// startChat builds the chat example with the race detector and runs it on
// a free port of 127.0.0.1 until it serves its page. The program runs in a
// process group of its own, which is killed when the test ends.
func startChat(ctx context.Context, t *testing.T) *chatProgram {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat")
	out, err := exec.CommandContext(ctx, "go", "build", "-race", "-o", bin, chatPackage).CombinedOutput()
	if err != nil {
		t.Fatalf("building %s: %v\n%s", chatPackage, err, out)
	}
	// The port is free when chosen but may be taken before the program
	// listens on it: then try another.
	for attempt := 1; ; attempt++ {
		p := runChat(ctx, t, bin, freePort(t))
		err := p.waitServing(ctx)
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.output.String(), "address already in use") {
			continue
		}
		t.Fatalf("the chat program does not serve %s: %v\n%s", p.url, err, p.output)
	}
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runChat starts the chat program bin on port, in a process group of its
// own (see startGroup).
func runChat(ctx context.Context, t *testing.T, bin string, port int) *chatProgram {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := startGroup(ctx, t, "the chat program", bin, "-addr", addr)
	if err != nil {
		t.Fatalf("starting the chat program: %v", err)
	}
	return &chatProgram{groupProcess: p, url: "http://" + addr}
}

// waitServing waits until the program serves its page.
func (p *chatProgram) waitServing(ctx context.Context) error {
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode == http.StatusOK && strings.HasPrefix(ct, "text/html") && strings.Contains(string(body), `id="status"`) {
				return nil
			}
			return fmt.Errorf("GET / answered %s, Content-Type %q, %d bytes", resp.Status, ct, len(body))
		}
		last = err
		select {
		case <-p.exited:
			return fmt.Errorf("the program exited: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %v", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
