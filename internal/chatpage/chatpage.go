// Package chatpage holds the browser page of the chat example and of the
// ws command's chat mode: it opens a WebSocket to /ws on its own host and
// shows every message that arrives.
package chatpage

import _ "embed"

// HTML is the page.
//
//go:embed index.html
var HTML []byte
