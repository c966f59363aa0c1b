//go:build linux

package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// A client of the Chrome DevTools Protocol over the package's own client:
// it starts headless Chromium with a DevTools endpoint, opens tabs in it
// and runs JavaScript in them.

// startChromiumCDP starts headless Chromium on about:blank, with a DevTools
// endpoint on a free port of 127.0.0.1, in a process group of its own with
// a fresh profile, and returns the browser and the endpoint's URL
// (ws://127.0.0.1:PORT/devtools/browser/ID). When the test ends it kills
// the whole group, waits for the browser, and fails the test if a process
// of the group outlives it.
func startChromiumCDP(ctx context.Context, t *testing.T) (*groupProcess, string) {
	t.Helper()
	b := launchChromium(ctx, t, "--headless=new", "--remote-debugging-port=0", "about:blank")

	const prefix = "DevTools listening on "
	wctx, wcancel := context.WithTimeout(ctx, testTimeout)
	defer wcancel()
	line, err := b.output.wait(wctx, b.exited, func(l string) bool { return strings.HasPrefix(l, prefix) })
	if err != nil {
		t.Fatalf("Chromium did not print its DevTools endpoint: %v\n%s", err, b.output)
	}
	return b, strings.TrimSpace(strings.TrimPrefix(line, prefix))
}

// cdpError is the error of a DevTools command.
type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

func (e *cdpError) Error() string {
	s := fmt.Sprintf("DevTools error %d: %s", e.Code, e.Message)
	if e.Data != "" {
		s += " (" + e.Data + ")"
	}
	return s
}

// cdpCommand is a command of the protocol.
type cdpCommand struct {
	ID        int64  `json:"id"`
	SessionID string `json:"sessionId,omitempty"`
	Method    string `json:"method"`
	Params    any    `json:"params"`
}

