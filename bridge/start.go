package bridge

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/tree"
)

// Options configures a node.
type Options struct {
	// ID is this server's id; Peers maps every server's id (this one's
	// included) to its replication address. One server (or none) is a
	// single-node cluster.
	ID    uint64
	Peers map[uint64]string
	// DataDir holds snapshots and the replica state, LogDir the log
	// (DataDir/wal if empty).
	DataDir, LogDir string
	// Tick is how often Handler.Tick runs.
	Tick time.Duration
	// ReplicaTick is the consensus clock: heartbeats go out every tick and
	// a view change starts after ViewChangeTicks to twice that without
	// hearing from the primary.
	ReplicaTick     time.Duration
	ViewChangeTicks int
	// Tree configures the state machine; every server must use the same.
	Tree tree.Config
	// SnapCount is the number of commands applied between snapshots
	// (ZooKeeper's snapCount).
	SnapCount int64
	// Rejoin says this server lost its disk and must rebuild its state from
	// the others before it takes part in anything.
	Rejoin bool
	// WAL tunes the log (tests shrink segments).
	WAL storage.WALOptions
}

func (o *Options) fill() {
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.ReplicaTick == 0 {
		o.ReplicaTick = 20 * time.Millisecond
	}
	if o.ViewChangeTicks == 0 {
		o.ViewChangeTicks = 15
	}
	if o.SnapCount == 0 {
		o.SnapCount = 100000
	}
	if len(o.Peers) == 0 {
		o.Peers = map[uint64]string{o.ID: ""}
	}
}

// NewNode opens a server's storage, rebuilds its tree from the newest
// snapshot, boots its replica from the durable state and log, and connects
// it to its peers. Run starts it.
func NewNode(opts Options, handler Handler, log hclog.Logger) (*Node, error) {
	opts.fill()
	ids := make([]uint64, 0, len(opts.Peers))
	for id := range opts.Peers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	index := map[uint64]consensus.ReplicaID{}
	for i, id := range ids {
		index[id] = consensus.ReplicaID(i)
	}
	self, ok := index[opts.ID]
	if !ok {
		return nil, fmt.Errorf("bridge: server id %d is not among the peers", opts.ID)
	}
	store, boot, err := storage.Open(storage.Options{DataDir: opts.DataDir, LogDir: opts.LogDir, WAL: opts.WAL})
	if err != nil {
		return nil, err
	}
	if boot.Log.Torn != nil {
		log.Warn("cut off a torn write at the end of the log", "segment", boot.Log.Torn.Segment,
			"offset", boot.Log.Torn.Offset, "bytes", boot.Log.Torn.Length, "kept_in", boot.Log.Torn.SavedAs)
	}
	t := tree.New(opts.Tree)
	meta, found, skipped, err := store.Snapshots.LoadNewest(func(_ storage.SnapshotMeta, r io.Reader) error {
		restored, err := tree.Restore(r, opts.Tree)
		if err == nil {
			t = restored
		}
		return err
	})
	for _, e := range skipped {
		log.Warn("skipped a damaged snapshot", "error", e)
	}
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("bridge: load snapshot: %w", err)
	}
	if err := storage.CheckContinuity(opts.LogDir, meta, found, boot.Log); err != nil {
		store.Close()
		return nil, err
	}
	lastOp := boot.Log.NextOp - min(boot.Log.NextOp, 1)
	if found {
		lastOp = max(lastOp, meta.Op)
	}
	cboot := consensus.Boot{
		Hard: consensus.HardState{
			Epoch: boot.State.Epoch, View: boot.State.View, LastNormalView: boot.State.LastNormalView,
			Commit: min(boot.Log.Committed, lastOp), Recovering: boot.State.Recovering,
		},
		DiskLost: opts.Rejoin,
	}
	if found {
		cboot.Snapshot = &consensus.Snapshot{Op: meta.Op, View: meta.View, Data: localSnapshot{meta.Op}}
	}
	for _, e := range boot.Log.Entries {
		cboot.Entries = append(cboot.Entries, consensus.Entry{Op: e.Op, View: e.View, Cmd: e.Data})
	}
	r, err := consensus.New(consensus.Config{
		ID: self, Replicas: len(ids), Rand: newRand(opts.ID), Logger: log.Named("vr"),
		ViewChangeTicks: opts.ViewChangeTicks,
	}, cboot)
	if err != nil {
		store.Close()
		return nil, err
	}
	v := &vrReplicator{
		log: log.Named("replica"), r: r, store: store, ids: ids, index: index, self: self,
		tick: opts.ReplicaTick, readTimeout: time.Duration(4*opts.ViewChangeTicks) * opts.ReplicaTick,
		inbox: make(chan consensus.Envelope, 4096), wake: make(chan struct{}, 1),
		out: make(chan applyBatch, 64), roleCh: make(chan Role, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
		pending: map[consensus.ReadID]pendingRead{},
		saved:   boot.State, walNext: boot.Log.NextOp,
	}
	if len(ids) > 1 {
		v.tr, err = NewTransport(opts.ID, opts.Peers[opts.ID], opts.Peers, v.deliver, log.Named("transport"), TransportOptions{MaxFrame: 1 << 30})
		if err != nil {
			store.Close()
			return nil, err
		}
	}
	n := &Node{
		log: log, tree: t, handler: handler, repl: v, vr: v, tick: opts.Tick,
		wake: make(chan struct{}, 1), opts: opts, serving: make(chan struct{}),
	}
	// A replica that restarts as a backup of its durable view is normal at
	// once and reports no soft-state change, so publish its role now.
	info := r.Info()
	v.setRole(&consensus.SoftState{View: info.View, Status: info.Status,
		Primary: consensus.ReplicaID(info.View % uint64(len(ids))), IsPrimary: info.IsPrimary})
	n.apply.n = n
	n.apply.applied = t.LastZxid()
	n.appliedView = meta.View
	n.lastSnap = t.LastZxid()
	log.Info("booted", "id", opts.ID, "replicas", len(ids), "snapshot_op", meta.Op,
		"log_entries", len(boot.Log.Entries), "committed", boot.Log.Committed, "view", boot.State.View)
	go v.run()
	return n, nil
}

