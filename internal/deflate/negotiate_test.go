package deflate

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

func parseExt(t *testing.T, values ...string) []handshake.Extension {
	t.Helper()
	h := http.Header{}
	for _, v := range values {
		h.Add("Sec-WebSocket-Extensions", v)
	}
	exts, ok := handshake.ParseExtensions(h)
	if !ok {
		t.Fatalf("unparsable extension header %q", values)
	}
	return exts
}

// TestNegotiate is the server side of RFC 7692 section 7.1: which offers
// are accepted and what the response says. want "" means declined.
func TestNegotiate(t *testing.T) {
	const pmd = "permessage-deflate"
	tests := []struct {
		name  string
		cfg   ServerConfig
		offer []string
		want  string
	}{
		// Plain offers.
		{"no header", ServerConfig{}, nil, ""},
		{"bare", ServerConfig{}, []string{pmd}, pmd},
		{"browser offer", ServerConfig{}, []string{pmd + "; client_max_window_bits"}, pmd},
		{"name is case-insensitive", ServerConfig{}, []string{"PerMessage-Deflate; Server_No_Context_Takeover"}, pmd + "; server_no_context_takeover"},
		// 7.1.1.1 server_no_context_takeover: accepted by naming it.
		{"server_no_context_takeover", ServerConfig{}, []string{pmd + "; server_no_context_takeover"}, pmd + "; server_no_context_takeover"},
		{"server_no_context_takeover with value", ServerConfig{}, []string{pmd + "; server_no_context_takeover=1"}, ""},
		{"server_no_context_takeover twice", ServerConfig{}, []string{pmd + "; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"server adds server_no_context_takeover", ServerConfig{ServerNoContextTakeover: true}, []string{pmd}, pmd + "; server_no_context_takeover"},
		// 7.1.1.2 client_no_context_takeover.
		{"client_no_context_takeover echoed", ServerConfig{}, []string{pmd + "; client_no_context_takeover"}, pmd + "; client_no_context_takeover"},
		{"client_no_context_takeover with value", ServerConfig{}, []string{pmd + "; client_no_context_takeover=true"}, ""},
		{"server asks client_no_context_takeover", ServerConfig{ClientNoContextTakeover: true}, []string{pmd}, pmd + "; client_no_context_takeover"},
		// 7.1.2.1 server_max_window_bits.
		{"server_max_window_bits=10", ServerConfig{}, []string{pmd + "; server_max_window_bits=10"}, pmd + "; server_max_window_bits=10"},
		{"server_max_window_bits=8", ServerConfig{}, []string{pmd + "; server_max_window_bits=8"}, pmd + "; server_max_window_bits=8"},
		{"server_max_window_bits=15", ServerConfig{}, []string{pmd + "; server_max_window_bits=15"}, pmd + "; server_max_window_bits=15"},
		{"server_max_window_bits quoted", ServerConfig{}, []string{pmd + `; server_max_window_bits="9"`}, pmd + "; server_max_window_bits=9"},
		{"server_max_window_bits=7", ServerConfig{}, []string{pmd + "; server_max_window_bits=7"}, ""},
		{"server_max_window_bits=16", ServerConfig{}, []string{pmd + "; server_max_window_bits=16"}, ""},
		{"server_max_window_bits=08", ServerConfig{}, []string{pmd + "; server_max_window_bits=08"}, ""},
		{"server_max_window_bits=+9", ServerConfig{}, []string{pmd + "; server_max_window_bits=+9"}, ""},
		{"server_max_window_bits no value", ServerConfig{}, []string{pmd + "; server_max_window_bits"}, ""},
		{"server_max_window_bits twice", ServerConfig{}, []string{pmd + "; server_max_window_bits=10; server_max_window_bits=10"}, ""},
		{"server lowers offered window", ServerConfig{ServerMaxWindowBits: 10}, []string{pmd + "; server_max_window_bits=12"}, pmd + "; server_max_window_bits=10"},
		{"offered window below config", ServerConfig{ServerMaxWindowBits: 12}, []string{pmd + "; server_max_window_bits=9"}, pmd + "; server_max_window_bits=9"},
		{"server names its window unasked", ServerConfig{ServerMaxWindowBits: 11}, []string{pmd}, pmd + "; server_max_window_bits=11"},
		// 7.1.2.2 client_max_window_bits.
		{"client_max_window_bits=12", ServerConfig{}, []string{pmd + "; client_max_window_bits=12"}, pmd + "; client_max_window_bits=12"},
		{"client_max_window_bits=7", ServerConfig{}, []string{pmd + "; client_max_window_bits=7"}, ""},
		{"client_max_window_bits=16", ServerConfig{}, []string{pmd + "; client_max_window_bits=16"}, ""},
		{"client_max_window_bits twice", ServerConfig{}, []string{pmd + "; client_max_window_bits; client_max_window_bits=10"}, ""},
		{"client window not offered: not named", ServerConfig{ClientMaxWindowBits: 10}, []string{pmd}, pmd},
		{"client window offered bare", ServerConfig{ClientMaxWindowBits: 10}, []string{pmd + "; client_max_window_bits"}, pmd + "; client_max_window_bits=10"},
		{"client window offered smaller", ServerConfig{ClientMaxWindowBits: 10}, []string{pmd + "; client_max_window_bits=9"}, pmd + "; client_max_window_bits=9"},
		{"client window offered larger", ServerConfig{ClientMaxWindowBits: 12}, []string{pmd + "; client_max_window_bits=14"}, pmd + "; client_max_window_bits=12"},
		// Unknown parameters and several offers.
		{"unknown parameter", ServerConfig{}, []string{pmd + "; foo=bar"}, ""},
		{"unknown flag", ServerConfig{}, []string{pmd + "; x"}, ""},
		{"first acceptable offer wins", ServerConfig{}, []string{pmd + "; foo, " + pmd + "; server_max_window_bits=9, " + pmd}, pmd + "; server_max_window_bits=9"},
		{"offers across header lines", ServerConfig{}, []string{pmd + "; server_max_window_bits=99", pmd + "; client_no_context_takeover"}, pmd + "; client_no_context_takeover"},
		{"all offers invalid", ServerConfig{}, []string{pmd + "; server_max_window_bits=16, " + pmd + "; client_max_window_bits=17"}, ""},
		{"other extensions skipped", ServerConfig{}, []string{"x-webkit-deflate-frame, " + pmd + "; client_max_window_bits"}, pmd},
		{"other extension only", ServerConfig{}, []string{"x-webkit-deflate-frame"}, ""},
		{"everything", ServerConfig{}, []string{pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"},
			pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9"},
		{"config out of range clamped", ServerConfig{ServerMaxWindowBits: 3, ClientMaxWindowBits: 99}, []string{pmd + "; client_max_window_bits"}, pmd + "; server_max_window_bits=8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, header, ok := Negotiate(parseExt(t, tt.offer...), tt.cfg)
			if tt.want == "" {
				if ok {
					t.Fatalf("accepted with %q, want declined", header)
				}
				return
			}
			if !ok || header != tt.want {
				t.Fatalf("got %q (ok %v), want %q", header, ok, tt.want)
			}
			if resp.String() != header {
				t.Fatalf("Params %+v format as %q", resp, resp.String())
			}
			// The response must satisfy a strict client that made the offer.
			p, err := ParseParams(parseExt(t, header)[0].Params, true)
			if err != nil || p != resp {
				t.Fatalf("response reads back as %+v, %v", p, err)
			}
		})
	}
}

// TestAccept is the client side: which responses to an offer are valid.
// wantErr "" means valid; "-" means no extension was agreed.
func TestAccept(t *testing.T) {
	const pmd = "permessage-deflate"
	tests := []struct {
		name    string
		cfg     ClientConfig
		resp    []string
		want    Params
		wantErr string
	}{
		{"no extension", ClientConfig{}, nil, Params{}, "-"},
		{"bare", ClientConfig{}, []string{pmd}, Params{}, ""},
		{"client window given", ClientConfig{}, []string{pmd + "; client_max_window_bits=10"}, Params{ClientMaxWindowBits: 10}, ""},
		{"client window not offered", ClientConfig{NoClientMaxWindowBits: true}, []string{pmd + "; client_max_window_bits=10"}, Params{}, "not offered"},
		{"client window without value", ClientConfig{}, []string{pmd + "; client_max_window_bits"}, Params{}, "needs a value"},
		{"client window over the offer", ClientConfig{ClientMaxWindowBits: 10}, []string{pmd + "; client_max_window_bits=12"}, Params{}, "larger than the offered"},
		{"client window under the offer", ClientConfig{ClientMaxWindowBits: 10}, []string{pmd + "; client_max_window_bits=8"}, Params{ClientMaxWindowBits: 8}, ""},
		{"offered client window kept", ClientConfig{ClientMaxWindowBits: 10}, []string{pmd}, Params{ClientMaxWindowBits: 10}, ""},
		{"client window 08", ClientConfig{}, []string{pmd + "; client_max_window_bits=08"}, Params{}, "want 8 to 15"},
		{"server window unasked", ClientConfig{}, []string{pmd + "; server_max_window_bits=10"}, Params{ServerMaxWindowBits: 10}, ""},
		{"server window as asked", ClientConfig{ServerMaxWindowBits: 10}, []string{pmd + "; server_max_window_bits=10"}, Params{ServerMaxWindowBits: 10}, ""},
		{"server window under the offer", ClientConfig{ServerMaxWindowBits: 10}, []string{pmd + "; server_max_window_bits=9"}, Params{ServerMaxWindowBits: 9}, ""},
		{"server window over the offer", ClientConfig{ServerMaxWindowBits: 10}, []string{pmd + "; server_max_window_bits=12"}, Params{}, "larger than the offered"},
		{"server window ignored", ClientConfig{ServerMaxWindowBits: 10}, []string{pmd}, Params{}, "not accepted"},
		{"server window 16", ClientConfig{}, []string{pmd + "; server_max_window_bits=16"}, Params{}, "want 8 to 15"},
		{"server window 7", ClientConfig{}, []string{pmd + "; server_max_window_bits=7"}, Params{}, "want 8 to 15"},
		{"server window without value", ClientConfig{}, []string{pmd + "; server_max_window_bits"}, Params{}, "needs a value"},
		{"server window repeated", ClientConfig{}, []string{pmd + "; server_max_window_bits=9; server_max_window_bits=9"}, Params{}, "repeated"},
		{"server takeover as asked", ClientConfig{ServerNoContextTakeover: true}, []string{pmd + "; server_no_context_takeover"}, Params{ServerNoContextTakeover: true}, ""},
		{"server takeover ignored", ClientConfig{ServerNoContextTakeover: true}, []string{pmd}, Params{}, "not accepted"},
		{"server takeover unasked", ClientConfig{}, []string{pmd + "; server_no_context_takeover"}, Params{ServerNoContextTakeover: true}, ""},
		{"server takeover with value", ClientConfig{}, []string{pmd + "; server_no_context_takeover=1"}, Params{}, "takes no value"},
		{"server takeover repeated", ClientConfig{}, []string{pmd + "; server_no_context_takeover; server_no_context_takeover"}, Params{}, "repeated"},
		{"client takeover imposed", ClientConfig{}, []string{pmd + "; client_no_context_takeover"}, Params{ClientNoContextTakeover: true}, ""},
		{"client takeover hint binds", ClientConfig{ClientNoContextTakeover: true}, []string{pmd}, Params{ClientNoContextTakeover: true}, ""},
		{"unknown parameter", ClientConfig{}, []string{pmd + "; foo"}, Params{}, "unknown parameter"},
		{"two elements", ClientConfig{}, []string{pmd + ", " + pmd}, Params{}, "want one"},
		{"two header lines", ClientConfig{}, []string{pmd, pmd + "; server_no_context_takeover"}, Params{}, "want one"},
		{"other extension", ClientConfig{}, []string{"x-webkit-deflate-frame"}, Params{}, "was not offered"},
		{"other extension too", ClientConfig{}, []string{pmd + ", foo"}, Params{}, "was not offered"},
		{"everything", ClientConfig{ServerNoContextTakeover: true, ServerMaxWindowBits: 12},
			[]string{pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9"},
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 9}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exts []handshake.Extension
			if tt.resp != nil {
				exts = parseExt(t, tt.resp...)
			}
			p, ok, err := Accept(exts, tt.cfg)
			switch tt.wantErr {
			case "-":
				if ok || err != nil {
					t.Fatalf("got ok %v, %v; want no extension", ok, err)
				}
			case "":
				if !ok || err != nil || p != tt.want {
					t.Fatalf("got %+v, %v, %v; want %+v", p, ok, err, tt.want)
				}
			default:
				if err == nil || !errors.Is(err, ErrNegotiation) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want an error about %q", p, err, tt.wantErr)
				}
			}
		})
	}
}

func TestClientOffer(t *testing.T) {
	tests := []struct {
		cfg  ClientConfig
		want string
	}{
		{ClientConfig{}, "permessage-deflate; client_max_window_bits"},
		{ClientConfig{NoClientMaxWindowBits: true}, "permessage-deflate"},
		{ClientConfig{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10"},
		{ClientConfig{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits"},
		{ClientConfig{ServerMaxWindowBits: 4, ClientMaxWindowBits: 20}, "permessage-deflate; server_max_window_bits=8; client_max_window_bits=15"},
	}
	for _, tt := range tests {
		if got := ClientOffer(tt.cfg); got != tt.want {
			t.Errorf("ClientOffer(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

// TestNegotiateAccept runs every client offer against every server
// configuration: the server must accept, the client must accept the
// response, and both must derive the same sides, within what each asked.
func TestNegotiateAccept(t *testing.T) {
	var clients []ClientConfig
	for _, snc := range []bool{false, true} {
		for _, cnc := range []bool{false, true} {
			for _, sb := range []int{0, 8, 12, 15} {
				for _, cb := range []int{-1, 0, 9, 15} {
					c := ClientConfig{ServerNoContextTakeover: snc, ClientNoContextTakeover: cnc, ServerMaxWindowBits: sb}
					if cb < 0 {
						c.NoClientMaxWindowBits = true
					} else {
						c.ClientMaxWindowBits = cb
					}
					clients = append(clients, c)
				}
			}
		}
	}
	var servers []ServerConfig
	for _, snc := range []bool{false, true} {
		for _, cnc := range []bool{false, true} {
			for _, sb := range []int{0, 8, 10} {
				for _, cb := range []int{0, 8, 11} {
					servers = append(servers, ServerConfig{snc, cnc, sb, cb})
				}
			}
		}
	}
	for _, cc := range clients {
		for _, sc := range servers {
			resp, header, ok := Negotiate(parseExt(t, ClientOffer(cc)), sc)
			if !ok {
				t.Fatalf("server %+v declined %q", sc, ClientOffer(cc))
			}
			p, ok, err := Accept(parseExt(t, header), cc)
			if !ok || err != nil {
				t.Fatalf("client %+v rejects %q: %v", cc, header, err)
			}
			srv, cli := p.Server(), p.Client()
			if srv != resp.Server() || (cc.ClientMaxWindowBits == 0 && cli != resp.Client()) {
				t.Fatalf("sides differ: client %+v %+v, server %+v %+v", srv, cli, resp.Server(), resp.Client())
			}
			if cc.ServerMaxWindowBits != 0 && srv.WindowBits > cc.ServerMaxWindowBits ||
				sc.ServerMaxWindowBits != 0 && srv.WindowBits > sc.ServerMaxWindowBits ||
				cc.ClientMaxWindowBits != 0 && cli.WindowBits > cc.ClientMaxWindowBits ||
				(cc.ServerNoContextTakeover || sc.ServerNoContextTakeover) && !srv.NoContextTakeover ||
				(cc.ClientNoContextTakeover || sc.ClientNoContextTakeover) && !cli.NoContextTakeover {
				t.Fatalf("client %+v, server %+v: agreed %q does not honour a request", cc, sc, header)
			}
		}
	}
}
