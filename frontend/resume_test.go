package frontend

import (
	"testing"
	"time"

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
