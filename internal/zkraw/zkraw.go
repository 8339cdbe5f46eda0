// Package zkraw is a minimal synchronous ZooKeeper client built on zkproto,
// for tests and recording tools only. It sends any request body unchecked
// (invalid paths, odd flags, raw bytes), which real clients refuse to do, and
// reports the reply header and the raw reply body, so a test can see exactly
// what a server answers.
//
// A Conn serves one goroutine. Call sends one request and reads frames until
// the reply with the same xid arrives; watch notifications that arrive in
// between are kept in order and returned by TakeEvents.
package zkraw

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// ErrClosed is returned by calls on a connection the server closed.
var ErrClosed = errors.New("zkraw: connection closed")

// Conn is one client connection with its session.
type Conn struct {
	nc        net.Conn
	fr        *zkproto.FrameReader
	wbuf      []byte
	xid       int32
	timeout   time.Duration // per call, for reads and writes
	SessionID int64         // the session the server assigned or resumed
	Passwd    []byte        // the session password
	TimeOut   int32         // negotiated session timeout, ms
	events    []zkproto.WatcherEvent
	lastZxid  int64
}

// Dial connects to addr and opens a new session with the requested timeout.
func Dial(addr string, sessionTimeout time.Duration) (*Conn, error) {
	return Resume(addr, sessionTimeout, 0, make([]byte, zkproto.PasswordSize))
}

// Resume connects to addr and resumes session id with its password
// (id 0 opens a new session). A refused session is an error.
func Resume(addr string, sessionTimeout time.Duration, id int64, passwd []byte) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("zkraw: dial %s: %w", addr, err)
	}
	c := &Conn{nc: nc, fr: zkproto.NewFrameReader(nc, 0), timeout: 10 * time.Second}
	req := zkproto.ConnectRequest{
		TimeOut:     int32(sessionTimeout / time.Millisecond),
		SessionID:   id,
		Passwd:      passwd,
		HasReadOnly: true,
	}
	if err := c.write(zkproto.AppendRecordFrame(c.wbuf[:0], &req)); err != nil {
		nc.Close()
		return nil, err
	}
	frame, err := c.read()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkraw: handshake: %w", err)
	}
	var resp zkproto.ConnectResponse
	if err := zkproto.Unmarshal(frame, &resp); err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkraw: handshake reply: %w", err)
	}
	if resp.SessionID == 0 {
		nc.Close()
		return nil, fmt.Errorf("zkraw: session 0x%x refused", id)
	}
	c.SessionID, c.Passwd, c.TimeOut = resp.SessionID, append([]byte(nil), resp.Passwd...), resp.TimeOut
	return c, nil
}

func (c *Conn) write(b []byte) error {
	c.wbuf = b
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("zkraw: write: %w", err)
	}
	return nil
}

func (c *Conn) read() ([]byte, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClosed, err)
	}
	return f, nil
}

// Reply is a server's answer to one request.
type Reply struct {
	Header zkproto.ReplyHeader
	Body   []byte // the raw body after the header (a copy)
}

// Call sends a request of type op with the given body (nil for none) under
// the next xid and returns its reply.
func (c *Conn) Call(op zkproto.OpCode, body zkproto.Record) (Reply, error) {
	c.xid++
	return c.CallXid(c.xid, op, body)
}

// CallRaw sends a request whose body is the given bytes, unchecked.
func (c *Conn) CallRaw(op zkproto.OpCode, body []byte) (Reply, error) {
	c.xid++
	return c.CallXid(c.xid, op, rawRecord(body))
}

// CallXid sends a request with an explicit xid (reserved xids included) and
// waits for the reply carrying that xid.
func (c *Conn) CallXid(xid int32, op zkproto.OpCode, body zkproto.Record) (Reply, error) {
	h := zkproto.RequestHeader{Xid: xid, Type: op}
	if err := c.write(zkproto.AppendRequestFrame(c.wbuf[:0], &h, body)); err != nil {
		return Reply{}, err
	}
	for {
		frame, err := c.read()
		if err != nil {
			return Reply{}, err
		}
		var d zkproto.Decoder
		d.Reset(frame)
		var rh zkproto.ReplyHeader
		if err := rh.Decode(&d); err != nil {
			return Reply{}, fmt.Errorf("zkraw: reply header: %w", err)
		}
		if rh.Xid == zkproto.NotificationXid {
			var ev zkproto.WatcherEvent
			if err := ev.Decode(&d); err != nil {
				return Reply{}, fmt.Errorf("zkraw: notification: %w", err)
			}
			c.events = append(c.events, ev)
			continue
		}
		if rh.Xid != xid {
			return Reply{}, fmt.Errorf("zkraw: reply xid %d, want %d", rh.Xid, xid)
		}
		if rh.Zxid > 0 {
			c.lastZxid = rh.Zxid
		}
		return Reply{Header: rh, Body: append([]byte(nil), frame[d.Offset():]...)}, nil
	}
}

// Ping sends a ping and waits for its reply. Because a server answers a
// session's requests in order, every notification queued for this session
// before the ping was handled has arrived when Ping returns.
func (c *Conn) Ping() error {
	_, err := c.CallXid(zkproto.PingXid, zkproto.OpPing, nil)
	return err
}

// Auth sends an auth packet and returns the reply's error code.
func (c *Conn) Auth(scheme string, auth []byte) (zkproto.Code, error) {
	r, err := c.CallXid(zkproto.AuthXid, zkproto.OpAuth, &zkproto.AuthPacket{Scheme: scheme, Auth: auth})
	return r.Header.Err, err
}

// TakeEvents returns the notifications received so far and forgets them.
func (c *Conn) TakeEvents() []zkproto.WatcherEvent {
	ev := c.events
	c.events = nil
	return ev
}

// LastZxid returns the largest positive zxid seen in a reply header.
func (c *Conn) LastZxid() int64 { return c.lastZxid }

// CloseSession ends the session (closeSession request) and the connection.
func (c *Conn) CloseSession() (Reply, error) {
	r, err := c.Call(zkproto.OpCloseSession, nil)
	c.nc.Close()
	return r, err
}

// Close drops the connection without ending the session.
func (c *Conn) Close() error { return c.nc.Close() }

// rawRecord is a request body given as bytes.
type rawRecord []byte

func (r rawRecord) Append(b []byte) []byte { return append(b, r...) }

func (r rawRecord) Decode(*zkproto.Decoder) error {
	return errors.New("zkraw: raw records are write-only")
}
