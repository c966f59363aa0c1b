//go:build !js

package ws_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// exampleName matches the name of a godoc example in prose.
var exampleName = regexp.MustCompile(`\bExample[A-Za-z0-9_]*`)

// readmeBlock is a fenced code block of a Markdown file.
type readmeBlock struct {
	line    int      // of the opening fence, from 1
	lang    string   // the fence's info string
	code    []string // the lines between the fences
	example string   // the last example name in the text before the block
}

// readmeBlocks returns the fenced code blocks of a Markdown text, each
// with the example that the prose before it (since the previous block)
// names last, and every example name of the prose.
func readmeBlocks(t *testing.T, text string) (blocks []readmeBlock, names []string) {
	t.Helper()
	var cur *readmeBlock
	last := ""
	for i, line := range strings.Split(text, "\n") {
		fence, isFence := strings.CutPrefix(line, "```")
		switch {
		case cur == nil && isFence:
			cur = &readmeBlock{line: i + 1, lang: strings.TrimSpace(fence), example: last}
			last = ""
		case cur == nil:
			for _, n := range exampleName.FindAllString(line, -1) {
				last = n
				names = append(names, n)
			}
		case isFence:
			if strings.TrimSpace(fence) != "" {
				t.Errorf("README.md:%d: a fence with an info string inside the block of line %d", i+1, cur.line)
			}
			blocks = append(blocks, *cur)
			cur = nil
		default:
			cur.code = append(cur.code, line)
		}
	}
	if cur != nil {
		t.Errorf("README.md:%d: the block is never closed", cur.line)
	}
	return blocks, names
}

// exampleBodies returns the body of each godoc example of a Go file, as
// written, comments included, by the example's name.
func exampleBodies(t *testing.T, file string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Example") {
			continue
		}
		from := fset.Position(fn.Body.Lbrace).Offset + 1
		to := fset.Position(fn.Body.Rbrace).Offset
		bodies[fn.Name.Name] = string(src[from:to])
	}
	return bodies
}

