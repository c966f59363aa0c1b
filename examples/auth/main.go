//go:build !js

// Command auth shows client authentication, "Client authentication" from
// Node's ws README: the server checks a session cookie before it upgrades
// the request, and answers 401 Unauthorized, with a body, when there is
// none. The client first connects without logging in and shows that
// answer, then logs in, which gives it the cookie, and connects.
//
//	go run ./examples/auth
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run starts the server on 127.0.0.1 and plays the client.
func run(ctx context.Context, out io.Writer) error {
	srv := httptest.NewServer(newServer().handler())
	defer srv.Close()
	wsURL := "ws" + srv.URL[len("http"):] + "/ws"

	// 1. Without a session, the server refuses the upgrade. Dial returns
	// its response, whose body says why.
	_, resp, err := ws.Dial(ctx, wsURL, nil)
	if err == nil {
		return errors.New("connected without logging in")
	}
	if resp == nil {
		return err // no answer at all: the server is not there
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Fprintf(out, "without logging in: %s: %s", resp.Status, body)

	// 2. Log in. The cookie jar keeps the session cookie the server sets,
	// for the HTTP client and for Dial alike.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err = client.PostForm(srv.URL+"/login", url.Values{"user": {"alice"}, "password": {"wonderland"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(out, "login: %s\n", resp.Status)

	// 3. Connect again, with the cookie.
	c, _, err := ws.Dial(ctx, wsURL, &ws.DialOptions{Jar: jar})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if err := c.Write(ctx, ws.MessageText, []byte("hello")); err != nil {
		return err
	}
	_, reply, err := c.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after logging in: %s\n", reply)
	return c.Close(ws.StatusNormalClosure, "")
}

// server keeps the sessions of the users who logged in.
type server struct {
	mu       sync.Mutex
	sessions map[string]string // session token → user name
}

func newServer() *server { return &server{sessions: map[string]string{}} }

// users stands for a real user store, with hashed passwords.
var users = map[string]string{"alice": "wonderland"}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /ws", s.chat)
	return mux
}

// login checks the user's password and sets a session cookie.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if pw, ok := users[user]; !ok || pw != r.PostFormValue("password") {
		http.Error(w, "wrong user or password", http.StatusUnauthorized)
		return
	}
	token := rand.Text() // 26 random characters: unguessable
	s.mu.Lock()
	s.sessions[token] = user
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: "session", Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	fmt.Fprintf(w, "welcome, %s\n", user)
}

// chat authenticates the request before upgrading it: until Accept is
// called, the handler can answer with any status and body.
func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	user, ok := s.user(r)
	if !ok {
		http.Error(w, "log in first, at /login", http.StatusUnauthorized)
		return
	}
	// Accept's origin check (on by default) matters here: a browser sends
	// the cookie with requests from any web page, and the check refuses
	// pages from other sites.
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		// The handler knows who is talking from here on.
		reply := fmt.Sprintf("%s said %q", user, msg)
		if err := c.Write(ctx, ws.MessageText, []byte(reply)); err != nil {
			return
		}
	}
}

// user returns the user whose session cookie came with r.
func (s *server) user(r *http.Request) (string, bool) {
	cookie, err := r.Cookie("session")
	if err != nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.sessions[cookie.Value]
	return user, ok
}
