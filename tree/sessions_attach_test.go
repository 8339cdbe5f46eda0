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
	if out.Attached != (AttachedSession{Owner: 78}) {
		t.Fatalf("attach of an unknown session reported %+v", out.Attached)
	}
	var c Command
	if err := DecodeCommand(AppendAttachSession(nil, 1, 2, 3), &c); err != nil || c.Kind != KindAttachSession {
		t.Fatalf("decode: %+v %v", c, err)
	}
}
