package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// maxReply is the largest reply the benchmark accepts: listing the nodes a
// long create run made can exceed ZooKeeper's 1 MiB request limit.
const maxReply = 128 << 20

// client is one ZooKeeper session driven by the benchmark: requests are
// pipelined (up to a window) on one connection, and replies are matched to
// requests in order, as ZooKeeper returns them.
type client struct {
	conn    net.Conn
	w       *bufio.Writer
	fr      *zkproto.FrameReader
	xid     int32
	mu      sync.Mutex // guards pending and err, shared by sender and reader
	pending []inflight // sent, not yet answered, in send order
	err     error
	slots   chan struct{} // the pipelining window
	done    chan struct{} // closed when the reader stops
	// events counts the watch notifications received.
	events atomic.Int64
}

// inflight is a request waiting for its reply.
type inflight struct {
	xid  int32
	sent time.Time
	fn   replyFunc
}

// replyFunc receives a reply's error code, the request's latency and the
// reply body, which is valid only during the call.
type replyFunc func(code zkproto.Code, latency time.Duration, body []byte)

// dial opens a session with the given timeout and pipelining window.
func dial(addr string, timeout time.Duration, window int) (*client, error) {
	return dialSized(addr, timeout, window, 64<<10)
}

// dialSized is dial with a write buffer of bufSize bytes (small for
// thousands of sessions).
func dialSized(addr string, timeout time.Duration, window, bufSize int) (*client, error) {
	conn, err := dialConn(addr) // tls.go
	if err != nil {
		return nil, err
	}
	c := &client{
		conn:  conn,
		w:     bufio.NewWriterSize(conn, bufSize),
		fr:    zkproto.NewFrameReader(conn, maxReply),
		slots: make(chan struct{}, window),
		done:  make(chan struct{}),
	}
	req := zkproto.ConnectRequest{TimeOut: int32(timeout / time.Millisecond), Passwd: make([]byte, 16), HasReadOnly: true}
	if _, err := conn.Write(zkproto.AppendRecordFrame(nil, &req)); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	frame, err := c.fr.ReadFrame()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	conn.SetReadDeadline(time.Time{})
	var resp zkproto.ConnectResponse
	if err := zkproto.Unmarshal(frame, &resp); err != nil || resp.SessionID == 0 {
		conn.Close()
		return nil, fmt.Errorf("handshake with %s refused (%v)", addr, err)
	}
	go c.readLoop()
	return c, nil
}

// send queues one request; fn runs on the reader goroutine with the reply's
// error code. It blocks while the window is full. Call flush to send.
func (c *client) send(op zkproto.OpCode, body zkproto.Record, fn replyFunc) error {
	select {
	case c.slots <- struct{}{}:
	case <-c.done:
		return c.failure()
	}
	c.xid++
	h := zkproto.RequestHeader{Xid: c.xid, Type: op}
	frame := zkproto.AppendRequestFrame(nil, &h, body)
	c.mu.Lock()
	c.pending = append(c.pending, inflight{xid: c.xid, sent: time.Now(), fn: fn})
	c.mu.Unlock()
	_, err := c.w.Write(frame)
	if len(c.slots) == cap(c.slots) {
		err = errors.Join(err, c.w.Flush())
	}
	return err
}

// flush sends what is buffered.
func (c *client) flush() error { return c.w.Flush() }

// call sends one request and waits for its reply, decoding the body into
// resp if it is not nil.
func (c *client) call(op zkproto.OpCode, body, resp zkproto.Record) (zkproto.Code, error) {
	result := make(chan zkproto.Code, 1)
	err := c.send(op, body, func(code zkproto.Code, _ time.Duration, b []byte) {
		if code == zkproto.OK && resp != nil {
			if err := zkproto.Unmarshal(b, resp); err != nil {
				code = zkproto.ErrMarshallingError
			}
		}
		result <- code
	})
	if err != nil {
		return 0, err
	}
	if err := c.flush(); err != nil {
		return 0, err
	}
	select {
	case code := <-result:
		return code, nil
	case <-c.done:
		return 0, c.failure()
	}
}

func (c *client) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *client) readLoop() {
	defer close(c.done)
	var h zkproto.ReplyHeader
	var d zkproto.Decoder
	for {
		frame, err := c.fr.ReadFrame()
		if err == nil {
			d.Reset(frame)
			err = h.Decode(&d)
		}
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("connection lost: %w", err)
			c.mu.Unlock()
			return
		}
		if h.Xid == zkproto.NotificationXid {
			c.events.Add(1)
			continue
		}
		if h.Xid == zkproto.PingXid {
			continue
		}
		c.mu.Lock()
		if len(c.pending) == 0 || c.pending[0].xid != h.Xid {
			c.err = fmt.Errorf("reply xid %d out of order", h.Xid)
			c.mu.Unlock()
			return
		}
		p := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		<-c.slots
		p.fn(h.Err, time.Since(p.sent), frame[d.Offset():])
	}
}

// close ends the session politely.
func (c *client) close() {
	c.call(zkproto.OpCloseSession, &zkproto.CloseSessionRequest{}, nil)
	c.conn.Close()
	<-c.done
}
