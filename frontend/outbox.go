package frontend

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// outbox is a connection's outgoing byte stream: producers append whole
// frames under a mutex, and one writer goroutine swaps the filled buffer
// out and writes it with one system call, so replies produced together
// (a batch of applied commands, say) leave together.
//
// Producers never block on the network: a client that stops reading sees
// its outbox grow to maxQueued bytes, and is then disconnected, as
// ZooKeeper drops a client whose send queue overflows. Well before that,
// the connection's reader waits in waitBelow, so a client that reads
// slowly is read slowly.
type outbox struct {
	conn      net.Conn
	maxQueued int
	writeWait time.Duration // deadline for one write to the socket

	mu      sync.Mutex
	buf     []byte // frames not yet handed to the writer
	writing int    // bytes the writer is writing now
	closing bool   // close the connection once buf is written
	failed  bool   // the connection is gone; drop everything
	wake    chan struct{}
	room    chan struct{} // signalled after each write, for waitBelow
	done    chan struct{} // closed when the writer goroutine ends
	// held is set while waitBelow waits: the connection is not read.
	held atomic.Bool
}

// maxSpareBuffer is the largest written buffer an outbox keeps for reuse.
const maxSpareBuffer = 1 << 20

func newOutbox(conn net.Conn, maxQueued int, writeWait time.Duration) *outbox {
	o := &outbox{
		conn:      conn,
		maxQueued: maxQueued,
		writeWait: writeWait,
		wake:      make(chan struct{}, 1),
		room:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	go o.run()
	return o
}

// append adds frames built by fill to the queue. It reports false if the
// connection is closing or failed, or if the queue overflowed (the
// connection is then closed).
func (o *outbox) append(fill func([]byte) []byte) bool {
	o.mu.Lock()
	if o.closing || o.failed {
		o.mu.Unlock()
		return false
	}
	o.buf = fill(o.buf)
	overflow := len(o.buf)+o.writing > o.maxQueued
	if overflow {
		o.failed = true
		o.buf = nil
	}
	o.mu.Unlock()
	if overflow {
		o.conn.Close()
		return false
	}
	o.signal()
	return true
}

// closeAfterFlush closes the connection once everything queued is written.
func (o *outbox) closeAfterFlush() {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	o.signal()
}

// abort closes the connection now, dropping what is queued.
func (o *outbox) abort() {
	o.mu.Lock()
	o.failed = true
	o.buf = nil
	o.mu.Unlock()
	o.conn.Close()
	o.signal()
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// queued returns the bytes not yet written.
func (o *outbox) queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.writing
}

// waitBelow waits until at most limit bytes are unwritten; it reports
// false if the connection ended first.
func (o *outbox) waitBelow(limit int) bool {
	if o.queued() <= limit {
		return true
	}
	o.held.Store(true)
	defer o.held.Store(false)
	for o.queued() > limit {
		select {
		case <-o.room:
		case <-o.done:
			return false
		}
	}
	return true
}

func (o *outbox) run() {
	defer close(o.done)
	var spare []byte
	for range o.wake {
		o.mu.Lock()
		out := o.buf
		o.buf = spare[:0]
		o.writing = len(out)
		closing, failed := o.closing, o.failed
		o.mu.Unlock()
		if failed {
			return
		}
		if len(out) > 0 {
			o.conn.SetWriteDeadline(time.Now().Add(o.writeWait))
			if _, err := o.conn.Write(out); err != nil {
				o.abort()
				return
			}
			o.mu.Lock()
			o.writing = 0
			o.mu.Unlock()
			select {
			case o.room <- struct{}{}:
			default:
			}
		}
		if cap(out) <= maxSpareBuffer {
			spare = out
		} else {
			spare = nil
		}
		if closing {
			o.mu.Lock()
			empty := len(o.buf) == 0
			o.mu.Unlock()
			if empty {
				o.conn.Close()
				return
			}
			o.signal()
		}
	}
}
