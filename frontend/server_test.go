package frontend

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// startServer runs a frontend on a single-node bridge in this process and
// returns its client address.
func startServer(t testing.TB, mutate func(*Config)) string {
	t.Helper()
	return startServerWith(t, mutate).Addr().String()
}

// startTestServer is startServer that also returns the server.
func startTestServer(t testing.TB, mutate func(*Config)) (*Server, string) {
	t.Helper()
	srv := startServerWith(t, mutate)
	return srv, srv.Addr().String()
}

// startServerWith is startServer returning the server.
func startServerWith(t testing.TB, mutate func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		ClientAddr:        "127.0.0.1:0",
		TickTime:          200 * time.Millisecond,
		MinSessionTimeout: 400 * time.Millisecond,
		MaxSessionTimeout: 10 * time.Second,
		FourLetterWords:   map[string]bool{"srvr": true, "ruok": true, "stat": true, "cons": true, "mntr": true, "wchs": true, "dump": true},
		ExtendedTypes:     true,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	log := hclog.NewNullLogger()
	srv := New(cfg, log)
	node, err := bridge.NewNode(bridge.Options{ID: 1, DataDir: t.TempDir(), Tick: 20 * time.Millisecond}, srv.Handler(), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	nodeDone := make(chan error, 1)
	go func() { nodeDone <- node.Run(ctx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ctx, node) }()
	t.Cleanup(func() {
		cancel()
		<-serveDone
		<-nodeDone
	})
	select {
	case <-node.Serving():
	case err := <-nodeDone:
		t.Fatalf("node: %v", err)
	}
	for srv.Addr() == nil { // the listener is up moments after Serve starts
		select {
		case err := <-serveDone:
			t.Fatalf("serve: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	return srv
}

// rawConn speaks the protocol frame by frame, for what real clients never
// send and for exact ordering checks.
type rawConn struct {
	t   testing.TB
	nc  net.Conn
	fr  *zkproto.FrameReader
	xid int32
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, nc: nc, fr: zkproto.NewFrameReader(nc, 64<<20)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// handshake opens (id 0) or resumes a session and returns the response.
func (r *rawConn) handshake(req zkproto.ConnectRequest) (zkproto.ConnectResponse, int) {
	r.t.Helper()
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	r.write(zkproto.AppendRecordFrame(nil, &req))
	frame, err := r.fr.ReadFrame()
	if err != nil {
		r.t.Fatalf("handshake: %v", err)
	}
	var resp zkproto.ConnectResponse
	if err := zkproto.Unmarshal(frame, &resp); err != nil {
		r.t.Fatal(err)
	}
	return resp, len(frame)
}

// send writes a request without waiting.
func (r *rawConn) send(op zkproto.OpCode, body zkproto.Record) int32 {
	r.xid++
	r.write(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: r.xid, Type: op}, body))
	return r.xid
}

// frame reads the next frame: its header and body.
func (r *rawConn) frame() (zkproto.ReplyHeader, []byte) {
	r.t.Helper()
	frame, err := r.fr.ReadFrame()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	var d zkproto.Decoder
	d.Reset(frame)
	var h zkproto.ReplyHeader
	if h.Decode(&d) != nil {
		r.t.Fatal("short reply")
	}
	return h, frame[zkproto.ReplyHeaderSize:]
}

// call sends a request and reads frames until its reply, returning the
// events that came first.
func (r *rawConn) call(op zkproto.OpCode, body, resp zkproto.Record) (zkproto.Code, []zkproto.WatcherEvent) {
	r.t.Helper()
	xid := r.send(op, body)
	if op == zkproto.OpPing {
		xid = zkproto.PingXid // ZooKeeper answers every ping so
	}
	var events []zkproto.WatcherEvent
	for {
		h, b := r.frame()
		if h.Xid == zkproto.NotificationXid {
			var ev zkproto.WatcherEvent
			zkproto.Unmarshal(b, &ev)
			events = append(events, ev)
			continue
		}
		if h.Xid != xid {
			r.t.Fatalf("reply xid %d, want %d", h.Xid, xid)
		}
		if h.Err == zkproto.OK && resp != nil {
			if err := zkproto.Unmarshal(b, resp); err != nil {
				r.t.Fatal(err)
			}
		}
		return h.Err, events
	}
}

// expectClosed asserts the server closes the connection without sending
// anything more.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(r.nc)
	if len(b) != 0 || (err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET)) {
		r.t.Fatalf("expected a close, got %d bytes, %v", len(b), err)
	}
}

func newSession(t testing.TB, addr string) *rawConn {
	r := dialRaw(t, addr)
	if resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 5000}); resp.SessionID == 0 {
		t.Fatal("no session")
	}
	return r
}

