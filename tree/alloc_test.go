package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestAllocations pins down that applying and reading allocate nothing but
// what the new state keeps: a create keeps a node, its name and its data; a
// setData the new data; a failed write, a delete and a read nothing.
func TestAllocations(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	h.mustCreate(sid, "/p", nil, 0)
	h.mustCreate(sid, "/p/n", []byte("x"), 0)
	auth := []zkproto.Id{IPID("127.0.0.1")}
	cmd := func(op zkproto.OpCode, req zkproto.Record) []byte {
		return AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: -1, Time: h.clock, Auth: auth, Op: op, Body: req.Append(nil)})
	}
	create := cmd(zkproto.OpCreate, &zkproto.CreateRequest{Path: "/p/c", Data: []byte("data"), ACL: openACL})
	del := cmd(zkproto.OpDelete, &zkproto.DeleteRequest{Path: "/p/c", Version: -1})
	set := cmd(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/p/n", Data: []byte("y"), Version: -1})
	fail := cmd(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/p/n", Data: []byte("y"), Version: 99})
	multi := cmd(zkproto.OpMulti, &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
		{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/p", Version: -1}},
		{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: "/p/n", Data: []byte("z"), Version: -1}},
	}})
	get := zkproto.Marshal(&zkproto.GetDataRequest{Path: "/p/n"})
	children := zkproto.Marshal(&zkproto.GetChildren2Request{Path: "/p"})
	// Warm the reused buffers.
	h.apply(create)
	h.apply(del)
	h.apply(multi)
	var dst []byte
	dst, _ = h.tree.Read(zkproto.OpGetChildren2, children, sid, auth, dst)

	tests := []struct {
		name string
		max  float64
		run  func()
	}{
		{"create and delete", 3, func() { h.apply(create); h.apply(del) }},
		{"setData", 1, func() { h.apply(set) }},
		{"failed setData", 0, func() { h.apply(fail) }},
		{"multi of check and setData", 1, func() { h.apply(multi) }},
		{"getData", 0, func() { dst, _ = h.tree.Read(zkproto.OpGetData, get, sid, auth, dst[:0]) }},
		{"getChildren2", 0, func() { dst, _ = h.tree.Read(zkproto.OpGetChildren2, children, sid, auth, dst[:0]) }},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(100, tc.run); got > tc.max {
			t.Errorf("%s: %.1f allocations, want at most %.0f", tc.name, got, tc.max)
		}
	}
}
