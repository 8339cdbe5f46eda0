package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/vrkeeper/vrkeeper/consensus"
)

// node is one replica with its driver: it persists Ready output to its disk,
// sends messages, applies committed commands to its key-value state and
// answers the clients waiting on it.
type node struct {
	w        *World
	id       int
	inc      int  // incarnation, bumped by every start
	up       bool // running
	diskLost bool // lost its disk and has not yet durably recovered
	r        *consensus.Replica
	disk     *disk
	kv       *kvState
	busy     bool  // between Ready and Advance, waiting for a sync
	tickLen  int64 // units between this node's ticks (clock rate)
	rd       consensus.Ready

	// Input that arrived while busy, handled after Advance.
	inbox     []consensus.Envelope
	ticks     int
	qProps    [][]byte
	qReads    []consensus.ReadID
	writes    map[uint32]waitingWrite      // client → command waiting to be applied here
	reads     map[consensus.ReadID]readReq // read id → client waiting here
	soft      consensus.SoftState
	lastSnap  uint64
	lastView  uint64 // view of the last applied entry
	maxCommit uint64 // commit-number seen in this incarnation
}

type waitingWrite struct {
	seq uint32
	cmd []byte
}

type readReq struct {
	client int
	seq    uint32
	key    uint8
}

// simLogger records the core's log lines in the trace.
type simLogger struct{ n *node }

func (l simLogger) Debug(string, ...any) {}
func (l simLogger) Info(msg string, args ...any) {
	l.n.w.note(l.n.id, "%s %v", msg, args)
}
func (l simLogger) Warn(msg string, args ...any) {
	l.n.w.note(l.n.id, "WARN %s %v", msg, args)
	if strings.HasPrefix(msg, consensus.InvariantViolated) {
		l.n.w.fail("n%d: %s %v", l.n.id, msg, args)
	}
}

func (n *node) start(b consensus.Boot) {
	w := n.w
	n.inc++
	n.up, n.busy = true, false
	n.inbox, n.ticks, n.qProps, n.qReads = nil, 0, nil, nil
	n.writes = map[uint32]waitingWrite{}
	n.reads = map[consensus.ReadID]readReq{}
	n.maxCommit = 0
	cfg := consensus.Config{
		ID: consensus.ReplicaID(n.id), Replicas: w.faults.Replicas, Epoch: 1,
		Rand:           rand.New(rand.NewPCG(w.rng.Uint64(), w.rng.Uint64())),
		Logger:         simLogger{n},
		HeartbeatTicks: 1, ViewChangeTicks: 10,
		MaxBatchOps: 16, MaxUncommittedOps: 64, MaxQueuedProposals: 64, MaxPendingReads: 64, MaxStateOps: 8, MaxRetainedOps: 40,
	}
	n.kv = newKV()
	n.lastSnap = 0
	if b.Snapshot != nil {
		n.kv = b.Snapshot.Data.(*kvState).clone()
		n.lastSnap, n.lastView = b.Snapshot.Op, b.Snapshot.View
	}
	r, err := consensus.New(cfg, b)
	if err != nil {
		w.fail("n%d: start: %v", n.id, err)
		return
	}
	n.r = r
	n.soft = consensus.SoftState{}
	w.schedule(event{at: w.now + 1 + w.rng.Int64N(tickUnits), kind: evTick, node: n.id, inc: n.inc})
	n.pump()
}

func (n *node) crash(loseDisk bool) {
	pending := len(n.disk.pending)
	keep := 0
	if pending > 0 {
		keep = n.w.rng.IntN(pending + 1)
	}
	n.disk.crash(keep)
	torn := ""
	if keep < pending {
		torn = ", next one torn"
	}
	n.w.note(n.id, "CRASH (kept %d of %d unsynced writes%s)", keep, pending, torn)
	if loseDisk {
		n.disk = &disk{}
		n.diskLost = true
		n.w.note(n.id, "DISK LOST")
	}
	n.up, n.busy, n.r = false, false, nil
	n.inc++
	for c := range n.writes {
		delete(n.writes, c)
	}
}

func (n *node) restart() {
	b := n.disk.boot()
	if n.diskLost && n.disk.hard == (consensus.HardState{}) {
		// Nothing durable since the loss: the replica must not pass for a
		// fresh member, it recovers.
		b = consensus.Boot{DiskLost: true}
	}
	n.w.note(n.id, "RESTART view=%d lnv=%d log=%d entries snap=%v recovering=%v", b.Hard.View, b.Hard.LastNormalView, len(b.Entries), b.Snapshot != nil, b.DiskLost || b.Hard.Recovering)
	n.start(b)
}

func (n *node) deliver(env consensus.Envelope) {
	if n.busy {
		n.inbox = append(n.inbox, env)
		return
	}
	if err := n.r.Step(env); err != nil {
		n.w.fail("n%d: step %s: %v", n.id, env, err)
	}
	n.w.check.node(n)
	n.pump()
}

func (n *node) tick() {
	if n.busy {
		n.ticks++
		return
	}
	n.r.Tick()
	n.w.check.node(n)
	n.pump()
}

func (n *node) propose(client uint32, seq uint32, cmd []byte) {
	n.writes[client] = waitingWrite{seq: seq, cmd: cmd}
	n.w.note(n.id, "client %d proposes seq %d", client, seq)
	if n.busy {
		n.qProps = append(n.qProps, cmd)
		return
	}
	_ = n.r.Propose(cmd) // a dropped proposal is retried by the client
	n.pump()
}

