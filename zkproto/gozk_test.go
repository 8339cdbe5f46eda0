package zkproto_test

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// These tests hold the codec to go-zookeeper's encoder and decoder through
// go-zookeeper's public API: its client talks to an in-test server that
// speaks the server side with this codec. Every request go-zookeeper sends
// must decode to the values the call was given and re-encode to exactly
// its bytes, and the same values encoded by the codec must give those
// bytes; every reply the codec encodes must come out of go-zookeeper as the
// values that went in.

// fakeZK is the server side of the protocol, written with the codec. Each
// request after the handshake goes to the test on reqs and waits for its
// answer; pings are answered at once and reported on pings.
type fakeZK struct {
	t        *testing.T
	ln       net.Listener
	timeout  int32 // the session timeout the server grants, ms
	connects chan fakeConnect
	reqs     chan *fakeRequest
	pings    chan []byte
	quit     chan struct{}

	mu          sync.Mutex
	conns       []net.Conn
	expireNext  bool  // answer the next resumed session as expired
	nextSession int64 // the id of the next new session
}

// fakeConnect is a handshake as it arrived.
type fakeConnect struct {
	raw []byte
	req zkproto.ConnectRequest
}

// fakeRequest is a request as it arrived, waiting for its answer.
type fakeRequest struct {
	raw    []byte
	header zkproto.RequestHeader
	body   zkproto.Record
	answer chan fakeAnswer
}

// fakeAnswer is what the server sends for one request.
type fakeAnswer struct {
	events []zkproto.WatcherEvent // notifications sent before the reply
	err    zkproto.Code
	body   zkproto.Record
	zxid   int64
	hangUp bool // close the connection instead of replying
}

// fakePassword is the session password the fake server hands out.
var fakePassword = []byte("0123456789abcdef")

func newFakeZK(t *testing.T, timeoutMs int32) *fakeZK {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeZK{t: t, ln: ln, timeout: timeoutMs, connects: make(chan fakeConnect, 16),
		reqs: make(chan *fakeRequest, 16), pings: make(chan []byte, 64), quit: make(chan struct{}),
		nextSession: 0x1a2b3c4d5e6f}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		close(s.quit)
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *fakeZK) addr() string { return s.ln.Addr().String() }

// serve runs one connection: the handshake (or a four-letter word), then
// requests until the client closes or the test hangs up.
func (s *fakeZK) serve(c net.Conn) {
	defer c.Close()
	fr := zkproto.NewFrameReader(c, 0)
	first, word, err := fr.ReadFirst()
	if err != nil {
		return
	}
	if word == "ruok" {
		c.Write([]byte("imok"))
		return
	}
	var conn fakeConnect
	conn.raw = append([]byte(nil), first...)
	if err := zkproto.Unmarshal(first, &conn.req); err != nil {
		s.t.Errorf("fake server: ConnectRequest %x: %v", first, err)
		return
	}
	select {
	case s.connects <- conn:
	case <-s.quit:
		return
	}
	if _, err := c.Write(zkproto.AppendRecordFrame(nil, s.grant(&conn.req))); err != nil {
		return
	}
	for {
		payload, err := fr.ReadFrame()
		if err != nil {
			return
		}
		req := &fakeRequest{raw: append([]byte(nil), payload...), answer: make(chan fakeAnswer, 1)}
		d := zkproto.NewDecoder(req.raw)
		if err := req.header.Decode(d); err != nil {
			s.t.Errorf("fake server: request header %x: %v", payload, err)
			return
		}
		if req.body = zkproto.NewRequest(req.header.Type); req.body == nil {
			s.t.Errorf("fake server: request of unknown op %v: %x", req.header.Type, payload)
			return
		}
		if err := req.body.Decode(d); err != nil || d.Remaining() != 0 {
			s.t.Errorf("fake server: %v body %x: %v, %d bytes left", req.header.Type, payload, err, d.Remaining())
			return
		}
		var a fakeAnswer
		if req.header.Type == zkproto.OpPing {
			select {
			case s.pings <- req.raw:
			default: // the test has seen enough pings
			}
		} else {
			select {
			case s.reqs <- req:
			case <-s.quit:
				return
			}
			select {
			case a = <-req.answer:
			case <-s.quit:
				return
			}
		}
		if a.hangUp {
			return
		}
		var out []byte
		for i := range a.events {
			out = zkproto.AppendReplyFrame(out, &zkproto.ReplyHeader{Xid: zkproto.NotificationXid, Zxid: -1}, &a.events[i])
		}
		out = zkproto.AppendReplyFrame(out, &zkproto.ReplyHeader{Xid: req.header.Xid, Zxid: a.zxid, Err: a.err}, a.body)
		if _, err := c.Write(out); err != nil {
			return
		}
		if req.header.Type == zkproto.OpCloseSession {
			return
		}
	}
}

