package frontend

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/internal/budget"
	"github.com/vrkeeper/vrkeeper/internal/sasl"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// conn is one client connection. Its reader goroutine decodes frames and
// submits them, in order, to the core on the apply goroutine; replies and
// events leave through the outbox. Fields marked "core" belong to the apply
// goroutine.
type conn struct {
	srv    *Server
	nc     net.Conn
	id     uint64
	ip     string
	remote string
	// owner names this connection in the replicated state: the session it
	// opens or resumes is owned by it, and its writes carry it (never 0,
	// drawn at random, so unique across servers and restarts).
	owner int64
	out   *outbox
	// own bounds the requests read but not yet answered: the reader takes
	// a share per request, the core gives it back with the reply (see
	// admission.go).
	own *budget.Budget
	// authBytes is the encoded size of the identities in auth.
	authBytes atomic.Int64

	established time.Time
	received    atomic.Int64
	sent        atomic.Int64
	lastHeard   atomic.Int64 // ms, any frame from the client
	timeoutMs   atomic.Int32 // negotiated, once the session is open
	closed      atomic.Bool

	statsMu sync.Mutex // guards the per-request statistics below
	st      connStatsLive

	// The reader serves reads itself (fastpath.go) while live is set and
	// inCore is 0: the session is open here and every request it handed to
	// the core is answered. sessID is set before live.
	live   atomic.Bool
	inCore atomic.Int32
	sessID int64

	// core
	sess    *sessionState // nil until the session is open on this conn
	auth    []zkproto.Id  // identities: the ip id, then digest ids
	waiting []*request    // requests that came before the session opened
	hasRO   bool          // the client sent the readOnly byte
	tlsIDs  []zkproto.Id  // identities from the TLS handshake (x509)
	readIDs []zkproto.Id  // scratch: auth and the super identity, for reads under skipACL
	sasl    *sasl.DigestMD5
	// saslDone: the SASL exchange completed and its identity was added.
	saslDone bool
	// writeSeq numbers the connection's writes in arrival order: with owner
	// the key that makes each apply once (tree/dedup.go).
	writeSeq int64
	gone     bool // closed; the core forgets it
}

type connStatsLive struct {
	lastOp     string
	lastCxid   int32
	lastZxid   int64
	lastResp   time.Time
	lastLat    int64
	minLat     int64
	maxLat     int64
	totalLat   int64
	answered   int64
	sessionID  int64
	hasSession bool
}

func newConn(s *Server, nc net.Conn, id uint64, ip string) *conn {
	c := &conn{
		owner:       newOwnerID(),
		srv:         s,
		nc:          nc,
		id:          id,
		ip:          ip,
		remote:      nc.RemoteAddr().String(),
		own:         newConnBudget(s),
		established: time.Now(),
	}
	c.out = newOutbox(nc, s.cfg.MaxQueuedBytes, 30*time.Second)
	return c
}

// newOwnerID draws a connection's owner id: random, never 0.
func newOwnerID() int64 {
	var b [8]byte
	for {
		rand.Read(b[:])
		if id := int64(binary.BigEndian.Uint64(b[:])); id != 0 {
			return id
		}
	}
}

// errClosedByServer ends a reader whose connection the core closed.
var errClosedByServer = errors.New("frontend: connection closed by the server")