// cdpMessage is what comes back: the reply to a command (ID set) or an
// event (Method set).
type cdpMessage struct {
	ID        int64           `json:"id"`
	SessionID string          `json:"sessionId"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *cdpError       `json:"error"`
}

// cdpEventsKept are the events a cdpClient keeps, to show when a test
// fails: what the pages logged and threw, and crashes.
var cdpEventsKept = map[string]bool{
	"Runtime.consoleAPICalled":     true,
	"Runtime.exceptionThrown":      true,
	"Inspector.targetCrashed":      true,
	"Target.detachedFromTarget":    true,
	"Target.targetCrashed":         true,
	"Log.entryAdded":               true,
	"Inspector.detached":           true,
	"Page.javascriptDialogOpening": true,
}

// cdpClient is a connection to the browser's DevTools endpoint. Pages are
// reached through it with flat sessions (Target.attachToTarget with
// flatten), whose commands carry their sessionId.
type cdpClient struct {
	c    *ws.Conn
	done chan struct{} // closed when the read loop has ended

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan cdpMessage
	events  []string
	err     error // why the read loop ended
}

// dialCDP connects to the DevTools endpoint url with the package's client.
// The connection is closed, and its reader waited for, when the test ends;
// if the test failed, the events kept are logged.
func dialCDP(ctx context.Context, t *testing.T, url string) *cdpClient {
	t.Helper()
	c, _, err := ws.Dial(ctx, url, &ws.DialOptions{Proxy: ws.NoProxy})
	if err != nil {
		t.Fatalf("dialing Chromium's DevTools endpoint %s: %v", url, err)
	}
	cl := &cdpClient{c: c, done: make(chan struct{}), pending: map[int64]chan cdpMessage{}}
	go cl.readLoop()
	t.Cleanup(func() {
		c.CloseNow()
		<-cl.done
		if t.Failed() {
			cl.mu.Lock()
			t.Logf("DevTools events:\n%s", strings.Join(cl.events, "\n"))
			cl.mu.Unlock()
		}
	})
	return cl
}

// readLoop hands replies to their callers and keeps the events worth
// keeping, until the connection ends.
func (cl *cdpClient) readLoop() {
	defer close(cl.done)
	for {
		_, data, err := cl.c.Read(context.Background())
		if err != nil {
			cl.mu.Lock()
			cl.err = err
			cl.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(data, &m); err != nil {
			cl.mu.Lock()
			cl.events = append(cl.events, fmt.Sprintf("undecodable message %q: %v", data, err))
			cl.mu.Unlock()
			continue
		}
		cl.mu.Lock()
		if m.ID != 0 {
			if ch, ok := cl.pending[m.ID]; ok {
				delete(cl.pending, m.ID)
				ch <- m // buffered
			}
		} else if cdpEventsKept[m.Method] {
			cl.events = append(cl.events, fmt.Sprintf("%s [%s] %s", m.Method, m.SessionID, m.Params))
		}
		cl.mu.Unlock()
	}
}

// call sends the command method with params, to the page of session or,
// if session is "", to the browser, and waits for its result.
func (cl *cdpClient) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	ch := make(chan cdpMessage, 1)
	cl.mu.Lock()
	cl.nextID++
	id := cl.nextID
	cl.pending[id] = ch
	cl.mu.Unlock()
	forget := func() {
		cl.mu.Lock()
		delete(cl.pending, id)
		cl.mu.Unlock()
	}
	if params == nil {
		params = struct{}{}
	}
	b, err := json.Marshal(cdpCommand{ID: id, SessionID: session, Method: method, Params: params})
	if err != nil {
		forget()
		return nil, err
	}
	if err := cl.c.Write(ctx, ws.MessageText, b); err != nil {
		forget()
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %w", method, m.Error)
		}
		return m.Result, nil
	case <-cl.done:
		forget()
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return nil, fmt.Errorf("%s: the DevTools connection ended: %v", method, cl.err)
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// cdpPage is a tab that a cdpClient is attached to.
type cdpPage struct {
	cl      *cdpClient
	name    string // for messages
	session string
}

// openPage opens url in a new tab, attaches to it and enables its Runtime
// domain, so that its console messages and exceptions are kept.
func (cl *cdpClient) openPage(ctx context.Context, name, url string) (*cdpPage, error) {
	res, err := cl.call(ctx, "", "Target.createTarget", map[string]any{"url": url})
	if err != nil {
		return nil, err
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := json.Unmarshal(res, &target); err != nil || target.TargetID == "" {
		return nil, fmt.Errorf("Target.createTarget answered %s (%v)", res, err)
	}
	res, err = cl.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(res, &attached); err != nil || attached.SessionID == "" {
		return nil, fmt.Errorf("Target.attachToTarget answered %s (%v)", res, err)
	}
	p := &cdpPage{cl: cl, name: name, session: attached.SessionID}
	if _, err := cl.call(ctx, p.session, "Runtime.enable", nil); err != nil {
		return nil, err
	}
	return p, nil
}

// eval evaluates the JavaScript expression expr in the page and stores its
// value, which must be JSON, in out. An exception thrown is an error.
func (p *cdpPage) eval(ctx context.Context, expr string, out any) error {
	res, err := p.cl.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression":    expr,
		"returnByValue": true,
	})
	if err != nil {
		return fmt.Errorf("page %s: %w", p.name, err)
	}
	var r struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return fmt.Errorf("page %s: Runtime.evaluate answered %s: %v", p.name, res, err)
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("page %s: %s: %s %s", p.name, expr, e.Text, e.Exception.Description)
	}
	if out == nil {
		return nil
	}
	if r.Result.Value == nil {
		return fmt.Errorf("page %s: %s has no JSON value (type %s)", p.name, expr, r.Result.Type)
	}
	return json.Unmarshal(r.Result.Value, out)
}

// poll evaluates expr in the page every 20 ms until ok accepts its value,
// and returns how long that took. It gives up when ctx is done, with an
// error that tells the last value or error.
func poll[T any](ctx context.Context, p *cdpPage, expr string, ok func(T) bool) (time.Duration, error) {
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		var v T
		if err := p.eval(ctx, expr, &v); err != nil {
			if ctx.Err() != nil {
				return 0, fmt.Errorf("page %s: %s: %w; last: %s", p.name, expr, ctx.Err(), last)
			}
			last = err.Error()
		} else if ok(v) {
			return time.Since(start), nil
		} else {
			b, _ := json.Marshal(v)
			last = string(b)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return 0, fmt.Errorf("page %s: %s: %w; last value: %s", p.name, expr, ctx.Err(), last)
		}
	}
}

// closeBrowser asks the browser to close with Browser.close and waits for
// it to exit. The reply may be lost as the browser goes, so only the exit
// counts.
func (cl *cdpClient) closeBrowser(ctx context.Context, b *groupProcess) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, callErr := cl.call(cctx, "", "Browser.close", nil)
	select {
	case <-b.exited:
		return nil
	case <-cctx.Done():
		return errors.Join(errors.New("Chromium did not exit after Browser.close"), callErr)
	}
}