// normalise returns the lines of code without their leading and trailing
// white space, and without the blank lines that begin and end it.
func normalise(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	for len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// containsRun reports whether part appears in whole as consecutive lines.
func containsRun(whole, part []string) bool {
	for i := 0; i+len(part) <= len(whole); i++ {
		match := true
		for j := range part {
			if whole[i+j] != part[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// TestReadmeGoBlocks checks that every Go block of README.md is a run of
// lines of the godoc example in example_test.go (or h2/example_test.go)
// that the README names before it, so that the README's code is code that compiles and whose
// output is checked. Blocks of other languages must say which (sh, say),
// so that no Go block escapes the check for want of a tag.
func TestReadmeGoBlocks(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	bodies := exampleBodies(t, "example_test.go")
	// The examples of the h2 module, which this module cannot import but
	// whose test runs them.
	for name, body := range exampleBodies(t, "h2/example_test.go") {
		bodies[name] = body
	}
	blocks, names := readmeBlocks(t, string(readme))
	for _, n := range names {
		if _, ok := bodies[n]; !ok {
			t.Errorf("README.md names %s, which neither example_test.go nor h2/example_test.go has", n)
		}
	}
	goBlocks := 0
	for _, b := range blocks {
		switch b.lang {
		case "go":
			goBlocks++
		case "":
			t.Errorf("README.md:%d: a block without a language; use go for Go code, sh for commands", b.line)
			continue
		default:
			continue
		}
		code := normalise(b.code)
		if len(code) == 0 {
			t.Errorf("README.md:%d: an empty Go block", b.line)
			continue
		}
		if b.example == "" {
			t.Errorf("README.md:%d: the text before the Go block names no example of example_test.go", b.line)
			continue
		}
		body, ok := bodies[b.example]
		if !ok {
			continue // reported above
		}
		if !containsRun(normalise(strings.Split(body, "\n")), code) {
			t.Errorf("README.md:%d: the Go block is not part of %s in example_test.go:\n%s",
				b.line, b.example, strings.Join(b.code, "\n"))
		}
	}
	if goBlocks == 0 {
		t.Error("README.md has no Go block; is the fence syntax still ```go?")
	}
}

// TestReadmeBlockCheckFails checks that the comparison of
// TestReadmeGoBlocks tells a changed line, indentation aside.
func TestReadmeBlockCheckFails(t *testing.T) {
	body := normalise(strings.Split("\n\tx := 1\n\tif x > 0 {\n\t\tfmt.Println(x)\n\t}\n", "\n"))
	for _, c := range []struct {
		block string
		want  bool
	}{
		{"if x > 0 {\n    fmt.Println(x)\n}", true},
		{"\nx := 1\n", true},
		{"if x > 1 {\n\tfmt.Println(x)\n}", false},
		{"x := 1\nfmt.Println(x)", false},
		{"fmt.Println(x)\n}\n}", false},
	} {
		if got := containsRun(body, normalise(strings.Split(c.block, "\n"))); got != c.want {
			t.Errorf("%q in the body: got %v, want %v", c.block, got, c.want)
		}
	}
}

// TestReadmeReadLimit checks what the README says of a message over the
// receiver's read limit: the receiver's read fails with ErrMessageTooBig
// and it closes with 1009; a sender that was not reading meanwhile sees
// the 1009 at its next read, and one that was reading (or had called
// CloseRead) sees its write fail and the 1009 in Err.
func TestReadmeReadLimit(t *testing.T) {
	const limit = 1 << 10
	refused := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{Options: ws.Options{ReadLimit: limit}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, err = c.Read(context.Background())
		refused <- err
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	checkReceiver := func(t *testing.T) {
		t.Helper()
		if err := <-refused; !errors.Is(err, ws.ErrMessageTooBig) {
			t.Errorf("the receiver's read: %v, want ErrMessageTooBig", err)
		}
	}

	t.Run("Write", func(t *testing.T) {
		c, _, err := ws.Dial(ctx, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		// The message fits in the socket buffers: its Write cannot know.
		if err := c.Write(ctx, ws.MessageBinary, make([]byte, 4*limit)); err != nil {
			t.Fatalf("Write: %v, want nil", err)
		}
		_, _, err = c.Read(ctx)
		checkReceiver(t)
		var ce ws.CloseError
		if !errors.As(err, &ce) || ce.Code != ws.StatusMessageTooBig {
			t.Fatalf("the next Read: %v, want a CloseError with 1009", err)
		}
		if ws.CloseStatus(c.Err()) != ws.StatusMessageTooBig {
			t.Errorf("Err: %v, want 1009", c.Err())
		}
		if err := c.Write(ctx, ws.MessageText, []byte("more")); !errors.Is(err, net.ErrClosed) ||
			ws.CloseStatus(err) != ws.StatusMessageTooBig {
			t.Errorf("a Write after that: %v, want a ClosedError with 1009", err)
		}
	})

	// A Writer whose connection reads meanwhile, by a read loop or by
	// CloseRead, fails, and Err gives the receiver's 1009.
	for _, reader := range []string{"Read", "CloseRead"} {
		t.Run("Writer/"+reader, func(t *testing.T) {
			c, _, err := ws.Dial(ctx, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			read := make(chan error, 1)
			if reader == "Read" {
				go func() { _, _, err := c.Read(ctx); read <- err }()
			} else {
				c.CloseRead(ctx)
			}
			w, err := c.Writer(ctx, ws.MessageBinary)
			if err != nil {
				t.Fatal(err)
			}
			// Stream until the write fails, as it must long before the end.
			chunk := make([]byte, 32<<10)
			var werr error
			for n := 0; n < 1<<30 && werr == nil; n += len(chunk) {
				_, werr = w.Write(chunk)
			}
			if cerr := w.Close(); werr == nil {
				werr = cerr
			}
			if !errors.Is(werr, net.ErrClosed) {
				t.Errorf("the Writer: %v, want a ClosedError", werr)
			}
			if reader == "Read" {
				if err := <-read; ws.CloseStatus(err) != ws.StatusMessageTooBig {
					t.Errorf("the concurrent Read: %v, want 1009", err)
				}
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("the connection did not end")
			}
			checkReceiver(t)
			if ws.CloseStatus(c.Err()) != ws.StatusMessageTooBig {
				t.Errorf("Err: %v, want 1009", c.Err())
			}
		})
	}
}

// TestReadmeContextCause checks what the README's table of errors says of
// a cancelled context: the error wraps ctx.Err() and the context's cause.
func TestReadmeContextCause(t *testing.T) {
	errCause := errors.New("the cause")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			<-r.Context().Done() // never answer the handshake
			return
		}
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Read(context.Background()) // until the client closes
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errCause)
	defer cancel()
	_, _, err := ws.Dial(ctx, srv.URL+"/hang", nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errCause) {
		t.Errorf("Dial: %v, want an error wrapping context.DeadlineExceeded and the cause", err)
	}

	c, _, err := ws.Dial(context.Background(), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	rctx, rcancel := context.WithCancelCause(context.Background())
	time.AfterFunc(20*time.Millisecond, func() { rcancel(errCause) })
	_, _, err = c.Read(rctx)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errCause) {
		t.Errorf("Read: %v, want an error wrapping context.Canceled and the cause", err)
	}
	// The connection stays usable.
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close after the cancelled read: %v", err)
	}
}
