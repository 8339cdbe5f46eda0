package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The settings that change how a command applies travel in the command,
// never in the tree's configuration: on one and the same tree, the command
// alone decides. (When they were Config fields, a tree applied every
// command by its own setting: both writes below got the same answer, and
// replicas configured differently diverged.)

// TestExtendedTypesTravelInTheWrite: a TTL create applies if the server
// that accepted it has extended types on (PolicyExtendedTypes in the
// write), alone or inside a multi, and fails with UNIMPLEMENTED otherwise.
func TestExtendedTypesTravelInTheWrite(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	ttl := func(path string) *zkproto.CreateTTLRequest {
		return &zkproto.CreateTTLRequest{Path: path, ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 1000}
	}
	if out := h.writeWith(sid, nil, 0, zkproto.OpCreateTTL, ttl("/t")); out.Code != zkproto.ErrUnimplemented {
		t.Errorf("TTL create without extended types: %v, want UNIMPLEMENTED", out.Code)
	}
	if out := h.writeWith(sid, nil, PolicyX509|PolicySkipACL, zkproto.OpCreateTTL, ttl("/t")); out.Code != zkproto.ErrUnimplemented {
		t.Errorf("TTL create with other policy bits only: %v, want UNIMPLEMENTED", out.Code)
	}
	if out := h.writeWith(sid, nil, PolicyExtendedTypes, zkproto.OpCreateTTL, ttl("/t")); out.Code != zkproto.OK {
		t.Errorf("TTL create with extended types: %v, want OK", out.Code)
	}
	if h.tree.lookup("/t") == nil || len(h.tree.ttls) != 1 {
		t.Fatal("no TTL node /t")
	}

	multi := &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
		{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/m", ACL: openACL}},
		{Type: zkproto.OpCreateTTL, Body: ttl("/m/t")},
	}}
	results := func(out *Output) []zkproto.MultiResult {
		t.Helper()
		var resp zkproto.MultiResponse
		if out.Code != zkproto.OK {
			t.Fatalf("multi: %v", out.Code)
		}
		if err := zkproto.Unmarshal(out.Body, &resp); err != nil {
			t.Fatal(err)
		}
		return resp.Results
	}
	rs := results(h.writeWith(sid, nil, 0, zkproto.OpMulti, multi))
	if len(rs) != 2 || rs[0].Type != zkproto.OpError || rs[0].Err != zkproto.OK ||
		rs[1].Type != zkproto.OpError || rs[1].Err != zkproto.ErrUnimplemented {
		t.Errorf("multi with a TTL create, without extended types: %+v, want the TTL create UNIMPLEMENTED", rs)
	}
	if h.tree.lookup("/m") != nil {
		t.Error("the failed multi left /m")
	}
	rs = results(h.writeWith(sid, nil, PolicyExtendedTypes, zkproto.OpMulti, multi))
	if len(rs) != 2 || rs[0].Type != zkproto.OpCreate || rs[1].Type != zkproto.OpCreate2 { // a TTL create answers as create2, as in ZooKeeper
		t.Errorf("multi with a TTL create, with extended types: %+v", rs)
	}
	if n := h.tree.lookup("/m/t"); n == nil || n.kind() != kindTTL {
		t.Error("the multi made no TTL node /m/t")
	}
	checkInvariants(t, h.tree)
}

// TestContainerIntervalTravelsInTheCleanup: a container that never had a
// child is removed by a clean-up whose proposer's interval
// (znode.container.maxNeverUsedIntervalMs) it has outlived, and kept by one
// with interval 0, a longer one, or none (format 2).
func TestContainerIntervalTravelsInTheCleanup(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	if out := h.write(sid, nil, zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: "/c", ACL: openACL, Flags: zkproto.ModeContainer}); out.Code != zkproto.OK {
		t.Fatal(out.Code)
	}
	h.clock += 2000
	for _, iv := range []int64{0, -1, 5000} {
		if h.tree.NeedsCleanup(h.clock, iv) {
			t.Errorf("NeedsCleanup with interval %d: a container 2 s old qualifies", iv)
		}
	}
	if !h.tree.NeedsCleanup(h.clock, 1000) {
		t.Error("NeedsCleanup with interval 1000: a container 2 s old does not qualify")
	}
	format2 := append([]byte{commandFormat2, byte(KindCleanup)}, AppendCleanup(nil, h.clock, 1000)[2:2+8]...)
	for name, cmd := range map[string][]byte{
		"interval 0":             AppendCleanup(nil, h.clock, 0),
		"interval 5000":          AppendCleanup(nil, h.clock, 5000),
		"format 2 (no interval)": format2,
	} {
		if out := h.apply(cmd); len(out.Events) != 0 || h.tree.lookup("/c") == nil {
			t.Errorf("clean-up with %s removed the container: %s", name, outputString(out))
		}
	}
	out := h.apply(AppendCleanup(nil, h.clock, 1000))
	if h.tree.lookup("/c") != nil || len(out.Events) != 2 {
		t.Errorf("clean-up with interval 1000 kept a container 2 s old: %s", outputString(out))
	}
	checkInvariants(t, h.tree)
}