// serve runs the connection's reader until the connection ends.
func (c *conn) serve() {
	defer c.finish()
	if !c.tlsHandshake() { // security.go; a plain connection passes
		return
	}
	fr := zkproto.NewFrameReader(c.nc, c.srv.cfg.MaxPacketSize)
	c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.HandshakeTimeout))
	payload, word, err := fr.ReadFirst()
	if err != nil {
		return
	}
	if word != "" {
		c.fourLetter(word, fr)
		return
	}
	if !c.srv.serving() {
		// As a ZooKeeper server that does not serve: the client tries
		// another server.
		return
	}
	var req zkproto.ConnectRequest
	if err := zkproto.Unmarshal(payload, &req); err != nil {
		c.srv.log.Debug("bad connect request", "remote", c.remote, "error", err)
		return
	}
	c.received.Add(1)
	c.srv.stats.received.Add(1)
	c.srv.stats.bytesReceived.Add(int64(len(payload)) + 4)
	c.lastHeard.Store(time.Now().UnixMilli())
	c.srv.node.Submit(func(a *bridge.Apply) { c.srv.core.connect(a, c, &req) })
	var (
		h        zkproto.RequestHeader
		d        zkproto.Decoder
		fb       fastBatch
		deadline time.Time // the read deadline set last
	)
	for {
		if t := time.Duration(c.timeoutMs.Load()) * time.Millisecond; t > 0 {
			// A silent client is disconnected after its session timeout.
			// Moving the deadline costs a timer update: it is moved once a
			// sixteenth of it is used up, and set a sixteenth longer.
			if now := time.Now(); deadline.Sub(now) < t {
				deadline = now.Add(t + t/16)
				c.nc.SetReadDeadline(deadline)
			}
		}
		frame, err := fr.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !c.closed.Load() {
				c.srv.log.Debug("connection ended", "remote", c.remote, "error", err)
			}
			return
		}
		c.heard(len(frame))
		d.Reset(frame)
		if h.Decode(&d) != nil {
			return // a frame too short for a header: ZooKeeper closes too
		}
		if fastOp(h.Type) && c.live.Load() && c.inCore.Load() == 0 {
			// Serve this read and the reads read with it here; a request
			// that is not one ends the batch and goes to the core after
			// their replies.
			fb.add(h, frame[zkproto.RequestHeaderSize:])
			var rest bool
			for len(fb.reqs) < maxFastBatch && len(fb.bodies) < maxFastBatchBytes && fr.HasFrame() {
				if frame, err = fr.ReadFrame(); err != nil {
					return
				}
				c.heard(len(frame))
				d.Reset(frame)
				if h.Decode(&d) != nil {
					return
				}
				if !fastOp(h.Type) {
					rest = true
					break
				}
				fb.add(h, frame[zkproto.RequestHeaderSize:])
			}
			ok := c.serveFast(&fb)
			fb.reset()
			if !ok {
				return
			}
			if !rest {
				continue
			}
		}
		r := &request{
			c:       c,
			xid:     h.Xid,
			op:      h.Type,
			body:    bytes.Clone(frame[zkproto.RequestHeaderSize:]),
			arrived: time.Now(),
		}
		charge, ok := c.admit(len(frame))
		if !ok {
			return
		}
		r.charge = charge
		c.inCore.Add(1)
		c.srv.node.SubmitTask(r)
	}
}

// heard counts a frame from the client.
func (c *conn) heard(frameLen int) {
	c.received.Add(1)
	c.srv.stats.received.Add(1)
	c.srv.stats.bytesReceived.Add(int64(frameLen) + 4)
	c.lastHeard.Store(time.Now().UnixMilli())
}

// finish runs when the reader stops: the core forgets the connection.
func (c *conn) finish() {
	c.closed.Store(true)
	c.out.closeAfterFlush()
	if c.srv.node != nil {
		c.srv.node.Submit(func(a *bridge.Apply) { c.srv.core.connGone(c) })
	}
	<-c.out.done
	c.nc.Close()
}

// send queues a reply frame. It is called on the apply goroutine.
func (c *conn) send(h *zkproto.ReplyHeader, body []byte) {
	b, ok := c.out.lockBuf()
	if !ok {
		return
	}
	b, start := zkproto.StartFrame(b)
	b = h.Append(b)
	if h.Err == zkproto.OK {
		b = append(b, body...)
	}
	c.out.unlockBuf(zkproto.FinishFrame(b, start), true)
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
}

// sendEvent queues a watch notification.
func (c *conn) sendEvent(typ zkproto.EventType, path []byte) {
	b, ok := c.out.lockBuf()
	if !ok {
		return
	}
	b, start := zkproto.StartFrame(b)
	h := zkproto.ReplyHeader{Xid: zkproto.NotificationXid, Zxid: -1}
	b = h.Append(b)
	b = zkproto.AppendInt32(b, int32(typ))
	b = zkproto.AppendInt32(b, int32(zkproto.StateSyncConnected))
	b = zkproto.AppendInt32(b, int32(len(path)))
	b = append(b, path...)
	c.out.unlockBuf(zkproto.FinishFrame(b, start), true)
	c.sent.Add(1)
	c.srv.stats.sent.Add(1)
}