var open = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

// TestHandshakeForms: the readOnly byte is answered only to a client that
// sent it (44 -> 36 bytes, 45 -> 37), and the timeout is negotiated.
func TestHandshakeForms(t *testing.T) {
	addr := startServer(t, nil)
	for _, tc := range []struct {
		hasRO    bool
		asked    int32
		wantLen  int
		wantTime int32
	}{
		{false, 100, 36, 400},
		{true, 999999, 37, 10000},
		{true, 3000, 37, 3000},
	} {
		r := dialRaw(t, addr)
		resp, n := r.handshake(zkproto.ConnectRequest{TimeOut: tc.asked, HasReadOnly: tc.hasRO})
		if n != tc.wantLen || resp.TimeOut != tc.wantTime || resp.SessionID == 0 || len(resp.Passwd) != 16 {
			t.Errorf("readOnly=%v asked %d: %d bytes, %+v", tc.hasRO, tc.asked, n, resp)
		}
	}
}

// TestResumeRefused: an unknown session or a wrong password is answered
// with timeout 0 and session 0, and the connection closed.
func TestResumeRefused(t *testing.T) {
	addr := startServer(t, nil)
	first := dialRaw(t, addr)
	good, _ := first.handshake(zkproto.ConnectRequest{TimeOut: 5000})
	for name, req := range map[string]zkproto.ConnectRequest{
		"unknown session": {TimeOut: 5000, SessionID: good.SessionID + 12345, Passwd: good.Passwd},
		"wrong password":  {TimeOut: 5000, SessionID: good.SessionID, Passwd: make([]byte, 16)},
	} {
		r := dialRaw(t, addr)
		resp, _ := r.handshake(req)
		if resp.TimeOut != 0 || resp.SessionID != 0 {
			t.Errorf("%s: %+v", name, resp)
		}
		r.expectClosed()
	}
	// The right password resumes, and the older connection is closed.
	r := dialRaw(t, addr)
	resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 5000, SessionID: good.SessionID, Passwd: good.Passwd})
	if resp.SessionID != good.SessionID {
		t.Fatalf("resume: %+v", resp)
	}
	first.expectClosed()
}

// TestClientAheadIsClosed: a client that has seen a later zxid than the
// server is closed without an answer, as ZooKeeper does.
func TestClientAheadIsClosed(t *testing.T) {
	addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.write(zkproto.AppendRecordFrame(nil, &zkproto.ConnectRequest{TimeOut: 5000, LastZxidSeen: 1 << 40, Passwd: make([]byte, 16)}))
	r.expectClosed()
}

