package tree

import (
	"slices"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

func TestSessionIDs(t *testing.T) {
	h := newHarness(t, Config{})
	seen := map[int64]bool{}
	prev := int64(0)
	for i := 0; i < 5; i++ {
		id := h.open()
		if id <= prev || seen[id] {
			t.Fatalf("session id %#x after %#x", id, prev)
		}
		if id < h.clock<<16 {
			t.Errorf("session id %#x below time<<16", id)
		}
		seen[id], prev = true, id
	}
	// A clock going back does not make ids repeat.
	h.clock -= 1000000
	if id := h.open(); id <= prev {
		t.Errorf("id %#x after %#x with the clock set back", id, prev)
	}
	// Even with a zero clock, ids are never 0.
	tr := New(Config{})
	var out Output
	if err := tr.Apply(1, AppendOpenSession(nil, 0, 1000, nil), &out); err != nil || out.Opened.ID == 0 {
		t.Fatalf("open at time 0: id %d, %v", out.Opened.ID, err)
	}
}

func TestCommandsOfUnknownSessionsExpire(t *testing.T) {
	h := newHarness(t, Config{})
	out := h.create(42, "/x", nil, zkproto.ModeEphemeral)
	if out.Code != zkproto.ErrSessionExpired || out.SessionID != 42 {
		t.Errorf("code %v for session 42", out.Code)
	}
	if h.tree.lookup("/x") != nil {
		t.Error("node created for an unknown session")
	}
}

func TestDuplicateSuppression(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	cmd := AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: 10, Seq: 1, Time: h.clock, Op: zkproto.OpCreate,
		Body: zkproto.Marshal(&zkproto.CreateRequest{Path: "/s-", ACL: openACL, Flags: zkproto.ModePersistentSequential})})
	first := h.apply(cmd)
	want := outputString(first)
	digest := h.tree.Digest()
	again := h.apply(cmd)
	if again.Dup != DupRepeat || again.Code != zkproto.OK || string(again.Body) != string(zkproto.AppendString(nil, "/s-0000000000")) {
		t.Errorf("repeat: %s (first %s)", outputString(again), want)
	}
	if len(again.Events) != 0 {
		t.Error("a repeat fired events")
	}
	h.tree.lastZxid--
	if h.tree.Digest() != digest {
		t.Error("a repeat changed the state")
	}
	h.tree.lastZxid++
	if h.tree.NodeCount() != 5 {
		t.Errorf("%d nodes: the repeat was applied", h.tree.NodeCount())
	}
}

func TestExpiryIsRechecked(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.open() // timeout 10000
	b := h.open()
	h.mustCreate(a, "/ea", nil, zkproto.ModeEphemeral)
	h.mustCreate(b, "/eb", nil, zkproto.ModeEphemeral)
	h.clock += 8000
	h.apply(AppendRenewSessions(nil, h.clock, []int64{b}))
	h.clock += 3000 // a: 11 s since its last write; b: 3 s since renewal
	if got := h.tree.ExpiredSessions(h.clock, nil); !slices.Equal(got, []int64{a}) {
		t.Errorf("ExpiredSessions = %v, want [%#x]", got, a)
	}
	out := h.apply(AppendExpireSessions(nil, h.clock, []int64{a, b, 999}))
	if !slices.Equal(out.Closed, []int64{a}) {
		t.Errorf("closed %v, want only %#x", out.Closed, a)
	}
	if h.tree.lookup("/ea") != nil || h.tree.lookup("/eb") == nil {
		t.Error("wrong ephemerals removed")
	}
	if len(out.Events) != 2 || out.Events[0].Type != zkproto.EventNodeDeleted || string(out.Events[0].Path) != "/ea" ||
		out.Events[1].Type != zkproto.EventNodeChildrenChanged || string(out.Events[1].Path) != "/" {
		t.Errorf("events %s", outputString(out))
	}
	if _, ok := h.tree.Session(a); ok {
		t.Error("expired session still open")
	}
	info, ok := h.tree.Session(b)
	if !ok || info.Timeout != 10000 || string(info.Passwd) != "0123456789abcdef" {
		t.Errorf("session b: %+v %v", info, ok)
	}
	var root zkproto.Stat
	h.tree.Stat("/", &root)
	if root.Pzxid != h.zxid {
		t.Errorf("root pzxid %d, want the expiry's zxid %d", root.Pzxid, h.zxid)
	}
	checkInvariants(t, h.tree)
}

func TestCloseSessionRemovesEphemerals(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.open()
	h.mustCreate(a, "/p", nil, zkproto.ModePersistent)
	h.mustCreate(a, "/p/e2", nil, zkproto.ModeEphemeral)
	h.mustCreate(a, "/p/e1", nil, zkproto.ModeEphemeral)
	out := h.write(a, nil, zkproto.OpCloseSession, nil)
	if out.Code != zkproto.OK || !slices.Equal(out.Closed, []int64{a}) {
		t.Fatalf("close: %s", outputString(out))
	}
	var paths []string
	for _, e := range out.Events {
		paths = append(paths, eventName(e.Type)+" "+string(e.Path))
	}
	want := []string{"NodeDeleted /p/e1", "NodeChildrenChanged /p", "NodeDeleted /p/e2", "NodeChildrenChanged /p"}
	if !slices.Equal(paths, want) {
		t.Errorf("events %v, want %v", paths, want)
	}
	var s zkproto.Stat
	h.tree.Stat("/p", &s)
	if s.NumChildren != 0 || s.Cversion != 4 || s.Pzxid != h.zxid {
		t.Errorf("parent stat %+v", s)
	}
	if out := h.create(a, "/x", nil, 0); out.Code != zkproto.ErrSessionExpired {
		t.Errorf("write after close: %v", out.Code)
	}
	if out := h.write(a, nil, zkproto.OpCloseSession, nil); out.Code != zkproto.OK || len(out.Closed) != 0 {
		t.Errorf("closing a closed session: %s", outputString(out))
	}
}
