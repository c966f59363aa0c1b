package deflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// ExtensionName is the extension token of RFC 7692 section 7.
const ExtensionName = "permessage-deflate"

// The parameter names of RFC 7692 section 7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Window sizes of RFC 7692 section 7.1.2, as base-2 logarithms.
const (
	MinWindowBits = 8  // 256 bytes
	MaxWindowBits = 15 // 32 KiB, the DEFLATE maximum and the default
)

// Params are the parameters of one permessage-deflate element of a
// Sec-WebSocket-Extensions header, an offer or a response (RFC 7692
// section 7.1). A window field is 0 when the parameter is absent and
// 8..15 otherwise.
type Params struct {
	// ServerNoContextTakeover: the server resets its LZ77 window after
	// every message (section 7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its LZ77 window after
	// every message (section 7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the window the server compresses with
	// (section 7.1.2.1).
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the window the client compresses with
	// (section 7.1.2.2).
	ClientMaxWindowBits int
	// ClientMaxWindowBitsNoValue records client_max_window_bits with no
	// value, which only an offer may carry: the client understands the
	// parameter and lets the server choose. ClientMaxWindowBits is 0 then.
	ClientMaxWindowBitsNoValue bool
}

// String formats p as a Sec-WebSocket-Extensions element, for example
// "permessage-deflate; server_no_context_takeover; client_max_window_bits=10".
func (p Params) String() string {
	var b strings.Builder
	b.WriteString(ExtensionName)
	if p.ServerNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	if p.ServerMaxWindowBits != 0 {
		b.WriteString("; " + paramServerMaxWindowBits + "=" + strconv.Itoa(p.ServerMaxWindowBits))
	}
	switch {
	case p.ClientMaxWindowBits != 0:
		b.WriteString("; " + paramClientMaxWindowBits + "=" + strconv.Itoa(p.ClientMaxWindowBits))
	case p.ClientMaxWindowBitsNoValue:
		b.WriteString("; " + paramClientMaxWindowBits)
	}
	return b.String()
}

// Side is how one direction of a connection compresses: the sender's
// Compressor and the receiver's Decompressor are built from the same Side.
type Side struct {
	// WindowBits is the largest LZ77 window the sender may use, 8..15.
	WindowBits int
	// NoContextTakeover: the sender starts every message with an empty
	// window, so the receiver keeps no history between messages.
	NoContextTakeover bool
}

// Server is the side the server compresses with and the client inflates
// with, under the agreed parameters p (a server's response).
func (p Params) Server() Side {
	return Side{WindowBits: bitsOrMax(p.ServerMaxWindowBits), NoContextTakeover: p.ServerNoContextTakeover}
}

// Client is the side the client compresses with and the server inflates
// with, under the agreed parameters p (a server's response).
func (p Params) Client() Side {
	return Side{WindowBits: bitsOrMax(p.ClientMaxWindowBits), NoContextTakeover: p.ClientNoContextTakeover}
}

func bitsOrMax(b int) int {
	if b == 0 {
		return MaxWindowBits
	}
	return b
}

// bits is the window of s, 0 meaning 15, checked to be within 8..15.
func (s Side) bits() (int, error) {
	b := bitsOrMax(s.WindowBits)
	if b < MinWindowBits || b > MaxWindowBits {
		return 0, fmt.Errorf("deflate: window bits %d out of range 8 to 15", s.WindowBits)
	}
	return b, nil
}

// clampBits maps a configured window to 8..15, 0 meaning 15.
func clampBits(b int) int {
	switch {
	case b == 0 || b > MaxWindowBits:
		return MaxWindowBits
	case b < MinWindowBits:
		return MinWindowBits
	}
	return b
}

// parseBits reads a window size: a decimal integer from 8 to 15 without
// leading zeroes (RFC 7692 sections 7.1.2.1 and 7.1.2.2).
func parseBits(s string) (int, bool) {
	switch {
	case len(s) == 1 && (s[0] == '8' || s[0] == '9'):
		return int(s[0] - '0'), true
	case len(s) == 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '5':
		return 10 + int(s[1]-'0'), true
	}
	return 0, false
}

