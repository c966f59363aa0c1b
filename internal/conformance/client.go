//go:build !js

package conformance

// Client-only conformance cases: the checks of RFC 6455 section 4.1 a
// client makes of the server's handshake response, and those of RFC 7692
// section 7.1 it makes of the permessage-deflate response. The raw server
// of peer_test.go answers the library's Dial.

import (
	"fmt"

	"github.com/seed-d6ba7b20/ws"
)

// confHS returns a client case whose raw server answers with the
// response resp builds from the client's key.
func confHS(id, name, ref string, resp func(key string) string) *confCase {
	return &confCase{cat: "H", id: id, name: name, ref: ref, sides: confClientSide, rawResp: resp}
}

// conf101 returns a 101 response with the usual headers, minus those
// named in drop, plus extra lines.
func conf101(drop map[string]bool, extra ...string) func(key string) string {
	return func(key string) string {
		r := "HTTP/1.1 101 Switching Protocols\r\n"
		if !drop["Upgrade"] {
			r += "Upgrade: websocket\r\n"
		}
		if !drop["Connection"] {
			r += "Connection: Upgrade\r\n"
		}
		if !drop["Accept"] {
			r += "Sec-WebSocket-Accept: " + confAcceptKey(key) + "\r\n"
		}
		for _, l := range extra {
			r += l + "\r\n"
		}
		return r + "\r\n"
	}
}

func confHandshakeClient() []*confCase {
	fail := func(c *confCase, status int) *confCase {
		c.dialFail, c.failStatus = true, status
		return c
	}
	const ref = "RFC 6455 4.1: the client MUST fail the connection"
	var cs []*confCase
	for i, st := range []string{"200 OK", "400 Bad Request", "403 Forbidden", "404 Not Found", "426 Upgrade Required", "500 Internal Server Error", "503 Service Unavailable"} {
		status := 0
		fmt.Sscan(st, &status)
		body := "no websocket here\n"
		cs = append(cs, fail(confHS(fmt.Sprintf("H.2.%d", i+1), "status "+st, ref+" (status not 101)", func(string) string {
			return fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", st, len(body), body)
		}), status))
	}
	cs = append(cs,
		fail(confHS("H.2.8", "status 302 with a Location, redirects not followed", ref+" (status not 101)", func(string) string {
			return "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
		}), 302),
		fail(confHS("H.3.1", "101 without Upgrade", ref, conf101(map[string]bool{"Upgrade": true})), 101),
		fail(confHS("H.3.2", "101 with Upgrade: h2c", ref, conf101(map[string]bool{"Upgrade": true}, "Upgrade: h2c")), 101),
		fail(confHS("H.3.3", "101 without Connection", ref, conf101(map[string]bool{"Connection": true})), 101),
		fail(confHS("H.3.4", "101 with Connection: keep-alive", ref, conf101(map[string]bool{"Connection": true}, "Connection: keep-alive")), 101),
		fail(confHS("H.3.5", "101 without Sec-WebSocket-Accept", ref, conf101(map[string]bool{"Accept": true})), 101),
		fail(confHS("H.3.6", "101 with the Sec-WebSocket-Accept of another key", ref, func(key string) string {
			return conf101(map[string]bool{"Accept": true}, "Sec-WebSocket-Accept: "+confAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))(key)
		}), 101),
		fail(confHS("H.3.7", "101 with the key itself as Sec-WebSocket-Accept", ref, func(key string) string {
			return conf101(map[string]bool{"Accept": true}, "Sec-WebSocket-Accept: "+key)(key)
		}), 101),
		fail(confHS("H.3.8", "101 with an empty Sec-WebSocket-Accept", ref, conf101(map[string]bool{"Accept": true}, "Sec-WebSocket-Accept: ")), 101),
		fail(confHS("H.4.1", "a subprotocol when none was offered", ref, conf101(nil, "Sec-WebSocket-Protocol: chat")), 101),

		fail(confHS("H.4.4", "the extension permessage-deflate, not offered", ref+", 9.1", conf101(nil, "Sec-WebSocket-Extensions: permessage-deflate")), 101),
		fail(confHS("H.4.5", "an unknown extension, not offered", ref+", 9.1", conf101(nil, "Sec-WebSocket-Extensions: x-foo")), 101),
	)
	notOffered := fail(confHS("H.4.2", "a subprotocol not among those offered", ref, conf101(nil, "Sec-WebSocket-Protocol: superchat")), 101)
	notOffered.subprotocols = []string{"chat", "v2"}
	two := fail(confHS("H.4.3", "two subprotocols chosen", ref, conf101(nil, "Sec-WebSocket-Protocol: chat, v2")), 101)
	two.subprotocols = []string{"chat", "v2"}
	ok := func(id, name string, resp func(string) string) *confCase {
		return confHS(id, name, "RFC 6455 4.1, 4.2.2", resp)
	}
	chosen := ok("H.5.4", "a subprotocol among those offered", conf101(nil, "Sec-WebSocket-Protocol: v2"))
	chosen.subprotocols, chosen.wantSubprotocol = []string{"chat", "v2"}, "v2"
	none := ok("H.5.5", "no subprotocol though some were offered", conf101(nil))
	none.subprotocols = []string{"chat", "v2"}
	return append(cs, notOffered, two,
		ok("H.5.1", "Upgrade: WebSocket in mixed case", conf101(map[string]bool{"Upgrade": true}, "Upgrade: WebSocket")),
		ok("H.5.2", "Connection: keep-alive, Upgrade", conf101(map[string]bool{"Connection": true}, "Connection: keep-alive, Upgrade")),
		ok("H.5.3", "Connection: upgrade in lower case", conf101(map[string]bool{"Connection": true}, "Connection: upgrade")),
		chosen, none,
	)
}

