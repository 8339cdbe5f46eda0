package frontend

import (
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// pipeline sends requests back to back under the given xids, then reads
// their replies, which must come in the same order, and returns their codes
// and created paths.
func (r *rawConn) pipeline(xids []int32, op zkproto.OpCode, bodies []zkproto.Record) ([]zkproto.Code, []string) {
	r.t.Helper()
	var b []byte
	for i, xid := range xids {
		b = zkproto.AppendRequestFrame(b, &zkproto.RequestHeader{Xid: xid, Type: op}, bodies[i])
	}
	r.write(b)
	var codes []zkproto.Code
	var paths []string
	for _, xid := range xids {
		h, body := r.frame()
		if h.Xid != xid {
			r.t.Fatalf("reply xid %d, want %d (replies come in request order)", h.Xid, xid)
		}
		codes = append(codes, h.Err)
		var resp zkproto.CreateResponse
		if h.Err == zkproto.OK {
			zkproto.Unmarshal(body, &resp)
		}
		paths = append(paths, resp.Path)
	}
	return codes, paths
}

func creates(n int, path string) []zkproto.Record {
	var out []zkproto.Record
	for range n {
		out = append(out, &zkproto.CreateRequest{Path: path, ACL: open, Flags: zkproto.ModePersistentSequential})
	}
	return out
}

// TestXidOrderIsTheClients: ZooKeeper answers a session's writes in arrival
// order whatever their xids; ClickHouse's client sends them out of order,
// and any client may repeat one. vrkeeper answered xid 7, then took xid 6
// for a stale duplicate and closed the connection.
func TestXidOrderIsTheClients(t *testing.T) {
	addr := startServer(t, nil)
	for _, tc := range []struct {
		name string
		xids []int32
	}{
		{"backwards", []int32{7, 6}},
		{"repeated", []int32{5, 5, 5}},
		{"wrapped, negative and zero", []int32{2147483647, 1, -9, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSession(t, addr)
			prefix := "/" + tc.name[:4] + "-"
			codes, paths := r.pipeline(tc.xids, zkproto.OpCreate, creates(len(tc.xids), prefix))
			for i, code := range codes {
				if code != zkproto.OK {
					t.Fatalf("xid %d: %v", tc.xids[i], code)
				}
			}
			for i := 1; i < len(paths); i++ {
				if paths[i] <= paths[i-1] || len(paths[i]) != len(prefix)+10 {
					t.Errorf("created %v: want one node per request, in order", paths)
				}
			}
			// The connection is still served.
			var st zkproto.ExistsResponse
			if code, _ := r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: paths[0]}, &st); code != zkproto.OK {
				t.Errorf("exists after the writes: %v", code)
			}
		})
	}
}

// TestNewHandleResumesWithXidsFromOne: a session resumed on a new
// connection by a new client handle counts its xids from 1 again; its
// writes are applied and answered.
func TestNewHandleResumesWithXidsFromOne(t *testing.T) {
	addr := startServer(t, nil)
	first := dialRaw(t, addr)
	resp, _ := first.handshake(zkproto.ConnectRequest{TimeOut: 5000})
	first.xid = 40
	if codes, _ := first.pipeline([]int32{41, 42}, zkproto.OpCreate, creates(2, "/old-")); codes[1] != zkproto.OK {
		t.Fatalf("old handle: %v", codes)
	}
	first.nc.Close()
	second := dialRaw(t, addr)
	if got, _ := second.handshake(zkproto.ConnectRequest{TimeOut: 5000, SessionID: resp.SessionID, Passwd: resp.Passwd}); got.SessionID != resp.SessionID {
		t.Fatalf("resume: %+v", got)
	}
	codes, paths := second.pipeline([]int32{1, 2}, zkproto.OpCreate, creates(2, "/new-"))
	if codes[0] != zkproto.OK || codes[1] != zkproto.OK || paths[1] != "/new-0000000003" || paths[0] != "/new-0000000002" {
		t.Errorf("new handle from xid 1: %v %v", codes, paths)
	}
}