// TestPipelinedFIFO: a burst of writes and reads sent without waiting is
// answered in request order, and each read sees the writes before it.
func TestPipelinedFIFO(t *testing.T) {
	addr := startServer(t, nil)
	r := newSession(t, addr)
	var xids []int32
	xids = append(xids, r.send(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/f", Data: []byte("0"), ACL: open}))
	for i := 1; i <= 50; i++ {
		xids = append(xids, r.send(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/f", Data: []byte{byte('0' + i%10)}, Version: -1}))
		xids = append(xids, r.send(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/f"}))
	}
	for i, want := range xids {
		h, body := r.frame()
		if h.Xid != want || h.Err != zkproto.OK {
			t.Fatalf("reply %d: xid %d err %v, want xid %d", i, h.Xid, h.Err, want)
		}
		if i > 0 && i%2 == 0 {
			var resp zkproto.GetDataResponse
			zkproto.Unmarshal(body, &resp)
			if wantData := byte('0' + (i/2)%10); len(resp.Data) != 1 || resp.Data[0] != wantData || resp.Stat.Version != int32(i/2) {
				t.Fatalf("read %d saw %q version %d", i, resp.Data, resp.Stat.Version)
			}
		}
	}
}

// TestEventBeforeReply: the notification of a change reaches the watcher
// before the reply of its next request, which reflects the change.
func TestEventBeforeReply(t *testing.T) {
	addr := startServer(t, nil)
	w, other := newSession(t, addr), newSession(t, addr)
	other.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/e", ACL: open}, nil)
	if code, _ := w.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/e", Watch: true}, nil); code != zkproto.OK {
		t.Fatal(code)
	}
	other.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/e", Data: []byte("x"), Version: -1}, nil)
	var resp zkproto.GetDataResponse
	_, events := w.call(zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/e"}, &resp)
	if string(resp.Data) != "x" || len(events) != 1 || events[0].Type != zkproto.EventNodeDataChanged || events[0].Path != "/e" {
		t.Fatalf("data %q events %+v", resp.Data, events)
	}
}

// TestBadFramesClose: an oversized frame or a frame too short for a header
// closes that connection; the server goes on serving others.
func TestBadFramesClose(t *testing.T) {
	addr := startServer(t, func(c *Config) { c.MaxPacketSize = 1024 })
	big := newSession(t, addr)
	big.write(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: 1, Type: zkproto.OpSetData},
		&zkproto.SetDataRequest{Path: "/x", Data: make([]byte, 2048)}))
	big.expectClosed()
	short := newSession(t, addr)
	short.write([]byte{0, 0, 0, 3, 1, 2, 3})
	short.expectClosed()
	garbage := dialRaw(t, addr)
	garbage.write([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	garbage.expectClosed()
	ok := newSession(t, addr)
	if code, _ := ok.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/"}, nil); code != zkproto.OK {
		t.Fatalf("server after bad frames: %v", code)
	}
}

// TestMalformedBodies: a body that does not decode gets an error reply,
// never a crash, and the connection keeps working.
func TestMalformedBodies(t *testing.T) {
	addr := startServer(t, nil)
	r := newSession(t, addr)
	for _, op := range []zkproto.OpCode{zkproto.OpGetData, zkproto.OpCreate, zkproto.OpMulti, zkproto.OpSetWatches, zkproto.OpAddWatch, zkproto.OpSetACL, 999} {
		raw := append(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: 77, Type: op}, nil)[:0:0], 0, 0, 0, 11)
		raw = append(raw, 0, 0, 0, 77)
		raw = zkproto.AppendInt32(raw, int32(op))
		raw = append(raw, 0x7f, 0xff, 0xff)
		r.write(raw)
		h, _ := r.frame()
		if h.Xid != 77 || h.Err == zkproto.OK {
			t.Errorf("op %v with a bad body: %+v", op, h)
		}
	}
	if code, _ := r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/"}, nil); code != zkproto.OK {
		t.Fatalf("after malformed bodies: %v", code)
	}
}

// TestMaxClientCnxns: connections beyond the per-address limit are refused.
func TestMaxClientCnxns(t *testing.T) {
	addr := startServer(t, func(c *Config) { c.MaxClientCnxns = 2 })
	a, b := newSession(t, addr), newSession(t, addr)
	_, _ = a, b
	third := dialRaw(t, addr)
	third.write(zkproto.AppendRecordFrame(nil, &zkproto.ConnectRequest{TimeOut: 5000, Passwd: make([]byte, 16)}))
	third.expectClosed()
}

// TestLocalOps covers the requests a server answers from its own state:
// watches management, whoAmI, and persistent watches.
func TestLocalOps(t *testing.T) {
	addr := startServer(t, nil)
	r, other := newSession(t, addr), newSession(t, addr)
	if code, _ := r.call(zkproto.OpRemoveWatches, &zkproto.RemoveWatchesRequest{Path: "/none", Type: zkproto.WatcherAny}, nil); code != zkproto.ErrNoWatcher {
		t.Errorf("removeWatches without a watch: %v", code)
	}
	r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/lw", Watch: true}, nil)
	if code, _ := r.call(zkproto.OpCheckWatches, &zkproto.CheckWatchesRequest{Path: "/lw", Type: zkproto.WatcherData}, nil); code != zkproto.OK {
		t.Errorf("checkWatches after exists: %v", code)
	}
	if code, _ := r.call(zkproto.OpAddWatch, &zkproto.AddWatchRequest{Path: "/lw", Mode: 7}, nil); code != zkproto.ErrBadArguments {
		t.Errorf("addWatch with a bad mode: %v", code)
	}
	if code, _ := r.call(zkproto.OpAddWatch, &zkproto.AddWatchRequest{Path: "/", Mode: zkproto.AddWatchPersistentRecursive}, nil); code != zkproto.OK {
		t.Errorf("addWatch: %v", code)
	}
	other.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/lw", ACL: open}, nil)
	other.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/lw/c", ACL: open}, nil)
	_, events := r.call(zkproto.OpPing, nil, nil)
	want := []zkproto.WatcherEvent{
		{Type: zkproto.EventNodeCreated, State: zkproto.StateSyncConnected, Path: "/lw"},
		{Type: zkproto.EventNodeCreated, State: zkproto.StateSyncConnected, Path: "/lw/c"},
	}
	if len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Fatalf("events %+v, want %+v", events, want)
	}
	r.call(zkproto.OpAuth, &zkproto.AuthPacket{Scheme: "digest", Auth: []byte("bob:pw")}, nil)
	var who zkproto.WhoAmIResponse
	// ZooKeeper lists them in its hash set's order: digest before ip here,
	// as the golden capture of zkCli's whoami shows.
	if code, _ := r.call(zkproto.OpWhoAmI, nil, &who); code != zkproto.OK || len(who.ClientInfo) != 2 ||
		who.ClientInfo[0] != (zkproto.ClientInfo{AuthScheme: "digest", User: "bob"}) ||
		who.ClientInfo[1] != (zkproto.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}) {
		t.Fatalf("whoAmI %v %+v", code, who)
	}
}