// ParseParams reads the parameters of one permessage-deflate element.
// response selects the rules of a server's response, where
// client_max_window_bits must carry a value; in an offer it may stand
// alone. An unknown or repeated parameter, a value on a takeover flag, or
// a window outside 8..15 is an error (RFC 7692 section 7.1). Parameter
// names are compared without regard to case.
func ParseParams(params []handshake.Param, response bool) (Params, error) {
	var p Params
	var seen [4]bool
	for _, prm := range params {
		var i int
		switch {
		case strings.EqualFold(prm.Name, paramServerNoContextTakeover):
			i = 0
		case strings.EqualFold(prm.Name, paramClientNoContextTakeover):
			i = 1
		case strings.EqualFold(prm.Name, paramServerMaxWindowBits):
			i = 2
		case strings.EqualFold(prm.Name, paramClientMaxWindowBits):
			i = 3
		default:
			return Params{}, fmt.Errorf("deflate: unknown parameter %q", prm.Name)
		}
		if seen[i] {
			return Params{}, fmt.Errorf("deflate: parameter %q repeated", prm.Name)
		}
		seen[i] = true
		switch i {
		case 0, 1:
			if prm.HasValue {
				return Params{}, fmt.Errorf("deflate: parameter %q takes no value", prm.Name)
			}
			if i == 0 {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case 2, 3:
			if !prm.HasValue {
				if i == 3 && !response {
					p.ClientMaxWindowBitsNoValue = true
					continue
				}
				return Params{}, fmt.Errorf("deflate: parameter %q needs a value", prm.Name)
			}
			b, ok := parseBits(prm.Value)
			if !ok {
				return Params{}, fmt.Errorf("deflate: parameter %q has value %q, want 8 to 15", prm.Name, prm.Value)
			}
			if i == 2 {
				p.ServerMaxWindowBits = b
			} else {
				p.ClientMaxWindowBits = b
			}
		}
	}
	return p, nil
}

// ServerConfig is what a server wants from permessage-deflate. The zero
// value accepts any valid offer with the full 32 KiB windows and context
// takeover in both directions, unless the client asks otherwise.
type ServerConfig struct {
	// ServerNoContextTakeover makes the server compress every message on
	// its own, so it holds no compressor between messages. It is announced
	// in every response; a client may also ask for it.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to compress every message on
	// its own, so the server keeps no inflate history between messages.
	// The client must comply (RFC 7692 section 7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the largest window the server compresses with,
	// 8..15; 0 means 15. A smaller value is announced even when the client
	// did not ask, so the client may keep less history.
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the largest window the server lets the client
	// compress with, 8..15; 0 means 15. It bounds the history the server
	// keeps, but can only be sent to a client that offered
	// client_max_window_bits; other clients keep 15.
	ClientMaxWindowBits int
}

// Negotiate chooses the first acceptable permessage-deflate offer among
// offers, as a server does (RFC 7692 sections 5 and 7.1), and returns the
// agreed parameters and the Sec-WebSocket-Extensions element to answer
// with. Elements of other extensions are skipped. An offer with an unknown
// or repeated parameter, or an invalid value, is declined and the next is
// tried. ok is false when no offer is acceptable; the server then answers
// without the extension.
//
// The response honours the client's server_no_context_takeover and
// server_max_window_bits requests, echoes client_no_context_takeover,
// adds what cfg asks for, and names client_max_window_bits only when the
// offer did. Values in cfg outside 8..15 are clamped into it.
func Negotiate(offers []handshake.Extension, cfg ServerConfig) (resp Params, header string, ok bool) {
	for _, ext := range offers {
		if !strings.EqualFold(ext.Name, ExtensionName) {
			continue
		}
		offer, err := ParseParams(ext.Params, false)
		if err != nil {
			continue
		}
		resp = respond(offer, cfg)
		return resp, resp.String(), true
	}
	return Params{}, "", false
}

// respond builds the response to a valid offer.
func respond(offer Params, cfg ServerConfig) Params {
	var r Params
	// Section 7.1.1.1: accepting an offer that names the flag means
	// naming it back; the server may also name it on its own.
	r.ServerNoContextTakeover = offer.ServerNoContextTakeover || cfg.ServerNoContextTakeover
	// Section 7.1.1.2: the server may always name it. Echoing the client's
	// hint costs nothing and tells the server it keeps no history.
	r.ClientNoContextTakeover = offer.ClientNoContextTakeover || cfg.ClientNoContextTakeover

	// Section 7.1.2.1: an offered value is answered with the same or a
	// smaller one; the server may also name a window the client did not
	// ask about.
	sb := clampBits(cfg.ServerMaxWindowBits)
	if offer.ServerMaxWindowBits != 0 {
		r.ServerMaxWindowBits = min(offer.ServerMaxWindowBits, sb)
	} else if sb < MaxWindowBits {
		r.ServerMaxWindowBits = sb
	}

	// Section 7.1.2.2: only when offered, with the same or a smaller
	// value. A value in the offer binds the client anyway, so it is
	// echoed to keep the agreed parameters exact.
	cb := clampBits(cfg.ClientMaxWindowBits)
	switch {
	case offer.ClientMaxWindowBits != 0:
		r.ClientMaxWindowBits = min(offer.ClientMaxWindowBits, cb)
	case offer.ClientMaxWindowBitsNoValue && cb < MaxWindowBits:
		r.ClientMaxWindowBits = cb
	}
	return r
}

// ClientConfig is what a client offers. The zero value offers
// "permessage-deflate; client_max_window_bits": context takeover and
// 32 KiB windows both ways, and the server may shrink the client's window.
type ClientConfig struct {
	// ServerNoContextTakeover asks the server to compress every message on
	// its own, so the client keeps no inflate history between messages.
	// A server that accepts must name it back.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover tells the server the client compresses
	// every message on its own.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, 8..15, asks the server to compress with at most
	// this window; 0 leaves it out.
	ServerMaxWindowBits int
	// ClientMaxWindowBits, 8..15, promises the client compresses with at
	// most this window; 0 offers client_max_window_bits with no value.
	ClientMaxWindowBits int
	// NoClientMaxWindowBits leaves client_max_window_bits out of the
	// offer, so the server may not name it in its response.
	NoClientMaxWindowBits bool
}

// offer returns the Params the client offers.
func (c ClientConfig) offer() Params {
	p := Params{
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ClientNoContextTakeover: c.ClientNoContextTakeover,
	}
	if c.ServerMaxWindowBits != 0 {
		p.ServerMaxWindowBits = clampBits(c.ServerMaxWindowBits)
	}
	if !c.NoClientMaxWindowBits {
		if c.ClientMaxWindowBits != 0 {
			p.ClientMaxWindowBits = clampBits(c.ClientMaxWindowBits)
		} else {
			p.ClientMaxWindowBitsNoValue = true
		}
	}
	return p
}

// ClientOffer returns the Sec-WebSocket-Extensions value a client sends
// for cfg. Window values outside 8..15 are clamped into it.
func ClientOffer(cfg ClientConfig) string {
	return cfg.offer().String()
}

// ErrNegotiation is the error every failed Accept wraps: the server's
// response breaks RFC 7692 section 7.1 or RFC 6455 section 9.1, and the
// client must fail the connection.
var ErrNegotiation = errors.New("deflate: invalid extension response")

// Accept validates a server's Sec-WebSocket-Extensions response, resp, to
// the offer ClientOffer(offered) made, and returns the agreed parameters.
// ok is false, with a nil error, when the server accepted no extension.
//
// It fails on an extension the client did not offer, more than one
// permessage-deflate element, an unknown or repeated parameter, a value
// out of range, a flag with a value, client_max_window_bits without a
// value or when the offer did not name it, a window larger than the
// offer's, and a response that leaves out a server_no_context_takeover or
// server_max_window_bits the offer asked for (the server accepts those
// only by naming them).
//
// When the offer bound the client's window and the response does not name
// client_max_window_bits, the returned Params carry the offered value, so
// Params.Client gives the window the client must keep to.
func Accept(resp []handshake.Extension, offered ClientConfig) (p Params, ok bool, err error) {
	if len(resp) == 0 {
		return Params{}, false, nil
	}
	for _, ext := range resp {
		if !strings.EqualFold(ext.Name, ExtensionName) {
			return Params{}, false, fmt.Errorf("%w: extension %q was not offered", ErrNegotiation, ext.Name)
		}
	}
	if len(resp) > 1 {
		return Params{}, false, fmt.Errorf("%w: %d %s elements, want one", ErrNegotiation, len(resp), ExtensionName)
	}
	p, err = ParseParams(resp[0].Params, true)
	if err != nil {
		return Params{}, false, fmt.Errorf("%w: %w", ErrNegotiation, err)
	}
	o := offered.offer()
	if o.ServerNoContextTakeover && !p.ServerNoContextTakeover {
		return Params{}, false, fmt.Errorf("%w: %s was offered but not accepted", ErrNegotiation, paramServerNoContextTakeover)
	}
	if o.ServerMaxWindowBits != 0 {
		switch {
		case p.ServerMaxWindowBits == 0:
			return Params{}, false, fmt.Errorf("%w: %s was offered but not accepted", ErrNegotiation, paramServerMaxWindowBits)
		case p.ServerMaxWindowBits > o.ServerMaxWindowBits:
			return Params{}, false, fmt.Errorf("%w: %s=%d is larger than the offered %d", ErrNegotiation, paramServerMaxWindowBits, p.ServerMaxWindowBits, o.ServerMaxWindowBits)
		}
	}
	switch {
	case p.ClientMaxWindowBits != 0 && o.ClientMaxWindowBits == 0 && !o.ClientMaxWindowBitsNoValue:
		return Params{}, false, fmt.Errorf("%w: %s was not offered", ErrNegotiation, paramClientMaxWindowBits)
	case p.ClientMaxWindowBits != 0 && o.ClientMaxWindowBits != 0 && p.ClientMaxWindowBits > o.ClientMaxWindowBits:
		return Params{}, false, fmt.Errorf("%w: %s=%d is larger than the offered %d", ErrNegotiation, paramClientMaxWindowBits, p.ClientMaxWindowBits, o.ClientMaxWindowBits)
	case p.ClientMaxWindowBits == 0 && o.ClientMaxWindowBits != 0:
		p.ClientMaxWindowBits = o.ClientMaxWindowBits
	}
	// The client's own hint binds it whether or not the server echoed it.
	if o.ClientNoContextTakeover {
		p.ClientNoContextTakeover = true
	}
	return p, true, nil
}
