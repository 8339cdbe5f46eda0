package tree

import (
	"math"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// A live snapshot writes the state as it was when it began while Apply keeps
// changing the tree: the caller alternates applies with Next, which writes
// the next slice of bounded work. The bytes are exactly those Snapshot would
// have written at the start.
//
// The snapshot writes nodes in a fixed order (depth first, children by
// name) and keeps the path of the last one written, the cursor. Before Apply
// changes a node that comes after the cursor and existed at the start, the
// tree hands the snapshot a pre-image: a copy of the node's fields and its
// number of children then, and later the children it loses (removed). A
// node created after the start is told apart by its czxid, above the
// snapshot's zxid, and left out. Sessions work alike, by id. The counters
// and the digest are copied at the start; ACL lists are kept in their table
// slots until the snapshot ends (aclTable.holding), so a node's ACL index
// still names its list at the start.
//
// Costs: BeginSnapshot is O(1). With no snapshot in progress each hook on
// the apply path is one nil check. With one, a change costs a path
// comparison and, for the first change of a node or session the snapshot
// has not reached, one small copy; the copies live until the snapshot
// writes them. Each Next does about budget bytes of work; a set of
// children (or sessions) is read and sorted in batches of liveBatch, so a
// parent with a million children pauses no apply for long either.

// liveBatch is how many children or sessions one step of a live snapshot
// reads and sorts.
const liveBatch = 256

// gatherCost is the budget one member read and sorted counts for, in bytes
// of output: it takes about as long as writing that much (measured at 1M
// znodes: a batch of 256 children about 50 µs, 64 KiB of records about
// 45 µs; reading a member misses the cache).
const gatherCost = 256

type snapPhase uint8

const (
	phaseHeader snapPhase = iota
	phaseNodes
	phaseSessionsCount
	phaseSessionsGather
	phaseSessions
	phaseTrailer
	phaseDone
	phaseAborted
)

// LiveSnapshot is a snapshot in progress; see Tree.BeginSnapshot. Its
// methods must be called on the goroutine that applies, never concurrently
// with Apply.
type LiveSnapshot struct {
	t    *Tree
	live bool // registered with t, whose changes it must survive
	// batchSize is the most children or sessions a gathering step reads:
	// liveBatch when live, unbounded otherwise (tests shrink it).
	batchSize int

	// The state at the start other than nodes and sessions.
	zxid, now, lastSessionID, nodeCount int64
	sessionCount                        int
	digest                              uint64

	phase  snapPhase
	aclNum map[uint32]int32 // ACL table index -> number in this snapshot

	// Nodes. Every node before path in snapshot order has been written.
	path       []byte // the last node written, "" for the root
	started    bool   // the root has been written
	stack      []nodeFrame
	collecting *node // the node whose children the top frame gathers, or nil
	images     map[*node]*nodeImage

	// Sessions. Every session up to sessionCursor has been written.
	sessionCursor int64
	sessions      gatherer[*session]
	sessionImages map[*session]*session
}

// nodeFrame is a written node whose children are being written.
type nodeFrame struct {
	pathLen int // the length of its path
	kids    gatherer[*node]
}

// nodeImage is a node as it was at the start, kept because it changed
// before the snapshot reached it.
type nodeImage struct {
	n       node    // its fields then (kids unused)
	kids    int32   // its number of children then
	removed []*node // children born by the start and removed since
}

// BeginSnapshot starts a snapshot of the state as it is now (at LastZxid)
// and returns it: call Next between applies until it reports done, and the
// bytes are exactly those Snapshot writes now. It costs O(1). Only one may
// be in progress at a time; one given up on must be Aborted, or the tree
// keeps preserving for it. Snapshot may still run meanwhile.
func (t *Tree) BeginSnapshot() *LiveSnapshot {
	if t.snap != nil {
		panic("tree: invariant violated: BeginSnapshot while a live snapshot is in progress (one at a time)")
	}
	sn := t.newSnapshot(true)
	t.snap = sn
	t.acls.holding = true
	return sn
}

func (t *Tree) newSnapshot(live bool) *LiveSnapshot {
	batch := math.MaxInt // nothing changes between steps
	if live {
		batch = liveBatch
	}
	return &LiveSnapshot{
		t: t, live: live, batchSize: batch,
		zxid: t.lastZxid, now: t.now, lastSessionID: t.lastSessionID, nodeCount: t.nodeCount,
		sessionCount: len(t.sessions), digest: t.Digest(),
		aclNum:        make(map[uint32]int32),
		sessionCursor: math.MinInt64,
	}
}

// Zxid returns the zxid of the state the snapshot holds.
func (sn *LiveSnapshot) Zxid() int64 { return sn.zxid }

// Digest returns the digest of the state the snapshot holds.
func (sn *LiveSnapshot) Digest() uint64 { return sn.digest }

// Next appends the next part of the snapshot to dst, about budget bytes
// (reading and sorting a set of children counts too), and returns it with
// done set once the snapshot is complete; dst is then its last part. After
// done, Next appends nothing. It panics after Abort.
func (sn *LiveSnapshot) Next(dst []byte, budget int) (_ []byte, done bool) {
	switch sn.phase {
	case phaseAborted:
		panic("tree: invariant violated: Next on an aborted snapshot")
	case phaseDone:
		return dst, true
	}
	start, work := len(dst), 0
	for sn.phase != phaseDone && (len(dst)-start)+work < max(budget, 1) {
		var w int
		dst, w = sn.step(dst)
		work += w
	}
	return dst, sn.phase == phaseDone
}

// Abort abandons the snapshot: the tree stops keeping anything for it. It
// does nothing to a snapshot already complete or aborted.
func (sn *LiveSnapshot) Abort() {
	if sn.phase == phaseDone || sn.phase == phaseAborted {
		return
	}
	sn.end()
	sn.phase = phaseAborted
}

// end releases what the snapshot holds in the tree and in itself.
func (sn *LiveSnapshot) end() {
	if sn.live {
		if sn.t.snap == sn {
			sn.t.snap = nil
		}
		sn.t.acls.releaseHeld()
	}
	for i := range sn.stack {
		sn.stack[i].kids.close()
	}
	sn.sessions.close()
	sn.stack, sn.images, sn.sessionImages, sn.collecting = nil, nil, nil, nil
}

// bound is the gatherers' bound for members born by b: none when the tree
// does not change while the snapshot is written.
func (sn *LiveSnapshot) bound(b int64) int64 {
	if sn.live {
		return b
	}
	return math.MaxInt64
}

// step writes one record or does one batch of gathering; it returns dst and
// the extra work done besides the bytes appended.
func (sn *LiveSnapshot) step(dst []byte) ([]byte, int) {
	switch sn.phase {
	case phaseHeader:
		dst = append(dst, snapMagic[:]...)
		for _, v := range [...]int64{sn.zxid, sn.now, sn.lastSessionID, sn.nodeCount} {
			dst = zkproto.AppendInt64(dst, v)
		}
		sn.phase = phaseNodes
		return sn.writeNode(dst, sn.t.root, 0), 0
	case phaseNodes:
		return sn.nodeStep(dst)
	case phaseSessionsCount:
		dst = zkproto.AppendInt32(dst, int32(sn.sessionCount))
		sn.sessions.kind, sn.sessions.bound = sessionMembers, sn.bound(sn.lastSessionID)
		addMap(&sn.sessions, sn.t.sessions, sn.batchSize)
		sn.phase = phaseSessionsGather
		return dst, 0
	case phaseSessionsGather:
		work, done := sn.sessions.step(sn.batchSize)
		if done {
			sn.phase = phaseSessions
		}
		return dst, work * gatherCost
	case phaseSessions:
		s, ok := sn.sessions.take()
		if !ok {
			sn.phase = phaseTrailer
			return dst, 0
		}
		if img := sn.sessionImages[s]; img != nil {
			delete(sn.sessionImages, s)
			dst = appendSession(dst, img)
		} else {
			dst = appendSession(dst, s)
		}
		sn.sessionCursor = s.id
		return dst, 0
	case phaseTrailer:
		dst = zkproto.AppendInt64(dst, int64(sn.digest))
		dst = append(dst, snapEnd[:]...)
		sn.end()
		sn.phase = phaseDone
	}
	return dst, 0
}

// nodeStep gathers children for the top frame, or writes the next node.
func (sn *LiveSnapshot) nodeStep(dst []byte) ([]byte, int) {
	if len(sn.stack) == 0 {
		sn.phase = phaseSessionsCount
		return dst, 0
	}
	top := &sn.stack[len(sn.stack)-1]
	if sn.collecting != nil {
		work, done := top.kids.step(sn.batchSize)
		if done {
			sn.collecting = nil
		}
		return dst, work * gatherCost
	}
	n, ok := top.kids.take()
	if !ok {
		top.kids.reset(nil, 0, nil)
		sn.stack = sn.stack[:len(sn.stack)-1]
		return dst, 0
	}
	return sn.writeNode(dst, n, top.pathLen), 0
}

// writeNode writes n (below the node whose path is sn.path[:parentLen]) as
// it was at the start, moves the cursor to it and, if it had children,
// starts gathering them.
func (sn *LiveSnapshot) writeNode(dst []byte, n *node, parentLen int) []byte {
	if n == sn.t.root {
		sn.path = sn.path[:0]
	} else {
		sn.path = append(append(sn.path[:parentLen], '/'), n.name...)
	}
	sn.started = true
	rec, kids, removed := n, n.numChildren(), []*node(nil)
	if len(sn.images) > 0 { // most nodes have no pre-image: spare them the lookup
		if im := sn.images[n]; im != nil {
			delete(sn.images, n)
			rec, kids, removed = &im.n, im.kids, im.removed
		}
	}
	dst = sn.appendNode(dst, rec, kids)
	if kids == 0 {
		return dst
	}
	if len(sn.stack) < cap(sn.stack) {
		sn.stack = sn.stack[:len(sn.stack)+1]
	} else {
		sn.stack = append(sn.stack, nodeFrame{})
	}
	f := &sn.stack[len(sn.stack)-1]
	f.pathLen = len(sn.path)
	f.kids.reset(childMembers, sn.bound(sn.zxid), removed)
	switch c := n.kids; {
	case c == nil:
	case c.byName != nil:
		addMap(&f.kids, c.byName, sn.batchSize)
	default:
		f.kids.addSorted(c.sorted)
	}
	sn.collecting = n
	return dst
}

// appendNode appends n's record, numbering its ACL list on first use.
func (sn *LiveSnapshot) appendNode(b []byte, n *node, kids int32) []byte {
	b = appendBytesString(b, n.name)
	if n.dataIsNull() {
		b = zkproto.AppendInt32(b, -1)
	} else {
		b = appendBytesString(b, n.data)
	}
	for _, v := range [...]int64{n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.owner} {
		b = zkproto.AppendInt64(b, v)
	}
	b = zkproto.AppendInt32(b, n.version)
	b = zkproto.AppendInt32(b, n.creates)
	b = zkproto.AppendInt32(b, n.aversion)
	if num, ok := sn.aclNum[n.aclIndex()]; ok {
		b = zkproto.AppendInt32(b, num)
	} else {
		sn.aclNum[n.aclIndex()] = int32(len(sn.aclNum))
		b = zkproto.AppendInt32(b, -1)
		b = append(b, sn.t.acls.lists[n.aclIndex()].key...)
	}
	return zkproto.AppendInt32(b, kids)
}

// appendSession appends s's record.
func appendSession(b []byte, s *session) []byte {
	b = zkproto.AppendInt64(b, s.id)
	b = zkproto.AppendInt32(b, s.timeout)
	b = appendBytesString(b, s.passwd)
	b = zkproto.AppendInt64(b, s.lastSeen)
	b = zkproto.AppendInt64(b, s.owner)
	b = zkproto.AppendInt64(b, s.lastSeq)
	b = zkproto.AppendBool(b, s.broken)
	b = zkproto.AppendInt32(b, int32(s.lastCode))
	return appendBytesString(b, s.lastBody)
}