// TestWriteAppliesOnceAcrossASessionMove: a write applied, then the session
// resumed on another connection, then the very same command proposed again
// (as its server does after a view change when the write's answer had not
// reached it): the copy fails with SESSIONMOVED and creates nothing. Before
// the fix the attach emptied the session's duplicate table and the copy
// created a second sequential node.
func TestWriteAppliesOnceAcrossASessionMove(t *testing.T) {
	srv := startServerWith(t, nil)
	addr := srv.Addr().String()
	a := newSession(t, addr)
	var created zkproto.CreateResponse
	if code, _ := a.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/lock-", ACL: open, Flags: zkproto.ModeEphemeralSequential}, &created); code != zkproto.OK {
		t.Fatalf("create: %v", code)
	}
	// The command a's write became, as a's server built it.
	copyOf := onApply(t, srv, func(a *bridge.Apply) []byte {
		for _, sess := range srv.core.sessions {
			c := sess.conn
			body := zkproto.Marshal(&zkproto.CreateRequest{Path: "/lock-", ACL: open, Flags: zkproto.ModeEphemeralSequential})
			return tree.AppendClientWrite(nil, &tree.ClientWrite{SessionID: sess.id, Cxid: 1, Owner: c.owner, Seq: 1,
				Time: a.Now(), Auth: c.auth, Op: zkproto.OpCreate, Body: body})
		}
		return nil
	})
	if copyOf == nil {
		t.Fatal("no session on the server")
	}
	sid, _ := tree.PeekClientWrite(copyOf)
	b := dialRaw(t, addr)
	if resp, _ := b.handshake(zkproto.ConnectRequest{TimeOut: 5000, SessionID: sid.SessionID, Passwd: make([]byte, 16)}); resp.SessionID != 0 {
		t.Fatal("resumed with a wrong password")
	}
	b = dialRaw(t, addr)
	passwd := onApply(t, srv, func(a *bridge.Apply) []byte {
		info, _ := a.Tree().Session(sid.SessionID)
		return append([]byte(nil), info.Passwd...)
	})
	if resp, _ := b.handshake(zkproto.ConnectRequest{TimeOut: 5000, SessionID: sid.SessionID, Passwd: passwd}); resp.SessionID != sid.SessionID {
		t.Fatalf("resume: %+v", resp)
	}
	a.expectClosed()
	onApply(t, srv, func(a *bridge.Apply) []byte { a.Propose(copyOf); return nil })
	// b's write is proposed after the copy: when it is answered, the copy
	// has been applied.
	if code, _ := b.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/lock-", ACL: open, Flags: zkproto.ModeEphemeralSequential}, &created); code != zkproto.OK {
		t.Fatalf("create after the move: %v", code)
	}
	if created.Path != "/lock-0000000001" {
		t.Errorf("the create after the move made %s: want /lock-0000000001 (the copy applied nothing)", created.Path)
	}
	var kids zkproto.GetChildrenResponse
	if code, _ := b.call(zkproto.OpGetChildren, &zkproto.GetChildrenRequest{Path: "/"}, &kids); code != zkproto.OK || len(kids.Children) != 3 {
		t.Errorf("children of /: %v %v, want lock-0000000000, lock-0000000001 and zookeeper", code, kids.Children)
	}
}

// onApply runs fn on srv's apply goroutine and returns its result.
func onApply(t *testing.T, srv *Server, fn func(a *bridge.Apply) []byte) []byte {
	t.Helper()
	done := make(chan []byte, 1)
	srv.node.Submit(func(a *bridge.Apply) { done <- fn(a) })
	select {
	case b := <-done:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("the apply goroutine did not run the task")
		return nil
	}
}

// TestPingAnsweredWithPingXid: ZooKeeper answers a ping with xid -2
// whatever xid the client gave it (found by the assumptions cross-check);
// vrkeeper echoed the client's.
func TestPingAnsweredWithPingXid(t *testing.T) {
	r := newSession(t, startServer(t, nil))
	for _, xid := range []int32{42, zkproto.PingXid, 0} {
		r.write(zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: xid, Type: zkproto.OpPing}, nil))
		if h, _ := r.frame(); h.Xid != zkproto.PingXid || h.Err != zkproto.OK {
			t.Errorf("ping with xid %d answered %+v, want xid %d", xid, h, zkproto.PingXid)
		}
	}
}
