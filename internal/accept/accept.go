// Package accept runs a listener's accept loop as a server must: a failure
// to accept (too many open files, a connection aborted before it was
// taken, no memory for a socket) is waited out with a growing pause, never
// spun on and never taken as the end; only closing the listener ends the
// loop.
package accept

import (
	"errors"
	"net"
	"time"
)

// The pause after a failed accept starts at minPause and doubles up to
// maxPause; an accepted connection starts it again.
const (
	minPause = 5 * time.Millisecond
	maxPause = time.Second
)

// Loop accepts connections from ln and hands each to serve, on the calling
// goroutine, until ln is closed or stop is closed; it then returns nil.
// After any other error it pauses (onError, if not nil, is told the error
// and the pause first) and tries again. serve must not block.
func Loop(ln net.Listener, stop <-chan struct{}, serve func(net.Conn), onError func(err error, pause time.Duration)) error {
	pause := time.Duration(0)
	for {
		nc, err := ln.Accept()
		if err == nil {
			pause = 0
			serve(nc)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		pause = min(max(2*pause, minPause), maxPause)
		if onError != nil {
			onError(err, pause)
		}
		t := time.NewTimer(pause)
		select {
		case <-stop:
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
