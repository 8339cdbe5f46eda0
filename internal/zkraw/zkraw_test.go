package zkraw

import (
	"net"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// fakeServer answers the handshake, then for each request sends a
// notification followed by the reply, both over an in-memory pipe.
func fakeServer(t *testing.T, srv net.Conn) {
	defer srv.Close()
	fr := zkproto.NewFrameReader(srv, 0)
	if _, err := fr.ReadFrame(); err != nil {
		t.Error(err)
		return
	}
	resp := zkproto.ConnectResponse{TimeOut: 4000, SessionID: 0x42, Passwd: make([]byte, 16)}
	srv.Write(zkproto.AppendRecordFrame(nil, &resp))
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var h zkproto.RequestHeader
		zkproto.Unmarshal(f, &h)
		var out []byte
		ev := zkproto.WatcherEvent{Type: zkproto.EventNodeCreated, State: zkproto.StateSyncConnected, Path: "/x"}
		out = zkproto.AppendReplyFrame(out, &zkproto.ReplyHeader{Xid: zkproto.NotificationXid, Zxid: -1}, &ev)
		out = zkproto.AppendReplyFrame(out, &zkproto.ReplyHeader{Xid: h.Xid, Zxid: 7, Err: zkproto.ErrNoNode}, nil)
		srv.Write(out)
	}
}

func TestCallKeepsNotifications(t *testing.T) {
	cli, srv := net.Pipe()
	go fakeServer(t, srv)
	c := &Conn{nc: cli, fr: zkproto.NewFrameReader(cli, 0), timeout: 5 * time.Second}
	req := zkproto.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}
	if err := c.write(zkproto.AppendRecordFrame(nil, &req)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.read(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		r, err := c.Call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/x"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Header.Xid != int32(i) || r.Header.Err != zkproto.ErrNoNode || c.LastZxid() != 7 {
			t.Errorf("reply %+v", r.Header)
		}
	}
	evs := c.TakeEvents()
	if len(evs) != 2 || evs[0].Path != "/x" || evs[0].Type != zkproto.EventNodeCreated {
		t.Errorf("events %+v", evs)
	}
	if len(c.TakeEvents()) != 0 {
		t.Error("events not forgotten")
	}
	c.Close()
}
