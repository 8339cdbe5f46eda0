package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestAttachSession: an attach renews the session and reports the owner;
// an attach of an unknown session reports nothing.
func TestAttachSession(t *testing.T) {
	tr := New(Config{})
	var out Output
	if err := tr.Apply(1, AppendOpenSession(nil, 1000, 4000, make([]byte, 16)), &out); err != nil {
		t.Fatal(err)
	}
	id := out.Opened.ID
	if err := tr.Apply(2, AppendAttachSession(nil, 4500, id, 77), &out); err != nil {
		t.Fatal(err)
	}
	if out.Attached != (AttachedSession{ID: id, Owner: 77}) || out.Code != zkproto.OK {
		t.Fatalf("attach: %+v", out.Attached)
	}
	if info, _ := tr.Session(id); info.LastSeen != 4500 {
		t.Fatalf("last seen %d after attach at 4500", info.LastSeen)
	}
	if got := tr.ExpiredSessions(8000, nil); len(got) != 0 {
		t.Fatalf("expired at 8000 after a renewal at 4500: %v", got)
	}
	if err := tr.Apply(3, AppendAttachSession(nil, 5000, id+1, 78), &out); err != nil {
		t.Fatal(err)
	}
	if out.Attached.ID != 0 {
		t.Fatalf("attach of an unknown session reported %+v", out.Attached)
	}
	var c Command
	if err := DecodeCommand(AppendAttachSession(nil, 1, 2, 3), &c); err != nil || c.Kind != KindAttachSession {
		t.Fatalf("decode: %+v %v", c, err)
	}
}

// TestAttachStartsAFreshCxidSequence: a session resumed by a new client
// handle (ZooKeeper's Java client resumed with an id and password, kazoo's
// client_id, the C client's clientid) counts its xids from 1 again. After an
// attach, its writes are applied whatever their cxid; before the fix they
// were refused as stale duplicates, and the connection was closed.
func TestAttachStartsAFreshCxidSequence(t *testing.T) {
	tr := New(Config{})
	var out Output
	if err := tr.Apply(1, AppendOpenSession(nil, 1000, 4000, make([]byte, 16)), &out); err != nil {
		t.Fatal(err)
	}
	id := out.Opened.ID
	create := func(zxid int64, cxid int32, path string) Output {
		t.Helper()
		body := zkproto.Marshal(&zkproto.CreateRequest{Path: path, ACL: []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}})
		cmd := AppendClientWrite(nil, &ClientWrite{SessionID: id, Cxid: cxid, Time: 1000 + zxid, Op: zkproto.OpCreate, Body: body})
		var o Output
		if err := tr.Apply(zxid, cmd, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := create(2, 40, "/old-handle"); o.Code != zkproto.OK || o.Dup != DupNone {
		t.Fatalf("first write: %v %v", o.Code, o.Dup)
	}
	if o := create(3, 3, "/stale"); o.Dup != DupStale {
		t.Fatalf("an older cxid on the same connection: %v, want DupStale", o.Dup)
	}
	if err := tr.Apply(4, AppendAttachSession(nil, 1004, id, 9), &out); err != nil {
		t.Fatal(err)
	}
	if o := create(5, 2, "/new-handle"); o.Code != zkproto.OK || o.Dup != DupNone {
		t.Fatalf("first write after the attach, cxid 2: %v %v, want applied", o.Code, o.Dup)
	}
	if o := create(6, 2, "/new-handle"); o.Dup != DupRepeat || o.Code != zkproto.OK {
		t.Fatalf("the same command again: %v %v, want a repeat answered OK", o.Code, o.Dup)
	}
	if o := create(7, 1, "/older"); o.Dup != DupStale {
		t.Fatalf("an older cxid after the new sequence began: %v, want DupStale", o.Dup)
	}
	var st zkproto.Stat
	if !tr.Stat("/new-handle", &st) || tr.Stat("/stale", &st) || tr.Stat("/older", &st) {
		t.Fatal("want /new-handle created, /stale and /older not")
	}
}