// grant answers a handshake: a new session, the same session resumed, or
// (once, when expireNext is set) an expired one, always in the form the
// client used (with the readOnly byte only if the client sent it).
func (s *fakeZK) grant(req *zkproto.ConnectRequest) *zkproto.ConnectResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &zkproto.ConnectResponse{TimeOut: s.timeout, SessionID: req.SessionID,
		Passwd: fakePassword, HasReadOnly: req.HasReadOnly}
	switch {
	case req.SessionID != 0 && s.expireNext:
		s.expireNext = false
		resp.TimeOut, resp.SessionID, resp.Passwd = 0, 0, make([]byte, zkproto.PasswordSize)
	case req.SessionID == 0:
		resp.SessionID = s.nextSession
		s.nextSession++
	}
	return resp
}

// within bounds a wait that must end on its own; the bound only turns a
// hang into a failure.
const within = 10 * time.Second

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("no %s within %v", what, within)
		panic("unreachable")
	}
}

// oneHost is a go-zookeeper HostProvider with one server and no pause
// before reconnecting.
type oneHost string

func (h oneHost) Init([]string) error  { return nil }
func (h oneHost) Len() int             { return 1 }
func (h oneHost) Next() (string, bool) { return string(h), false }
func (h oneHost) Connected()           {}

type silentLogger struct{}

func (silentLogger) Printf(string, ...any) {}

