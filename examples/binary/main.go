//go:build !js

// Command binary sends binary data: five float32 numbers, encoded as
// little-endian bytes, which the server decodes and sums. It is "Sending
// binary data" from Node's ws README, where the client sends a
// Float32Array.
//
//	go run ./examples/binary
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
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

// run starts the server on 127.0.0.1, sends it the numbers as a binary
// message, and prints its reply.
func run(ctx context.Context, out io.Writer) error {
	srv := httptest.NewServer(http.HandlerFunc(sumFloats))
	defer srv.Close()

	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()

	numbers := make([]float32, 5)
	for i := range numbers {
		numbers[i] = float32(i) / 2 // 0, 0.5, 1, 1.5, 2
	}
	// 4 bytes per number, least significant byte first: what a
	// Float32Array holds on almost every machine.
	data, err := binary.Append(nil, binary.LittleEndian, numbers)
	if err != nil {
		return err
	}
	if err := c.Write(ctx, ws.MessageBinary, data); err != nil {
		return err
	}
	fmt.Fprintf(out, "sent %v as %d bytes\n", numbers, len(data))

	_, reply, err := c.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server: %s\n", reply)
	return c.Close(ws.StatusNormalClosure, "")
}

// sumFloats decodes each binary message as little-endian float32 numbers
// and answers with their sum, as text.
func sumFloats(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != ws.MessageBinary || len(data)%4 != 0 {
			// 1003: the server cannot take this kind of data.
			c.Close(ws.StatusUnsupportedData, "want float32 numbers")
			return
		}
		numbers := make([]float32, len(data)/4)
		if _, err := binary.Decode(data, binary.LittleEndian, numbers); err != nil {
			return
		}
		var sum float32
		for _, x := range numbers {
			sum += x
		}
		reply := fmt.Sprintf("received %v, sum %g", numbers, sum)
		if err := c.Write(ctx, ws.MessageText, []byte(reply)); err != nil {
			return
		}
	}
}