// close ends the connection after what is queued is written.
func (c *conn) close() {
	c.closed.Store(true)
	c.out.closeAfterFlush()
}

// answered records a reply's statistics and returns its latency in ms;
// called on the apply goroutine.
func (c *conn) answered(r *request, zxid int64) int64 {
	lat := c.noteAnswered(r.op, r.xid, zxid, r.arrived, time.Now())
	c.release(r)
	return lat
}

// noteAnswered records a reply's statistics and returns its latency in ms;
// called on any goroutine.
func (c *conn) noteAnswered(op zkproto.OpCode, xid int32, zxid int64, arrived, now time.Time) int64 {
	lat := now.Sub(arrived).Milliseconds()
	c.statsMu.Lock()
	st := &c.st
	st.lastOp = opAbbrev(op)
	st.lastCxid = xid
	st.lastZxid = zxid
	st.lastResp = now
	st.lastLat = lat
	if st.answered == 0 || lat < st.minLat {
		st.minLat = lat
	}
	st.maxLat = max(st.maxLat, lat)
	st.totalLat += lat
	st.answered++
	c.statsMu.Unlock()
	return lat
}

// resetStats is crst: the connection's packet counts and latencies start
// again, as ZooKeeper's ServerCnxn.resetStats.
func (c *conn) resetStats() {
	c.received.Store(0)
	c.sent.Store(0)
	c.statsMu.Lock()
	st := &c.st
	st.lastOp, st.lastCxid, st.lastZxid, st.lastResp = "NA", -1, -1, time.Time{}
	st.lastLat, st.minLat, st.maxLat, st.totalLat, st.answered = 0, 0, 0, 0, 0
	c.statsMu.Unlock()
}

func (c *conn) stats() ConnStats {
	outstanding, _ := c.own.Held()
	c.statsMu.Lock()
	st := c.st
	c.statsMu.Unlock()
	cs := ConnStats{
		Remote: c.remote, Interest: 1, Queued: outstanding,
		Received: c.received.Load(), Sent: c.sent.Load(),
	}
	if st.hasSession {
		cs.SessionID = st.sessionID
		cs.LastOp = st.lastOp
		if cs.LastOp == "" {
			cs.LastOp = "NA"
		}
		cs.Established = c.established
		cs.TimeoutMs = c.timeoutMs.Load()
		cs.LastCxid, cs.LastZxid, cs.LastResp = st.lastCxid, st.lastZxid, st.lastResp
		cs.LastLatMs, cs.MinLatMs, cs.MaxLatMs = st.lastLat, st.minLat, st.maxLat
		if st.answered > 0 {
			cs.AvgLatMs = st.totalLat / st.answered
		}
	}
	return cs
}

// opAbbrev is the four-letter abbreviation cons prints for an op (as
// ZooKeeper's Request.op2String).
func opAbbrev(op zkproto.OpCode) string {
	switch op {
	case zkproto.OpCreate, zkproto.OpCreate2, zkproto.OpCreateContainer, zkproto.OpCreateTTL:
		return "CREA"
	case zkproto.OpDelete:
		return "DELE"
	case zkproto.OpExists:
		return "EXIS"
	case zkproto.OpGetData:
		return "GETD"
	case zkproto.OpSetData:
		return "SETD"
	case zkproto.OpGetACL:
		return "GETA"
	case zkproto.OpSetACL:
		return "SETA"
	case zkproto.OpGetChildren, zkproto.OpGetChildren2:
		return "GETC"
	case zkproto.OpSync:
		return "SYNC"
	case zkproto.OpPing:
		return "PING"
	case zkproto.OpMulti, zkproto.OpMultiRead:
		return "MULT"
	case zkproto.OpCloseSession:
		return "CLOS"
	case zkproto.OpSetWatches, zkproto.OpSetWatches2:
		return "SETW"
	}
	return op.String()
}