// dialGoZK connects go-zookeeper to s and returns it with a channel of its
// session events (go-zookeeper's own channel drops events nobody reads).
func dialGoZK(t *testing.T, s *fakeZK) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	events := make(chan zk.Event, 256)
	c, _, err := zk.Connect([]string{s.addr()}, 30*time.Second,
		zk.WithHostProvider(oneHost(s.addr())), zk.WithLogger(silentLogger{}),
		zk.WithEventCallback(func(ev zk.Event) {
			if ev.Type == zk.EventSession {
				select {
				case events <- ev:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Answer the closeSession Close sends, so it need not time out.
		done := make(chan struct{})
		go func() { c.Close(); close(done) }()
		for {
			select {
			case r := <-s.reqs:
				r.answer <- fakeAnswer{}
			case <-done:
				return
			}
		}
	})
	return c, events
}

func waitSession(t *testing.T, events <-chan zk.Event, want zk.State) {
	t.Helper()
	for {
		if ev := receive(t, events, "session event "+want.String()); ev.State == want {
			return
		}
	}
}

// checkConnect checks a handshake go-zookeeper sent: 44 bytes without the
// readOnly byte, the given fields, and byte equality both ways.
func checkConnect(t *testing.T, got fakeConnect, want zkproto.ConnectRequest) {
	t.Helper()
	if len(got.raw) != 44 {
		t.Errorf("ConnectRequest is %d bytes, want 44", len(got.raw))
	}
	if !reflect.DeepEqual(got.req, want) {
		t.Errorf("ConnectRequest = %+v, want %+v", got.req, want)
	}
	if enc := want.Append(nil); !bytes.Equal(enc, got.raw) {
		t.Errorf("codec encodes the handshake as %x, go-zookeeper sent %x", enc, got.raw)
	}
}

// checkRequest checks a request against the op and body it should carry:
// decoded values equal, and the codec's encoding of the expected values
// (under the request's own xid) equal to go-zookeeper's bytes.
func checkRequest(t *testing.T, req *fakeRequest, op zkproto.OpCode, want zkproto.Record) {
	t.Helper()
	if req.header.Type != op {
		t.Fatalf("request op = %v, want %v (%x)", req.header.Type, op, req.raw)
	}
	if !reflect.DeepEqual(req.body, want) {
		t.Errorf("%v request decodes to %+v, want %+v", op, req.body, want)
	}
	h := zkproto.RequestHeader{Xid: req.header.Xid, Type: op}
	if enc := want.Append(h.Append(nil)); !bytes.Equal(enc, req.raw) {
		t.Errorf("%v: codec encodes\n  %x\ngo-zookeeper sent\n  %x", op, enc, req.raw)
	}
	if re := req.body.Append(req.header.Append(nil)); !bytes.Equal(re, req.raw) {
		t.Errorf("%v: re-encoding the decoded request gives %x", op, re)
	}
}

var (
	testStat = zkproto.Stat{Czxid: 0x100000001, Mzxid: 0x100000002, Ctime: 1700000000001, Mtime: 1700000000002,
		Version: 3, Cversion: 4, Aversion: 5, EphemeralOwner: 0x1a2b3c4d5e6f, DataLength: 6, NumChildren: 7, Pzxid: 0x100000003}
	worldAll = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}
)

// goZKStat is how go-zookeeper must decode s.
func goZKStat(s zkproto.Stat) *zk.Stat {
	return &zk.Stat{Czxid: s.Czxid, Mzxid: s.Mzxid, Ctime: s.Ctime, Mtime: s.Mtime, Version: s.Version,
		Cversion: s.Cversion, Aversion: s.Aversion, EphemeralOwner: s.EphemeralOwner,
		DataLength: s.DataLength, NumChildren: s.NumChildren, Pzxid: s.Pzxid}
}

// goZKCall is one go-zookeeper call: the request the codec must see, the
// answer the codec encodes, and what go-zookeeper must return for it.
type goZKCall struct {
	name   string
	call   func(c *zk.Conn) (any, error)
	op     zkproto.OpCode
	req    zkproto.Record
	answer fakeAnswer
	want   any   // the call's first result
	err    error // the call's error
}

// runGoZKCall makes the call, checks the request, answers it and checks
// what go-zookeeper made of the answer.
func runGoZKCall(t *testing.T, s *fakeZK, c *zk.Conn, tc goZKCall) {
	t.Helper()
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() { v, err := tc.call(c); done <- result{v, err} }()
	req := receive(t, s.reqs, tc.name+" request")
	checkRequest(t, req, tc.op, tc.req)
	req.answer <- tc.answer
	r := receive(t, done, tc.name+" result")
	if !errors.Is(r.err, tc.err) {
		t.Errorf("error = %v, want %v", r.err, tc.err)
	}
	if tc.err == nil && !reflect.DeepEqual(r.v, tc.want) {
		t.Errorf("go-zookeeper returned %#v, want %#v", r.v, tc.want)
	}
}

func TestGoZookeeperRequestsAndReplies(t *testing.T) {
	s := newFakeZK(t, 30000)
	c, events := dialGoZK(t, s)
	checkConnect(t, receive(t, s.connects, "handshake"), zkproto.ConnectRequest{
		TimeOut: 30000, Passwd: make([]byte, zkproto.PasswordSize)})
	waitSession(t, events, zk.StateHasSession)
	if c.SessionID() != 0x1a2b3c4d5e6f {
		t.Errorf("go-zookeeper read session id %#x from the 36-byte ConnectResponse", c.SessionID())
	}

	open := zk.WorldACL(zk.PermAll)
	digest := zk.DigestACL(zk.PermRead|zk.PermAdmin, "user", "pw")
	digestACL := []zkproto.ACL{{Perms: digest[0].Perms, ID: zkproto.Id{Scheme: "digest", ID: digest[0].ID}}}
	ok := func(body zkproto.Record) fakeAnswer { return fakeAnswer{zxid: 0x100000009, body: body} }
	fail := func(code zkproto.Code) fakeAnswer { return fakeAnswer{zxid: 0x100000009, err: code} }

	tests := []goZKCall{
		{name: "Create ephemeral",
			call: func(c *zk.Conn) (any, error) { return c.Create("/a", []byte("x"), zk.FlagEphemeral, open) },
			op:   zkproto.OpCreate, req: &zkproto.CreateRequest{Path: "/a", Data: []byte("x"), ACL: worldAll, Flags: zkproto.ModeEphemeral},
			answer: ok(&zkproto.CreateResponse{Path: "/a"}), want: "/a"},
		{name: "Create sequential with nil data",
			call: func(c *zk.Conn) (any, error) { return c.Create("/s-", nil, zk.FlagSequence, open) },
			op:   zkproto.OpCreate, req: &zkproto.CreateRequest{Path: "/s-", ACL: worldAll, Flags: zkproto.ModePersistentSequential},
			answer: ok(&zkproto.CreateResponse{Path: "/s-0000000007"}), want: "/s-0000000007"},
		{name: "Create with empty data and a digest ACL",
			call: func(c *zk.Conn) (any, error) { return c.Create("/d", []byte{}, 0, digest) },
			op:   zkproto.OpCreate, req: &zkproto.CreateRequest{Path: "/d", Data: []byte{}, ACL: digestACL},
			answer: ok(&zkproto.CreateResponse{Path: "/d"}), want: "/d"},
		{name: "Create NODEEXISTS",
			call: func(c *zk.Conn) (any, error) { return c.Create("/a", []byte("x"), 0, open) },
			op:   zkproto.OpCreate, req: &zkproto.CreateRequest{Path: "/a", Data: []byte("x"), ACL: worldAll},
			answer: fail(zkproto.ErrNodeExists), err: zk.ErrNodeExists},
		{name: "CreateProtectedEphemeralSequential",
			call: func(c *zk.Conn) (any, error) {
				p, err := c.CreateProtectedEphemeralSequential("/lock-", []byte("l"), open)
				return strings.HasPrefix(p, "/_c_") && strings.HasSuffix(p, "-lock-0000000001"), err
			},
			op: zkproto.OpCreate, req: nil, // the name holds a random guid; checked below
			answer: fakeAnswer{}, want: true},
		{name: "CreateContainer",
			call: func(c *zk.Conn) (any, error) { return c.CreateContainer("/box", []byte("b"), zk.FlagContainer, open) },
			op:   zkproto.OpCreateContainer, req: &zkproto.CreateRequest{Path: "/box", Data: []byte("b"), ACL: worldAll, Flags: zkproto.ModeContainer},
			answer: ok(&zkproto.Create2Response{Path: "/box", Stat: testStat}), want: "/box"},
		{name: "CreateTTL",
			call: func(c *zk.Conn) (any, error) {
				return c.CreateTTL("/ttl", []byte("t"), zk.FlagTTL, open, 90*time.Second)
			},
			op:     zkproto.OpCreateTTL,
			req:    &zkproto.CreateTTLRequest{Path: "/ttl", Data: []byte("t"), ACL: worldAll, Flags: zkproto.ModePersistentWithTTL, TTL: 90000},
			answer: ok(&zkproto.Create2Response{Path: "/ttl", Stat: testStat}), want: "/ttl"},
		{name: "CreateTTL sequential",
			call: func(c *zk.Conn) (any, error) {
				return c.CreateTTL("/ttls-", nil, zk.FlagPersistentSequentialWithTTL, open, time.Hour)
			},
			op:     zkproto.OpCreateTTL,
			req:    &zkproto.CreateTTLRequest{Path: "/ttls-", ACL: worldAll, Flags: zkproto.ModePersistentSequentialWithTTL, TTL: 3600000},
			answer: ok(&zkproto.Create2Response{Path: "/ttls-0000000002", Stat: testStat}), want: "/ttls-0000000002"},
		{name: "Delete",
			call: func(c *zk.Conn) (any, error) { return nil, c.Delete("/a", 3) },
			op:   zkproto.OpDelete, req: &zkproto.DeleteRequest{Path: "/a", Version: 3},
			answer: ok(nil)},
		{name: "Delete NOTEMPTY",
			call: func(c *zk.Conn) (any, error) { return nil, c.Delete("/a", -1) },
			op:   zkproto.OpDelete, req: &zkproto.DeleteRequest{Path: "/a", Version: -1},
			answer: fail(zkproto.ErrNotEmpty), err: zk.ErrNotEmpty},
		{name: "Exists",
			call: func(c *zk.Conn) (any, error) { ok, st, err := c.Exists("/a"); return []any{ok, st}, err },
			op:   zkproto.OpExists, req: &zkproto.ExistsRequest{Path: "/a"},
			answer: ok(&zkproto.ExistsResponse{Stat: testStat}), want: []any{true, goZKStat(testStat)}},
		{name: "Exists NONODE",
			call: func(c *zk.Conn) (any, error) { ok, _, err := c.Exists("/none"); return ok, err },
			op:   zkproto.OpExists, req: &zkproto.ExistsRequest{Path: "/none"},
			answer: fail(zkproto.ErrNoNode), want: false},
		{name: "Get",
			call: func(c *zk.Conn) (any, error) { d, st, err := c.Get("/a"); return []any{d, st}, err },
			op:   zkproto.OpGetData, req: &zkproto.GetDataRequest{Path: "/a"},
			answer: ok(&zkproto.GetDataResponse{Data: []byte("hello"), Stat: testStat}),
			want:   []any{[]byte("hello"), goZKStat(testStat)}},
		{name: "Get null data",
			call: func(c *zk.Conn) (any, error) { d, _, err := c.Get("/nil"); return d == nil, err },
			op:   zkproto.OpGetData, req: &zkproto.GetDataRequest{Path: "/nil"},
			answer: ok(&zkproto.GetDataResponse{Stat: testStat}), want: true},
		{name: "Get NONODE",
			call: func(c *zk.Conn) (any, error) { _, _, err := c.Get("/none"); return nil, err },
			op:   zkproto.OpGetData, req: &zkproto.GetDataRequest{Path: "/none"},
			answer: fail(zkproto.ErrNoNode), err: zk.ErrNoNode},
		{name: "Set",
			call: func(c *zk.Conn) (any, error) { return c.Set("/a", []byte("v2"), 2) },
			op:   zkproto.OpSetData, req: &zkproto.SetDataRequest{Path: "/a", Data: []byte("v2"), Version: 2},
			answer: ok(&zkproto.SetDataResponse{Stat: testStat}), want: goZKStat(testStat)},
		{name: "Set BADVERSION",
			call: func(c *zk.Conn) (any, error) { return c.Set("/a", nil, 9) },
			op:   zkproto.OpSetData, req: &zkproto.SetDataRequest{Path: "/a", Version: 9},
			answer: fail(zkproto.ErrBadVersion), err: zk.ErrBadVersion},
		{name: "GetACL",
			call: func(c *zk.Conn) (any, error) { acl, st, err := c.GetACL("/a"); return []any{acl, st}, err },
			op:   zkproto.OpGetACL, req: &zkproto.GetACLRequest{Path: "/a"},
			answer: ok(&zkproto.GetACLResponse{ACL: append(digestACL, worldAll...), Stat: testStat}),
			want:   []any{append(append([]zk.ACL(nil), digest...), open...), goZKStat(testStat)}},
		{name: "SetACL",
			call: func(c *zk.Conn) (any, error) { return c.SetACL("/a", digest, 4) },
			op:   zkproto.OpSetACL, req: &zkproto.SetACLRequest{Path: "/a", ACL: digestACL, Version: 4},
			answer: ok(&zkproto.SetACLResponse{Stat: testStat}), want: goZKStat(testStat)},
		{name: "SetACL NOAUTH",
			call: func(c *zk.Conn) (any, error) { return c.SetACL("/a", open, -1) },
			op:   zkproto.OpSetACL, req: &zkproto.SetACLRequest{Path: "/a", ACL: worldAll, Version: -1},
			answer: fail(zkproto.ErrNoAuth), err: zk.ErrNoAuth},
		{name: "Children (getChildren2)",
			call: func(c *zk.Conn) (any, error) { ch, st, err := c.Children("/a"); return []any{ch, st}, err },
			op:   zkproto.OpGetChildren2, req: &zkproto.GetChildren2Request{Path: "/a"},
			answer: ok(&zkproto.GetChildren2Response{Children: []string{"x", "y-0000000001"}, Stat: testStat}),
			want:   []any{[]string{"x", "y-0000000001"}, goZKStat(testStat)}},
		{name: "Children of a leaf",
			call: func(c *zk.Conn) (any, error) { ch, _, err := c.Children("/leaf"); return len(ch), err },
			op:   zkproto.OpGetChildren2, req: &zkproto.GetChildren2Request{Path: "/leaf"},
			answer: ok(&zkproto.GetChildren2Response{Stat: testStat}), want: 0},
		{name: "Sync",
			call: func(c *zk.Conn) (any, error) { return c.Sync("/a") },
			op:   zkproto.OpSync, req: &zkproto.SyncRequest{Path: "/a"},
			answer: ok(&zkproto.SyncResponse{Path: "/a"}), want: "/a"},
		{name: "AddAuth",
			call: func(c *zk.Conn) (any, error) { return nil, c.AddAuth("digest", []byte("user:pw")) },
			op:   zkproto.OpAuth, req: &zkproto.AuthPacket{Scheme: "digest", Auth: []byte("user:pw")},
			answer: fakeAnswer{}},
		{name: "Multi",
			call: func(c *zk.Conn) (any, error) {
				return c.Multi(
					&zk.CreateRequest{Path: "/m", Data: []byte("m"), Acl: open, Flags: zk.FlagSequence},
					&zk.SetDataRequest{Path: "/m", Data: []byte("m2"), Version: 0},
					&zk.CheckVersionRequest{Path: "/m", Version: 1},
					&zk.DeleteRequest{Path: "/m", Version: 1})
			},
			op: zkproto.OpMulti,
			req: &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
				{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/m", Data: []byte("m"), ACL: worldAll, Flags: zkproto.ModePersistentSequential}},
				{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: "/m", Data: []byte("m2")}},
				{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/m", Version: 1}},
				{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/m", Version: 1}},
			}},
			answer: ok(&zkproto.MultiResponse{Results: []zkproto.MultiResult{
				{Type: zkproto.OpCreate, Body: &zkproto.CreateResponse{Path: "/m0000000003"}},
				{Type: zkproto.OpSetData, Body: &zkproto.SetDataResponse{Stat: testStat}},
				{Type: zkproto.OpCheck},
				{Type: zkproto.OpDelete},
			}}),
			want: []zk.MultiResponse{{String: "/m0000000003"}, {Stat: goZKStat(testStat)}, {}, {}}},
		{name: "Multi failing at its second op",
			call: func(c *zk.Conn) (any, error) {
				return c.Multi(
					&zk.CreateRequest{Path: "/f", Acl: open},
					&zk.DeleteRequest{Path: "/missing", Version: -1},
					&zk.SetDataRequest{Path: "/f", Data: []byte("x"), Version: -1})
			},
			op: zkproto.OpMulti,
			req: &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
				{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/f", ACL: worldAll}},
				{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/missing", Version: -1}},
				{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: "/f", Data: []byte("x"), Version: -1}},
			}},
			answer: ok(&zkproto.MultiResponse{Results: []zkproto.MultiResult{
				{Type: zkproto.OpError, Body: &zkproto.ErrorResponse{}},
				{Type: zkproto.OpError, Err: zkproto.ErrNoNode, Body: &zkproto.ErrorResponse{Err: zkproto.ErrNoNode}},
				{Type: zkproto.OpError, Err: zkproto.ErrRuntimeInconsistency, Body: &zkproto.ErrorResponse{Err: zkproto.ErrRuntimeInconsistency}},
			}}),
			err: zk.ErrNoNode},
		{name: "IncrementalReconfig",
			call: func(c *zk.Conn) (any, error) {
				return c.IncrementalReconfig([]string{"server.4=h:1:2;3", "server.5=h:1:2;3"}, nil, -1)
			},
			op: zkproto.OpReconfig,
			req: &zkproto.ReconfigRequest{JoiningServers: "server.4=h:1:2;3,server.5=h:1:2;3",
				NewMembersNull: true, CurConfigID: -1},
			answer: ok(&zkproto.GetDataResponse{Data: []byte("server.4=h:1:2;3"), Stat: testStat}),
			want:   goZKStat(testStat)},
		{name: "Reconfig RECONFIGDISABLED",
			call: func(c *zk.Conn) (any, error) { return c.Reconfig([]string{"server.1=h:1:2;3"}, 7) },
			op:   zkproto.OpReconfig,
			req: &zkproto.ReconfigRequest{JoiningServersNull: true, LeavingServersNull: true,
				NewMembers: "server.1=h:1:2;3", CurConfigID: 7},
			answer: fail(zkproto.ErrReconfigDisabled), err: zk.ErrReconfigDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req == nil {
				protectedCreate(t, s, c, tc)
				return
			}
			runGoZKCall(t, s, c, tc)
		})
	}
}

