package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The property test applies random command sequences (every command kind,
// every op, failures, duplicates, malformed commands, time jumps) to two
// replicas and checks after every command that:
//   - both replicas give byte-identical outputs and equal digests (nothing
//     depends on map order or anything outside the commands);
//   - the incremental digest equals one recomputed from scratch, and the
//     redundant state (counts, indexes, ACL references) is consistent;
// and at random points that a snapshot restores to a tree with the same
// digest and the same snapshot bytes, which then gives the same outputs and
// read answers as the original for the rest of the sequence.

func TestPropertyRandomCommands(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			runRandom(t, uint64(seed), 400)
		})
	}
}

// gen generates random commands over a small universe of paths, so that
// ops collide often.
type gen struct {
	r        *rand.Rand
	clock    int64
	sessions []int64 // sessions believed open (some may have expired)
	cxid     map[int64]int32
	lastCmd  []byte
	paths    []string // the paths to use; genPaths if nil
}

var genPaths = []string{"/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z", "/c", "/a/s-", "/zookeeper/q"}

var genACLs = [][]zkproto.ACL{
	openACL,
	readACL,
	{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: SchemeAuth}}},
	{{Perms: zkproto.PermRead | zkproto.PermAdmin, ID: zkproto.Id{Scheme: SchemeDigest, ID: DigestID([]byte("u:p"))}}, openACL[0]},
	{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: SchemeIP, ID: "10.0.0.0/8"}}},
	{},
}

var genAuths = [][]zkproto.Id{
	nil,
	{IPID("127.0.0.1")},
	{IPID("10.1.2.3"), {Scheme: SchemeDigest, ID: DigestID([]byte("u:p"))}},
	{{Scheme: SchemeSuper}},
}

func (g *gen) path() string {
	paths := g.paths
	if paths == nil {
		paths = genPaths
	}
	return paths[g.r.IntN(len(paths))]
}

func (g *gen) data() []byte {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return []byte(fmt.Sprintf("d%d", g.r.IntN(100)))
}

func (g *gen) version() int32 { return int32(g.r.IntN(4)) - 1 }

func (g *gen) createReq() (zkproto.OpCode, zkproto.Record) {
	mode := zkproto.CreateMode(g.r.IntN(8)) // 7 is invalid
	acl := genACLs[g.r.IntN(len(genACLs))]
	switch g.r.IntN(5) {
	case 0:
		return zkproto.OpCreateTTL, &zkproto.CreateTTLRequest{Path: g.path(), Data: g.data(), ACL: acl, Flags: mode, TTL: int64(g.r.IntN(3000)) - 10}
	case 1:
		return zkproto.OpCreateContainer, &zkproto.CreateRequest{Path: g.path(), Data: g.data(), ACL: acl, Flags: mode}
	case 2:
		return zkproto.OpCreate2, &zkproto.CreateRequest{Path: g.path(), Data: g.data(), ACL: acl, Flags: mode}
	}
	return zkproto.OpCreate, &zkproto.CreateRequest{Path: g.path(), Data: g.data(), ACL: acl, Flags: mode}
}

func (g *gen) multiOp() zkproto.MultiOp {
	switch g.r.IntN(4) {
	case 0:
		op, req := g.createReq()
		return zkproto.MultiOp{Type: op, Body: req}
	case 1:
		return zkproto.MultiOp{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: g.path(), Version: g.version()}}
	case 2:
		return zkproto.MultiOp{Type: zkproto.OpSetData, Body: &zkproto.SetDataRequest{Path: g.path(), Data: g.data(), Version: g.version()}}
	}
	return zkproto.MultiOp{Type: zkproto.OpCheck, Body: &zkproto.CheckVersionRequest{Path: g.path(), Version: g.version()}}
}

// next returns the next command.
func (g *gen) next() []byte {
	g.clock += int64(g.r.IntN(50))
	if g.r.IntN(30) == 0 {
		g.clock += int64(g.r.IntN(20000))
	}
	if len(g.sessions) == 0 || g.r.IntN(25) == 0 {
		return AppendOpenSession(nil, g.clock, int32(1000+g.r.IntN(9000)), []byte(fmt.Sprintf("pw%014d", g.r.IntN(1000))))
	}
	switch g.r.IntN(40) {
	case 0:
		// The proposer's interval: 0 (never-used containers stay), 2.5 s or 5 s.
		return AppendCleanup(nil, g.clock, int64(g.r.IntN(3))*2500)
	case 1:
		return AppendRenewSessions(nil, g.clock, g.someSessions())
	case 2:
		return AppendExpireSessions(nil, g.clock, g.someSessions())
	case 3:
		b := append([]byte(nil), g.lastCmd...)
		if len(b) > 0 {
			b = b[:g.r.IntN(len(b))] // malformed: cut short
		}
		return b
	case 4:
		if g.lastCmd != nil {
			return g.lastCmd // a duplicate (or, for sessions, a repeat)
		}
	}
	sid := g.sessions[g.r.IntN(len(g.sessions))]
	var op zkproto.OpCode
	var req zkproto.Record
	switch k := g.r.IntN(20); {
	case k < 7:
		op, req = g.createReq()
	case k < 10:
		op, req = zkproto.OpDelete, &zkproto.DeleteRequest{Path: g.path(), Version: g.version()}
	case k < 13:
		op, req = zkproto.OpSetData, &zkproto.SetDataRequest{Path: g.path(), Data: g.data(), Version: g.version()}
	case k < 14:
		op, req = zkproto.OpSetACL, &zkproto.SetACLRequest{Path: g.path(), ACL: genACLs[g.r.IntN(len(genACLs))], Version: g.version()}
	case k < 17:
		m := &zkproto.MultiRequest{}
		for range g.r.IntN(5) {
			m.Ops = append(m.Ops, g.multiOp())
		}
		op, req = zkproto.OpMulti, m
	case k < 18:
		op = zkproto.OpCloseSession
	case k < 19:
		op, req = zkproto.OpCheck, &zkproto.CheckVersionRequest{Path: g.path(), Version: -1}
	default:
		op, req = zkproto.OpSetData, rawBody{0, 0, 0, 9, '/'} // malformed body
	}
	g.cxid[sid]++
	if g.r.IntN(20) == 0 {
		g.cxid[sid] -= int32(g.r.IntN(3)) // repeats and stale cxids
	}
	var body []byte
	if req != nil {
		body = req.Append(nil)
	}
	// Most writes come through a server with extended types on (TTL
	// nodes), some through one without.
	policy := PolicyExtendedTypes
	if g.r.IntN(4) == 0 {
		policy = 0
	}
	return AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: g.cxid[sid], Time: g.clock,
		Auth: genAuths[g.r.IntN(len(genAuths))], Policy: policy, Op: op, Body: body})
}

