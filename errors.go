package ws

import (
	"errors"
	"net"
	"net/http"
	"strconv"
)

// StatusCode is a WebSocket close status code (RFC 6455 section 7.4).
type StatusCode int

// Close status codes of RFC 6455 section 7.4.1 and the IANA registry.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusReceived        StatusCode = 1005 // never on the wire: the close frame had no code
	StatusAbnormalClosure         StatusCode = 1006 // never on the wire: the connection ended without a close frame
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never on the wire
)

var statusNames = map[StatusCode]string{
	StatusNormalClosure:           "NormalClosure",
	StatusGoingAway:               "GoingAway",
	StatusProtocolError:           "ProtocolError",
	StatusUnsupportedData:         "UnsupportedData",
	StatusNoStatusReceived:        "NoStatusReceived",
	StatusAbnormalClosure:         "AbnormalClosure",
	StatusInvalidFramePayloadData: "InvalidFramePayloadData",
	StatusPolicyViolation:         "PolicyViolation",
	StatusMessageTooBig:           "MessageTooBig",
	StatusMandatoryExtension:      "MandatoryExtension",
	StatusInternalError:           "InternalError",
	StatusServiceRestart:          "ServiceRestart",
	StatusTryAgainLater:           "TryAgainLater",
	StatusBadGateway:              "BadGateway",
	StatusTLSHandshake:            "TLSHandshake",
}