// protectedCreate checks CreateProtectedEphemeralSequential, whose node
// name holds a random guid, so the expected request is built from the one
// that arrived.
func protectedCreate(t *testing.T, s *fakeZK, c *zk.Conn, tc goZKCall) {
	done := make(chan bool, 1)
	go func() { v, err := tc.call(c); done <- err == nil && v == true }()
	req := receive(t, s.reqs, "protected create")
	got, ok := req.body.(*zkproto.CreateRequest)
	if !ok || !strings.HasPrefix(got.Path, "/_c_") || !strings.HasSuffix(got.Path, "-lock-") {
		t.Fatalf("request = %v %+v", req.header.Type, req.body)
	}
	checkRequest(t, req, zkproto.OpCreate, &zkproto.CreateRequest{Path: got.Path, Data: []byte("l"),
		ACL: worldAll, Flags: zkproto.ModeEphemeralSequential})
	req.answer <- fakeAnswer{body: &zkproto.CreateResponse{Path: got.Path + "0000000001"}}
	if !receive(t, done, "protected create result") {
		t.Errorf("go-zookeeper did not return the created path")
	}
}

// TestGoZookeeperWatches checks watch requests, notifications encoded by
// the codec as go-zookeeper delivers them, the setWatches it sends after a
// reconnect, an expired session and closeSession.
func TestGoZookeeperWatches(t *testing.T) {
	s := newFakeZK(t, 30000)
	c, events := dialGoZK(t, s)
	receive(t, s.connects, "handshake")
	waitSession(t, events, zk.StateHasSession)

	type watchResult struct {
		ch  <-chan zk.Event
		err error
	}
	watch := func(call func() (<-chan zk.Event, error), op zkproto.OpCode, req zkproto.Record, a fakeAnswer) <-chan zk.Event {
		t.Helper()
		done := make(chan watchResult, 1)
		go func() { ch, err := call(); done <- watchResult{ch, err} }()
		r := receive(t, s.reqs, op.String()+" request")
		checkRequest(t, r, op, req)
		r.answer <- a
		res := receive(t, done, op.String()+" result")
		if res.err != nil {
			t.Fatalf("%v: %v", op, res.err)
		}
		return res.ch
	}
	dataW := watch(func() (<-chan zk.Event, error) { _, _, ch, err := c.GetW("/w"); return ch, err },
		zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/w", Watch: true},
		fakeAnswer{zxid: 0x20, body: &zkproto.GetDataResponse{Data: []byte("w"), Stat: testStat}})
	existW := watch(func() (<-chan zk.Event, error) { _, _, ch, err := c.ExistsW("/later"); return ch, err },
		zkproto.OpExists, &zkproto.ExistsRequest{Path: "/later", Watch: true},
		fakeAnswer{zxid: 0x21, err: zkproto.ErrNoNode})
	childW := watch(func() (<-chan zk.Event, error) { _, _, ch, err := c.ChildrenW("/w"); return ch, err },
		zkproto.OpGetChildren2, &zkproto.GetChildren2Request{Path: "/w", Watch: true},
		fakeAnswer{zxid: 0x22, body: &zkproto.GetChildren2Response{Children: []string{}, Stat: testStat}})

	// Cut the connection: go-zookeeper resumes the session with the last
	// zxid it saw and re-registers its three watches with setWatches.
	sync := func(path string, a fakeAnswer) error {
		done := make(chan error, 1)
		go func() { _, err := c.Sync(path); done <- err }()
		r := receive(t, s.reqs, "sync request")
		checkRequest(t, r, zkproto.OpSync, &zkproto.SyncRequest{Path: path})
		r.answer <- a
		return receive(t, done, "sync result")
	}
	if err := sync("/cut", fakeAnswer{hangUp: true}); err == nil {
		t.Fatal("sync on a cut connection succeeded")
	}
	checkConnect(t, receive(t, s.connects, "resuming handshake"), zkproto.ConnectRequest{
		LastZxidSeen: 0x22, TimeOut: 30000, SessionID: 0x1a2b3c4d5e6f, Passwd: fakePassword})
	sw := receive(t, s.reqs, "setWatches")
	checkRequest(t, sw, zkproto.OpSetWatches, &zkproto.SetWatches{RelativeZxid: 0x22,
		DataWatches: []string{"/w"}, ExistWatches: []string{"/later"}, ChildWatches: []string{"/w"}})
	sw.answer <- fakeAnswer{zxid: 0x22}
	if sw.header.Xid <= 0 {
		t.Errorf("go-zookeeper's setWatches xid = %d, want a client xid", sw.header.Xid)
	}

	// Notifications the codec encodes reach the watches, before the reply
	// that carries them.
	if err := sync("/w", fakeAnswer{zxid: 0x23, body: &zkproto.SyncResponse{Path: "/w"}, events: []zkproto.WatcherEvent{
		{Type: zkproto.EventNodeDataChanged, State: zkproto.StateSyncConnected, Path: "/w"},
		{Type: zkproto.EventNodeCreated, State: zkproto.StateSyncConnected, Path: "/later"},
		{Type: zkproto.EventNodeChildrenChanged, State: zkproto.StateSyncConnected, Path: "/w"},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		ch   <-chan zk.Event
		want zk.Event
	}{
		{dataW, zk.Event{Type: zk.EventNodeDataChanged, State: zk.StateSyncConnected, Path: "/w"}},
		{existW, zk.Event{Type: zk.EventNodeCreated, State: zk.StateSyncConnected, Path: "/later"}},
		{childW, zk.Event{Type: zk.EventNodeChildrenChanged, State: zk.StateSyncConnected, Path: "/w"}},
	} {
		if got := receive(t, w.ch, "watch event"); got != w.want {
			t.Errorf("watch event = %+v, want %+v", got, w.want)
		}
	}

	// An expired session: the codec's ConnectResponse with timeOut 0 and
	// sessionId 0 makes go-zookeeper report StateExpired and start anew.
	s.mu.Lock()
	s.expireNext = true
	s.mu.Unlock()
	if err := sync("/cut", fakeAnswer{hangUp: true}); err == nil {
		t.Fatal("sync on a cut connection succeeded")
	}
	receive(t, s.connects, "handshake of the session to expire")
	waitSession(t, events, zk.StateExpired)
	fresh := receive(t, s.connects, "handshake of a new session")
	checkConnect(t, fresh, zkproto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, zkproto.PasswordSize)})
	waitSession(t, events, zk.StateHasSession)

	// Close sends a header-only closeSession.
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	cl := receive(t, s.reqs, "closeSession")
	checkRequest(t, cl, zkproto.OpCloseSession, &zkproto.CloseSessionRequest{})
	if len(cl.raw) != zkproto.RequestHeaderSize {
		t.Errorf("closeSession is %d bytes, want a bare header", len(cl.raw))
	}
	cl.answer <- fakeAnswer{zxid: 0x30}
	receive(t, done, "Close to return")
}

// TestGoZookeeperPing checks go-zookeeper's ping against the codec: the
// server grants a short session, so the client pings soon.
func TestGoZookeeperPing(t *testing.T) {
	s := newFakeZK(t, 300) // pings every 100 ms
	_, events := dialGoZK(t, s)
	receive(t, s.connects, "handshake")
	waitSession(t, events, zk.StateHasSession)
	raw := receive(t, s.pings, "ping")
	want := zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: zkproto.PingXid, Type: zkproto.OpPing}, &zkproto.PingRequest{})[4:]
	if !bytes.Equal(raw, want) {
		t.Errorf("ping = %x, codec encodes %x", raw, want)
	}
}

// TestGoZookeeperFourLetterWord checks that go-zookeeper's ruok is
// recognised in place of a connection's first frame.
func TestGoZookeeperFourLetterWord(t *testing.T) {
	s := newFakeZK(t, 30000)
	if got := zk.FLWRuok([]string{s.addr()}, within); !reflect.DeepEqual(got, []bool{true}) {
		t.Errorf("FLWRuok = %v, want [true]", got)
	}
}
