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
// nor answer one of this connection's writes, whatever its xid or sequence
// number (a new handle resuming the session counts its xids from 1 again).
// Copies of writes already answered are ignored too; a later write of this
// connection answered before an earlier one means the earlier one was lost,
// and the connection closes.
func TestAnswerOfAnOlderConnectionIsIgnored(t *testing.T) {
	const me, older = 1001, 1000
	for _, seq := range []int64{1, 3, 50} {
		local, remote := net.Pipe()
		defer local.Close()
		defer remote.Close()
		s := New(Config{MaxOutstanding: 4, MaxQueuedBytes: 1 << 20}, hclog.NewNullLogger())
		c := newConn(s, local, 1, "127.0.0.1")
		c.owner = me
		k := newCore(s)
		sess := &sessionState{id: 7, conn: c}
		c.sess = sess
		k.sessions[7] = sess
		pending := []*request{{xid: 3, seq: 3, op: zkproto.OpSetData, kind: kindWrite}, {xid: 3, seq: 4, op: zkproto.OpCreate, kind: kindWrite}}
		sess.queue = append(sess.queue, pending...)
		intact := func(what string) {
			t.Helper()
			if c.closed.Load() || sess.conn != c || len(sess.queue) != 2 || sess.queue[0].done || sess.queue[1].done {
				t.Errorf("seq %d, %s: closed %v, queue %+v", seq, what, c.closed.Load(), sess.queue)
			}
		}
		k.answerWrite(nil, &tree.Output{Kind: tree.KindClientWrite, SessionID: 7, Cxid: 3, Owner: older, Seq: seq})
		intact("older connection")
		k.answerWrite(nil, &tree.Output{Kind: tree.KindClientWrite, SessionID: 7, Cxid: 3, Owner: me, Seq: 2, Dup: tree.DupStale})
		intact("a copy of a write answered already")
		// A later write of this connection answered before its earlier one:
		// the earlier one was lost, and the connection must close.
		k.answerWrite(nil, &tree.Output{Kind: tree.KindClientWrite, SessionID: 7, Cxid: 3, Owner: me, Seq: 4, Dup: tree.DupGap})
		if !c.closed.Load() {
			t.Errorf("seq %d: a write overtaking a lost one left the connection open", seq)
		}
	}
}
