// Package accepttest helps tests of accept loops (package accept): a
// listener that runs out of file descriptors for a while.
package accepttest

import (
	"net"
	"sync/atomic"
	"syscall"
)

// FailingListener fails its next Fails accepts with EMFILE, as a server
// out of descriptors sees them, then accepts from Listener again.
type FailingListener struct {
	net.Listener
	Fails atomic.Int32
}

// Accept fails while Fails is positive, counting it down.
func (l *FailingListener) Accept() (net.Conn, error) {
	if l.Fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}
