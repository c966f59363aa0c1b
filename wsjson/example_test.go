//go:build !js

package wsjson_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/wsjson"
)

// A server that answers each request with its sum, and a client that asks
// once.
func Example() {
	type request struct {
		Numbers []int `json:"numbers"`
	}
	type reply struct {
		Sum int `json:"sum"`
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			var req request
			if err := wsjson.Read(r.Context(), c, &req); err != nil {
				return // the client closed, or sent something else
			}
			var rep reply
			for _, n := range req.Numbers {
				rep.Sum += n
			}
			if err := wsjson.Write(r.Context(), c, rep); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, "ws://"+srv.Listener.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, request{Numbers: []int{1, 2, 3, 4}}); err != nil {
		fmt.Println(err)
		return
	}
	var rep reply
	if err := wsjson.Read(ctx, c, &rep); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sum:", rep.Sum)
	c.Close(ws.StatusNormalClosure, "")
	// Output: sum: 10
}
