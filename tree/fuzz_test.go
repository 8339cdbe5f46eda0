package tree

import (
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// fuzzTree returns a tree with a session, a few nodes of each kind and
// several ACLs, for the fuzz targets to work on.
func fuzzTree(tb testing.TB) (*harness, int64) {
	h := newHarness(tb, Config{})
	h.policy = PolicyExtendedTypes
	sid := h.open()
	h.mustCreate(sid, "/a", []byte("x"), 0)
	h.mustCreate(sid, "/a/b", nil, 0)
	h.mustCreate(sid, "/e", nil, zkproto.ModeEphemeral)
	h.write(sid, nil, zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: "/c", ACL: openACL})
	h.write(sid, nil, zkproto.OpCreate, &zkproto.CreateRequest{Path: "/r", ACL: readACL})
	return h, sid
}

// fuzzSeeds are valid request bodies of every write and read op.
func fuzzSeeds() map[zkproto.OpCode][]zkproto.Record {
	return map[zkproto.OpCode][]zkproto.Record{
		zkproto.OpCreate:    {&zkproto.CreateRequest{Path: "/a/n", Data: []byte("d"), ACL: openACL, Flags: zkproto.ModePersistentSequential}},
		zkproto.OpCreateTTL: {&zkproto.CreateTTLRequest{Path: "/t", ACL: openACL, Flags: zkproto.ModePersistentWithTTL, TTL: 5}},
		zkproto.OpDelete:    {&zkproto.DeleteRequest{Path: "/a/b", Version: -1}},
		zkproto.OpSetData:   {&zkproto.SetDataRequest{Path: "/a", Data: nil, Version: 0}},
		zkproto.OpSetACL:    {&zkproto.SetACLRequest{Path: "/r", ACL: []zkproto.ACL{{Perms: 31, ID: zkproto.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}, Version: -1}},
		zkproto.OpMulti: {&zkproto.MultiRequest{Ops: []zkproto.MultiOp{
			{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/m", ACL: openACL}},
			{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: "/m", Version: 0}},
			{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/a/b", Version: 0}},
		}}},
		zkproto.OpGetData:      {&zkproto.GetDataRequest{Path: "/a", Watch: true}},
		zkproto.OpGetACL:       {&zkproto.GetACLRequest{Path: "/r"}},
		zkproto.OpMultiRead:    {&zkproto.MultiRequest{Ops: []zkproto.MultiOp{{Type: zkproto.OpGetChildren, Body: &zkproto.GetChildrenRequest{Path: "/"}}}}},
		zkproto.OpCloseSession: {nil},
	}
}

// FuzzApplyBody applies a client write with arbitrary op and body: it must
// never panic, and the tree must stay consistent.
func FuzzApplyBody(f *testing.F) {
	for op, reqs := range fuzzSeeds() {
		for _, r := range reqs {
			var body []byte
			if r != nil {
				body = r.Append(nil)
			}
			f.Add(int32(op), body)
		}
	}
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		h, sid := fuzzTree(t)
		h.apply(AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: 100, Time: h.clock,
			Auth: []zkproto.Id{IPID("10.1.1.1")}, Policy: PolicyExtendedTypes, Op: zkproto.OpCode(op), Body: body}))
		checkInvariants(t, h.tree)
	})
}

// FuzzApplyCommand applies arbitrary bytes as a command.
func FuzzApplyCommand(f *testing.F) {
	f.Add(AppendOpenSession(nil, 1, 1000, []byte("pw")))
	f.Add(AppendExpireSessions(nil, 1<<40, []int64{1}))
	f.Add(AppendRenewSessions(nil, 1, []int64{1, 2}))
	f.Add(AppendCleanup(nil, 1<<50, 1000))
	f.Add(AppendClientWrite(nil, &ClientWrite{SessionID: 1, Auth: []zkproto.Id{{Scheme: "super"}}, Op: zkproto.OpDelete,
		Body: zkproto.Marshal(&zkproto.DeleteRequest{Path: "/a/b", Version: -1})}))
	f.Fuzz(func(t *testing.T, cmd []byte) {
		h, _ := fuzzTree(t)
		h.zxid++
		h.tree.Apply(h.zxid, cmd, &h.out) // an error is fine; a panic is not
		checkInvariants(t, h.tree)
	})
}

// FuzzRead answers arbitrary read requests: it must never panic.
func FuzzRead(f *testing.F) {
	for op, reqs := range fuzzSeeds() {
		for _, r := range reqs {
			if r != nil {
				f.Add(int32(op), r.Append(nil))
			}
		}
	}
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		h, sid := fuzzTree(t)
		h.tree.Read(zkproto.OpCode(op), body, sid, []zkproto.Id{IPID("1.2.3.4")}, nil)
	})
}
