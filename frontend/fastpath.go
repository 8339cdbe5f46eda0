package frontend

import (
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The fast path. A connection's reader serves reads (and pings and syncs)
// itself, with no hand-off to the apply goroutine and none to the outbox's
// writer, whenever the session is open here and every request the
// connection handed to the core is answered: the replies then follow every
// earlier reply, in request order, as the session's FIFO order requires.
// The requests the client sent together and that arrived together are one
// batch: one read barrier (linearizable mode), one lock of the tree, one
// write. The first request that is not a read ends the batch and goes to
// the core after the batch's replies (pipeline.go), and so do the requests
// after it until the core has answered them all.
//
// Order with watch events: the reader reads the tree, registers the watches
// its reads ask for and queues the replies while it holds the tree lock for
// reading. The apply goroutine applies, and queues events, only while it
// holds the lock for writing. So the events of every change a reply
// reflects were queued before it, and a change applied after the read
// triggers the watch the read set, after its reply.

// maxFastBatch and maxFastBatchBytes bound one batch (the requests, and
// their bodies kept until they are served).
const (
	maxFastBatch      = 128
	maxFastBatchBytes = 256 << 10
)

// fastOp reports whether op may be served on the fast path.
func fastOp(op zkproto.OpCode) bool {
	switch op {
	case zkproto.OpExists, zkproto.OpGetData, zkproto.OpGetChildren, zkproto.OpGetChildren2,
		zkproto.OpGetACL, zkproto.OpGetAllChildrenNumber, zkproto.OpGetEphemerals, zkproto.OpMultiRead,
		zkproto.OpSync, zkproto.OpPing:
		return true
	}
	return false
}

// fastBatch holds the requests of one batch; bodies are copied out of the
// frame reader's buffer, which the next frame may overwrite. Its storage is
// reused from batch to batch.
type fastBatch struct {
	reqs   []fastReq
	bodies []byte
}

type fastReq struct {
	xid      int32
	op       zkproto.OpCode
	off, end int // the body in bodies
	arrived  time.Time
}

func (fb *fastBatch) add(h zkproto.RequestHeader, body []byte) {
	off := len(fb.bodies)
	fb.bodies = append(fb.bodies, body...)
	fb.reqs = append(fb.reqs, fastReq{xid: h.Xid, op: h.Type, off: off, end: len(fb.bodies), arrived: time.Now()})
}

func (fb *fastBatch) reset() {
	fb.reqs = fb.reqs[:0]
	if cap(fb.bodies) > maxFastBatchBytes {
		fb.bodies = nil
	}
	fb.bodies = fb.bodies[:0]
}

// serveFast answers a batch on the reader. It reports false if the
// connection must end: it is closed or failed, or a read could get no read
// index (no primary: the client will try another server, as with a
// ZooKeeper follower that lost its leader).
//
// Replies are written at once on the reader while they are few; once the
// unsent replies pass the outbox's soft bound, the rest of the batch waits
// until the writer goroutine has written them below it, so a client that
// does not read its replies holds at most the bound and one reply.
func (c *conn) serveFast(fb *fastBatch) bool {
	s := c.srv
	soft := s.cfg.OutboxSoftBytes
	if !c.out.waitBelow(soft) {
		return false
	}
	// Sequential reads are local only while this server follows a live
	// primary (see process); a sync always waits for the barrier.
	local := s.cfg.SequentialReads && bridge.Role(s.role.Load()) != bridge.RoleNone
	barrier := false
	for i := range fb.reqs {
		q := &fb.reqs[i]
		barrier = barrier || q.op == zkproto.OpSync || (q.op != zkproto.OpPing && !local)
	}
	if barrier && !s.node.ReadBarrier(c.out.done) {
		c.close()
		return false
	}
	for i := 0; i < len(fb.reqs); {
		n, zxid, ok := c.answerFast(fb, i, soft)
		if !ok {
			return false
		}
		c.noteFast(fb.reqs[i:i+n], zxid)
		i += n
		if i < len(fb.reqs) {
			// Over the soft bound: the writer goroutine writes, and the
			// rest waits for room.
			if !c.out.waitBelow(soft) {
				return false
			}
		}
	}
	return c.out.flush()
}

// answerFast reads the tree for the batch's requests from i on and queues
// their replies, stopping early once more than soft bytes are unsent
// (then the writer goroutine is woken to write them). It returns how many
// it answered and the zxid they reflect.
func (c *conn) answerFast(fb *fastBatch, i, soft int) (n int, zxid int64, ok bool) {
	s := c.srv
	t, zxid := s.node.BeginRead()
	defer s.node.EndRead()
	b, ok := c.out.lockBuf()
	if !ok {
		return 0, 0, false
	}
	base := c.out.writingNow()
	auth := c.readAuth() // once per batch: it copies the identities under skipACL
	for _, q := range fb.reqs[i:] {
		if n > 0 && base+len(b) > soft {
			break
		}
		n++
		body := fb.bodies[q.off:q.end]
		h := zkproto.ReplyHeader{Xid: q.xid, Zxid: zxid}
		if q.op == zkproto.OpPing {
			h.Xid = zkproto.PingXid // ZooKeeper answers every ping so, whatever its xid
		}
		var start int
		b, start = zkproto.StartFrame(b)
		b = h.Append(b)
		if q.op != zkproto.OpPing {
			mark := len(b)
			b, h.Err = t.Read(q.op, body, c.sessID, auth, b)
			if h.Err != zkproto.OK {
				b = h.Append(b[:mark-zkproto.ReplyHeaderSize])
			}
			c.watchRead(q.op, body, h.Err)
		}
		b = zkproto.FinishFrame(b, start)
	}
	more := i+n < len(fb.reqs)
	return n, zxid, c.out.unlockBuf(b, more)
}

// noteFast records the statistics of replies answered on the fast path.
func (c *conn) noteFast(reqs []fastReq, zxid int64) {
	s := c.srv
	now := time.Now()
	for i := range reqs {
		q := &reqs[i]
		c.noteAnswered(q.op, q.xid, zxid, q.arrived, now)
		kind := kindRead
		switch q.op {
		case zkproto.OpSync:
			kind = kindSync
		case zkproto.OpPing:
			kind = kindLocal
		}
		s.stats.answered(s.cfg.Metrics, q.op, kind, now.Sub(q.arrived))
	}
	c.sent.Add(int64(len(reqs)))
	s.stats.sent.Add(int64(len(reqs)))
}

// watchRead registers the watch a served read asked for (see
// registerWatch).
func (c *conn) watchRead(op zkproto.OpCode, body []byte, code zkproto.Code) {
	switch op {
	case zkproto.OpExists, zkproto.OpGetData, zkproto.OpGetChildren, zkproto.OpGetChildren2:
	default:
		return
	}
	var d zkproto.Decoder // path and watch flag: the layout of all four
	d.Reset(body)
	path := d.BytesView()
	if !d.Bool() || d.Err() != nil {
		return
	}
	if code != zkproto.OK && (op != zkproto.OpExists || code != zkproto.ErrNoNode) {
		return
	}
	reg := c.srv.core.registry
	if op == zkproto.OpGetChildren || op == zkproto.OpGetChildren2 {
		reg.AddChild(string(path), WatcherID(c.id))
	} else {
		reg.AddData(string(path), WatcherID(c.id))
	}
}