func (g *gen) someSessions() []int64 {
	var ids []int64
	for _, id := range g.sessions {
		if g.r.IntN(2) == 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func runRandom(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 0x7ee))
	g := &gen{r: r, clock: treeClockStart, cxid: map[int64]int32{}}
	cfg := Config{}
	a, b := New(cfg), New(cfg)
	var restored *Tree // a copy restored from a snapshot of a, if any
	var outA, outB, outR Output
	for i := 1; i <= steps; i++ {
		cmd := g.next()
		g.lastCmd = cmd
		zxid := int64(i)
		errA := a.Apply(zxid, cmd, &outA)
		errB := b.Apply(zxid, cmd, &outB)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("step %d: replicas disagree on the error: %v / %v", i, errA, errB)
		}
		sa, sb := outputString(&outA), outputString(&outB)
		if sa != sb {
			t.Fatalf("step %d: replicas' outputs differ:\n%s\n%s", i, sa, sb)
		}
		if a.Digest() != b.Digest() {
			t.Fatalf("step %d: replicas' digests differ", i)
		}
		if restored != nil {
			if err := restored.Apply(zxid, cmd, &outR); (err == nil) != (errA == nil) {
				t.Fatalf("step %d: restored copy disagrees on the error: %v / %v", i, err, errA)
			}
			if sr := outputString(&outR); sr != sa {
				t.Fatalf("step %d: restored copy's output differs:\n%s\n%s", i, sa, sr)
			}
			if restored.Digest() != a.Digest() {
				t.Fatalf("step %d: restored copy's digest differs", i)
			}
		}
		if outA.Opened.ID != 0 {
			g.sessions = append(g.sessions, outA.Opened.ID)
		}
		for _, id := range outA.Closed {
			g.sessions = without(g.sessions, id)
		}
		checkInvariants(t, a)
		if t.Failed() {
			t.Fatalf("step %d: invariants broken after %x", i, cmd)
		}
		if r.IntN(60) == 0 {
			snap := snapshotBytes(t, a)
			rt, err := Restore(bytes.NewReader(snap), cfg)
			if err != nil {
				t.Fatalf("step %d: restore: %v", i, err)
			}
			if rt.Digest() != a.Digest() {
				t.Fatalf("step %d: restored digest differs", i)
			}
			if !bytes.Equal(snapshotBytes(t, rt), snap) {
				t.Fatalf("step %d: the restored tree's snapshot differs", i)
			}
			checkInvariants(t, rt)
			restored = rt
		}
	}
	if restored != nil {
		compareReads(t, a, restored)
	}
	compareReads(t, a, b)
}

// compareReads checks that two trees answer every read the same way.
func compareReads(t *testing.T, x, y *Tree) {
	t.Helper()
	paths := append([]string{"/", "", "/zookeeper", "/nope"}, genPaths...)
	ops := []zkproto.OpCode{zkproto.OpExists, zkproto.OpGetData, zkproto.OpGetChildren2, zkproto.OpGetACL, zkproto.OpGetAllChildrenNumber}
	for _, auth := range genAuths {
		for _, p := range paths {
			for _, op := range ops {
				body := zkproto.AppendString(nil, p)
				body = append(body, 0)
				rx, cx := x.Read(op, body, 0, auth, nil)
				ry, cy := y.Read(op, body, 0, auth, nil)
				if cx != cy || !bytes.Equal(rx, ry) {
					t.Errorf("%v %s: %v %x / %v %x", op, p, cx, rx, cy, ry)
				}
			}
		}
	}
	for _, id := range x.SessionIDs(nil) {
		rx, _ := x.Read(zkproto.OpGetEphemerals, zkproto.AppendString(nil, "/"), id, nil, nil)
		ry, _ := y.Read(zkproto.OpGetEphemerals, zkproto.AppendString(nil, "/"), id, nil, nil)
		if !bytes.Equal(rx, ry) {
			t.Errorf("ephemerals of %#x differ", id)
		}
	}
}
