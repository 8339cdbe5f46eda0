package frontend

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// outbox is a connection's outgoing byte stream: producers append whole
// frames under a mutex, and whoever writes swaps the filled buffer out and
// writes it with one system call, so replies produced together (a batch of
// applied commands, say) leave together. Two goroutines write, one at a
// time: the outbox's own writer goroutine, woken by producers that must not
// block on the network (the apply goroutine), and the connection's reader,
// which writes the replies it produced itself at once (flush) unless a
// write is under way, sparing a hand-off per request.
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
	buf     []byte // frames not yet handed to a writer
	spare   []byte // a written buffer kept for reuse
	writing int    // bytes being written now
	busy    bool   // a write is under way (by either writer)
	closing bool   // close the connection once buf is written
	failed  bool   // the connection is gone; drop everything
	wake    chan struct{}
	room    chan struct{} // signalled after each write, for waitBelow
	done    chan struct{} // closed when the writer goroutine ends
	// held is set while waitBelow waits: the connection is not read.
	held atomic.Bool

	// deadline is the write deadline set last; only the goroutine that
	// holds busy touches it.
	deadline time.Time
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

// lockBuf locks the outbox and returns the queue to append frames to; ok is
// false (and nothing is locked) if the connection is closing or failed.
// unlockBuf must follow.
func (o *outbox) lockBuf() (b []byte, ok bool) {
	o.mu.Lock()
	if o.closing || o.failed {
		o.mu.Unlock()
		return nil, false
	}
	return o.buf, true
}

// unlockBuf stores the queue lockBuf returned, with frames appended, and
// unlocks. With wake the writer goroutine is woken to write it; without,
// the caller writes it with flush. It reports false if the queue
// overflowed: the connection is then closed.
func (o *outbox) unlockBuf(b []byte, wake bool) bool {
	o.buf = b
	overflow := len(o.buf)+o.writing > o.maxQueued
	if overflow {
		o.failed = true
		o.buf = nil
	}
	o.mu.Unlock()
	if overflow {
		o.conn.Close()
		o.signal()
		return false
	}
	if wake {
		o.signal()
	}
	return true
}

// writingNow returns the bytes being written now; o.mu is held (between
// lockBuf and unlockBuf).
func (o *outbox) writingNow() int { return o.writing }

// append adds frames built by fill to the queue, for the writer goroutine.
// It reports false if the connection is closing or failed, or if the queue
// overflowed (the connection is then closed).
func (o *outbox) append(fill func([]byte) []byte) bool {
	b, ok := o.lockBuf()
	if !ok {
		return false
	}
	return o.unlockBuf(fill(b), true)
}

// flush writes what is queued on the caller's goroutine, unless a write is
// under way: the writer goroutine then writes it after its own. It reports
// false once the connection failed.
func (o *outbox) flush() bool {
	o.mu.Lock()
	if o.failed {
		o.mu.Unlock()
		return false
	}
	if o.busy || len(o.buf) == 0 {
		o.mu.Unlock()
		o.signal()
		return true
	}
	out := o.take()
	o.mu.Unlock()
	return o.write(out)
}

// take hands the queue to a writer; o.mu is held.
func (o *outbox) take() []byte {
	out := o.buf
	o.buf, o.spare = o.spare[:0], nil
	o.writing = len(out)
	o.busy = true
	return out
}

// write writes out, taken with take, and hands the writing back. After a
// failure the connection is closed.
func (o *outbox) write(out []byte) bool {
	if now := time.Now(); o.deadline.Sub(now) < o.writeWait/2 {
		// Moving the deadline costs a timer update: do it only when half
		// of it is used up.
		o.deadline = now.Add(o.writeWait)
		o.conn.SetWriteDeadline(o.deadline)
	}
	_, err := o.conn.Write(out)
	o.mu.Lock()
	o.writing = 0
	o.busy = false
	if cap(out) <= maxSpareBuffer {
		o.spare = out[:0]
	}
	more := len(o.buf) > 0 || o.closing
	o.mu.Unlock()
	if err != nil {
		o.abort()
		return false
	}
	select {
	case o.room <- struct{}{}:
	default:
	}
	if more {
		o.signal()
	}
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

// run is the writer goroutine: it writes what producers queued with wake,
// and closes the connection when asked to once everything is written.
func (o *outbox) run() {
	defer close(o.done)
	for range o.wake {
		o.mu.Lock()
		if o.failed {
			o.mu.Unlock()
			return
		}
		if o.busy {
			// The reader is writing; it wakes this goroutine when done if
			// more is queued.
			o.mu.Unlock()
			continue
		}
		if len(o.buf) == 0 {
			closing := o.closing
			o.mu.Unlock()
			if closing {
				o.conn.Close()
				return
			}
			continue
		}
		out := o.take()
		o.mu.Unlock()
		if !o.write(out) {
			return
		}
	}
}
