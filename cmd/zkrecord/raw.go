package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// rawCase is one step of the "assumptions" scenario: frames a client may
// send that ZooKeeper serves although no well-behaved client library sends
// them, each on a connection of its own. send writes the client's frames
// (all at once: pipelined); replies is how many frames the server should
// answer with, after which the case ends (or the connection closes
// earlier, which the record shows).
type rawCase struct {
	what    string
	send    func(b []byte, s *rawSession) []byte
	replies int
	// session: 0 opens a new session in the case's first frames (send
	// writes the ConnectRequest itself), 1 opens one first, 2 resumes the
	// case before's session.
	session int
}

// rawSession is a session a case opened, for the next case to resume.
type rawSession struct {
	id     int64
	passwd []byte
}

var acl = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

func frame(b []byte, xid int32, op zkproto.OpCode, body zkproto.Record) []byte {
	return zkproto.AppendRequestFrame(b, &zkproto.RequestHeader{Xid: xid, Type: op}, body)
}

func create(path string, mode zkproto.CreateMode) *zkproto.CreateRequest {
	return &zkproto.CreateRequest{Path: path, Data: []byte("r"), ACL: acl, Flags: mode}
}

func connectReq(b []byte, req zkproto.ConnectRequest, trailing ...byte) []byte {
	if req.Passwd == nil {
		req.Passwd = make([]byte, zkproto.PasswordSize)
	}
	b, start := zkproto.StartFrame(b)
	b = req.Append(b)
	b = append(b, trailing...)
	return zkproto.FinishFrame(b, start)
}

// multi builds a multi body from raw ops (type, body), ended by the done
// header.
type rawMulti []zkproto.MultiOp

func (m rawMulti) Append(b []byte) []byte { return (&zkproto.MultiRequest{Ops: m}).Append(b) }

func (m rawMulti) Decode(*zkproto.Decoder) error { return errors.New("write-only") }

