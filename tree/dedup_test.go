package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestAdmit: a write applies only if its owner owns the session and it is
// the owner's next one; the key is never the client's xid.
func TestAdmit(t *testing.T) {
	tests := []struct {
		name       string
		owner      int64 // the session's
		last       int64
		broken     bool
		wOwner     int64 // the write's
		seq        int64
		want       DupStatus
		wantCode   zkproto.Code
		recordCode zkproto.Code
	}{
		{"first write", 5, 0, false, 5, 1, DupNone, zkproto.OK, 0},
		{"next write", 5, 7, false, 5, 8, DupNone, zkproto.OK, 0},
		{"a copy of the last", 5, 7, false, 5, 7, DupRepeat, zkproto.ErrNodeExists, zkproto.ErrNodeExists},
		{"a copy of an older one", 5, 7, false, 5, 6, DupStale, zkproto.ErrConnectionLoss, 0},
		{"a gap", 5, 7, false, 5, 9, DupGap, zkproto.ErrConnectionLoss, 0},
		{"after a gap", 5, 7, true, 5, 8, DupGap, zkproto.ErrConnectionLoss, 0},
		{"another owner", 5, 7, false, 6, 8, DupNone, zkproto.ErrSessionMoved, 0},
		{"another owner, unsequenced", 5, 7, false, 6, 0, DupNone, zkproto.ErrSessionMoved, 0},
		{"unsequenced", 5, 7, false, 5, 0, DupNone, zkproto.OK, 0},
		{"owner 0", 0, 0, false, 0, 1, DupNone, zkproto.OK, 0},
	}
	for _, tc := range tests {
		s := session{owner: tc.owner, lastSeq: tc.last, broken: tc.broken, lastCode: tc.recordCode}
		dup, code := s.admit(tc.wOwner, tc.seq)
		if dup != tc.want || code != tc.wantCode {
			t.Errorf("%s: %d %v, want %d %v", tc.name, dup, code, tc.want, tc.wantCode)
		}
	}
}

// dedupFixture is a tree with one session owned by connection 5.
type dedupFixture struct {
	t    *testing.T
	tr   *Tree
	zxid int64
	id   int64
}

func newDedupFixture(t *testing.T) *dedupFixture {
	f := &dedupFixture{t: t, tr: New(Config{})}
	var out Output
	f.zxid++
	if err := f.tr.Apply(f.zxid, AppendOwnedOpenSession(nil, 1000, 4000, make([]byte, 16), 5), &out); err != nil {
		t.Fatal(err)
	}
	f.id = out.Opened.ID
	return f
}

