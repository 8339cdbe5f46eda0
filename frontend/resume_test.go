package frontend

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/tree"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestResumeOverOpenConnectionServesWrites: a client that resumes its
// session while the server still holds its older connection (the usual
// case after a network cut) gets the answers of its writes on the new
// connection. The go-zookeeper capture against vrkeeper lost them: the
// session was forgotten when the older connection was closed.
func TestResumeOverOpenConnectionServesWrites(t *testing.T) {
	addr := startServer(t, nil)
	first := dialRaw(t, addr)
	good, _ := first.handshake(zkproto.ConnectRequest{TimeOut: 5000})
	r := dialRaw(t, addr)
	resp, _ := r.handshake(zkproto.ConnectRequest{TimeOut: 5000, SessionID: good.SessionID, Passwd: good.Passwd})
	if resp.SessionID != good.SessionID {
		t.Fatalf("resume: %+v", resp)
	}
	first.expectClosed()
	r.nc.SetDeadline(time.Now().Add(5 * time.Second))
	var created zkproto.CreateResponse
	if code, _ := r.call(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/after-resume", ACL: open}, &created); code != zkproto.OK || created.Path != "/after-resume" {
		t.Fatalf("create after resume: %v %+v", code, created)
	}
	var st zkproto.ExistsResponse
	if code, _ := r.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/after-resume"}, &st); code != zkproto.OK || st.Stat.EphemeralOwner != 0 {
		t.Fatalf("exists after resume: %v %+v", code, st)
	}
}

// TestAnswerOfAnOlderConnectionIsIgnored: a write the session's previous
// connection sent, applied after the session moved to this connection,
// answers nothing here (its client already saw a connection loss): it must
// neither be taken for a lost write of this connection, which closes it,
// nor answer one of this connection's writes. The older connection may
// have counted its xids higher (the same handle) or not (a new handle
// resuming the session starts from 1).
func TestAnswerOfAnOlderConnectionIsIgnored(t *testing.T) {
	for _, older := range []int32{2, 50} {
		local, remote := net.Pipe()
		defer local.Close()
		defer remote.Close()
		s := New(Config{MaxOutstanding: 4, MaxQueuedBytes: 1 << 20}, hclog.NewNullLogger())
		c := newConn(s, local, 1, "127.0.0.1")
		k := newCore(s)
		sess := &sessionState{id: 7, conn: c}
		c.sess = sess
		k.sessions[7] = sess
		pending := []*request{{xid: 3, op: zkproto.OpSetData, kind: kindWrite}, {xid: 4, op: zkproto.OpCreate, kind: kindWrite}}
		sess.queue = append(sess.queue, pending...)
		k.answerWrite(nil, &tree.Output{Kind: tree.KindClientWrite, SessionID: 7, Cxid: older})
		if c.closed.Load() || sess.conn != c || len(sess.queue) != 2 || sess.queue[0].done || sess.queue[1].done {
			t.Errorf("older xid %d: closed %v, queue %+v", older, c.closed.Load(), sess.queue)
		}
		// A later write of this connection answered before its earlier one:
		// the earlier one was lost, and the connection must close.
		k.answerWrite(nil, &tree.Output{Kind: tree.KindClientWrite, SessionID: 7, Cxid: 4})
		if !c.closed.Load() {
			t.Errorf("older xid %d: a write overtaking a lost one left the connection open", older)
		}
	}
}