// TestSetWatchesCatchUp: watches re-sent after a reconnect fire at once for
// what changed since the client's last zxid.
func TestSetWatchesCatchUp(t *testing.T) {
	addr := startServer(t, nil)
	r := newSession(t, addr)
	r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s", ACL: open}, nil)
	var st zkproto.ExistsResponse
	r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/s"}, &st)
	r.call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/s", Data: []byte("new"), Version: -1}, nil)
	r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/born", ACL: open}, nil)
	_, events := r.call(zkproto.OpSetWatches, &zkproto.SetWatches{
		RelativeZxid: st.Stat.Mzxid,
		DataWatches:  []string{"/s", "/gone"},
		ExistWatches: []string{"/born", "/unborn"},
		ChildWatches: []string{"/s"},
	}, nil)
	got := map[string]zkproto.EventType{}
	for _, ev := range events {
		got[ev.Path] = ev.Type
	}
	want := map[string]zkproto.EventType{"/s": zkproto.EventNodeDataChanged, "/gone": zkproto.EventNodeDeleted, "/born": zkproto.EventNodeCreated}
	if len(got) != len(want) || got["/s"] != want["/s"] || got["/gone"] != want["/gone"] || got["/born"] != want["/born"] {
		t.Fatalf("catch-up events %+v", events)
	}
	// The exist watch on /unborn and the child watch on /s did not fire:
	// they are registered and fire on the next change.
	_, ev1 := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/unborn", ACL: open}, nil)
	_, ev2 := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s/kid", ACL: open}, nil)
	_, ev3 := r.call(zkproto.OpPing, nil, nil)
	later := append(append(ev1, ev2...), ev3...)
	if len(later) != 2 || later[0].Path != "/unborn" || later[0].Type != zkproto.EventNodeCreated ||
		later[1].Path != "/s" || later[1].Type != zkproto.EventNodeChildrenChanged {
		t.Fatalf("events after catch-up: %+v", later)
	}
}

// TestFourLetterWords: ruok, a refused word, and srvr in the format
// go-zookeeper parses.
func TestFourLetterWords(t *testing.T) {
	addr := startServer(t, nil)
	word := func(w string) string {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte(w))
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(nc)
		return string(b)
	}
	if got := word("ruok"); got != "imok" {
		t.Errorf("ruok: %q", got)
	}
	if got := word("envi"); got != "envi is not executed because it is not in the whitelist.\n" {
		t.Errorf("envi: %q", got)
	}
	if got := word("srvr"); !strings.Contains(got, "Mode: standalone\n") || !strings.Contains(got, "Zookeeper version: "+ZooKeeperVersion) {
		t.Errorf("srvr: %q", got)
	}
}