// installSnapshot replaces the tree with a snapshot from a peer (state
// transfer). The handler is told, since its sessions and watches may no
// longer match the tree.
func (n *Node) installSnapshot(b applyBatch) error {
	t, err := tree.Restore(bytes.NewReader(b.snapshot), n.opts.Tree)
	if err != nil {
		return fmt.Errorf("bridge: install snapshot at op %d: %w", b.snapOp, err)
	}
	n.tree = t
	n.apply.applied = b.snapOp
	n.appliedView = b.snapView
	n.lastSnap = b.snapOp
	n.handler.Restored(&n.apply)
	return nil
}

// maybeSnapshot takes a snapshot every SnapCount commands. The tree is
// serialised on the apply goroutine (applies pause meanwhile) and written
// to disk on another goroutine; the replica learns of it once it is durable
// and may then drop the log below it.
func (n *Node) maybeSnapshot() {
	if n.vr == nil || n.snapping || n.apply.applied-n.lastSnap < n.opts.SnapCount {
		return
	}
	var buf bytes.Buffer
	if err := n.tree.Snapshot(&buf); err != nil {
		n.log.Error("snapshot failed", "error", err)
		return
	}
	meta := storage.SnapshotMeta{Op: uint64(n.apply.applied), View: n.appliedView}
	n.snapping = true
	n.lastSnap = n.apply.applied
	go func() {
		err := n.vr.store.Snapshots.Save(meta, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		})
		n.Submit(func(a *Apply) { a.n.snapping = false })
		if err != nil {
			n.log.Error("saving a snapshot failed", "op", meta.Op, "error", err)
			return
		}
		n.vr.snapshotTaken(meta)
	}()
}