// String returns the code's name from RFC 6455 and the IANA registry, or
// its number for codes without one, for example "StatusCode(4000)".
func (c StatusCode) String() string {
	if s, ok := statusNames[c]; ok {
		return s
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// validOnWire reports whether c may appear in a close frame: 1000-1003,
// 1007-1014 and 3000-4999 (RFC 6455 section 7.4 and the IANA registry).
func (c StatusCode) validOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// CloseError is the close frame a peer sent: its status code and reason.
// Read calls return it when the peer closes the connection. Match it with
// errors.As, or read its code with CloseStatus.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns "ws: closed with status NAME (CODE)" and the reason, if any.
func (e CloseError) Error() string {
	s := "ws: closed with status " + e.Code.String() + " (" + strconv.Itoa(int(e.Code)) + ")"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// CloseStatus returns the code of the CloseError in err's chain, or -1 if
// there is none.
func CloseStatus(err error) StatusCode {
	var ce CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// ProtocolError is a violation of RFC 6455 or RFC 7692 by the peer. The
// connection answers it with a close frame carrying Code, then closes.
// Every ProtocolError the package returns is one of the Err variables
// below, possibly wrapped with detail, so match it with errors.Is; use
// errors.As to read Code.
type ProtocolError struct {
	Code   StatusCode // the close code sent to the peer
	Reason string     // what was wrong, also sent as the close reason
}

// Error returns "ws: " and the reason.
func (e *ProtocolError) Error() string { return "ws: " + e.Reason }

func protocolErr(code StatusCode, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}

// Violations of the protocol by the peer.
var (
	// ErrReservedBits: a frame has RSV1, RSV2 or RSV3 set, and no
	// negotiated extension gives the bit a meaning (section 5.2).
	ErrReservedBits = protocolErr(StatusProtocolError, "reserved bit set")
	// ErrUnknownOpcode: a frame has an opcode other than 0, 1, 2, 8, 9, 10.
	ErrUnknownOpcode = protocolErr(StatusProtocolError, "unknown opcode")
	// ErrFragmentedControl: a control frame without FIN (section 5.5).
	ErrFragmentedControl = protocolErr(StatusProtocolError, "fragmented control frame")
	// ErrControlTooLong: a control frame payload over 125 bytes (section 5.5).
	ErrControlTooLong = protocolErr(StatusProtocolError, "control frame over 125 bytes")
	// ErrUnmaskedFrame: a client sent a frame without a mask (section 5.1).
	ErrUnmaskedFrame = protocolErr(StatusProtocolError, "unmasked frame from client")
	// ErrMaskedFrame: a server sent a masked frame (section 5.1).
	ErrMaskedFrame = protocolErr(StatusProtocolError, "masked frame from server")
	// ErrBadLength: a payload length with the top bit set, or not in its
	// shortest form (section 5.2).
	ErrBadLength = protocolErr(StatusProtocolError, "invalid payload length")
	// ErrUnexpectedContinuation: a continuation frame with no fragmented
	// message to continue (section 5.4).
	ErrUnexpectedContinuation = protocolErr(StatusProtocolError, "unexpected continuation frame")
	// ErrExpectedContinuation: a new text or binary frame inside a
	// fragmented message (section 5.4).
	ErrExpectedContinuation = protocolErr(StatusProtocolError, "data frame inside fragmented message")
	// ErrBadCloseCode: a close frame with a code that may not be sent
	// (section 7.4).
	ErrBadCloseCode = protocolErr(StatusProtocolError, "invalid close code")
	// ErrBadClosePayload: a close frame with a 1-byte payload (section 5.5.1).
	ErrBadClosePayload = protocolErr(StatusProtocolError, "invalid close frame payload")
	// ErrInvalidUTF8: a text message or close reason that is not UTF-8
	// (section 8.1).
	ErrInvalidUTF8 = protocolErr(StatusInvalidFramePayloadData, "invalid UTF-8")
	// ErrMessageTooBig: a message longer than the read limit (section 10.4).
	ErrMessageTooBig = protocolErr(StatusMessageTooBig, "message too big")
	// ErrTooManyFragments: a message in more frames than the fragment limit.
	ErrTooManyFragments = protocolErr(StatusMessageTooBig, "too many fragments")
	// ErrCorruptDeflate: a compressed message that does not inflate
	// (RFC 7692 section 8.2.3.3).
	ErrCorruptDeflate = protocolErr(StatusInvalidFramePayloadData, "corrupt compressed message")
	// ErrUnexpectedMessage: a data message arrived on a connection that
	// said with CloseRead that it reads none.
	ErrUnexpectedMessage = protocolErr(StatusPolicyViolation, "data message on a connection that does not read")
)

// Errors of use, not of the peer. They leave the connection open.
var (
	// ErrConcurrentRead is returned by a read while another read is in
	// progress on the same connection.
	ErrConcurrentRead = errors.New("ws: concurrent read")
	// ErrInvalidCloseCode is returned by Close for a code that may not be
	// sent, and ErrInvalidCloseReason for a reason that is not UTF-8 or is
	// longer than 123 bytes.
	ErrInvalidCloseCode   = errors.New("ws: invalid close code")
	ErrInvalidCloseReason = errors.New("ws: invalid close reason")
	// ErrPayloadTooLong is returned by Ping and Pong for a payload over
	// the 125 bytes a control frame may carry.
	ErrPayloadTooLong = errors.New("ws: control frame payload over 125 bytes")
	// ErrInvalidMessageType is returned for a message type other than
	// MessageText and MessageBinary, with at most one of the flags
	// Compressed and Uncompressed.
	ErrInvalidMessageType = errors.New("ws: invalid message type")
	// ErrWriterClosed is returned by a message writer used after its Close.
	ErrWriterClosed = errors.New("ws: message writer closed")
)

// HandshakeError is the error of a failed opening handshake: the HTTP
// status that was (for Accept) or that came back (for Dial), and why.
type HandshakeError struct {
	Status int
	Reason string

	refusal refusal // why Accept refused, for ServerStats.Refused
}

// refusal is a reason for which Accept refuses a handshake, as
// HandshakeRefusals counts them.
type refusal uint8

// Error returns "ws: handshake failed" with the status and the reason.
func (e *HandshakeError) Error() string {
	if e.Status == 0 {
		return "ws: handshake failed: " + e.Reason
	}
	return "ws: handshake failed (" + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + "): " + e.Reason
}

// ErrTooManyRedirects is what Dial's error wraps when the server
// redirects more often than DialOptions.MaxRedirects allows.
var ErrTooManyRedirects = errors.New("ws: too many redirects")

// ErrHeaderTooLarge is what Dial's error wraps when the head of the
// server's (or the proxy's) response is longer than
// DialOptions.MaxResponseHeaderBytes.
var ErrHeaderTooLarge = errors.New("ws: response head too large")

// ErrSendQueueFull is returned by TrySend when the send queue is full.
var ErrSendQueueFull = errors.New("ws: send queue full")

// IsNormalClosure reports whether err, from Err or from a call that the
// end of the connection interrupted, says that the connection ended as it
// should: with a close frame of code 1000 (normal closure), 1001 (going
// away) or none (1005), or by this side's CloseNow. It is false for nil,
// and for every other ending: another close code, a protocol error, a
// keepalive timeout, a close handshake that timed out, or a transport that
// broke.
func IsNormalClosure(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrLocalClose) {
		return true
	}
	switch CloseStatus(err) {
	case StatusNormalClosure, StatusGoingAway, StatusNoStatusReceived:
		return true
	}
	return false
}

// ErrKeepaliveTimeout is why a connection ends when keepalive's ping got
// no pong in time.
var ErrKeepaliveTimeout = errors.New("ws: keepalive: no pong in time")

// ErrLocalClose is why a connection ended when this side closed it with
// CloseNow, without a close handshake. Err returns it, and calls that the
// close interrupted return a *ClosedError that wraps it.
var ErrLocalClose = errors.New("ws: connection closed locally")

// ClosedError is what calls on a closed connection return. It wraps
// net.ErrClosed and the error that ended the connection, so errors.Is(err,
// net.ErrClosed) holds, and so does errors.As(err, &CloseError{}) after the
// peer closed.
type ClosedError struct {
	Cause error
}

// Error returns "ws: use of closed connection" with the cause.
func (e *ClosedError) Error() string {
	if e.Cause == nil || e.Cause == ErrLocalClose {
		return "ws: use of closed connection"
	}
	return "ws: use of closed connection (" + e.Cause.Error() + ")"
}

// Unwrap returns net.ErrClosed and the cause.
func (e *ClosedError) Unwrap() []error { return []error{net.ErrClosed, e.Cause} }
