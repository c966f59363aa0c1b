// Package message is what the cluster's processes send their clients:
// a hello when a client connects, and the chat messages that cross the
// backplane, each stamped with the process that published it and its
// number in that process's sequence.
package message

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Kinds of message.
const (
	// Hello is the first message of a connection. From then on the
	// client receives every chat message that its process receives from
	// the backplane, for as long as it stays connected.
	Hello = "hello"
	// Chat is a message a client sent, as the backplane carried it.
	Chat = "chat"
)

// Message is the JSON of every message a client receives.
type Message struct {
	Kind string `json:"kind"`
	// Node names the process: for Hello, the one the client is connected
	// to; for Chat, the one that published it.
	Node string `json:"node"`
	// Boot tells apart two runs of a process of the same Node name; a
	// publisher is the pair (Node, Boot).
	Boot uint64 `json:"boot"`
	// Seq numbers the publisher's messages from 1, in the order it
	// published them.
	Seq uint64 `json:"seq,omitempty"`
	// Sent is when the publisher handed the message to the backplane, in
	// Unix nanoseconds.
	Sent int64 `json:"sent,omitempty"`
	// From is the name of the client that sent a Chat message, or of the
	// client that a Hello greets.
	From string `json:"from,omitempty"`
	Text string `json:"text,omitempty"`
}

// Publisher is the key of a message's sequence: each publisher's
// messages reach every client in the order of Seq.
func (m *Message) Publisher() string { return fmt.Sprintf("%s/%x", m.Node, m.Boot) }

// Encode returns m's JSON.
func Encode(m *Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // a struct of strings and numbers always encodes
	}
	return b
}

// Decode parses a message.
func Decode(b []byte) (Message, error) {
	var m Message
	err := json.Unmarshal(b, &m)
	return m, err
}

// SentAt reads the Sent field of an encoded message without decoding the
// rest, for code that only measures; 0 if it has none.
func SentAt(b []byte) int64 {
	i := bytes.Index(b, sentKey)
	if i < 0 {
		return 0
	}
	var n int64
	for _, c := range b[i+len(sentKey):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

var sentKey = []byte(`"sent":`)
