package tree

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// harness applies commands to a tree with increasing zxids and a clock.
type harness struct {
	tb    testing.TB
	tree  *Tree
	zxid  int64
	clock int64
	out   Output
	cxid  map[int64]int32
	seq   map[int64]int64 // the next write's sequence number, less one
	// policy is the accepting server's policy for write (writeWith names
	// its own).
	policy WritePolicy
}

func newHarness(tb testing.TB, cfg Config) *harness {
	return &harness{tb: tb, tree: New(cfg), clock: treeClockStart, cxid: map[int64]int32{}, seq: map[int64]int64{}}
}

// apply applies a command and returns the output (valid until the next).
func (h *harness) apply(cmd []byte) *Output {
	h.tb.Helper()
	h.zxid++
	if err := h.tree.Apply(h.zxid, cmd, &h.out); err != nil {
		h.tb.Fatalf("apply zxid %d: %v", h.zxid, err)
	}
	return &h.out
}

func (h *harness) open() int64 {
	h.tb.Helper()
	out := h.apply(AppendOpenSession(nil, h.clock, 10000, []byte("0123456789abcdef")))
	if out.Opened.ID == 0 {
		h.tb.Fatal("no session opened")
	}
	return out.Opened.ID
}

// write applies a client write of session sid (owner 0) with the next
// cxid and sequence number, and the harness's policy.
func (h *harness) write(sid int64, auth []zkproto.Id, op zkproto.OpCode, req zkproto.Record) *Output {
	h.tb.Helper()
	return h.writeWith(sid, auth, h.policy, op, req)
}

// writeWith is write with the given policy of the accepting server.
func (h *harness) writeWith(sid int64, auth []zkproto.Id, policy WritePolicy, op zkproto.OpCode, req zkproto.Record) *Output {
	h.tb.Helper()
	h.cxid[sid]++
	h.seq[sid]++
	var body []byte
	if req != nil {
		body = req.Append(nil)
	}
	return h.apply(AppendClientWrite(nil, &ClientWrite{SessionID: sid, Cxid: h.cxid[sid], Seq: h.seq[sid], Time: h.clock, Auth: auth, Policy: policy, Op: op, Body: body}))
}

func (h *harness) create(sid int64, path string, data []byte, mode zkproto.CreateMode) *Output {
	h.tb.Helper()
	return h.write(sid, nil, zkproto.OpCreate, &zkproto.CreateRequest{Path: path, Data: data, ACL: openACL, Flags: mode})
}

func (h *harness) mustCreate(sid int64, path string, data []byte, mode zkproto.CreateMode) {
	h.tb.Helper()
	if out := h.create(sid, path, data, mode); out.Code != zkproto.OK {
		h.tb.Fatalf("create %s: %v", path, out.Code)
	}
}

// recomputeDigest computes the digest from scratch, for checking the
// incremental one.
func recomputeDigest(t *Tree) uint64 {
	var sum uint64
	var walk func(n *node)
	walk = func(n *node) {
		sum += t.nodeContrib(n)
		eachChild(n, walk)
	}
	walk(t.root)
	for _, s := range t.sessions {
		sum += s.computeContrib()
	}
	return sum + hashWords(0,
		uint64(t.lastZxid), uint64(t.now), uint64(t.lastSessionID), uint64(t.nodeCount))
}

// checkInvariants verifies what the tree keeps redundantly: counts, hashes,
// indexes, ACL reference counts and the digest.
func checkInvariants(tb testing.TB, t *Tree) {
	tb.Helper()
	refs := map[uint32]int64{}
	var count int64
	containers, ttls := map[string]bool{}, map[string]bool{}
	ephemerals := map[int64]map[string]bool{}
	var walk func(n *node, path string)
	var dataSize int64
	walk = func(n *node, path string) {
		count++
		dataSize += int64(len(path) + len(n.data))
		refs[n.aclIndex()]++
		if n.h != nodeHash(path, n.data) {
			tb.Errorf("%s: stale hash", path)
		}
		if n.dataIsNull() && n.data != "" {
			tb.Errorf("%s: null data with bytes", path)
		}
		switch n.kind() {
		case kindEphemeral:
			if ephemerals[n.owner] == nil {
				ephemerals[n.owner] = map[string]bool{}
			}
			ephemerals[n.owner][path] = true
			if n.kids != nil {
				tb.Errorf("%s: ephemeral with children", path)
			}
		case kindContainer:
			containers[path] = true
		case kindTTL:
			ttls[path] = true
		}
		if n.kids != nil && n.kids.len() == 0 {
			tb.Errorf("%s: empty child set kept", path)
		}
		if n.kids != nil && n.kids.byName == nil && !slices.IsSortedFunc(n.kids.sorted, func(a, b *node) int {
			return byName(a, b.name)
		}) {
			tb.Errorf("%s: small child set out of order", path)
		}
		prefix := path
		if path == "/" {
			prefix = ""
		}
		eachChild(n, func(k *node) { walk(k, prefix+"/"+k.name) })
	}
	walk(t.root, "/")
	if count != t.nodeCount {
		tb.Errorf("node count %d, counted %d", t.nodeCount, count)
	}
	if dataSize += int64(len(t.root.data)); dataSize != t.dataSize {
		tb.Errorf("data size %d, counted %d", t.dataSize, dataSize)
	}
	for i := range t.acls.lists {
		e := &t.acls.lists[i]
		if e.refs != refs[uint32(i)] {
			tb.Errorf("ACL %d (%v): refs %d, used by %d nodes", i, e.acl, e.refs, refs[uint32(i)])
		}
	}
	for p := range t.containers {
		if !containers[p] {
			tb.Errorf("container index holds %s", p)
		}
	}
	for p := range t.ttls {
		if !ttls[p] {
			tb.Errorf("TTL index holds %s", p)
		}
	}
	if len(containers) != len(t.containers) || len(ttls) != len(t.ttls) {
		tb.Errorf("indexes miss nodes: containers %d/%d, ttls %d/%d", len(t.containers), len(containers), len(t.ttls), len(ttls))
	}
	for id, s := range t.sessions {
		if len(s.ephemerals) != len(ephemerals[id]) {
			tb.Errorf("session %#x indexes %d ephemerals, owns %d", id, len(s.ephemerals), len(ephemerals[id]))
		}
		for p := range s.ephemerals {
			if !ephemerals[id][p] {
				tb.Errorf("session %#x indexes %s", id, p)
			}
		}
		if s.contrib != s.computeContrib() {
			tb.Errorf("session %#x: stale digest share", id)
		}
	}
	for id := range ephemerals {
		if t.sessions[id] == nil {
			tb.Errorf("ephemerals of closed session %#x", id)
		}
	}
	if got, want := t.Digest(), recomputeDigest(t); got != want {
		tb.Errorf("digest %#x, recomputed %#x", got, want)
	}
}

// snapshotBytes returns the tree's snapshot.
func snapshotBytes(tb testing.TB, t *Tree) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := t.Snapshot(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// outputString renders an Output fully, to compare two replicas' outputs.
func outputString(o *Output) string {
	s := fmt.Sprintf("kind=%v sid=%#x cxid=%d op=%v dup=%d code=%v body=%x opened=%d/%d/%x closed=%v",
		o.Kind, o.SessionID, o.Cxid, o.Op, o.Dup, o.Code, o.Body, o.Opened.ID, o.Opened.Timeout, o.Opened.Passwd, o.Closed)
	for _, e := range o.Events {
		s += fmt.Sprintf(" ev(%d %s %v %d)", e.Type, e.Path, e.ACL, e.Zxid)
	}
	return s
}
