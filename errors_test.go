//go:build !js

package ws_test

import (
	"errors"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

func TestStatusCodeString(t *testing.T) {
	if ws.StatusGoingAway.String() != "GoingAway" || ws.StatusCode(4000).String() != "StatusCode(4000)" {
		t.Fatal(ws.StatusGoingAway.String(), ws.StatusCode(4000).String())
	}
	if ws.CloseStatus(errors.New("x")) != -1 {
		t.Fatal("CloseStatus of a plain error")
	}
	err := error(ws.CloseError{Code: 1000, Reason: "ok"})
	if ws.CloseStatus(errors.Join(errors.New("wrapped"), err)) != 1000 {
		t.Fatal("CloseStatus misses wrapped errors")
	}
}
