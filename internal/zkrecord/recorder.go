package zkrecord

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// Recorder collects the frames of one scenario's connections, and comments
// between them, in the order they happened. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	entries []Entry
	conns   map[int]*connState // by connection number
	changed chan struct{}      // closed and replaced on every append
}

// connState is what labelling needs to remember about one connection.
type connState struct {
	handshake map[Direction]bool // the direction's first frame has been seen
	xids      map[int32]zkproto.OpCode
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{conns: make(map[int]*connState), changed: make(chan struct{})}
}

// Comment appends a comment line, such as the client command about to run.
func (r *Recorder) Comment(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appendLocked(Entry{Comment: fmt.Sprintf(format, args...)})
}

// Frame records one frame's payload (the bytes after its length) sent in
// direction dir on connection conn, and returns the label it was given. The
// payload is copied.
func (r *Recorder) Frame(conn int, dir Direction, payload []byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.conns[conn]
	if cs == nil {
		cs = &connState{handshake: make(map[Direction]bool), xids: make(map[int32]zkproto.OpCode)}
		r.conns[conn] = cs
	}
	label := cs.label(dir, payload)
	r.appendLocked(Entry{Frame: true, Conn: conn, Dir: dir, Label: label, Payload: append([]byte(nil), payload...)})
	return label
}

func (r *Recorder) appendLocked(e Entry) {
	r.entries = append(r.entries, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// label names a frame from its headers alone. Invariant: a connection's
// first frame in each direction is its handshake; after it, every client
// frame starts with a RequestHeader and every server frame with a
// ReplyHeader.
func (cs *connState) label(dir Direction, p []byte) string {
	if !cs.handshake[dir] {
		cs.handshake[dir] = true
		return "connect"
	}
	be := binary.BigEndian
	if dir == FromClient {
		if len(p) < zkproto.RequestHeaderSize {
			return "short-request"
		}
		xid, op := int32(be.Uint32(p)), zkproto.OpCode(be.Uint32(p[4:]))
		cs.xids[xid] = op
		return fmt.Sprintf("%s#%d", op, xid)
	}
	if len(p) < zkproto.ReplyHeaderSize {
		return "short-reply"
	}
	xid, code := int32(be.Uint32(p)), zkproto.Code(be.Uint32(p[12:]))
	if xid == zkproto.NotificationXid {
		return "notification"
	}
	name := "unknown"
	if op, ok := cs.xids[xid]; ok {
		name = op.String()
		delete(cs.xids, xid)
	}
	label := fmt.Sprintf("%s#%d", name, xid)
	if code != zkproto.OK {
		if n := code.Name(); n != "" {
			return label + ":" + n
		}
		return fmt.Sprintf("%s:%d", label, int32(code))
	}
	return label
}

// Entries returns a copy of everything recorded so far.
func (r *Recorder) Entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Entry(nil), r.entries...)
}

// WaitFor blocks until done reports true for the entries recorded so far,
// or ctx ends. done is called with the Recorder's lock held; it must not
// call the Recorder.
func (r *Recorder) WaitFor(ctx context.Context, done func([]Entry) bool) error {
	for {
		r.mu.Lock()
		ok, changed := done(r.entries), r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("zkrecord: wait for record: %w", ctx.Err())
		}
	}
}
