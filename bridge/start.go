package bridge

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/vrkeeper/vrkeeper/bridge/driver"
	"github.com/vrkeeper/vrkeeper/bridge/peer"
	"github.com/vrkeeper/vrkeeper/consensus"
	"github.com/vrkeeper/vrkeeper/internal/budget"
	"github.com/vrkeeper/vrkeeper/internal/tlsconf"
	"github.com/vrkeeper/vrkeeper/metrics"
	"github.com/vrkeeper/vrkeeper/storage"
	"github.com/vrkeeper/vrkeeper/storage/vfs"
	"github.com/vrkeeper/vrkeeper/tree"
)

// maxGrantWait bounds a backup's read lease grant (consensus/lease.go):
// writes wait that long at most for a backup that stopped answering.
const maxGrantWait = 250 * time.Millisecond

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
	// NoReadLeases turns read leases off: every linearizable read then
	// costs a round of messages with the primary (consensus/lease.go).
	// With leases (the default; they need ViewChangeTicks ≥ 5) every
	// server serves reads from its own state while it holds a lease.
	NoReadLeases bool
	// Tree is the state machine's local configuration. Nothing in it may
	// change how a command applies (see tree.Config): servers may differ.
	Tree tree.Config
	// SnapCount is the number of commands applied between snapshots
	// (ZooKeeper's snapCount).
	SnapCount int64
	// SnapBytes starts a snapshot once the commands applied since the last
	// one hold this many bytes, however few they are (default 64 MiB): the
	// log kept in memory and sent in view changes stays bounded only
	// above a snapshot.
	SnapBytes int64
	// RetainSnapshots is how many snapshots to keep (ZooKeeper's
	// autopurge.snapRetainCount; default 3).
	RetainSnapshots int
	// Rejoin says this server lost its disk and must rebuild its state from
	// the others before it takes part in anything.
	Rejoin bool
	// WAL tunes the log (tests shrink segments).
	WAL storage.WALOptions
	// FS is the file system storage uses (default the real one; tests
	// inject failures with storage/faultfs).
	FS vfs.FS
	// Metrics records the replica's figures (nil: none).
	Metrics *metrics.Registry
	// Clock is the server's wall clock (default time.Now; tests skew it).
	// The primary stamps every command it prepares with it: the replicated
	// state (session expiry, TTL, ctime and mtime) knows the primary's
	// clock only.
	Clock func() time.Time
	// JuteMaxBuffer is ZooKeeper's jute.maxbuffer, the largest client
	// request frame; every internal limit follows from it (see Limits).
	// 0 is ZooKeeper's default.
	JuteMaxBuffer int
	// AdjustLimits, if set, changes the derived limits (tests shrink them).
	AdjustLimits func(*Limits)
	// PeerTLS, if set, makes the replication links mutual TLS (ZooKeeper's
	// sslQuorum with its ssl.quorum.* keys; see bridge/peer).
	PeerTLS *tlsconf.Source
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
	if o.SnapBytes == 0 {
		o.SnapBytes = 64 << 20
	}
	if len(o.Peers) == 0 {
		o.Peers = map[uint64]string{o.ID: ""}
	}
	if o.Clock == nil {
		o.Clock = time.Now
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
	if opts.Rejoin {
		log.Warn("--rejoin is no longer needed and is ignored: a server whose data directory is empty finds out from the others whether to rebuild its state")
	}
	lim, err := DeriveLimits(opts.JuteMaxBuffer, len(ids))
	if err != nil {
		return nil, err
	}
	if opts.AdjustLimits != nil {
		opts.AdjustLimits(&lim)
	}
	lim.applyWAL(&opts.WAL)
	t := tree.New(opts.Tree)
	bootStart := time.Now()
	// Promises are kept whether or not this server reads under leases:
	// another server's configuration may count on them.
	var leaseTicks int
	if lt := opts.ViewChangeTicks * 2 / 3; lt >= 3 {
		leaseTicks = lt
	}
	promise := consensus.Config{LeaseTicks: leaseTicks, TickNanos: int64(opts.ReplicaTick)}.PromiseNanos()
	walOpts := opts.WAL
	if m := opts.Metrics; m != nil && walOpts.OnSync == nil {
		walOpts.OnSync = m.Fsync
	}
	opened, err := driver.Open(driver.OpenOptions{
		Storage: storage.Options{DataDir: opts.DataDir, LogDir: opts.LogDir, WAL: walOpts, FS: opts.FS,
			RetainSnapshots: opts.RetainSnapshots},
		Restore: func(_ storage.SnapshotMeta, r io.Reader) error {
			restored, err := tree.Restore(r, opts.Tree)
			if err == nil {
				t = restored
			}
			return err
		},
		Log:          log,
		ServerID:     opts.ID,
		Members:      ids,
		PromiseNanos: promise,
	})
	if err != nil {
		return nil, err
	}
	store, meta := opened.Store, opened.Snapshot
	opts.Metrics.Booted(time.Since(bootStart))
	clock := opts.Clock
	ccfg := consensus.Config{
		ID: self, Replicas: len(ids), Rand: newRand(opts.ID), Logger: log.Named("vr"),
		ViewChangeTicks: opts.ViewChangeTicks,
		Stamp:           func(cmd []byte) []byte { return tree.StampTime(cmd, clock().UnixMilli()) },
	}
	if lt := leaseTicks; lt > 0 {
		// A backup's grant is how long writes may wait for a backup that
		// stopped answering: about maxGrantWait, renewed every tick.
		grant := int((maxGrantWait + opts.ReplicaTick - 1) / opts.ReplicaTick)
		ccfg.LeaseTicks, ccfg.LeaseGrantTicks = lt, min(lt, max(2, grant))
		ccfg.TickNanos, ccfg.Clock = int64(opts.ReplicaTick), leaseClock
		ccfg.NoLeaseReads = opts.NoReadLeases
	}
	lim.applyConsensus(&ccfg)
	r, err := consensus.New(ccfg, opened.Boot)
	if err != nil {
		store.Close()
		return nil, err
	}
	v := &vrReplicator{metrics: opts.Metrics,
		log: log.Named("replica"), store: store, ids: ids, index: index, self: self,
		tick: opts.ReplicaTick, lim: lim, inboxBytes: budget.New(0, lim.PeerInboxBytes),
		inbox: make(chan inbound, 4096), wake: make(chan struct{}, 1),
		out: make(chan applyBatch, 64), roleCh: make(chan Role, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if len(ids) > 1 {
		popts := lim.transport()
		popts.TLS = opts.PeerTLS
		v.tr, err = peer.New(opts.ID, opts.Peers[opts.ID], opts.Peers, v.deliver, log.Named("transport"), popts)
		if err != nil {
			store.Close()
			return nil, err
		}
	}
	var n *Node
	readTimeout := time.Duration(4*opts.ViewChangeTicks) * opts.ReplicaTick
	dopts := driver.Options{
		IDs: ids, Self: self, Store: store, Applier: v, Clock: clock,
		ReadTimeout: readTimeout,
		Log:         log.Named("replica"), OnSoftState: v.setRole,
		// A peer's snapshot makes the one in progress useless, and its
		// writer would hold up the store's write of the peer's: abandon it
		// first.
		BeforeInstall:       func() { n.Submit(func(a *Apply) { a.n.locked(a.n.abandonSnapshot) }) },
		CompactInBackground: true,
		Metrics:             opts.Metrics,
		OnLease:             func(l consensus.Lease) { n.lease.Store(&l) },
	}
	if v.tr != nil {
		dopts.Transport = v
		v.fetched = make(chan fetchOutcome, 16)
		v.xfer = newTransferLoop(opts.ID, store.Snapshots, func(to uint64, frame []byte) { v.tr.Send(to, frame) },
			func(o fetchOutcome) {
				select {
				case v.fetched <- o:
				case <-v.stop:
				}
			}, opts.ReplicaTick, opts.Metrics, log.Named("transfer"))
		dopts.Fetcher = v.xfer
	}
	v.d = driver.New(dopts, r, opened)
	n = &Node{
		log: log, tree: t, handler: handler, repl: v, vr: v, tick: opts.Tick,
		wake: make(chan struct{}, 1), opts: opts, serving: make(chan struct{}),
	}
	n.readTimeout = readTimeout
	// A replica that restarts as a backup of its durable view is normal at
	// once and reports no soft-state change, so publish its role now.
	v.setRole(r.SoftState())
	n.apply.n = n
	n.apply.applied = t.LastZxid()
	n.appliedNow.Store(t.LastZxid())
	n.barrier.ask = n.askReadIndex
	n.appliedView = meta.View
	n.lastSnap = t.LastZxid()
	log.Info("booted", "id", opts.ID, "replicas", len(ids), "snapshot_op", meta.Op,
		"log_entries", opened.LogEntries, "committed", opened.Boot.Hard.Commit, "view", opened.Saved.View)
	if v.xfer != nil {
		v.xfer.cluster.Store(r.Info().Cluster)
		go v.xfer.run(opts.ReplicaTick)
	}
	go v.run()
	return n, nil
}

// installSnapshot replaces the tree with a snapshot from a peer (state
// transfer). The handler is told, since its sessions and watches may no
// longer match the tree.
func (n *Node) installSnapshot(b applyBatch) error {
	n.abandonSnapshot()
	var t *tree.Tree
	err := n.vr.store.Snapshots.Load(uint64(b.snapOp), func(_ storage.SnapshotMeta, r io.Reader) error {
		var err error
		t, err = tree.Restore(r, n.opts.Tree)
		return err
	})
	if err != nil {
		return fmt.Errorf("bridge: install snapshot at op %d: %w", b.snapOp, err)
	}
	n.tree = t
	n.apply.applied = b.snapOp
	n.appliedNow.Store(b.snapOp)
	n.appliedView = b.snapView
	n.lastSnap = b.snapOp
	n.handler.Restored(&n.apply)
	return nil
}

// maybeSnapshot begins a snapshot every SnapCount commands. It is a live
// one: the apply loop writes it in slices between its other work (Run) and
// a writer goroutine streams them to disk; the replica learns of it once it
// is durable and may then drop the log below it.
func (n *Node) maybeSnapshot() {
	if n.vr == nil || n.snapping ||
		(n.apply.applied-n.lastSnap < n.opts.SnapCount && n.bytesSinceSnap < n.opts.SnapBytes) {
		return
	}
	job := newSnapshotJob(n.tree.BeginSnapshot())
	job.view = n.appliedView
	n.snap, n.snapping, n.lastSnap, n.bytesSinceSnap = job, true, n.apply.applied, 0
	n.writers.Add(1)
	go func() {
		defer n.writers.Done()
		n.saveSnapshot(job)
	}()
}

// saveSnapshot is the writer goroutine of a snapshot.
func (n *Node) saveSnapshot(job *snapshotJob) {
	meta := storage.SnapshotMeta{Op: job.op, View: job.view}
	began := time.Now()
	err := n.vr.store.Snapshots.Save(meta, job.write)
	if err == nil {
		n.opts.Metrics.SnapshotWritten(time.Since(began))
	}
	n.Submit(func(a *Apply) {
		if a.n.snap == job { // the writer failed before the end: stop feeding it
			a.n.locked(job.abandon)
			a.n.snap = nil
		}
		a.n.snapping = false
	})
	switch {
	case errors.Is(err, errSnapshotAbandoned):
		n.log.Info("abandoned a snapshot", "op", job.op)
	case err != nil:
		n.log.Error("saving a snapshot failed", "op", job.op, "error", err)
	default:
		n.vr.snapshotTaken(meta)
	}
}

// abandonSnapshot stops the snapshot in progress, if any (a peer's snapshot
// replaces the tree, or the node stops); its writer discards what it wrote.
// The caller holds the tree lock (the snapshot lets go of the tree).
func (n *Node) abandonSnapshot() {
	if n.snap != nil {
		n.snap.abandon()
		n.snap = nil
	}
}

// snapSliceBudget is how much of a live snapshot the apply loop writes per
// turn: about 50 to 150 µs of work (see tree's BenchmarkLiveSnapshot).
const snapSliceBudget = 64 << 10

// snapQueue is how many slices may wait for the disk; while the queue is
// full the apply loop makes none.
const snapQueue = 16

// errSnapshotAbandoned aborts the store's write of an abandoned snapshot.
var errSnapshotAbandoned = errors.New("bridge: snapshot abandoned")

// snapshotJob is a live snapshot being taken. The apply goroutine owns sn
// and next: it makes a slice, hands it over through out when the writer has
// room, and makes the next. The writer goroutine reads out in write.
type snapshotJob struct {
	sn   *tree.LiveSnapshot
	op   uint64
	view uint64         // view of the entry at op
	out  chan snapChunk // closed after the last chunk, or when abandoned
	free chan []byte    // buffers the writer is done with, for reuse
	next snapChunk      // the chunk to hand over next
}

// snapChunk is a slice of a snapshot; last marks the end.
type snapChunk struct {
	b    []byte
	last bool
}

// newSnapshotJob makes the job of sn and its first slice.
func newSnapshotJob(sn *tree.LiveSnapshot) *snapshotJob {
	j := &snapshotJob{sn: sn, op: uint64(sn.Zxid()), out: make(chan snapChunk, snapQueue),
		free: make(chan []byte, snapQueue+2)}
	j.produce()
	return j
}

// produce makes the next slice.
func (j *snapshotJob) produce() {
	var buf []byte
	select {
	case buf = <-j.free:
	default:
		buf = make([]byte, 0, 2*snapSliceBudget)
	}
	buf, done := j.sn.Next(buf[:0], snapSliceBudget)
	j.next = snapChunk{b: buf, last: done}
}

// handedOver is called once next went out: it makes the next slice, or
// after the last closes out and reports that the job is finished.
func (j *snapshotJob) handedOver() (finished bool) {
	if j.next.last {
		close(j.out)
		return true
	}
	j.produce()
	return false
}

// abandon stops the snapshot and closes out before its last chunk.
func (j *snapshotJob) abandon() {
	j.sn.Abort()
	close(j.out)
}

// write streams the chunks to w (storage's Save calls it); it fails with
// errSnapshotAbandoned if out closes before the last chunk.
func (j *snapshotJob) write(w io.Writer) error {
	for c := range j.out {
		if _, err := w.Write(c.b); err != nil {
			return err
		}
		select {
		case j.free <- c.b:
		default:
		}
		if c.last {
			return nil
		}
	}
	return errSnapshotAbandoned
}