// ---------------------------------------------------------------------
// 13 permessage-deflate negotiation, client side.

func confNegotiationClient() []*confCase {
	def := ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}}
	const acc = "RFC 7692 7.1"
	const rej = "RFC 7692 7.1: the client MUST fail the connection"
	c := func(id, name, ref string, o ws.Options, dialFail bool, resp ...string) *confCase {
		var lines []string
		for _, r := range resp {
			lines = append(lines, "Sec-WebSocket-Extensions: "+r)
		}
		oo := o
		return &confCase{cat: "13", id: id, name: name, ref: ref, sides: confClientSide, copts: &oo,
			respLines: lines, dialFail: dialFail, failStatus: 101, build: confNegExchange}
	}
	cs := []*confCase{
		c("13.7.1", "response without parameters", acc, def, false, "permessage-deflate"),
		c("13.7.2", "response with server_no_context_takeover", acc+".1.1", def, false, "permessage-deflate; server_no_context_takeover"),
		c("13.7.3", "response with client_no_context_takeover", acc+".1.2", def, false, "permessage-deflate; client_no_context_takeover"),
		c("13.7.4", "response with every parameter", acc, def, false, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11"),
		c("13.7.5", "response with a quoted window value", acc+".2.2, RFC 6455 9.1", def, false, `permessage-deflate; client_max_window_bits="10"`),
	}
	for b := 8; b <= 15; b++ {
		cs = append(cs,
			c(fmt.Sprintf("13.8.%d", b-7), fmt.Sprintf("response with server_max_window_bits=%d, not offered", b), acc+".2.1", def, false, fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", b)),
			c(fmt.Sprintf("13.9.%d", b-7), fmt.Sprintf("response with client_max_window_bits=%d", b), acc+".2.2", def, false, fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", b)),
		)
	}
	for i, r := range []struct{ name, resp string }{
		{"an unknown parameter", "permessage-deflate; foo"},
		{"an unknown parameter with a value", "permessage-deflate; foo=1"},
		{"server_max_window_bits=7", "permessage-deflate; server_max_window_bits=7"},
		{"server_max_window_bits=16", "permessage-deflate; server_max_window_bits=16"},
		{"server_max_window_bits=0", "permessage-deflate; server_max_window_bits=0"},
		{"server_max_window_bits=08 (leading zero)", "permessage-deflate; server_max_window_bits=08"},
		{"server_max_window_bits=abc", "permessage-deflate; server_max_window_bits=abc"},
		{"server_max_window_bits without a value", "permessage-deflate; server_max_window_bits"},
		{"client_max_window_bits=7", "permessage-deflate; client_max_window_bits=7"},
		{"client_max_window_bits=16", "permessage-deflate; client_max_window_bits=16"},
		{"client_max_window_bits=010", "permessage-deflate; client_max_window_bits=010"},
		{"client_max_window_bits without a value (a response needs one)", "permessage-deflate; client_max_window_bits"},
		{"server_no_context_takeover with a value", "permessage-deflate; server_no_context_takeover=1"},
		{"client_no_context_takeover with a value", "permessage-deflate; client_no_context_takeover=1"},
		{"server_no_context_takeover twice", "permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
		{"server_max_window_bits twice", "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"},
		{"two permessage-deflate elements", "permessage-deflate, permessage-deflate"},
		{"permessage-deflate and an extension not offered", "permessage-deflate, x-foo"},
		{"an extension not offered", "x-foo"},
		{"a trailing ;", "permessage-deflate;"},
		{"a parameter without a name", "permessage-deflate; =10"},
		{"a parameter with an empty value", "permessage-deflate; server_max_window_bits="},
	} {
		cs = append(cs, c(fmt.Sprintf("13.10.%d", i+1), "response with "+r.name, rej, def, true, r.resp))
	}
	cs = append(cs, c("13.10.23", "two permessage-deflate elements on separate header lines", rej, def, true, "permessage-deflate", "permessage-deflate"))

	noCtx := ws.Options{Compression: &ws.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Threshold: -1}}
	peer10 := ws.Options{Compression: &ws.CompressionOptions{Threshold: -1, ServerMaxWindowBits: 10}}
	own10 := ws.Options{Compression: &ws.CompressionOptions{Threshold: -1, ClientMaxWindowBits: 10}}
	cs = append(cs,
		c("13.11.1", "server_no_context_takeover offered, response without it", acc+".1.1", noCtx, true, "permessage-deflate; client_no_context_takeover"),
		c("13.11.2", "server_no_context_takeover offered and accepted", acc+".1.1", noCtx, false, "permessage-deflate; server_no_context_takeover"),
		c("13.11.3", "server_max_window_bits=10 offered, 12 in the response", acc+".2.1", peer10, true, "permessage-deflate; server_max_window_bits=12"),
		c("13.11.4", "server_max_window_bits=10 offered, response without it", acc+".2.1", peer10, true, "permessage-deflate"),
		c("13.11.5", "server_max_window_bits=10 offered, 9 in the response", acc+".2.1", peer10, false, "permessage-deflate; server_max_window_bits=9"),
		c("13.11.6", "client_max_window_bits=10 offered, 12 in the response", acc+".2.2", own10, true, "permessage-deflate; client_max_window_bits=12"),
		c("13.11.7", "client_max_window_bits=10 offered, 9 in the response", acc+".2.2", own10, false, "permessage-deflate; client_max_window_bits=9"),
		c("13.11.8", "client_max_window_bits=10 offered, response without it: the client keeps to 10", acc+".2.2", own10, false, "permessage-deflate"),
		c("13.11.9", "compression off on the client, permessage-deflate in the response", "RFC 6455 4.1, 9.1", ws.Options{}, true, "permessage-deflate"),
	)
	return cs
}