func (f *dedupFixture) apply(cmd []byte) Output {
	f.t.Helper()
	var out Output
	f.zxid++
	if err := f.tr.Apply(f.zxid, cmd, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// create is the command of a sequential create of path by owner, as the
// owner's write seq, with the client's xid.
func (f *dedupFixture) create(owner, seq int64, xid int32, path string) []byte {
	body := zkproto.Marshal(&zkproto.CreateRequest{Path: path, ACL: openACL, Flags: zkproto.ModePersistentSequential})
	return AppendClientWrite(nil, &ClientWrite{SessionID: f.id, Cxid: xid, Owner: owner, Seq: seq, Time: 1000 + f.zxid, Op: zkproto.OpCreate, Body: body})
}

func (f *dedupFixture) children(path string) []string {
	f.t.Helper()
	b, code := f.tr.GetChildren(path, nil, nil, false)
	var resp zkproto.GetChildrenResponse
	if code != zkproto.OK || zkproto.Unmarshal(b, &resp) != nil {
		f.t.Fatalf("getChildren %s: %v", path, code)
	}
	return resp.Children
}

// TestXidsAreOpaque: ZooKeeper answers a session's writes in arrival order
// whatever their xids (ClickHouse's client sends them out of order, a new
// handle starts again from 1, any client may repeat one). Each applies
// once. Before the fix the tree took xid 6 after xid 7 for a stale
// duplicate, and the frontend closed the connection.
func TestXidsAreOpaque(t *testing.T) {
	tests := []struct {
		name string
		xids []int32
	}{
		{"backwards", []int32{7, 6}},
		{"repeated", []int32{5, 5, 5}},
		{"wrapped and negative", []int32{2147483647, 1, -7, 0}},
		{"far apart", []int32{10, 10 + 1<<30, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newDedupFixture(t)
			for i, xid := range tc.xids {
				out := f.apply(f.create(5, int64(i+1), xid, "/n-"))
				if out.Code != zkproto.OK || out.Dup != DupNone || out.Cxid != xid || out.Seq != int64(i+1) || out.Owner != 5 {
					t.Fatalf("write %d (xid %d): code %v dup %d cxid %d seq %d", i+1, xid, out.Code, out.Dup, out.Cxid, out.Seq)
				}
			}
			if kids := f.children("/"); len(kids) != len(tc.xids)+1 { // and /zookeeper
				t.Errorf("children %v: want %d creates applied", kids, len(tc.xids))
			}
		})
	}
}

// TestNewHandleResumesWithXidsFromOne: a session resumed by a new client
// handle (Java's new ZooKeeper(sessionId, passwd), kazoo's client_id, the C
// client's clientid) counts its xids from 1 again; its writes apply.
func TestNewHandleResumesWithXidsFromOne(t *testing.T) {
	f := newDedupFixture(t)
	for seq := int64(1); seq <= 40; seq++ {
		if out := f.apply(f.create(5, seq, int32(seq), "/old-")); out.Code != zkproto.OK {
			t.Fatalf("old handle write %d: %v", seq, out.Code)
		}
	}
	if out := f.apply(AppendAttachSession(nil, 1100, f.id, 9)); out.Attached != (AttachedSession{ID: f.id, Owner: 9}) {
		t.Fatalf("attach: %+v", out.Attached)
	}
	for seq := int64(1); seq <= 3; seq++ {
		out := f.apply(f.create(9, seq, int32(seq), "/new-"))
		if out.Code != zkproto.OK || out.Dup != DupNone {
			t.Fatalf("new handle, xid %d: %v dup %d, want applied", seq, out.Code, out.Dup)
		}
	}
	if kids := f.children("/"); len(kids) != 44 {
		t.Errorf("%d children, want 40 + 3 + /zookeeper", len(kids))
	}
}

// TestWriteAppliesOnceAcrossAnAttach: a write applied, then the session
// resumed elsewhere, then the same command again (its server proposed it
// once more after a view change, not knowing the client had left): the
// copy fails with SESSIONMOVED and creates nothing. Before the fix the
// attach emptied the duplicate table, and the copy created a second node.
func TestWriteAppliesOnceAcrossAnAttach(t *testing.T) {
	f := newDedupFixture(t)
	cmd := f.create(5, 1, 1, "/lock-")
	if out := f.apply(cmd); out.Code != zkproto.OK {
		t.Fatalf("first: %v", out.Code)
	}
	f.apply(AppendAttachSession(nil, 1100, f.id, 9))
	digest := f.tr.Digest()
	out := f.apply(cmd)
	if out.Code != zkproto.ErrSessionMoved || out.Dup != DupNone || len(out.Body) != 0 || len(out.Events) != 0 {
		t.Errorf("the copy after the attach: code %v dup %d body %q", out.Code, out.Dup, out.Body)
	}
	f.tr.lastZxid--
	if f.tr.Digest() != digest {
		t.Error("a write refused with SESSIONMOVED changed the state")
	}
	f.tr.lastZxid++
	if kids := f.children("/"); len(kids) != 2 || kids[0] != "lock-0000000000" {
		t.Errorf("children %v, want lock-0000000000 and zookeeper", kids)
	}
	// The new owner's first write applies, numbered after the first.
	if out := f.apply(f.create(9, 1, 1, "/lock-")); out.Code != zkproto.OK ||
		string(out.Body) != string(zkproto.AppendString(nil, "/lock-0000000001")) {
		t.Errorf("new owner's write: %v %q", out.Code, out.Body)
	}
}

// TestGapStopsTheOwner: a write that arrives after a later one of the same
// connection was refused as a gap does not apply either, so the applied
// writes stay a prefix of what the connection sent; an attach starts over.
func TestGapStopsTheOwner(t *testing.T) {
	f := newDedupFixture(t)
	steps := []struct {
		owner, seq int64
		want       DupStatus
		code       zkproto.Code
	}{
		{5, 1, DupNone, zkproto.OK},
		{5, 3, DupGap, zkproto.ErrConnectionLoss},
		{5, 2, DupGap, zkproto.ErrConnectionLoss},
		{5, 1, DupGap, zkproto.ErrConnectionLoss},
		{9, 1, DupNone, zkproto.ErrSessionMoved}, // not attached yet
	}
	for i, st := range steps {
		out := f.apply(f.create(st.owner, st.seq, 1, "/g-"))
		if out.Dup != st.want || out.Code != st.code {
			t.Errorf("step %d (owner %d seq %d): dup %d code %v, want %d %v", i, st.owner, st.seq, out.Dup, out.Code, st.want, st.code)
		}
	}
	f.apply(AppendAttachSession(nil, 1100, f.id, 9))
	if out := f.apply(f.create(9, 1, 1, "/g-")); out.Code != zkproto.OK {
		t.Errorf("after the attach: %v", out.Code)
	}
	if kids := f.children("/"); len(kids) != 3 {
		t.Errorf("children %v, want g-0000000000, g-0000000001 and zookeeper", kids)
	}
}

// TestCommandFormat1StillApplies: a log written before owners and sequence
// numbers (format 1) replays: its writes apply as owner 0, unsequenced.
func TestCommandFormat1StillApplies(t *testing.T) {
	tr := New(Config{})
	var out Output
	open := []byte{1, byte(KindOpenSession)}
	open = zkproto.AppendInt64(open, 1000)
	open = zkproto.AppendInt32(open, 4000)
	open = zkproto.AppendBuffer(open, make([]byte, 16))
	if err := tr.Apply(1, open, &out); err != nil || out.Opened.ID == 0 {
		t.Fatalf("format 1 open: %v %+v", err, out.Opened)
	}
	w := []byte{1, byte(KindClientWrite)}
	w = zkproto.AppendInt64(w, out.Opened.ID)
	w = zkproto.AppendInt32(w, 3)
	w = zkproto.AppendInt64(w, 1001)
	w = zkproto.AppendInt32(w, 0)
	w = zkproto.AppendInt32(w, int32(zkproto.OpCreate))
	w = append(w, zkproto.Marshal(&zkproto.CreateRequest{Path: "/v1", ACL: openACL})...)
	for zxid := int64(2); zxid <= 3; zxid++ {
		if err := tr.Apply(zxid, w, &out); err != nil {
			t.Fatal(err)
		}
	}
	if out.Code != zkproto.ErrNodeExists || out.Cxid != 3 {
		t.Errorf("format 1 write applied again: %v cxid %d, want NODEEXISTS (applied, unsequenced)", out.Code, out.Cxid)
	}
	var c Command
	if err := DecodeCommand(w, &c); err != nil || c.Write.Owner != 0 || c.Write.Seq != 0 || c.Write.Op != zkproto.OpCreate {
		t.Errorf("decode format 1: %+v %v", c.Write, err)
	}
	if _, ok := PeekClientWrite(w); ok {
		t.Error("PeekClientWrite took a format 1 write for a sequenced one")
	}
}

// TestWriteKeyRoundTrip: the key PeekClientWrite reads is the one written.
func TestWriteKeyRoundTrip(t *testing.T) {
	w := ClientWrite{SessionID: 0x1234, Cxid: -9, Owner: -77, Seq: 1 << 40, Time: 5, Op: zkproto.OpDelete, Body: []byte("b"),
		Auth: []zkproto.Id{{Scheme: "ip", ID: "127.0.0.1"}}}
	cmd := AppendClientWrite(nil, &w)
	k, ok := PeekClientWrite(cmd)
	if !ok || k != (WriteKey{SessionID: 0x1234, Owner: -77, Seq: 1 << 40}) {
		t.Errorf("peek: %+v %v", k, ok)
	}
	var c Command
	if err := DecodeCommand(cmd, &c); err != nil || c.Write.Owner != -77 || c.Write.Seq != 1<<40 || c.Write.Cxid != -9 || string(c.Write.Body) != "b" {
		t.Errorf("decode: %+v %v", c.Write, err)
	}
}