// rawCases are the client assumptions ZooKeeper does not make; see
// docs/compat.md, "Assumptions about clients".
var rawCases = []rawCase{
	{what: "setup: create /raw", session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
		return frame(b, 1, zkproto.OpCreate, create("/raw", 0))
	}},
	{what: "xids go backwards: create xid 7 then xid 6, pipelined (ClickHouse's client does this): both answered, in arrival order",
		session: 1, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = frame(b, 7, zkproto.OpCreate, create("/raw/back7", 0))
			return frame(b, 6, zkproto.OpCreate, create("/raw/back6", 0))
		}},
	{what: "one xid repeated: three sequential creates with xid 5, pipelined: three nodes, three answers with xid 5",
		session: 1, replies: 3, send: func(b []byte, _ *rawSession) []byte {
			for range 3 {
				b = frame(b, 5, zkproto.OpCreate, create("/raw/rep-", zkproto.ModePersistentSequential))
			}
			return b
		}},
	{what: "xids 0, -7, 2147483647 and 1 (unreserved negative, zero, wrapped): each write applied and answered with its xid",
		session: 1, replies: 4, send: func(b []byte, _ *rawSession) []byte {
			for _, xid := range []int32{0, -7, 2147483647, 1} {
				b = frame(b, xid, zkproto.OpCreate, create("/raw/x-", zkproto.ModePersistentSequential))
			}
			return b
		}},
	{what: "a session resumed on a new connection whose xids start again at 1: its writes applied",
		session: 2, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = frame(b, 1, zkproto.OpCreate, create("/raw/x-", zkproto.ModePersistentSequential))
			return frame(b, 2, zkproto.OpCreate, create("/raw/x-", zkproto.ModePersistentSequential))
		}},
	{what: "a ping with xid 42 instead of -2",
		session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return frame(b, 42, zkproto.OpPing, nil)
		}},
	{what: "requests pipelined behind the ConnectRequest, before its answer: served after it",
		session: 0, replies: 3, send: func(b []byte, _ *rawSession) []byte {
			b = connectReq(b, zkproto.ConnectRequest{TimeOut: 10000, HasReadOnly: true})
			b = frame(b, 1, zkproto.OpCreate, create("/raw/early", zkproto.ModeEphemeral))
			return frame(b, 2, zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/raw/early"})
		}},
	{what: "handshake with protocolVersion 7: served as version 0",
		session: 0, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = connectReq(b, zkproto.ConnectRequest{ProtocolVersion: 7, TimeOut: 10000, HasReadOnly: true})
			return frame(b, 1, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/raw"})
		}},
	{what: "handshake with readOnly true and 4 bytes after it",
		session: 0, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = connectReq(b, zkproto.ConnectRequest{TimeOut: 10000, ReadOnly: true, HasReadOnly: true}, 0, 0, 0, 9)
			return frame(b, 1, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/raw"})
		}},
	{what: "handshake for a new session with a 5-byte password and timeout 0",
		session: 0, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = connectReq(b, zkproto.ConnectRequest{TimeOut: 0, Passwd: []byte("short"), HasReadOnly: true})
			return frame(b, 1, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/raw"})
		}},
	{what: "handshake with a negative timeout",
		session: 0, replies: 2, send: func(b []byte, _ *rawSession) []byte {
			b = connectReq(b, zkproto.ConnectRequest{TimeOut: -5, HasReadOnly: true})
			return frame(b, 1, zkproto.OpExists, &zkproto.ExistsRequest{Path: "/raw"})
		}},
	{what: "handshake with lastZxidSeen ahead of the server's (2^40): closed without an answer",
		session: 0, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return connectReq(b, zkproto.ConnectRequest{LastZxidSeen: 1 << 40, TimeOut: 10000, HasReadOnly: true})
		}},
	{what: "setWatches in two packets, paths unsorted and repeated, missing nodes, relativeZxid 0; then a change fires each watch once",
		session: 1, replies: 3, send: func(b []byte, _ *rawSession) []byte {
			b = frame(b, -8, zkproto.OpSetWatches, &zkproto.SetWatches{RelativeZxid: 0,
				DataWatches: []string{"/raw/early", "/raw", "/raw"}, ExistWatches: []string{"/raw/w2", "/raw/w1"}})
			b = frame(b, -8, zkproto.OpSetWatches, &zkproto.SetWatches{RelativeZxid: 0,
				ChildWatches: []string{"/raw", "/raw/none"}, ExistWatches: []string{"/raw/w1"}})
			return frame(b, 1, zkproto.OpCreate, create("/raw/w1", 0))
		}},
	{what: "setWatches with relativeZxid far ahead (2^40)",
		session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return frame(b, -8, zkproto.OpSetWatches, &zkproto.SetWatches{RelativeZxid: 1 << 40,
				DataWatches: []string{"/raw"}, ExistWatches: []string{"/raw/w9"}, ChildWatches: []string{"/raw"}})
		}},
	{what: "multi shapes: no ops; only a check; multiRead with no ops",
		session: 1, replies: 3, send: func(b []byte, _ *rawSession) []byte {
			b = frame(b, 1, zkproto.OpMulti, rawMulti{})
			b = frame(b, 2, zkproto.OpMulti, rawMulti{{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/raw", Version: 0}}})
			return frame(b, 3, zkproto.OpMultiRead, rawMulti{})
		}},
	{what: "multi with a getData op inside",
		session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return frame(b, 1, zkproto.OpMulti, rawMulti{
				{Type: zkproto.OpCreate, Body: create("/raw/m1", 0)},
				{Type: zkproto.OpGetData, Body: &zkproto.GetDataRequest{Path: "/raw"}}})
		}},
	{what: "multiRead with a create op inside",
		session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return frame(b, 1, zkproto.OpMultiRead, rawMulti{
				{Type: zkproto.OpGetData, Body: &zkproto.GetDataRequest{Path: "/raw"}},
				{Type: zkproto.OpCreate, Body: create("/raw/m2", 0)}})
		}},
	// A write pipelined after closeSession is left out: ZooKeeper's answer
	// depends on the server (a follower answers it SESSIONEXPIRED, the
	// leader and a standalone server close without answering it, as
	// vrkeeper does); see docs/compat.md.
	{what: "teardown: the nodes the cases made, listed",
		session: 1, replies: 1, send: func(b []byte, _ *rawSession) []byte {
			return frame(b, 1, zkproto.OpGetChildren, &zkproto.GetChildrenRequest{Path: "/raw"})
		}},
}

// runAssumptions drives the "assumptions" scenario through the proxy.
func runAssumptions(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
	var last rawSession
	for _, c := range rawCases {
		rec.Comment("raw: %s", c.what)
		if err := runRawCase(ctx, p.Addr(), c, &last); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
	}
	return nil
}

// runRawCase runs one case on a connection of its own.
func runRawCase(ctx context.Context, addr string, c rawCase, last *rawSession) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	nc.SetDeadline(deadline)
	fr := zkproto.NewFrameReader(nc, 0)
	if c.session > 0 {
		req := zkproto.ConnectRequest{TimeOut: 10000, HasReadOnly: true}
		if c.session == 2 {
			req.SessionID, req.Passwd = last.id, last.passwd
		}
		if _, err := nc.Write(connectReq(nil, req)); err != nil {
			return err
		}
		f, err := fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		var resp zkproto.ConnectResponse
		if err := zkproto.Unmarshal(f, &resp); err != nil || resp.SessionID == 0 {
			return fmt.Errorf("handshake refused: %+v %v", resp, err)
		}
		last.id, last.passwd = resp.SessionID, append([]byte(nil), resp.Passwd...)
	}
	if _, err := nc.Write(c.send(nil, last)); err != nil {
		return err
	}
	for n := 0; n < c.replies; {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil // closed, or nothing more came: the record shows what did
		}
		if len(f) >= zkproto.ReplyHeaderSize && int32(uint32(f[0])<<24|uint32(f[1])<<16|uint32(f[2])<<8|uint32(f[3])) == zkproto.NotificationXid {
			continue
		}
		n++
	}
	return nil
}
