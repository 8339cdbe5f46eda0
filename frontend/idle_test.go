package frontend

import (
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestIdleSessionOutlivesHandshakeTimeout: a client that sends nothing
// after its handshake keeps its connection for its session timeout, not
// for the handshake's (the reader waited for the first request under the
// handshake's deadline, and closed an idle client's connection after 5 s
// whatever its session timeout).
func TestIdleSessionOutlivesHandshakeTimeout(t *testing.T) {
	// Long enough for a handshake on a loaded machine.
	const handshake = 2 * time.Second
	addr := startServer(t, func(c *Config) { c.HandshakeTimeout = handshake })
	r := dialRaw(t, addr)
	if resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 10000}); resp.SessionID == 0 {
		t.Fatal("no session")
	}
	// The idle time is what is tested: past the handshake's timeout, well
	// within the session's.
	time.Sleep(handshake + handshake/4)
	if code, _ := r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/"}, nil); code != zkproto.OK {
		t.Fatalf("exists after an idle spell: %v", code)
	}
}