func (n *node) read(client int, seq uint32, key uint8) {
	n.w.readID++
	id := n.w.readID
	n.reads[id] = readReq{client: client, seq: seq, key: key}
	n.w.note(n.id, "client %d read %d: get k%d", client, id, key)
	if n.busy {
		n.qReads = append(n.qReads, id)
		return
	}
	_ = n.r.Read(id)
	n.pump()
}

// pump drains Ready until the replica is idle or waits for a sync.
func (n *node) pump() {
	w := n.w
	for n.up && !n.busy && w.err == nil && n.r.HasReady() {
		rd := n.r.Ready()
		for _, e := range rd.Messages {
			w.send(e)
		}
		if rd.Snapshot != nil {
			n.disk.write(record{snap: rd.Snapshot})
		}
		if rd.LogFrom != 0 {
			n.disk.write(record{logFrom: rd.LogFrom, entries: rd.Entries})
		}
		if rd.HardState != nil {
			n.disk.write(record{hard: rd.HardState})
		}
		n.rd = rd
		if rd.MustSync {
			n.busy = true
			w.schedule(event{at: w.now + 1 + w.rng.Int64N(w.faults.MaxDisk), kind: evDiskDone, node: n.id, inc: n.inc})
			return
		}
		n.complete()
	}
}

func (n *node) diskDone() {
	n.disk.sync()
	n.complete()
	n.pump()
}

// complete finishes the Ready after its persistence.
func (n *node) complete() {
	w, rd := n.w, n.rd
	n.rd = consensus.Ready{}
	for _, e := range rd.MessagesAfterPersist {
		w.send(e)
	}
	if rd.Snapshot != nil {
		n.kv = rd.Snapshot.Data.(*kvState).clone()
		n.lastSnap, n.lastView = rd.Snapshot.Op, rd.Snapshot.View
		w.check.installed(n, rd.Snapshot.Op, n.kv.digest)
	}
	for _, e := range rd.Committed {
		n.apply(e)
	}
	for _, rs := range rd.Reads {
		n.serveRead(rs)
	}
	if rd.CompactTo != 0 {
		n.disk.compact(rd.CompactTo)
	}
	if rd.SoftState != nil {
		changed := rd.SoftState.View != n.soft.View
		n.soft = *rd.SoftState
		if changed {
			// The driver re-submits what may have been lost in the view change.
			for _, ww := range n.writes {
				n.qProps = append(n.qProps, ww.cmd)
			}
		}
	}
	n.r.Advance(rd)
	n.busy = false
	if n.diskLost && n.disk.hard != (consensus.HardState{}) && !n.disk.hard.Recovering {
		n.diskLost = false // the recovered state is durable
	}
	w.check.node(n)
	if f := w.faults.SnapEvery; n.kv.op >= n.lastSnap+f {
		snap := consensus.Snapshot{Op: n.kv.op, View: n.lastView, Data: n.kv.clone()}
		if n.disk.snap == nil || n.disk.snap.Op < snap.Op {
			n.disk.snap = &snap
		}
		n.lastSnap = snap.Op
		n.r.SnapshotTaken(snap)
	}
	inbox, ticks, props, reads := n.inbox, n.ticks, n.qProps, n.qReads
	n.inbox, n.ticks, n.qProps, n.qReads = nil, 0, nil, nil
	for _, env := range inbox {
		if err := n.r.Step(env); err != nil {
			w.fail("n%d: step %s: %v", n.id, env, err)
		}
	}
	for ; ticks > 0; ticks-- {
		n.r.Tick()
	}
	for _, p := range props {
		_ = n.r.Propose(p)
	}
	for _, id := range reads {
		_ = n.r.Read(id)
	}
}

func (n *node) apply(e consensus.Entry) {
	c, err := decodeCommand(e.Cmd)
	if err != nil {
		n.w.fail("n%d: op %d: %v", n.id, e.Op, err)
		return
	}
	if e.Op != n.kv.op+1 {
		n.w.fail("n%d: committed op %d delivered after op %d (not exactly once, in order)", n.id, e.Op, n.kv.op)
		return
	}
	n.kv.apply(e.Op, c)
	n.w.note(n.id, "apply op %d: client %d seq %d %s k%d %q", e.Op, c.client, c.seq, c.kind, c.key, c.value)
	n.lastView = e.View
	n.w.check.applied(n, e, n.kv.digest)
	if ww, ok := n.writes[c.client]; ok && ww.seq == c.seq {
		delete(n.writes, c.client)
		n.w.clients[c.client].respond(c.seq, "")
	}
}

func (n *node) serveRead(rs consensus.ReadState) {
	q, ok := n.reads[rs.ID]
	if !ok {
		return
	}
	delete(n.reads, rs.ID)
	if n.kv.op < rs.Op {
		n.w.fail("n%d: read %d released at op %d but applied only %d", n.id, rs.ID, rs.Op, n.kv.op)
		return
	}
	n.w.note(n.id, "serve read %d of client %d at op %d (applied %d): k%d = %q", rs.ID, q.client, rs.Op, n.kv.op, q.key, n.kv.data[q.key])
	n.w.clients[q.client].respond(q.seq, n.kv.data[q.key])
}

func (n *node) String() string { return fmt.Sprintf("n%d", n.id) }
