package tree

import (
	"math"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

func TestVersionWrap(t *testing.T) {
	tests := []struct{ in, want int32 }{
		{0, 1},
		{41, 42},
		{math.MaxInt32, math.MinInt32},
		{-2, 0}, // never -1, which means "any version"
		{-1, 0},
	}
	for _, tc := range tests {
		if got := nextVersion(tc.in); got != tc.want {
			t.Errorf("nextVersion(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	h := newHarness(t, Config{})
	sid := h.open()
	h.mustCreate(sid, "/v", nil, 0)
	n := h.tree.lookup("/v")
	h.tree.setStat(n, func(n *node) { n.version = -2 })
	out := h.write(sid, nil, zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/v", Data: []byte("x"), Version: -2})
	if out.Code != zkproto.OK || n.version != 0 {
		t.Errorf("setData at version -2: %v, version now %d", out.Code, n.version)
	}
}

func TestSequenceCounterWraps(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	h.mustCreate(sid, "/q", nil, 0)
	q := h.tree.lookup("/q")
	h.tree.setStat(q, func(n *node) { n.creates = math.MaxInt32 })
	for _, want := range []string{"/q/s2147483647", "/q/s-2147483648", "/q/s-2147483647"} {
		out := h.create(sid, "/q/s", nil, zkproto.ModePersistentSequential)
		if out.Code != zkproto.OK || string(out.Body) != string(zkproto.AppendString(nil, want)) {
			t.Errorf("sequential create: %v %q, want %s", out.Code, out.Body, want)
		}
	}
	checkInvariants(t, h.tree)
}

func TestWriteOutcomes(t *testing.T) {
	tests := []struct {
		name string
		pol  WritePolicy // the accepting server's
		op   zkproto.OpCode
		req  zkproto.Record
		want zkproto.Code
	}{
		{"TTL disabled", 0, zkproto.OpCreateTTL,
			&zkproto.CreateTTLRequest{Path: "/t", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 10}, zkproto.ErrUnimplemented},
		{"TTL enabled", PolicyExtendedTypes, zkproto.OpCreateTTL,
			&zkproto.CreateTTLRequest{Path: "/t", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 10}, zkproto.OK},
		{"createTTL without a TTL mode", PolicyExtendedTypes, zkproto.OpCreateTTL,
			&zkproto.CreateTTLRequest{Path: "/t", ACL: openACL, Flags: zkproto.ModePersistent, TTL: -1}, zkproto.ErrBadArguments},
		{"check outside multi", 0, zkproto.OpCheck, &zkproto.CheckVersionRequest{Path: "/", Version: -1}, zkproto.ErrUnimplemented},
		{"reconfig", 0, zkproto.OpReconfig, &zkproto.ReconfigRequest{CurConfigID: -1}, zkproto.ErrReconfigDisabled},
		{"unknown op", 0, zkproto.OpCode(77), nil, zkproto.ErrUnimplemented},
		{"read op as a write", 0, zkproto.OpGetData, &zkproto.GetDataRequest{Path: "/"}, zkproto.ErrUnimplemented},
		{"sync", 0, zkproto.OpSync, &zkproto.SyncRequest{Path: "/x"}, zkproto.OK},
	}
	for _, tc := range tests {
		h := newHarness(t, Config{})
		sid := h.open()
		out := h.writeWith(sid, nil, tc.pol, tc.op, tc.req)
		if out.Code != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, out.Code, tc.want)
		}
		if out.Code != zkproto.OK && len(out.Body) != 0 {
			t.Errorf("%s: a failure with a body", tc.name)
		}
	}
}

func TestEventsCarryACLs(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	secret := []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "digest", ID: "u:h"}}}
	auth := []zkproto.Id{{Scheme: "digest", ID: "u:h"}}
	out := h.write(sid, auth, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/s", ACL: secret})
	if len(out.Events) != 2 {
		t.Fatalf("events %s", outputString(out))
	}
	created, parent := out.Events[0], out.Events[1]
	if created.Type != zkproto.EventNodeCreated || string(created.Path) != "/s" || created.Zxid != h.zxid ||
		CheckPerm(created.ACL, zkproto.PermRead, nil) || !CheckPerm(created.ACL, zkproto.PermRead, auth) {
		t.Errorf("created: %+v", created)
	}
	if parent.Type != zkproto.EventNodeChildrenChanged || string(parent.Path) != "/" || !CheckPerm(parent.ACL, zkproto.PermRead, nil) {
		t.Errorf("parent: %+v", parent)
	}
}

func TestFailedMultiLeavesNoTrace(t *testing.T) {
	h := newHarness(t, Config{})
	h.policy = PolicyExtendedTypes
	sid := h.open()
	h.mustCreate(sid, "/a", []byte("1"), 0)
	h.mustCreate(sid, "/a/b", nil, 0)
	type shape struct {
		nodeSum          uint64
		nodes            int64
		containers, ttls int
		acls, ephemerals int
	}
	shapeOf := func() shape {
		return shape{h.tree.nodeSum, h.tree.nodeCount, len(h.tree.containers), len(h.tree.ttls),
			len(h.tree.acls.byKey), len(h.tree.sessions[sid].ephemerals)}
	}
	before := shapeOf()
	ops := []zkproto.MultiOp{
		{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/a/s", ACL: []zkproto.ACL{{Perms: 1, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}, Flags: zkproto.ModePersistentSequential}},
		{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/e", ACL: openACL, Flags: zkproto.ModeEphemeral}},
		{Type: zkproto.OpCreateTTL, Body: &zkproto.CreateTTLRequest{Path: "/t", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 5}},
		{Type: zkproto.OpCreateContainer, Body: &zkproto.CreateRequest{Path: "/c", ACL: openACL, Flags: zkproto.ModeContainer}},
		{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: "/a", Data: nil, Version: 0}},
		{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/a/b", Version: 0}},
		{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/e", Version: 0}},
		{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/a", Version: 7}},
	}
	out := h.write(sid, nil, zkproto.OpMulti, &zkproto.MultiRequest{Ops: ops})
	if out.Code != zkproto.OK || len(out.Events) != 0 {
		t.Fatalf("failed multi: %s", outputString(out))
	}
	var resp zkproto.MultiResponse
	if err := zkproto.Unmarshal(out.Body, &resp); err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.Results {
		want := zkproto.OK
		if i == 7 {
			want = zkproto.ErrBadVersion
		}
		if r.Type != zkproto.OpError || r.Err != want {
			t.Errorf("result %d: %v %v, want error %v", i, r.Type, r.Err, want)
		}
	}
	if after := shapeOf(); after != before {
		t.Errorf("a failed multi changed the tree: %+v, was %+v", after, before)
	}
	checkInvariants(t, h.tree)
}

func TestCleanup(t *testing.T) {
	h := newHarness(t, Config{})
	h.policy = PolicyExtendedTypes
	const maxNeverUsed = 1000
	sid := h.open()
	mk := func(op zkproto.OpCode, req zkproto.Record) {
		t.Helper()
		if out := h.write(sid, nil, op, req); out.Code != zkproto.OK {
			t.Fatalf("%v: %v", op, out.Code)
		}
	}
	mk(zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: "/used", ACL: openACL, Flags: zkproto.ModeContainer})
	mk(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/used/x", ACL: openACL})
	mk(zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: "/new", ACL: openACL, Flags: zkproto.ModeContainer})
	mk(zkproto.OpCreateTTL, &zkproto.CreateTTLRequest{Path: "/ttl", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 500})
	if h.tree.NeedsCleanup(h.clock, maxNeverUsed) {
		t.Error("nothing qualifies yet")
	}
	mk(zkproto.OpDelete, &zkproto.DeleteRequest{Path: "/used/x", Version: -1})
	if !h.tree.NeedsCleanup(h.clock, maxNeverUsed) {
		t.Error("an emptied container qualifies")
	}
	out := h.apply(AppendCleanup(nil, h.clock, maxNeverUsed))
	if h.tree.lookup("/used") != nil || h.tree.lookup("/new") == nil || h.tree.lookup("/ttl") == nil {
		t.Errorf("after the first clean-up: %s", outputString(out))
	}
	h.clock += 501
	h.apply(AppendCleanup(nil, h.clock, maxNeverUsed))
	if h.tree.lookup("/ttl") != nil || h.tree.lookup("/new") == nil {
		t.Error("after 501 ms the TTL node goes, the new container stays")
	}
	h.clock += 500
	if !h.tree.NeedsCleanup(h.clock, maxNeverUsed) {
		t.Error("a never-used container qualifies after maxNeverUsed")
	}
	out = h.apply(AppendCleanup(nil, h.clock, maxNeverUsed))
	if h.tree.lookup("/new") != nil || len(out.Events) != 2 {
		t.Errorf("never-used container: %s", outputString(out))
	}
	checkInvariants(t, h.tree)
}

func TestStats(t *testing.T) {
	h := newHarness(t, Config{})
	// A fresh ZooKeeper's mntr: zk_znode_count 5, zk_approximate_data_size 44.
	if st := h.tree.Stats(); st.Znodes != 5 || st.ApproximateDataSize != 44 {
		t.Errorf("fresh tree: %+v", st)
	}
	sid := h.open()
	h.mustCreate(sid, "/e", []byte("abc"), zkproto.ModeEphemeral)
	h.write(sid, nil, zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/", Data: []byte("xy"), Version: -1})
	st := h.tree.Stats()
	if st.Znodes != 6 || st.ApproximateDataSize != 44+2+3+2*2 || st.Ephemerals != 1 || st.Sessions != 1 {
		t.Errorf("after a create and a root setData: %+v", st)
	}
	if got := h.tree.Ephemerals(sid, nil); len(got) != 1 || got[0] != "/e" {
		t.Errorf("Ephemerals = %v", got)
	}
	checkInvariants(t, h.tree)
}
